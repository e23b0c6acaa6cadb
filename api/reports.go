package api

import (
	"math"
	"net/http"
	"strings"
	"time"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/jobs"
)

// appearanceLine is one agency's appearance: hearings held, who appeared,
// and the rate of heads in person.
type appearanceLine struct {
	Agency string  `json:"agency,omitempty"`
	Name   string  `json:"name,omitempty"`
	Held   int     `json:"held"`
	Head   int     `json:"head"`
	Deputy int     `json:"deputy"`
	None   int     `json:"none"`
	Rate   float64 `json:"rate"`
}

type appearanceJSON struct {
	From     string           `json:"from"`
	To       string           `json:"to"`
	Agencies []appearanceLine `json:"agencies"`
	Total    appearanceLine   `json:"total"`
}

// rate is head ÷ held to 4 decimals, 0 when nothing was held.
func rate(head, held int) float64 {
	if held == 0 {
		return 0
	}
	return math.Round(float64(head)/float64(held)*10000) / 10000
}

// appearanceReport: GET /api/v1/reports/appearance?from=&to= (dates in
// local time, to inclusive; default the calendar year to date): per agency,
// hearings held and whether the head appeared in person (出庭应诉率); an
// agency's people get their agency's line.
func (s *server) appearanceReport(w http.ResponseWriter, r *http.Request, a jobs.Actor) error {
	scope := actorOf(a).ScopeOf(duban.ReportRead)
	if scope.None() {
		return duban.ErrForbidden
	}
	from, to, err := s.reportRange(r)
	if err != nil {
		return err
	}
	rows, err := s.Store.Appearance(r.Context(), from, to.AddDate(0, 0, 1), scope)
	if err != nil {
		return err
	}
	out := appearanceJSON{From: from.Format(time.DateOnly), To: to.Format(time.DateOnly), Agencies: make([]appearanceLine, 0, len(rows))}
	for _, row := range rows {
		out.Agencies = append(out.Agencies, appearanceLine{Agency: row.AgencyCode, Name: row.AgencyName, Held: row.Held,
			Head: row.Head, Deputy: row.Deputy, None: row.Nobody, Rate: rate(row.Head, row.Held)})
		out.Total.Held += row.Held
		out.Total.Head += row.Head
		out.Total.Deputy += row.Deputy
		out.Total.None += row.Nobody
	}
	out.Total.Rate = rate(out.Total.Head, out.Total.Held)
	writeJSON(w, http.StatusOK, out)
	return nil
}

// reportRange reads a report's from and to (dates in local time, to
// inclusive; default the calendar year to date).
func (s *server) reportRange(r *http.Request) (from, to time.Time, err error) {
	today := s.Clock.Now().In(s.Loc)
	to = time.Date(today.Year(), today.Month(), today.Day(), 0, 0, 0, 0, s.Loc)
	from = time.Date(today.Year(), 1, 1, 0, 0, 0, 0, s.Loc)
	var v duban.ValidationError
	q := r.URL.Query()
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"from", &from}, {"to", &to}} {
		if raw := strings.TrimSpace(q.Get(p.name)); raw != "" {
			d, err := time.ParseInLocation(time.DateOnly, raw, s.Loc)
			if err != nil {
				v.Add(p.name, "is not a date (YYYY-MM-DD)")
				continue
			}
			*p.dst = d
		}
	}
	if err := v.Err(); err != nil {
		return from, to, err
	}
	if from.After(to) {
		return from, to, duban.Invalid("from", "is after to")
	}
	return from, to, nil
}

// complaintsReport is GET /api/v1/reports/complaints: complaints received
// in the range by status, source, category and agency (every status,
// source and category listed, 0 included), and how many of them are
// overdue now.
type complaintsReport struct {
	From       string         `json:"from"`
	To         string         `json:"to"`
	Total      int            `json:"total"`
	ByStatus   map[string]int `json:"by_status"`
	BySource   map[string]int `json:"by_source"`
	ByCategory map[string]int `json:"by_category"`
	ByAgency   map[string]int `json:"by_agency"` // by agency code
	NoAgency   int            `json:"no_agency"` // not (yet) assigned to a known agency
	Overdue    int            `json:"overdue"`
}

// complaintsReport: GET /api/v1/reports/complaints?from=&to= (dates in
// local time, to inclusive; default the calendar year to date): the
// office's figures for the office, an agency's own for its people (the
// complaints assigned to it, now or before).
func (s *server) complaintsReport(w http.ResponseWriter, r *http.Request, a jobs.Actor) error {
	scope := actorOf(a).ScopeOf(duban.ReportRead)
	if scope.None() {
		return duban.ErrForbidden
	}
	from, to, err := s.reportRange(r)
	if err != nil {
		return err
	}
	end := to.AddDate(0, 0, 1)
	out := complaintsReport{From: from.Format(time.DateOnly), To: to.Format(time.DateOnly),
		ByStatus: zeros(duban.ComplaintStatuses), BySource: zeros(duban.Sources), ByCategory: zeros(duban.Categories),
		ByAgency: map[string]int{}}
	ctx := r.Context()
	for by, dst := range map[string]map[string]int{"status": out.ByStatus, "source": out.BySource,
		"category": out.ByCategory, "agency": out.ByAgency} {
		rows, err := s.Store.CountComplaints(ctx, by, from, end, scope)
		if err != nil {
			return err
		}
		for _, row := range rows {
			if by == "agency" && row.Key == "" {
				out.NoAgency += row.N
			} else {
				dst[row.Key] += row.N
			}
			if by == "status" {
				out.Total += row.N
			}
		}
	}
	if out.Overdue, err = s.Store.CountOverdue(ctx, from, end, s.Clock.Now(), scope); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func zeros[T ~string](keys []T) map[string]int {
	m := make(map[string]int, len(keys))
	for _, k := range keys {
		m[string(k)] = 0
	}
	return m
}
