// Package bulletin composes the office's periodic bulletin (通报): the
// figures of the last whole week, month or quarter — appearance of agency
// heads in court, complaints received, closed on time and rated — as a
// short text for the supervision channel and an HTML mail with the tables
// attached as an Excel workbook.
package bulletin

import (
	"bytes"
	"context"
	_ "embed"
	"fmt"
	"html/template"
	"strings"
	"time"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/reports"
)

// Period is the stretch of time a bulletin covers: DUBAN_BULLETIN_PERIOD.
type Period string

// Periods of a bulletin.
const (
	Week    Period = "week"
	Month   Period = "month"
	Quarter Period = "quarter"
)

// ParsePeriod reads DUBAN_BULLETIN_PERIOD.
func ParsePeriod(s string) (Period, error) {
	switch p := Period(s); p {
	case Week, Month, Quarter:
		return p, nil
	}
	return "", duban.Invalid("bulletin_period", "must be week, month or quarter")
}

// Covered is the last whole period before at (in loc): the week from
// Monday to Sunday, the calendar month or the quarter that ended last.
func Covered(p Period, at time.Time, loc *time.Location) reports.Range {
	t := at.In(loc)
	today := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, loc)
	var start, end time.Time // end: the first day after the period
	switch p {
	case Month:
		end = time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, loc)
		start = end.AddDate(0, -1, 0)
	case Quarter:
		end = time.Date(t.Year(), time.Month((int(t.Month())-1)/3*3+1), 1, 0, 0, 0, 0, loc)
		start = end.AddDate(0, -3, 0)
	default: // week: Monday to Sunday
		end = today.AddDate(0, 0, -((int(today.Weekday()) + 6) % 7))
		start = end.AddDate(0, 0, -7)
	}
	return reports.Range{From: start, To: end.AddDate(0, 0, -1)}
}

// Key names the bulletin of a range, for its deliveries and its record.
func Key(rg reports.Range) string {
	return "bulletin:" + rg.From.Format("20060102") + "-" + rg.To.Format("20060102")
}

// Translator renders user-facing text (i18n.Bundle).
type Translator interface {
	T(locale, id string, data map[string]any) string
}

// Bulletin is one bulletin, in one language.
type Bulletin struct {
	Range   reports.Range
	Subject string
	Text    string // the summary, for chat and the plain part of the mail
	HTML    string // the mail: the summary and every table
	Tables  reports.Tables
}

//go:embed bulletin.html
var page string

var tmpl = template.Must(template.New("bulletin").Parse(page))

// Compose computes the bulletin of rg for the office (every agency), in
// locale.
func Compose(ctx context.Context, rs *reports.Reports, t Translator, locale string, rg reports.Range) (*Bulletin, error) {
	office := duban.Scope{All: true}
	app, err := rs.Appearance(ctx, rg, reports.Whole, office)
	if err != nil {
		return nil, err
	}
	cs, err := rs.Complaints(ctx, rg, office)
	if err != nil {
		return nil, err
	}
	closed, onTime, rated, ratingSum := 0, 0, 0, 0.0
	for _, l := range cs.Closing {
		closed, onTime = closed+l.Closed, onTime+l.OnTime
	}
	for _, l := range cs.Satisfaction {
		rated += l.Rated
		ratingSum += l.Average * float64(l.Rated)
	}
	avg := 0.0
	if rated > 0 {
		avg = ratingSum / float64(rated)
	}
	data := map[string]any{"Range": rg.String(), "Held": app.Total.Held, "Head": app.Total.Head,
		"Rate": fmt.Sprintf("%.1f%%", app.Total.Rate*100), "Received": cs.Total, "Overdue": cs.Overdue,
		"Closed": closed, "OnTime": onTime, "OnTimeRate": fmt.Sprintf("%.1f%%", reports.Rate(onTime, closed)*100),
		"Rated": rated, "Average": fmt.Sprintf("%.2f", avg)}
	b := &Bulletin{Range: rg, Subject: t.T(locale, "bulletin.subject", data)}
	lines := []string{t.T(locale, "bulletin.title", data), t.T(locale, "bulletin.appearance", data),
		t.T(locale, "bulletin.complaints", data), t.T(locale, "bulletin.closing", data)}
	if worst := lowest(app.Agencies); worst != nil {
		lines = append(lines, t.T(locale, "bulletin.lowest", map[string]any{"Agency": worst.Name,
			"Rate": fmt.Sprintf("%.1f%%", worst.Rate*100), "Held": worst.Held}))
	}
	b.Text = strings.Join(lines, "\n")
	b.Tables = append(app.Tables(t, locale), cs.Tables(t, locale)...)
	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, map[string]any{"Lang": locale, "Subject": b.Subject, "Lines": lines,
		"Tables": b.Tables, "Attached": t.T(locale, "bulletin.attached", nil)}); err != nil {
		return nil, fmt.Errorf("bulletin: %w", err)
	}
	b.HTML = buf.String()
	return b, nil
}

// lowest is the agency with the lowest appearance rate among those that
// had hearings, the one a bulletin names; nil when none had any.
func lowest(ls []reports.AppearanceLine) *reports.AppearanceLine {
	var w *reports.AppearanceLine
	for i := range ls {
		if ls[i].Held > 0 && (w == nil || ls[i].Rate < w.Rate) {
			w = &ls[i]
		}
	}
	return w
}
