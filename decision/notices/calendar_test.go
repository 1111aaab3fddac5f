package notices

import (
	"strings"
	"testing"
	"time"

	"github.com/ehigate/ehigate/decision/exceptions"
)

// The observed federal holidays as published by OPM for each year.
var opmHolidays = map[int]string{
	2020: "01-01 01-20 02-17 05-25 07-03 09-07 10-12 11-11 11-26 12-25",
	2021: "01-01 01-18 02-15 05-31 06-18 07-05 09-06 10-11 11-11 11-25 12-24 12-31",
	2022: "01-17 02-21 05-30 06-20 07-04 09-05 10-10 11-11 11-24 12-26",
	2023: "01-02 01-16 02-20 05-29 06-19 07-04 09-04 10-09 11-10 11-23 12-25",
	2024: "01-01 01-15 02-19 05-27 06-19 07-04 09-02 10-14 11-11 11-28 12-25",
	2025: "01-01 01-20 02-17 05-26 06-19 07-04 09-01 10-13 11-11 11-27 12-25",
	2026: "01-01 01-19 02-16 05-25 06-19 07-03 09-07 10-12 11-11 11-26 12-25",
	2027: "01-01 01-18 02-15 05-31 06-18 07-05 09-06 10-11 11-11 11-25 12-24 12-31",
	2028: "01-17 02-21 05-29 06-19 07-04 09-04 10-09 11-10 11-23 12-25",
}

func TestHolidays(t *testing.T) {
	for year, want := range opmHolidays {
		t.Run(time.Date(year, 1, 1, 0, 0, 0, 0, time.UTC).Format("2006"), func(t *testing.T) {
			var got []string
			for _, h := range Holidays(year) {
				if h.Date.Year() != year {
					t.Fatalf("%s is not in %d", h.Date, year)
				}
				got = append(got, h.Date.Format("01-02"))
			}
			if g := strings.Join(got, " "); g != want {
				t.Fatalf("got  %s\nwant %s", g, want)
			}
		})
	}
}

func TestDue(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skip("no time zone data:", err)
	}
	ten := exceptions.Deadline{Days: 10, Basis: exceptions.BusinessDays}
	tests := []struct {
		name     string
		loc      *time.Location
		received string
		deadline exceptions.Deadline
		want     string // the last day of the deadline
	}{
		{"skips an observed Friday holiday", time.UTC, "2026-07-02T10:00:00Z", ten, "2026-07-17"},
		{"skips Thanksgiving", time.UTC, "2026-11-23T15:00:00Z", ten, "2026-12-08"},
		{"over Christmas and New Year", time.UTC, "2026-12-19T09:00:00Z", ten, "2027-01-05"},
		{"received on a holiday", time.UTC, "2025-12-25T12:00:00Z", ten, "2026-01-09"},
		{"received on a Sunday", time.UTC, "2024-06-16T12:00:00Z", ten, "2024-07-01"},
		{"observed Dec 31 holiday", time.UTC, "2021-12-27T12:00:00Z", ten, "2022-01-11"},
		{"zone moves the day of receipt", ny, "2026-07-03T02:00:00Z", ten, "2026-07-17"},
		{"one business day over a weekend", time.UTC, "2026-07-10T12:00:00Z", exceptions.Deadline{Days: 1, Basis: exceptions.BusinessDays}, "2026-07-13"},
		{"calendar days ignore holidays", time.UTC, "2026-12-01T12:00:00Z", exceptions.Deadline{Days: 30, Basis: exceptions.CalendarDays}, "2026-12-31"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			received, err := time.Parse(time.RFC3339, tc.received)
			if err != nil {
				t.Fatal(err)
			}
			cal := NewCalendar(tc.loc)
			due := cal.Due(received, tc.deadline)
			last := due.Add(-time.Nanosecond).In(tc.loc).Format("2006-01-02")
			if last != tc.want {
				t.Fatalf("deadline ends %s (due %s), want %s", last, due, tc.want)
			}
			if h, m, s := due.In(tc.loc).Clock(); h != 0 || m != 0 || s != 0 {
				t.Fatalf("due %s is not midnight in %s", due, tc.loc)
			}
		})
	}
}

func TestIsBusinessDay(t *testing.T) {
	cal := NewCalendar(nil)
	tests := []struct {
		day  string
		want bool
	}{
		{"2026-07-03", false}, // Independence Day observed
		{"2026-07-04", false}, // Saturday
		{"2026-07-06", true},
		{"2026-06-19", false}, // Juneteenth
		{"2020-06-19", true},  // before Juneteenth was a holiday
		{"2027-12-31", false}, // New Year's Day 2028 observed
		{"2026-10-12", false}, // Columbus Day
		{"2026-10-13", true},
	}
	for _, tc := range tests {
		t.Run(tc.day, func(t *testing.T) {
			d, _ := time.Parse("2006-01-02", tc.day)
			if got := cal.IsBusinessDay(d.Add(12 * time.Hour)); got != tc.want {
				t.Fatalf("got %v", got)
			}
		})
	}
}
