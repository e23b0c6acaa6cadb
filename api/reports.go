package api

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/jobs"
	"github.com/cityhall/duban/reports"
)

type appearanceJSON struct {
	From     string                     `json:"from"`
	To       string                     `json:"to"`
	Agencies []reports.AppearanceLine   `json:"agencies"`
	Total    reports.AppearanceLine     `json:"total"`
	By       string                     `json:"by,omitempty"`
	Periods  []reports.AppearancePeriod `json:"periods,omitempty"`
}

// appearanceReport: GET /api/v1/reports/appearance?from=&to=&by=&format=
// (dates in local time, to inclusive; default the calendar year to date):
// per agency, hearings held and whether the head appeared in person
// (出庭应诉率), and with by=month or by=quarter the same per period; an
// agency's people get their agency's line. format=csv or xlsx downloads
// the same figures as a file.
func (s *server) appearanceReport(w http.ResponseWriter, r *http.Request, a jobs.Actor) error {
	scope := actorOf(a).ScopeOf(duban.ReportRead)
	if scope.None() {
		return duban.ErrForbidden
	}
	rg, format, err := s.reportQuery(r)
	if err != nil {
		return err
	}
	by, err := reports.ParsePeriod(r.URL.Query().Get("by"))
	if err != nil {
		return err
	}
	rep, err := s.reports.Appearance(r.Context(), rg, by, scope)
	if err != nil {
		return err
	}
	if format != "" {
		return s.download(w, "appearance", rg, format, rep.Tables(s.texts(), localeOf(a)))
	}
	writeJSON(w, http.StatusOK, appearanceJSON{From: rg.From.Format(time.DateOnly), To: rg.To.Format(time.DateOnly),
		Agencies: rep.Agencies, Total: rep.Total, By: string(by), Periods: rep.Periods})
	return nil
}

// reportQuery reads a report's from and to (dates in local time, to
// inclusive; default the calendar year to date) and format (csv, xlsx,
// or "" for JSON).
func (s *server) reportQuery(r *http.Request) (reports.Range, string, error) {
	q := r.URL.Query()
	format := q.Get("format")
	if format != "" && format != "csv" && format != "xlsx" && format != "json" {
		return reports.Range{}, "", duban.Invalid("format", "must be csv, xlsx or json")
	}
	if format == "json" {
		format = ""
	}
	rg, err := reports.ParseRange(q.Get("from"), q.Get("to"), s.Clock.Now(), s.Loc)
	return rg, format, err
}

// download answers a report's tables as a CSV or Excel file named for the
// report and its range.
func (s *server) download(w http.ResponseWriter, name string, rg reports.Range, format string, ts reports.Tables) error {
	var buf bytes.Buffer
	ctype := "text/csv; charset=utf-8"
	write := ts.WriteCSV
	if format == "xlsx" {
		ctype, write = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ts.WriteXLSX
	}
	if err := write(&buf); err != nil {
		return err
	}
	file := fmt.Sprintf("duban-%s-%s-%s.%s", name, rg.From.Format("20060102"), rg.To.Format("20060102"), format)
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Content-Disposition", `attachment; filename="`+file+`"`)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	_, err := w.Write(buf.Bytes())
	return err
}

// localeOf is the language of a's downloads: their own, or zh-CN.
func localeOf(a jobs.Actor) string {
	if a.Person != nil && a.Person.Locale != "" {
		return a.Person.Locale
	}
	return duban.LocaleZH
}

// complaintsReport is GET /api/v1/reports/complaints: complaints received
// in the range by status, source, category, assigned agency and month
// (every status, source, category and month listed, 0 included), how many
// of them are overdue now, and per agency the complaints it closed in the
// range — on time, working days taken — and the reporters' ratings.
type complaintsReport struct {
	From         string                     `json:"from"`
	To           string                     `json:"to"`
	Total        int                        `json:"total"`
	ByStatus     map[string]int             `json:"by_status"`
	BySource     map[string]int             `json:"by_source"`
	ByCategory   map[string]int             `json:"by_category"`
	ByAgency     map[string]int             `json:"by_agency"` // by agency code
	NoAgency     int                        `json:"no_agency"` // not (yet) assigned to a known agency
	ByMonth      map[string]int             `json:"by_month"`  // YYYY-MM, local time
	Overdue      int                        `json:"overdue"`
	Closing      []reports.ClosingLine      `json:"closing"`
	Satisfaction []reports.SatisfactionLine `json:"satisfaction"`
}

// complaintsReport: GET /api/v1/reports/complaints?from=&to=&format= (dates
// in local time, to inclusive; default the calendar year to date): the
// office's figures for the office, an agency's own for its people (the
// complaints assigned to it, now or before).
func (s *server) complaintsReport(w http.ResponseWriter, r *http.Request, a jobs.Actor) error {
	scope := actorOf(a).ScopeOf(duban.ReportRead)
	if scope.None() {
		return duban.ErrForbidden
	}
	rg, format, err := s.reportQuery(r)
	if err != nil {
		return err
	}
	rep, err := s.reports.Complaints(r.Context(), rg, scope)
	if err != nil {
		return err
	}
	if format != "" {
		return s.download(w, "complaints", rg, format, rep.Tables(s.texts(), localeOf(a)))
	}
	writeJSON(w, http.StatusOK, complaintsReport{From: rg.From.Format(time.DateOnly), To: rg.To.Format(time.DateOnly),
		Total: rep.Total, ByStatus: rep.ByStatus, BySource: rep.BySource, ByCategory: rep.ByCategory, ByAgency: rep.ByAgency,
		NoAgency: rep.NoAgency, ByMonth: rep.ByMonth, Overdue: rep.Overdue, Closing: rep.Closing, Satisfaction: rep.Satisfaction})
	return nil
}

// sendBulletin: POST /api/v1/reports/bulletin {from?, to?} sends the
// bulletin (通报) now: of the dates given (local, to inclusive), or of the
// last whole period it covers on its schedule. Sending a range again sends
// nothing twice. 200 with who it was mailed to and whether the supervision
// channel has it.
func (s *server) sendBulletin(w http.ResponseWriter, r *http.Request, a jobs.Actor) error {
	if err := actorOf(a).Check(duban.ReportBulletin, duban.Subject{}); err != nil {
		return err
	}
	var req struct {
		From string `json:"from"`
		To   string `json:"to"`
	}
	if r.ContentLength != 0 {
		if err := decode(w, r, &req); err != nil {
			return err
		}
	}
	rg := s.Bulletins.Covered(s.Clock.Now())
	var v duban.ValidationError
	for _, p := range []struct {
		name, raw string
		dst       *time.Time
	}{{"from", req.From, &rg.From}, {"to", req.To, &rg.To}} {
		if p.raw == "" {
			continue
		}
		d, err := time.ParseInLocation(time.DateOnly, strings.TrimSpace(p.raw), s.Loc)
		if err != nil {
			v.Add(p.name, "is not a date (YYYY-MM-DD)")
			continue
		}
		*p.dst = d
	}
	if err := v.Err(); err != nil {
		return err
	}
	if rg.From.After(rg.To) {
		return duban.Invalid("from", "is after to")
	}
	sent, err := s.Bulletins.Send(r.Context(), a, rg)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, sent)
	return nil
}
