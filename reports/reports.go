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
	"strings"
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

func (l *AppearanceLine) add(m storage.AppearanceMonth) {
	l.Held, l.Head, l.Deputy, l.None = l.Held+m.Held, l.Head+m.Head, l.Deputy+m.Deputy, l.None+m.None
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
	rows, err := r.store.AppearanceByMonth(ctx, rg.From, rg.end(), scope)
	if err != nil {
		return nil, err
	}
	out := &Appearance{Range: rg, By: by, Agencies: []AppearanceLine{}}
	whole := map[string]*AppearanceLine{}
	periods := map[string]map[string]*AppearanceLine{}
	for _, m := range rows {
		line(whole, m).add(m)
		out.Total.add(m)
		if by != Whole {
			p := periodOf(by, m.Month)
			if periods[p] == nil {
				periods[p] = map[string]*AppearanceLine{}
			}
			line(periods[p], m).add(m)
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

// periodOf names the period of by that local month (YYYY-MM) falls in.
func periodOf(by Period, month string) string {
	if by == Quarter {
		if t, err := time.Parse("2006-01", month); err == nil {
			return fmt.Sprintf("%d-Q%d", t.Year(), (int(t.Month())-1)/3+1)
		}
	}
	return month
}

func line(m map[string]*AppearanceLine, am storage.AppearanceMonth) *AppearanceLine {
	l := m[am.Agency]
	if l == nil {
		l = &AppearanceLine{Agency: am.Agency, Name: am.Name}
		m[am.Agency] = l
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

// Complaints computes the complaints report for scope: an agency's
// people get the complaints assigned to their agency now. Whole months
// of the range are read from the rollups storage keeps as complaints
// change; only the days at its edges are counted from the complaints.
func (r *Reports) Complaints(ctx context.Context, rg Range, scope duban.Scope) (*Complaints, error) {
	agency := scope.Agency
	if scope.All {
		agency = nil
	}
	ags, err := r.store.Agencies(ctx)
	if err != nil {
		return nil, err
	}
	byID := make(map[int64]duban.Agency, len(ags))
	for _, a := range ags {
		byID[a.ID] = a
	}
	whole, edges := r.split(rg)
	counts, err := r.store.CountedBreakdown(ctx, whole, agency)
	if err != nil {
		return nil, err
	}
	closings, err := r.store.ClosedCells(ctx, whole, agency)
	if err != nil {
		return nil, err
	}
	for _, e := range edges {
		b, err := r.store.ComplaintBreakdown(ctx, e.from, e.to, e.month, agency)
		if err != nil {
			return nil, err
		}
		cl, err := r.store.Closing(ctx, e.from, e.to, agency)
		if err != nil {
			return nil, err
		}
		counts, closings = counts.Add(b), append(closings, cl...)
	}

	out := &Complaints{Range: rg, Total: counts.Total, ByStatus: zeros(duban.ComplaintStatuses), BySource: zeros(duban.Sources),
		ByCategory: zeros(duban.Categories), ByAgency: map[string]int{}, ByMonth: map[string]int{}}
	for m := range months(rg, r.loc) {
		out.ByMonth[m] = 0
	}
	for _, p := range []struct{ dst, src map[string]int }{{out.ByStatus, counts.ByStatus}, {out.BySource, counts.BySource},
		{out.ByCategory, counts.ByCategory}, {out.ByMonth, counts.ByMonth}} {
		for k, n := range p.src {
			p.dst[k] += n
		}
	}
	for id, n := range counts.ByAgency {
		if a, ok := byID[id]; ok {
			out.ByAgency[a.Code] += n
		} else {
			out.NoAgency += n
		}
	}
	if out.Overdue, err = r.store.CountOverdueOf(ctx, rg.From, rg.end(), r.clock.Now(), agency); err != nil {
		return nil, err
	}

	sums := map[int64]*storage.ClosingRow{}
	for _, c := range closings {
		t := sums[c.Agency]
		if t == nil {
			t = &storage.ClosingRow{Agency: c.Agency}
			sums[c.Agency] = t
		}
		t.Closed, t.OnTime, t.Timed, t.Days = t.Closed+c.Closed, t.OnTime+c.OnTime, t.Timed+c.Timed, t.Days+c.Days
		t.Rated, t.RatingSum = t.Rated+c.Rated, t.RatingSum+c.RatingSum
		t.R1, t.R2, t.R3, t.R4, t.R5 = t.R1+c.R1, t.R2+c.R2, t.R3+c.R3, t.R4+c.R4, t.R5+c.R5
	}
	rows := make([]storage.ClosingRow, 0, len(sums))
	for _, t := range sums {
		if t.Closed > 0 {
			rows = append(rows, *t)
		}
	}
	slices.SortFunc(rows, func(a, b storage.ClosingRow) int { return strings.Compare(byID[a.Agency].Code, byID[b.Agency].Code) })
	out.Closing, out.Satisfaction = []ClosingLine{}, []SatisfactionLine{}
	for _, row := range rows {
		a := byID[row.Agency]
		cl := ClosingLine{Agency: a.Code, Name: a.Name, Closed: row.Closed, OnTime: row.OnTime, OnTimeRate: Rate(row.OnTime, row.Closed)}
		if row.Timed > 0 {
			cl.AvgWorkingDays = math.Round(float64(row.Days)/float64(row.Timed)*10) / 10
		}
		out.Closing = append(out.Closing, cl)
		sl := SatisfactionLine{Agency: a.Code, Name: a.Name, Rated: row.Rated, Ratings: [5]int{row.R1, row.R2, row.R3, row.R4, row.R5}}
		if row.Rated > 0 {
			sl.Average = math.Round(float64(row.RatingSum)/float64(row.Rated)*100) / 100
		}
		out.Satisfaction = append(out.Satisfaction, sl)
	}
	return out, nil
}

// edge is a part of a range that is not a whole month, counted from the
// complaints themselves.
type edge struct {
	from, to time.Time
	month    string
}

// split cuts a range into the local months it covers whole and the days
// before and after them (in the month each falls in).
func (r *Reports) split(rg Range) (whole []string, edges []edge) {
	start, end := rg.From.In(r.loc), rg.end().In(r.loc)
	first := time.Date(start.Year(), start.Month(), 1, 0, 0, 0, 0, r.loc)
	if first.Before(start) {
		first = first.AddDate(0, 1, 0)
	}
	last := time.Date(end.Year(), end.Month(), 1, 0, 0, 0, 0, r.loc) // the whole months end here
	if !first.Before(last) {
		// No whole month: the days of each month the range touches.
		for m := time.Date(start.Year(), start.Month(), 1, 0, 0, 0, 0, r.loc); m.Before(end); m = m.AddDate(0, 1, 0) {
			edges = append(edges, edge{from: later(m, start), to: earlier(m.AddDate(0, 1, 0), end), month: m.Format("2006-01")})
		}
		return nil, edges
	}
	if start.Before(first) {
		edges = append(edges, edge{from: start, to: first, month: start.Format("2006-01")})
	}
	for m := first; m.Before(last); m = m.AddDate(0, 1, 0) {
		whole = append(whole, m.Format("2006-01"))
	}
	if last.Before(end) {
		edges = append(edges, edge{from: last, to: end, month: last.Format("2006-01")})
	}
	return whole, edges
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
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

// ParseRange reads a report's from and to as a request gives them (dates,
// YYYY-MM-DD in loc, to inclusive); either left empty is, by default, the
// first of January of today's year or today. from after to is refused.
func ParseRange(from, to string, today time.Time, loc *time.Location) (Range, error) {
	t := today.In(loc)
	rg := Range{From: time.Date(t.Year(), 1, 1, 0, 0, 0, 0, loc), To: time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, loc)}
	var v duban.ValidationError
	for _, p := range []struct {
		name, raw string
		dst       *time.Time
	}{{"from", from, &rg.From}, {"to", to, &rg.To}} {
		if raw := strings.TrimSpace(p.raw); raw != "" {
			d, err := time.ParseInLocation(time.DateOnly, raw, loc)
			if err != nil {
				v.Add(p.name, "is not a date (YYYY-MM-DD)")
				continue
			}
			*p.dst = d
		}
	}
	if err := v.Err(); err != nil {
		return rg, err
	}
	if rg.From.After(rg.To) {
		return rg, duban.Invalid("from", "is after to")
	}
	return rg, nil
}
