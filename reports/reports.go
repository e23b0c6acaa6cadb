// Package reports computes the figures the office files with the city
// government — the appearance rate of agency heads in court, complaints by
// category, source, agency and month, on-time closing and the reporters'
// satisfaction — within the caller's scope of the rule book, and renders
// them as tables for CSV and Excel downloads and as SVG charts.
package reports

import (
	"context"
	"fmt"
	"maps"
	"math"
	"slices"
	"time"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/storage"
)

// Translator renders user-facing text (i18n.Bundle).
type Translator interface {
	T(locale, id string, data map[string]any) string
}

// Period is how a report's lines are grouped in time.
type Period string

// Periods of a report.
const (
	Whole   Period = ""        // the range as one
	Month   Period = "month"   // YYYY-MM
	Quarter Period = "quarter" // YYYY-Qn
)

// ParsePeriod reads the by= of a report.
func ParsePeriod(s string) (Period, error) {
	switch p := Period(s); p {
	case Whole, Month, Quarter:
		return p, nil
	}
	return "", duban.Invalid("by", "must be month or quarter")
}

// label names the period of t in loc.
func (p Period) label(t time.Time, loc *time.Location) string {
	t = t.In(loc)
	switch p {
	case Month:
		return t.Format("2006-01")
	case Quarter:
		return fmt.Sprintf("%d-Q%d", t.Year(), (int(t.Month())-1)/3+1)
	}
	return ""
}

// Reports computes reports from the store. Times are read in Loc.
type Reports struct {
	store *storage.Store
	loc   *time.Location
	clock duban.Clock
	t     Translator
}

// New returns the reports of store, in loc's local time, with labels from t.
func New(store *storage.Store, loc *time.Location, clock duban.Clock, t Translator) *Reports {
	if clock == nil {
		clock = duban.SystemClock{}
	}
	return &Reports{store: store, loc: loc, clock: clock, t: t}
}

// Range is a report's dates, both inclusive, in local time.
type Range struct{ From, To time.Time }

// end is the first instant after the range.
func (r Range) end() time.Time { return r.To.AddDate(0, 0, 1) }

// String is the range as "2006-01-02 – 2006-01-02".
func (r Range) String() string {
	return r.From.Format(time.DateOnly) + " – " + r.To.Format(time.DateOnly)
}

// Rate is part ÷ whole to 4 decimals, 0 when whole is 0.
func Rate(part, whole int) float64 {
	if whole == 0 {
		return 0
	}
	return math.Round(float64(part)/float64(whole)*10000) / 10000
}

// AppearanceLine is one agency's (or the total's) appearance in a period.
type AppearanceLine struct {
	Agency string  `json:"agency,omitempty"`
	Name   string  `json:"name,omitempty"`
	Held   int     `json:"held"`
	Head   int     `json:"head"`
	Deputy int     `json:"deputy"`
	None   int     `json:"none"`
	Rate   float64 `json:"rate"` // head ÷ held
}

func (l *AppearanceLine) add(o duban.Attendance) {
	l.Held++
	switch o {
	case duban.AttendanceHead:
		l.Head++
	case duban.AttendanceDeputy:
		l.Deputy++
	case duban.AttendanceNone:
		l.None++
	}
	l.Rate = Rate(l.Head, l.Held)
}

// AppearancePeriod is the appearance of every agency in one period.
type AppearancePeriod struct {
	Period   string           `json:"period"`
	Agencies []AppearanceLine `json:"agencies"`
	Total    AppearanceLine   `json:"total"`
}

// Appearance is the appearance report (出庭应诉率): per agency, hearings
// held and who appeared for it — the head in person, a deputy, or nobody.
type Appearance struct {
	Range    Range
	By       Period
	Agencies []AppearanceLine   // over the whole range
	Total    AppearanceLine     // over the whole range
	Periods  []AppearancePeriod // with By set, oldest first
}

// Appearance computes the appearance report for scope.
func (r *Reports) Appearance(ctx context.Context, rg Range, by Period, scope duban.Scope) (*Appearance, error) {
	facts, err := r.store.AppearanceFacts(ctx, rg.From, rg.end(), scope)
	if err != nil {
		return nil, err
	}
	out := &Appearance{Range: rg, By: by, Agencies: []AppearanceLine{}}
	whole := map[string]*AppearanceLine{}
	periods := map[string]map[string]*AppearanceLine{}
	for _, f := range facts {
		line(whole, f).add(f.Outcome)
		out.Total.add(f.Outcome)
		if by != Whole {
			p := by.label(f.StartsAt, r.loc)
			if periods[p] == nil {
				periods[p] = map[string]*AppearanceLine{}
			}
			line(periods[p], f).add(f.Outcome)
		}
	}
	out.Agencies = sorted(whole)
	for _, p := range slices.Sorted(maps.Keys(periods)) {
		ap := AppearancePeriod{Period: p, Agencies: sorted(periods[p])}
		for _, l := range ap.Agencies {
			ap.Total.Held, ap.Total.Head, ap.Total.Deputy, ap.Total.None = ap.Total.Held+l.Held, ap.Total.Head+l.Head, ap.Total.Deputy+l.Deputy, ap.Total.None+l.None
		}
		ap.Total.Rate = Rate(ap.Total.Head, ap.Total.Held)
		out.Periods = append(out.Periods, ap)
	}
	return out, nil
}

func line(m map[string]*AppearanceLine, f storage.AppearanceFact) *AppearanceLine {
	l := m[f.Agency]
	if l == nil {
		l = &AppearanceLine{Agency: f.Agency, Name: f.Name}
		m[f.Agency] = l
	}
	return l
}

func sorted(m map[string]*AppearanceLine) []AppearanceLine {
	out := make([]AppearanceLine, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, *m[k])
	}
	return out
}

// ClosingLine is one agency's closings in the range: on time, and how
// long they took.
type ClosingLine struct {
	Agency     string  `json:"agency"`
	Name       string  `json:"name"`
	Closed     int     `json:"closed"`
	OnTime     int     `json:"on_time"`
	OnTimeRate float64 `json:"on_time_rate"`
	// AvgWorkingDays is the mean of the working days from assignment to
	// closing, over the closings that keep the figure.
	AvgWorkingDays float64 `json:"avg_working_days"`
}

// SatisfactionLine is the reporters' ratings (回访) of one agency's
// closings in the range.
type SatisfactionLine struct {
	Agency  string  `json:"agency"`
	Name    string  `json:"name"`
	Rated   int     `json:"rated"`
	Average float64 `json:"average"` // 1 (worst) to 5 (best), 0 when none rated
	Ratings [5]int  `json:"ratings"` // how many rated 1, 2, 3, 4 and 5
}

// Complaints is the complaints report.
type Complaints struct {
	Range      Range
	Total      int
	ByStatus   map[string]int
	BySource   map[string]int
	ByCategory map[string]int
	ByAgency   map[string]int // by the assigned agency's code
	NoAgency   int            // not (yet) assigned
	ByMonth    map[string]int // YYYY-MM, local time
	Overdue    int            // of these, assigned and past their limit now

	Closing      []ClosingLine
	Satisfaction []SatisfactionLine
}

// Complaints computes the complaints report for scope.
func (r *Reports) Complaints(ctx context.Context, rg Range, scope duban.Scope) (*Complaints, error) {
	cells, err := r.store.ComplaintCells(ctx, rg.From, rg.end(), r.loc, scope)
	if err != nil {
		return nil, err
	}
	out := &Complaints{Range: rg, ByStatus: zeros(duban.ComplaintStatuses), BySource: zeros(duban.Sources),
		ByCategory: zeros(duban.Categories), ByAgency: map[string]int{}, ByMonth: map[string]int{}}
	for m := range months(rg, r.loc) {
		out.ByMonth[m] = 0
	}
	for _, c := range cells {
		out.Total += c.N
		out.ByStatus[c.Status] += c.N
		out.BySource[c.Source] += c.N
		out.ByCategory[c.Category] += c.N
		out.ByMonth[c.Month] += c.N
		if c.Agency == "" {
			out.NoAgency += c.N
		} else {
			out.ByAgency[c.Agency] += c.N
		}
	}
	if out.Overdue, err = r.store.CountOverdue(ctx, rg.From, rg.end(), r.clock.Now(), scope); err != nil {
		return nil, err
	}
	rows, err := r.store.Closing(ctx, rg.From, rg.end(), scope)
	if err != nil {
		return nil, err
	}
	out.Closing, out.Satisfaction = []ClosingLine{}, []SatisfactionLine{}
	for _, row := range rows {
		cl := ClosingLine{Agency: row.Agency, Name: row.Name, Closed: row.Closed, OnTime: row.OnTime, OnTimeRate: Rate(row.OnTime, row.Closed)}
		if row.Timed > 0 {
			cl.AvgWorkingDays = math.Round(float64(row.Days)/float64(row.Timed)*10) / 10
		}
		out.Closing = append(out.Closing, cl)
		sl := SatisfactionLine{Agency: row.Agency, Name: row.Name, Rated: row.Rated, Ratings: [5]int{row.R1, row.R2, row.R3, row.R4, row.R5}}
		if row.Rated > 0 {
			sl.Average = math.Round(float64(row.RatingSum)/float64(row.Rated)*100) / 100
		}
		out.Satisfaction = append(out.Satisfaction, sl)
	}
	return out, nil
}

// months yields the local months the range touches, as YYYY-MM.
func months(rg Range, loc *time.Location) func(func(string) bool) {
	return func(yield func(string) bool) {
		from := rg.From.In(loc)
		for m := time.Date(from.Year(), from.Month(), 1, 0, 0, 0, 0, loc); !m.After(rg.To); m = m.AddDate(0, 1, 0) {
			if !yield(m.Format("2006-01")) {
				return
			}
		}
	}
}

func zeros[T ~string](keys []T) map[string]int {
	m := make(map[string]int, len(keys))
	for _, k := range keys {
		m[string(k)] = 0
	}
	return m
}
