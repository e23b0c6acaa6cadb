package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/jobs"
	"github.com/cityhall/duban/storage"
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

func (s *server) agencyOut(a *duban.Agency, parent string) agencyJSON {
	return agencyJSON{ID: a.ID, Code: a.Code, Name: a.Name, Parent: parent, Active: a.Active,
		CreatedAt: rfc3339(a.CreatedAt, s.Loc), UpdatedAt: rfc3339(a.UpdatedAt, s.Loc)}
}

type agencyCreate struct {
	Code   string `json:"code"`
	Name   string `json:"name"`
	Parent string `json:"parent"`
}

// createAgency: POST /api/v1/agencies {code, name, parent?}.
func (s *server) createAgency(w http.ResponseWriter, r *http.Request, a jobs.Actor) error {
	if err := actorOf(a).Check(duban.AgencyManage, duban.Subject{}); err != nil {
		return err
	}
	var req agencyCreate
	if err := decode(w, r, &req); err != nil {
		return err
	}
	ctx := r.Context()
	ag := &duban.Agency{Code: strings.TrimSpace(req.Code), Name: strings.TrimSpace(req.Name)}
	if err := duban.ValidateAgency(ag.Code, ag.Name); err != nil {
		return err
	}
	parent := strings.TrimSpace(req.Parent)
	if parent != "" {
		p, err := s.agencyByCode(ctx, parent, "parent")
		if err != nil {
			return err
		}
		ag.ParentID = &p.ID
	}
	err := s.Store.InTx(ctx, func(tx *storage.Store) error {
		if err := tx.CreateAgency(ctx, ag); err != nil {
			return conflict(err, "agency code %q is already taken", ag.Code)
		}
		return tx.Audit(ctx, a.String(), "agency.create", "agency:"+ag.Code, fmt.Sprintf("name=%s parent=%s", ag.Name, parent))
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, s.agencyOut(ag, parent))
	return nil
}

// listAgencies: GET /api/v1/agencies, every agency by code.
func (s *server) listAgencies(w http.ResponseWriter, r *http.Request, _ jobs.Actor) error {
	all, err := s.Store.Agencies(r.Context())
	if err != nil {
		return err
	}
	codes := make(map[int64]string, len(all))
	for _, ag := range all {
		codes[ag.ID] = ag.Code
	}
	out := make([]agencyJSON, 0, len(all))
	for i := range all {
		parent := ""
		if all[i].ParentID != nil {
			parent = codes[*all[i].ParentID]
		}
		out = append(out, s.agencyOut(&all[i], parent))
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
	ctx := r.Context()
	code := r.PathValue("code")
	ag, err := s.Store.AgencyByCode(ctx, code)
	if err != nil {
		return notFound(err, "agency %q", code)
	}
	var changed []string
	if req.Name != nil {
		ag.Name = strings.TrimSpace(*req.Name)
		changed = append(changed, "name="+ag.Name)
	}
	if err := duban.ValidateAgency(ag.Code, ag.Name); err != nil {
		return err
	}
	parent := ""
	if ag.ParentID != nil {
		if p, err := s.Store.AgencyByID(ctx, *ag.ParentID); err == nil {
			parent = p.Code
		}
	}
	if req.Parent != nil {
		parent = strings.TrimSpace(*req.Parent)
		ag.ParentID = nil
		if parent != "" {
			p, err := s.agencyByCode(ctx, parent, "parent")
			if err != nil {
				return err
			}
			if err := s.checkNoCycle(ctx, ag.ID, p); err != nil {
				return err
			}
			ag.ParentID = &p.ID
		}
		changed = append(changed, "parent="+parent)
	}
	if req.Active != nil {
		ag.Active = *req.Active
		changed = append(changed, fmt.Sprintf("active=%t", ag.Active))
	}
	err = s.Store.InTx(ctx, func(tx *storage.Store) error {
		if err := tx.UpdateAgency(ctx, ag); err != nil {
			return err
		}
		return tx.Audit(ctx, a.String(), "agency.update", "agency:"+ag.Code, strings.Join(changed, " "))
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.agencyOut(ag, parent))
	return nil
}

// checkNoCycle refuses a parent that is the agency itself or below it.
func (s *server) checkNoCycle(ctx context.Context, id int64, parent *duban.Agency) error {
	seen := map[int64]bool{}
	for p := parent; p != nil && !seen[p.ID]; {
		if p.ID == id {
			return duban.Invalid("parent", "would make the agency its own ancestor")
		}
		seen[p.ID] = true
		if p.ParentID == nil {
			return nil
		}
		next, err := s.Store.AgencyByID(ctx, *p.ParentID)
		if err != nil {
			return err
		}
		p = next
	}
	return nil
}

// agencyByCode finds an agency named in field of a request; an unknown code
// is a 422 on that field.
func (s *server) agencyByCode(ctx context.Context, code, field string) (*duban.Agency, error) {
	ag, err := s.Store.AgencyByCode(ctx, code)
	if errors.Is(err, duban.ErrNotFound) {
		return nil, duban.Invalid(field, "unknown agency %q", code)
	}
	return ag, err
}
