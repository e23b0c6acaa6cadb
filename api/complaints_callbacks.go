package api

import (
	"net/http"
	"strconv"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/jobs"
)

// callbackJSON is a call staff must make to a reporter without Telegram:
// the complaint's tracking code and whom to call.
type callbackJSON struct {
	ID           int64        `json:"id"`
	ComplaintID  int64        `json:"complaint_id"`
	TrackingCode string       `json:"tracking_code"`
	Reason       string       `json:"reason"`
	Status       string       `json:"status"`
	CreatedAt    string       `json:"created_at"`
	DoneAt       *string      `json:"done_at"`
	DoneBy       string       `json:"done_by,omitempty"`
	Reporter     reporterJSON `json:"reporter"`
}

// listCallbacks: GET /api/v1/callbacks?open=true, oldest first, for office
// staff, supervisors and admins. The answer holds reporters' names and
// phones, so the request is one entry of the audit log naming every
// complaint whose reporter it showed.
func (s *server) listCallbacks(w http.ResponseWriter, r *http.Request, a jobs.Actor) error {
	open := false
	if raw := r.URL.Query().Get("open"); raw != "" {
		b, err := strconv.ParseBool(raw)
		if err != nil {
			return duban.Invalid("open", "must be true or false")
		}
		open = b
	}
	cbs, err := s.Complaints.Callbacks(r.Context(), a, open)
	if err != nil {
		return err
	}
	out := make([]callbackJSON, 0, len(cbs))
	for _, cb := range cbs {
		t, c := cb.Task, cb.Complaint
		out = append(out, callbackJSON{ID: t.ID, ComplaintID: t.ComplaintID, TrackingCode: duban.FormatTrackingCode(c.TrackingCode),
			Reason: t.Reason, Status: t.Status, CreatedAt: rfc3339(t.CreatedAt, s.Loc), DoneAt: rfc3339p(t.DoneAt, s.Loc),
			DoneBy: t.DoneBy, Reporter: reporterJSON{Name: c.ReporterName, Phone: c.ReporterPhone, Anonymous: c.Anonymous}})
	}
	writeJSON(w, http.StatusOK, map[string]any{"callbacks": out})
	return nil
}
