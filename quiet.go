package duban

import (
	"fmt"
	"strings"
	"time"
)

// QuietHours is a daily span of local time in which no reminder or urge is
// sent. A span may cross midnight (22:00-07:00). The zero value is off.
type QuietHours struct {
	On         bool
	Start, End time.Duration // since local midnight
	Loc        *time.Location
}

// ParseQuietHours reads "22:00-07:00" or "off".
func ParseQuietHours(s string, loc *time.Location) (QuietHours, error) {
	s = strings.TrimSpace(s)
	if s == "" || strings.EqualFold(s, "off") {
		return QuietHours{Loc: loc}, nil
	}
	from, to, ok := strings.Cut(s, "-")
	if !ok {
		return QuietHours{}, fmt.Errorf("want HH:MM-HH:MM or off, got %q", s)
	}
	start, err := parseClock(from)
	if err != nil {
		return QuietHours{}, err
	}
	end, err := parseClock(to)
	if err != nil {
		return QuietHours{}, err
	}
	if start == end {
		return QuietHours{}, fmt.Errorf("quiet hours %q are empty", s)
	}
	return QuietHours{On: true, Start: start, End: end, Loc: loc}, nil
}

func parseClock(s string) (time.Duration, error) {
	t, err := time.Parse("15:04", strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("%q is not a time of day HH:MM", s)
	}
	return time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute, nil
}

// String prints the span as it is configured.
func (q QuietHours) String() string {
	if !q.On {
		return "off"
	}
	f := func(d time.Duration) string { return fmt.Sprintf("%02d:%02d", int(d.Hours()), int(d.Minutes())%60) }
	return f(q.Start) + "-" + f(q.End)
}

// sinceMidnight returns local midnight of t's day and the time since it.
func (q QuietHours) sinceMidnight(t time.Time) (time.Time, time.Duration) {
	lt := t.In(q.Loc)
	mid := time.Date(lt.Year(), lt.Month(), lt.Day(), 0, 0, 0, 0, q.Loc)
	return mid, lt.Sub(mid)
}

// Contains reports whether t falls inside quiet hours.
func (q QuietHours) Contains(t time.Time) bool {
	if !q.On {
		return false
	}
	_, d := q.sinceMidnight(t)
	if q.Start < q.End {
		return d >= q.Start && d < q.End
	}
	return d >= q.Start || d < q.End
}

// End returns the end of the quiet span that contains t; t itself when t is
// not inside one.
func (q QuietHours) EndOf(t time.Time) time.Time {
	if !q.Contains(t) {
		return t
	}
	mid, d := q.sinceMidnight(t)
	if q.Start > q.End && d >= q.Start {
		mid = mid.AddDate(0, 0, 1)
	}
	return mid.Add(q.End)
}

// Defer moves t out of quiet hours, unless the end of the quiet span is at
// or after deadline (a zero deadline means none), when a late message is
// worth more than a quiet night and t stays.
func (q QuietHours) Defer(t, deadline time.Time) time.Time {
	end := q.EndOf(t)
	if !deadline.IsZero() && !end.Before(deadline) {
		return t
	}
	return end
}
