package duban

import (
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/6tail/lunar-go/HolidayUtil"
)

// Calendar is China's official working-day calendar: Monday to Friday,
// minus the public holidays, plus the make-up workdays (调休) that the State
// Council's yearly notice on holiday arrangements (国务院办公厅关于某年部分节假日安排的通知)
// moves onto weekends. Time limits of complaints are counted on it.
//
// The official dates come from github.com/6tail/lunar-go's HolidayUtil,
// which carries every notice since 2002 (v1.4.7 ends with 2027); overrides
// from the configuration cover what the library does not know yet, and win
// over it. A year that neither knows counts Monday to Friday; Known tells
// callers which years those are, so they can warn.
//
// A Calendar is immutable and safe for concurrent use.
type Calendar struct {
	loc       *time.Location
	overrides map[int]bool // dateKey → is a working day
	years     map[int]bool // years named by an override
}

// DayOverride says whether one date is a working day, for dates the library
// does not know (next year's notice published after the release in use) or
// gets wrong.
type DayOverride struct {
	Date string `json:"date" yaml:"date"` // 2006-01-02
	Work bool   `json:"work" yaml:"work"`
}

// DefaultWorkingDays is the time limit of an assignment when the supervisor
// does not set one.
const DefaultWorkingDays = 5

// chinaStandardTime is UTC+8, what Asia/Shanghai has been since China gave
// up daylight saving time in 1991. NewCalendar falls back on it rather than
// reading the time-zone database, which would be I/O.
var chinaStandardTime = time.FixedZone("CST", 8*60*60)

// NewCalendar returns the calendar of local time loc (nil means UTC+8, China
// Standard Time) with overrides on top of the library's dates. An override
// whose Date is not a valid 2006-01-02 date never matches; ParseDayOverrides
// rejects such dates. When a date is named twice, the last override wins.
func NewCalendar(loc *time.Location, overrides ...DayOverride) *Calendar {
	if loc == nil {
		loc = chinaStandardTime
	}
	c := &Calendar{loc: loc, overrides: map[int]bool{}, years: map[int]bool{}}
	for _, o := range overrides {
		d, err := time.Parse(time.DateOnly, o.Date)
		if err != nil {
			continue
		}
		c.overrides[dateKey(d)] = o.Work
		c.years[d.Year()] = true
	}
	return c
}

// ParseDayOverrides reads overrides as the configuration writes them:
// "2027-01-01=off,2027-01-04=work". Items are separated by commas,
// semicolons or white space; "work" makes a date a working day, "off" a day
// off; a date may be named once. An empty string is no overrides. Errors match
// ErrInvalid.
func ParseDayOverrides(s string) ([]DayOverride, error) {
	var out []DayOverride
	seen := map[string]bool{}
	items := strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ';' || r == ' ' || r == '\t' || r == '\n' || r == '\r' })
	for _, item := range items {
		date, kind, ok := strings.Cut(item, "=")
		if !ok {
			return nil, fmt.Errorf("day override %q: want DATE=work or DATE=off: %w", item, ErrInvalid)
		}
		d, err := time.Parse(time.DateOnly, strings.TrimSpace(date))
		if err != nil {
			return nil, fmt.Errorf("day override %q: %q is not a date 2006-01-02: %w", item, date, ErrInvalid)
		}
		o := DayOverride{Date: d.Format(time.DateOnly)}
		switch strings.ToLower(strings.TrimSpace(kind)) {
		case "work":
			o.Work = true
		case "off":
		default:
			return nil, fmt.Errorf("day override %q: want work or off after '=': %w", item, ErrInvalid)
		}
		if seen[o.Date] {
			return nil, fmt.Errorf("day override %q: %s is named twice: %w", item, o.Date, ErrInvalid)
		}
		seen[o.Date] = true
		out = append(out, o)
	}
	return out, nil
}

// Location returns the calendar's local time.
func (c *Calendar) Location() *time.Location { return c.loc }

// IsWorkday reports whether t's local date is a working day: an override
// decides first, then the official calendar, then the day of the week.
func (c *Calendar) IsWorkday(t time.Time) bool { return c.isWorkDate(c.dateOf(t)) }

// Deadline returns the end of a time limit of workingDays working days for
// a task assigned at assigned. The day of assignment is not counted, however
// early it was (day 0, even at 23:30 or on a holiday); the limit ends at
// 23:59:59 local time of its last working day. With workingDays < 1 the
// limit ends with the day of assignment.
func (c *Calendar) Deadline(assigned time.Time, workingDays int) time.Time {
	return c.endOf(c.addWorkDates(c.dateOf(assigned), workingDays))
}

// AddWorkingDays extends a time limit: it returns 23:59:59 local time of the
// n-th working day after limit's local date. With n < 1 it returns the end
// of limit's own day.
func (c *Calendar) AddWorkingDays(limit time.Time, n int) time.Time {
	return c.endOf(c.addWorkDates(c.dateOf(limit), n))
}

// WorkingDaysBetween counts the working days after from's local date, up to
// and including to's: 1 when to falls on the next working day, 0 on the
// same day or when only days off lie between. When to's date comes before
// from's it returns minus WorkingDaysBetween(to, from), so an overdue limit
// gives a negative number.
func (c *Calendar) WorkingDaysBetween(from, to time.Time) int {
	a, b := c.dateOf(from), c.dateOf(to)
	sign := 1
	if b.Before(a) {
		a, b, sign = b, a, -1
	}
	n := 0
	for d := a.AddDate(0, 0, 1); !d.After(b); d = d.AddDate(0, 0, 1) {
		if c.isWorkDate(d) {
			n++
		}
	}
	return sign * n
}

// NextWorkday returns the start (00:00 local time) of the first working day
// after t's local date.
func (c *Calendar) NextWorkday(t time.Time) time.Time {
	d := c.addWorkDates(c.dateOf(t), 1)
	return time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, c.loc)
}

// Known reports whether the official calendar of year is known, from the
// library or because an override names a date in that year. Outside known
// years the calendar counts Monday to Friday only.
func (c *Calendar) Known(year int) bool {
	return c.years[year] || len(libraryYear(year)) > 0
}

// dateOf returns t's local date as midnight UTC: stepping such dates by one
// day never meets a daylight-saving gap of loc.
func (c *Calendar) dateOf(t time.Time) time.Time {
	y, m, d := t.In(c.loc).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// endOf returns 23:59:59 local time of date d.
func (c *Calendar) endOf(d time.Time) time.Time {
	return time.Date(d.Year(), d.Month(), d.Day(), 23, 59, 59, 0, c.loc)
}

// addWorkDates returns the n-th working date after d, d itself when n < 1.
func (c *Calendar) addWorkDates(d time.Time, n int) time.Time {
	for n > 0 {
		d = d.AddDate(0, 0, 1)
		if c.isWorkDate(d) {
			n--
		}
	}
	return d
}

func (c *Calendar) isWorkDate(d time.Time) bool {
	key := dateKey(d)
	if work, ok := c.overrides[key]; ok {
		return work
	}
	if work, ok := libraryYear(d.Year())[key]; ok {
		return work
	}
	wd := d.Weekday()
	return wd != time.Saturday && wd != time.Sunday
}

// dateKey packs a date into one comparable number, 20260214.
func dateKey(d time.Time) int {
	y, m, dd := d.Date()
	return y*10000 + int(m)*100 + dd
}

// libraryDays memoizes lunar-go's dates by year (int → map[int]bool, dateKey
// → is a make-up workday). HolidayUtil scans one long string on every
// lookup; a time limit looks up dozens of dates.
var libraryDays sync.Map

// libraryYear returns the holidays and make-up workdays lunar-go knows in
// year, nil when it knows none. Its data begin on 2001-12-29.
func libraryYear(year int) map[int]bool {
	if year < 2001 || year > 9999 {
		return nil
	}
	if m, ok := libraryDays.Load(year); ok {
		return m.(map[int]bool)
	}
	var m map[int]bool
	for e := HolidayUtil.GetHolidaysByYear(year).Front(); e != nil; e = e.Next() {
		h, ok := e.Value.(*HolidayUtil.Holiday)
		if !ok {
			continue
		}
		d, err := time.Parse(time.DateOnly, h.GetDay())
		if err != nil {
			continue
		}
		if m == nil {
			m = map[int]bool{}
		}
		// IsWork is true for a make-up workday (调休上班), false for a day off.
		m[dateKey(d)] = h.IsWork()
	}
	got, _ := libraryDays.LoadOrStore(year, m)
	return got.(map[int]bool)
}
