package admin

import (
	"fmt"
	"strings"
	"time"
)

// DateRange is a half-open time range [From, To); a zero bound is open.
type DateRange struct {
	From, To time.Time
}

// ParseDateParams intersects the values of a FHIR date search parameter
// (each "ge2026-01-01", "lt2026-02", "2026-03-01T12:00:00Z", ...) into one
// range. Supported prefixes: eq (the default), ge, gt, le, lt, sa (as gt)
// and eb (as lt); a value spans its precision (a year, a month, a day, a
// minute, a second or a fraction of one); times without a zone are UTC.
func ParseDateParams(values []string) (DateRange, error) {
	var r DateRange
	for _, part := range values {
		if strings.Contains(part, ",") {
			return r, badRequest("date: %q: several values in one parameter would mean OR; give the parameter twice to AND them", part)
		}
		prefix := "eq"
		if len(part) >= 2 && part[0] >= 'a' && part[0] <= 'z' {
			prefix, part = part[:2], part[2:]
		}
		start, end, err := parseFHIRDate(part)
		if err != nil {
			return r, badRequest("date: %v", err)
		}
		lower, upper := time.Time{}, time.Time{}
		switch prefix {
		case "eq":
			lower, upper = start, end
		case "ge":
			lower = start
		case "gt", "sa":
			lower = end
		case "le":
			upper = end
		case "lt", "eb":
			upper = start
		default:
			return r, badRequest("date: prefix %q is not supported (eq, ge, gt, le, lt, sa, eb)", prefix)
		}
		if !lower.IsZero() && (r.From.IsZero() || lower.After(r.From)) {
			r.From = lower
		}
		if !upper.IsZero() && (r.To.IsZero() || upper.Before(r.To)) {
			r.To = upper
		}
	}
	return r, nil
}

// parseFHIRDate returns the range a FHIR date or dateTime value spans.
func parseFHIRDate(s string) (start, end time.Time, err error) {
	bad := func() (time.Time, time.Time, error) {
		return time.Time{}, time.Time{}, fmt.Errorf("want a FHIR date or dateTime (2026, 2026-03, 2026-03-01, 2026-03-01T12:00:00Z), got %q", s)
	}
	switch len(s) {
	case 4:
		t, err := time.Parse("2006", s)
		if err != nil {
			return bad()
		}
		return t, t.AddDate(1, 0, 0), nil
	case 7:
		t, err := time.Parse("2006-01", s)
		if err != nil {
			return bad()
		}
		return t, t.AddDate(0, 1, 0), nil
	case 10:
		t, err := time.Parse("2006-01-02", s)
		if err != nil {
			return bad()
		}
		return t, t.AddDate(0, 0, 1), nil
	}
	if len(s) < 16 || s[10] != 'T' {
		return bad()
	}
	date, clock := s[:10], s[11:]
	zone := ""
	if i := strings.IndexAny(clock, "Z+-"); i >= 0 {
		clock, zone = clock[:i], clock[i:]
	}
	if zone == "" {
		zone = "Z"
	}
	var step time.Duration
	layout := "2006-01-02T15:04"
	switch {
	case len(clock) == 5:
		step = time.Minute
	case len(clock) == 8:
		layout, step = layout+":05", time.Second
	case len(clock) > 9 && len(clock) <= 18 && clock[8] == '.':
		n := len(clock) - 9
		layout += ":05." + strings.Repeat("0", n)
		step = time.Second
		for range n {
			step /= 10
		}
	default:
		return bad()
	}
	t, err := time.Parse(layout+"Z07:00", date+"T"+clock+zone)
	if err != nil {
		return bad()
	}
	t = t.UTC()
	return t, t.Add(step), nil
}
