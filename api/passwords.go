package api

import (
	"net/http"

	"github.com/cityhall/duban/jobs"
)

// putPassword: PUT /api/v1/people/{id}/password {password} → 204. The
// person themself or an admin (jobs.SetPassword, which audits it and
// thereby ends the person's web sessions).
func (s *server) putPassword(w http.ResponseWriter, r *http.Request, a jobs.Actor) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var req struct {
		Password string `json:"password"`
	}
	if err := decode(w, r, &req); err != nil {
		return err
	}
	if err := jobs.SetPassword(r.Context(), s.Store, a, id, req.Password); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
