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
// hearings held and whether the head appeared in person (出庭应诉率).
func (s *server) appearanceReport(w http.ResponseWriter, r *http.Request, a jobs.Actor) error {
	if err := require(a, duban.RoleStaff, duban.RoleSupervisor); err != nil {
		return err
	}
	today := s.Clock.Now().In(s.Loc)
	to := time.Date(today.Year(), today.Month(), today.Day(), 0, 0, 0, 0, s.Loc)
	from := time.Date(today.Year(), 1, 1, 0, 0, 0, 0, s.Loc)
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
		return err
	}
	if from.After(to) {
		return duban.Invalid("from", "is after to")
	}
	rows, err := s.Store.Appearance(r.Context(), from, to.AddDate(0, 0, 1))
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
