package web

import (
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/jobs"
	"github.com/cityhall/duban/reports"
)

// reportsPage is the reports page: the range asked for, both reports,
// their charts and, for the office, the bulletin form's outcome.
type reportsPage struct {
	From, To   string
	By         string
	Appearance *reports.Appearance
	Complaints *reports.Complaints
	Charts     []template.HTML
	Tables     reports.Tables
	Download   string // the query the download links carry
	Sent       *jobs.Sent
	Bulletin   bool // whether the viewer may send the bulletin
}

// reportRange reads from, to and by of a reports request (dates in local
// time, to inclusive; default the year to date, by month).
func (w *Web) reportRange(r *http.Request) (reports.Range, reports.Period, error) {
	by := reports.Month
	if raw := r.FormValue("by"); raw != "" {
		p, err := reports.ParsePeriod(raw)
		if err != nil || p == reports.Whole {
			return reports.Range{}, by, duban.Invalid("by", "must be month or quarter")
		}
		by = p
	}
	rg, err := reports.ParseRange(r.FormValue("from"), r.FormValue("to"), w.Clock.Now(), w.Loc)
	return rg, by, err
}

// reportsView: GET /reports, the office's figures (an agency's own for its
// people) as tables and charts, with downloads.
func (w *Web) reportsView(rw http.ResponseWriter, r *http.Request, me *viewer) error {
	return w.showReports(rw, r, me, nil)
}

func (w *Web) showReports(rw http.ResponseWriter, r *http.Request, me *viewer, sent *jobs.Sent) error {
	scope := me.Actor().ScopeOf(duban.ReportRead)
	if scope.None() || w.Reports == nil {
		return fmt.Errorf("reports: %w", duban.ErrForbidden)
	}
	rg, by, err := w.reportRange(r)
	if err != nil {
		return err
	}
	app, err := w.Reports.Appearance(r.Context(), rg, by, scope)
	if err != nil {
		return err
	}
	cs, err := w.Reports.Complaints(r.Context(), rg, scope)
	if err != nil {
		return err
	}
	p := reportsPage{From: rg.From.Format(time.DateOnly), To: rg.To.Format(time.DateOnly), By: string(by),
		Appearance: app, Complaints: cs, Sent: sent, Bulletin: w.Bulletins != nil && me.May(string(duban.ReportBulletin))}
	p.Download = fmt.Sprintf("from=%s&to=%s&by=%s", p.From, p.To, p.By)
	p.Tables = append(app.Tables(w.T, me.Locale), cs.Tables(w.T, me.Locale)...)
	p.Charts = w.charts(me, app, cs)
	w.render(rw, r, me, http.StatusOK, "reports", p)
	return nil
}

// charts draws the reports' main figures: appearance rate per agency,
// complaints by category and by month, on-time closing per agency.
func (w *Web) charts(me *viewer, app *reports.Appearance, cs *reports.Complaints) []template.HTML {
	pct := func(x float64) string { return fmt.Sprintf("%.1f%%", x*100) }
	var rate, cat, month, ontime []reports.Bar
	for _, l := range app.Agencies {
		rate = append(rate, reports.Bar{Label: l.Name, Value: l.Rate, Text: pct(l.Rate)})
	}
	for _, c := range duban.Categories {
		n := cs.ByCategory[string(c)]
		cat = append(cat, reports.Bar{Label: me.t("category." + string(c)), Value: float64(n), Text: fmt.Sprint(n)})
	}
	for m := range cs.ByMonth {
		month = append(month, reports.Bar{Label: m, Value: float64(cs.ByMonth[m]), Text: fmt.Sprint(cs.ByMonth[m])})
	}
	sortBars(month)
	for _, l := range cs.Closing {
		ontime = append(ontime, reports.Bar{Label: l.Name, Value: l.OnTimeRate, Text: pct(l.OnTimeRate)})
	}
	out := []template.HTML{}
	for _, c := range []struct {
		id   string
		bars []reports.Bar
		max  float64
	}{{"web.r.chart.rate", rate, 1}, {"web.r.chart.category", cat, 0}, {"web.r.chart.month", month, 0}, {"web.r.chart.ontime", ontime, 1}} {
		if len(c.bars) == 0 {
			continue
		}
		// BarChart escapes every text it draws.
		out = append(out, template.HTML(reports.BarChart(me.t(c.id), c.bars, c.max)))
	}
	return out
}

func sortBars(bs []reports.Bar) {
	for i := 1; i < len(bs); i++ {
		for j := i; j > 0 && bs[j].Label < bs[j-1].Label; j-- {
			bs[j], bs[j-1] = bs[j-1], bs[j]
		}
	}
}

// reportDownload: GET /reports/{file}, appearance.csv, appearance.xlsx,
// complaints.csv or complaints.xlsx of the page's range, in the viewer's
// language.
func (w *Web) reportDownload(rw http.ResponseWriter, r *http.Request, me *viewer) error {
	scope := me.Actor().ScopeOf(duban.ReportRead)
	if scope.None() || w.Reports == nil {
		return fmt.Errorf("reports: %w", duban.ErrForbidden)
	}
	name, format, ok := strings.Cut(r.PathValue("file"), ".")
	if !ok || (name != "appearance" && name != "complaints") || (format != "csv" && format != "xlsx") {
		return fmt.Errorf("report %q: %w", r.PathValue("file"), duban.ErrNotFound)
	}
	rg, by, err := w.reportRange(r)
	if err != nil {
		return err
	}
	var ts reports.Tables
	if name == "appearance" {
		app, err := w.Reports.Appearance(r.Context(), rg, by, scope)
		if err != nil {
			return err
		}
		ts = app.Tables(w.T, me.Locale)
	} else {
		cs, err := w.Reports.Complaints(r.Context(), rg, scope)
		if err != nil {
			return err
		}
		ts = cs.Tables(w.T, me.Locale)
	}
	var buf bytes.Buffer
	ctype, write := "text/csv; charset=utf-8", ts.WriteCSV
	if format == "xlsx" {
		ctype, write = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ts.WriteXLSX
	}
	if err := write(&buf); err != nil {
		return err
	}
	rw.Header().Set("Content-Type", ctype)
	rw.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="duban-%s-%s-%s.%s"`, name,
		rg.From.Format("20060102"), rg.To.Format("20060102"), format))
	_, err = rw.Write(buf.Bytes())
	return err
}

// sendBulletin: POST /reports/bulletin, the bulletin of the form's range
// sent now (the office and supervisors), then the page again saying to
// whom.
func (w *Web) sendBulletin(rw http.ResponseWriter, r *http.Request, me *viewer) error {
	if w.Bulletins == nil {
		return fmt.Errorf("bulletin: %w", duban.ErrForbidden)
	}
	rg, _, err := w.reportRange(r)
	if err != nil {
		return err
	}
	sent, err := w.Bulletins.Send(r.Context(), me.Actor(), rg)
	if err != nil && sent == nil {
		return err
	}
	if err != nil && !errors.Is(err, duban.ErrForbidden) {
		w.Log.Warn("bulletin sent, but not posted", "error", err)
	}
	return w.showReports(rw, r, me, sent)
}
