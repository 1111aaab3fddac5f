package policy

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	// Time zone data for window.time_zone, so that policies load the same
	// on hosts without a zoneinfo database.
	_ "time/tzdata"

	"github.com/ehigate/ehigate/configs/yamlx"
)

// window is a compiled Window.
type window struct {
	from, to time.Time
	loc      *time.Location
	slots    []slot
}

type slot struct {
	days     [7]bool
	from, to int // minutes since midnight; to may be 1440
}

var weekdays = map[string]time.Weekday{
	"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday,
}

// compileWindow checks w and compiles it; problems are added at key.
func (p *Policy) compileWindow(ps *yamlx.Problems, w *Window, key string) *window {
	if w == nil {
		return nil
	}
	c := &window{loc: time.UTC}
	if w.From != nil {
		c.from = *w.From
	}
	if w.To != nil {
		c.to = *w.To
		if w.From != nil && !w.To.After(*w.From) {
			p.problem(ps, key+".to", "must be after from")
		}
	}
	if w.TimeZone != "" {
		loc, err := time.LoadLocation(w.TimeZone)
		if err != nil {
			p.problem(ps, key+".time_zone", "unknown time zone %q (want an IANA name such as America/Chicago)", w.TimeZone)
		} else {
			c.loc = loc
		}
	}
	for i, s := range w.Weekly {
		k := fmt.Sprintf("%s.weekly[%d]", key, i)
		var cs slot
		if len(s.Days) == 0 {
			p.problem(ps, k+".days", "is required (mon, tue, wed, thu, fri, sat, sun)")
		}
		for _, d := range s.Days {
			wd, ok := weekdays[strings.ToLower(d)]
			if !ok {
				p.problem(ps, k+".days", "unknown day %q (want mon, tue, wed, thu, fri, sat or sun)", d)
				continue
			}
			cs.days[wd] = true
		}
		var err error
		if cs.from, err = clock(s.From); err != nil {
			p.problem(ps, k+".from", "%v", err)
		}
		if cs.to, err = clock(s.To); err != nil {
			p.problem(ps, k+".to", "%v", err)
		}
		if cs.to <= cs.from {
			p.problem(ps, k+".to", "must be after from")
		}
		c.slots = append(c.slots, cs)
	}
	if w.From == nil && w.To == nil && len(w.Weekly) == 0 {
		p.problem(ps, key, "give from, to or weekly")
	}
	return c
}

// clock parses "HH:MM" (00:00 to 24:00) into minutes.
func clock(s string) (int, error) {
	h, m, ok := strings.Cut(s, ":")
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if !ok || err1 != nil || err2 != nil || len(m) != 2 || hh < 0 || mm < 0 || mm > 59 || hh*60+mm > 24*60 {
		return 0, fmt.Errorf("want a time of day such as 08:00 or 24:00, got %q", s)
	}
	return hh*60 + mm, nil
}

// contains reports whether t is in the window; a nil window contains all.
func (w *window) contains(t time.Time) bool {
	if w == nil {
		return true
	}
	if !w.from.IsZero() && t.Before(w.from) {
		return false
	}
	if !w.to.IsZero() && !t.Before(w.to) {
		return false
	}
	if len(w.slots) == 0 {
		return true
	}
	lt := t.In(w.loc)
	mins := lt.Hour()*60 + lt.Minute()
	for i := range w.slots {
		s := &w.slots[i]
		if s.days[lt.Weekday()] && mins >= s.from && mins < s.to {
			return true
		}
	}
	return false
}
