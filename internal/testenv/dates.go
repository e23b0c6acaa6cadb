package testenv

import (
	"testing"
	"time"
)

// ClockDate is a date a test's clock may start at, and why it matters.
type ClockDate struct {
	Name string
	At   time.Time
}

// ClockDates are the starting dates the date-sensitive tests run through,
// each a day that has broken or could break date arithmetic: the working
// days, weekends, holidays and year ends of the 2026 official calendar
// (国办发明电〔2025〕7号, checked in the root package's calendar tests).
// Tests choose their clock from here, never from the wall clock.
func ClockDates() []ClockDate {
	sh := Shanghai()
	return []ClockDate{
		{"ordinary Tuesday morning", time.Date(2026, 12, 1, 9, 0, 0, 0, sh)},
		{"Friday evening before a weekend", time.Date(2026, 12, 4, 18, 30, 0, 0, sh)},
		{"Saturday", time.Date(2026, 12, 5, 10, 0, 0, 0, sh)},
		{"day before National Day", time.Date(2026, 9, 30, 16, 0, 0, 0, sh)},
		{"make-up working Saturday after National Day", time.Date(2026, 10, 10, 10, 0, 0, 0, sh)},
		{"31 December before New Year's Day", time.Date(2026, 12, 31, 15, 0, 0, 0, sh)},
	}
}

// EachClockDate runs fn as one subtest per ClockDates entry.
func EachClockDate(t *testing.T, fn func(t *testing.T, at time.Time)) {
	t.Helper()
	for _, d := range ClockDates() {
		t.Run(d.Name, func(t *testing.T) { fn(t, d.At) })
	}
}

// Shanghai is the offices' time zone in tests.
func Shanghai() *time.Location {
	l, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		// Without tzdata the zone is still UTC+8 all year (China keeps no
		// daylight saving time).
		return time.FixedZone("CST", 8*3600)
	}
	return l
}
