package api

import (
	"context"
	"net/http"
	"strings"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/jobs"
)

// agencyJSON is an agency as the API shows it: the parent by code.
type agencyJSON struct {
	ID        int64  `json:"id"`
	Code      string `json:"code"`
	Name      string `json:"name"`
	Parent    string `json:"parent,omitempty"`
	Active    bool   `json:"active"`
	CreatedAt string `json:"created_at"`
	UpdatedAt string `json:"updated_at"`
}

func (s *server) agencyOut(a *jobs.AgencyListing) agencyJSON {
	return agencyJSON{ID: a.ID, Code: a.Code, Name: a.Name, Parent: a.Parent, Active: a.Active,
		CreatedAt: rfc3339(a.CreatedAt, s.Loc), UpdatedAt: rfc3339(a.UpdatedAt, s.Loc)}
}

type agencyCreate struct {
	Code   string `json:"code"`
	Name   string `json:"name"`
	Parent string `json:"parent"`
}

// createAgency: POST /api/v1/agencies {code, name, parent?}.
func (s *server) createAgency(w http.ResponseWriter, r *http.Request, a jobs.Actor) error {
	// Refused before the body is read; the use case asks again.
	if err := actorOf(a).Check(duban.AgencyManage, duban.Subject{}); err != nil {
		return err
	}
	var req agencyCreate
	if err := decode(w, r, &req); err != nil {
		return err
	}
	ag, err := s.agencies.Add(r.Context(), actorOf(a), req.Code, req.Name, req.Parent)
	if err != nil {
		return conflict(err, "agency code %q is already taken", strings.TrimSpace(req.Code))
	}
	writeJSON(w, http.StatusCreated, s.agencyOut(ag))
	return nil
}

// listAgencies: GET /api/v1/agencies, every agency by code.
func (s *server) listAgencies(w http.ResponseWriter, r *http.Request, a jobs.Actor) error {
	all, err := s.agencies.List(r.Context(), actorOf(a))
	if err != nil {
		return err
	}
	out := make([]agencyJSON, 0, len(all))
	for i := range all {
		out = append(out, s.agencyOut(&all[i]))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

type agencyPatch struct {
	Name   *string `json:"name"`
	Parent *string `json:"parent"` // "" removes the parent
	Active *bool   `json:"active"`
}

// patchAgency: PATCH /api/v1/agencies/{code} {name?, parent?, active?}.
func (s *server) patchAgency(w http.ResponseWriter, r *http.Request, a jobs.Actor) error {
	if err := actorOf(a).Check(duban.AgencyManage, duban.Subject{}); err != nil {
		return err
	}
	var req agencyPatch
	if err := decode(w, r, &req); err != nil {
		return err
	}
	ag, err := s.agencies.Update(r.Context(), actorOf(a), r.PathValue("code"), jobs.AgencyChange{Name: req.Name, Parent: req.Parent, Active: req.Active})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.agencyOut(ag))
	return nil
}

// agencyByCode finds an agency named in field of a request; an unknown code
// is a 422 on that field.
func (s *server) agencyByCode(ctx context.Context, code, field string) (*duban.Agency, error) {
	return jobs.AgencyByCode(ctx, s.Store, code, field)
}
