package demo

import (
	"errors"
	"strings"
	"time"
)

var errDate = errors.New("not a FHIR date or instant")

// parseDateRange parses a FHIR date or dateTime into the interval
// [start, end) its precision covers. Values without a zone are UTC.
func parseDateRange(s string) (start, end time.Time, err error) {
	layouts := []struct {
		layout string
		next   func(time.Time) time.Time
	}{
		{"2006", func(t time.Time) time.Time { return t.AddDate(1, 0, 0) }},
		{"2006-01", func(t time.Time) time.Time { return t.AddDate(0, 1, 0) }},
		{"2006-01-02", func(t time.Time) time.Time { return t.AddDate(0, 0, 1) }},
		{"2006-01-02T15:04Z07:00", func(t time.Time) time.Time { return t.Add(time.Minute) }},
		{"2006-01-02T15:04:05Z07:00", func(t time.Time) time.Time { return t.Add(time.Second) }},
		{"2006-01-02T15:04:05", func(t time.Time) time.Time { return t.Add(time.Second) }},
	}
	for _, l := range layouts {
		if t, err := time.Parse(l.layout, s); err == nil {
			return t, l.next(t), nil
		}
	}
	// Fractional seconds: precise to the millisecond.
	if strings.ContainsRune(s, '.') {
		if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
			return t, t.Truncate(time.Millisecond).Add(time.Millisecond), nil
		}
	}
	return time.Time{}, time.Time{}, errDate
}

// parseInstant parses the start of a FHIR date or instant (for _since).
func parseInstant(s string) (time.Time, error) {
	t, _, err := parseDateRange(s)
	return t, err
}

// parseDateCond parses a date search value with an optional prefix.
func parseDateCond(raw string) (dateCond, error) {
	prefix := "eq"
	if len(raw) > 2 && raw[0] >= 'a' && raw[0] <= 'z' {
		prefix, raw = raw[:2], raw[2:]
	}
	switch prefix {
	case "eq", "ne", "gt", "lt", "ge", "le", "sa", "eb":
	default:
		return dateCond{}, errors.New("unknown prefix " + prefix)
	}
	start, end, err := parseDateRange(raw)
	if err != nil {
		return dateCond{}, err
	}
	return dateCond{prefix: prefix, start: start, end: end}, nil
}

// match reports whether instant t satisfies the condition.
func (c dateCond) match(t time.Time) bool {
	switch c.prefix {
	case "eq":
		return !t.Before(c.start) && t.Before(c.end)
	case "ne":
		return t.Before(c.start) || !t.Before(c.end)
	case "gt", "sa":
		return !t.Before(c.end)
	case "lt", "eb":
		return t.Before(c.start)
	case "ge":
		return !t.Before(c.start)
	case "le":
		return t.Before(c.end)
	}
	return false
}
