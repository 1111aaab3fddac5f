package notices

import (
	"sync"
	"time"

	"github.com/ehigate/ehigate/decision/exceptions"
)

// Holiday is a US federal holiday on the date it is observed.
type Holiday struct {
	// Date is the observed date, at midnight UTC.
	Date time.Time
	Name string
}

// Holidays returns the federal holidays observed in year, in date order:
// the legal public holidays of 5 U.S.C. 6103(a), moved to the Friday before
// when they fall on a Saturday and to the Monday after on a Sunday. The
// observed New Year's Day of the next year may fall on December 31.
func Holidays(year int) []Holiday {
	var out []Holiday
	for _, y := range []int{year, year + 1} {
		for _, h := range legalHolidays(y) {
			d := observed(h.Date)
			if d.Year() == year {
				out = append(out, Holiday{Date: d, Name: h.Name})
			}
		}
	}
	return out
}

// legalHolidays are the holidays of year on their legal dates.
func legalHolidays(year int) []Holiday {
	date := func(m time.Month, d int) time.Time { return time.Date(year, m, d, 0, 0, 0, 0, time.UTC) }
	hs := []Holiday{{date(time.January, 1), "New Year's Day"}}
	if year >= 1986 {
		hs = append(hs, Holiday{nthWeekday(year, time.January, time.Monday, 3), "Birthday of Martin Luther King, Jr."})
	}
	hs = append(hs,
		Holiday{nthWeekday(year, time.February, time.Monday, 3), "Washington's Birthday"},
		Holiday{lastWeekday(year, time.May, time.Monday), "Memorial Day"},
	)
	if year >= 2021 {
		hs = append(hs, Holiday{date(time.June, 19), "Juneteenth National Independence Day"})
	}
	return append(hs,
		Holiday{date(time.July, 4), "Independence Day"},
		Holiday{nthWeekday(year, time.September, time.Monday, 1), "Labor Day"},
		Holiday{nthWeekday(year, time.October, time.Monday, 2), "Columbus Day"},
		Holiday{date(time.November, 11), "Veterans Day"},
		Holiday{nthWeekday(year, time.November, time.Thursday, 4), "Thanksgiving Day"},
		Holiday{date(time.December, 25), "Christmas Day"},
	)
}

func observed(d time.Time) time.Time {
	switch d.Weekday() {
	case time.Saturday:
		return d.AddDate(0, 0, -1)
	case time.Sunday:
		return d.AddDate(0, 0, 1)
	}
	return d
}

func nthWeekday(year int, m time.Month, wd time.Weekday, n int) time.Time {
	d := time.Date(year, m, 1, 0, 0, 0, 0, time.UTC)
	d = d.AddDate(0, 0, (int(wd)-int(d.Weekday())+7)%7)
	return d.AddDate(0, 0, 7*(n-1))
}

func lastWeekday(year int, m time.Month, wd time.Weekday) time.Time {
	d := time.Date(year, m+1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, -1)
	return d.AddDate(0, 0, -((int(d.Weekday()) - int(wd) + 7) % 7))
}

// Calendar counts business days (weekdays that are not federal holidays)
// in a time zone, which decides the date a request was received on.
// It is safe for concurrent use.
type Calendar struct {
	loc      *time.Location
	mu       sync.Mutex
	holidays map[int]map[time.Time]bool // by year, computed on first use
}

// NewCalendar returns a calendar for loc (UTC when nil).
func NewCalendar(loc *time.Location) *Calendar {
	if loc == nil {
		loc = time.UTC
	}
	return &Calendar{loc: loc, holidays: map[int]map[time.Time]bool{}}
}

// Location returns the calendar's time zone.
func (c *Calendar) Location() *time.Location { return c.loc }

// dateOf returns t's calendar date in the calendar's zone, as midnight UTC.
func (c *Calendar) dateOf(t time.Time) time.Time {
	y, m, d := t.In(c.loc).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// IsBusinessDay reports whether the date of t (in the calendar's zone) is
// a weekday that is not an observed federal holiday.
func (c *Calendar) IsBusinessDay(t time.Time) bool {
	return c.isBusinessDate(c.dateOf(t))
}

func (c *Calendar) isBusinessDate(d time.Time) bool {
	if wd := d.Weekday(); wd == time.Saturday || wd == time.Sunday {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	hs, ok := c.holidays[d.Year()]
	if !ok {
		hs = map[time.Time]bool{}
		for _, h := range Holidays(d.Year()) {
			hs[h.Date] = true
		}
		c.holidays[d.Year()] = hs
	}
	return !hs[d]
}

// Due returns the moment a deadline counted from received passes: the
// start (in the calendar's zone) of the day after the deadline's last day.
// Business days are counted from the day after the day of receipt, so a
// request received on a Thursday with a 1-business-day deadline is due by
// the end of Friday (or of the next business day when Friday is a holiday).
func (c *Calendar) Due(received time.Time, d exceptions.Deadline) time.Time {
	day := c.dateOf(received)
	switch d.Basis {
	case exceptions.CalendarDays:
		day = day.AddDate(0, 0, d.Days)
	default:
		for n := 0; n < d.Days; {
			day = day.AddDate(0, 0, 1)
			if c.isBusinessDate(day) {
				n++
			}
		}
	}
	next := day.AddDate(0, 0, 1)
	return time.Date(next.Year(), next.Month(), next.Day(), 0, 0, 0, 0, c.loc)
}
