package jobs

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/storage"
)

// Agencies holds the use cases of the agencies people work at: add, list
// and edit. Each asks the rule book and audits in the transaction of its
// change; the API and the command line call them alike.
type Agencies struct {
	store *storage.Store
}

// NewAgencies returns the agency use cases on store.
func NewAgencies(store *storage.Store) *Agencies { return &Agencies{store: store} }

// AgencyListing is an agency with its parent's code ("" without one).
type AgencyListing struct {
	duban.Agency
	Parent string
}

// AgencyByCode finds an agency named in field of a request; an unknown
// code is a ValidationError on that field.
func AgencyByCode(ctx context.Context, st *storage.Store, code, field string) (*duban.Agency, error) {
	ag, err := st.AgencyByCode(ctx, code)
	if errors.Is(err, duban.ErrNotFound) {
		return nil, duban.Invalid(field, "unknown agency %q", code)
	}
	return ag, err
}

// Add creates agency code named name under the agency coded parent ("":
// none). Audited in the same transaction.
func (as *Agencies) Add(ctx context.Context, actor Actor, code, name, parent string) (*AgencyListing, error) {
	if err := actor.Check(duban.AgencyManage, duban.Subject{}); err != nil {
		return nil, err
	}
	ag := &duban.Agency{Code: strings.TrimSpace(code), Name: strings.TrimSpace(name)}
	if err := duban.ValidateAgency(ag.Code, ag.Name); err != nil {
		return nil, err
	}
	parent = strings.TrimSpace(parent)
	if parent != "" {
		p, err := AgencyByCode(ctx, as.store, parent, "parent")
		if err != nil {
			return nil, err
		}
		ag.ParentID = &p.ID
	}
	err := as.store.InTx(ctx, func(tx *storage.Store) error {
		if err := tx.CreateAgency(ctx, ag); err != nil {
			if errors.Is(err, duban.ErrConflict) {
				return fmt.Errorf("agency code %q is already taken: %w", ag.Code, duban.ErrConflict)
			}
			return err
		}
		return tx.Audit(ctx, actor.String(), "agency.create", "agency:"+ag.Code, fmt.Sprintf("name=%s parent=%s", ag.Name, parent))
	})
	if err != nil {
		return nil, err
	}
	return &AgencyListing{Agency: *ag, Parent: parent}, nil
}

// List lists every agency by code, each with its parent's code.
func (as *Agencies) List(ctx context.Context, actor Actor) ([]AgencyListing, error) {
	if err := actor.Check(duban.AgencyRead, duban.Subject{}); err != nil {
		return nil, err
	}
	all, err := as.store.Agencies(ctx)
	if err != nil {
		return nil, err
	}
	codes := make(map[int64]string, len(all))
	for _, ag := range all {
		codes[ag.ID] = ag.Code
	}
	out := make([]AgencyListing, 0, len(all))
	for _, ag := range all {
		l := AgencyListing{Agency: ag}
		if ag.ParentID != nil {
			l.Parent = codes[*ag.ParentID]
		}
		out = append(out, l)
	}
	return out, nil
}

// AgencyChange is an edit of an agency; a nil field is left alone.
type AgencyChange struct {
	Name   *string
	Parent *string // "" removes the parent
	Active *bool
}

// Update edits the agency coded code. A parent that is the agency itself
// or below it is refused. Audited in the same transaction.
func (as *Agencies) Update(ctx context.Context, actor Actor, code string, c AgencyChange) (*AgencyListing, error) {
	if err := actor.Check(duban.AgencyManage, duban.Subject{}); err != nil {
		return nil, err
	}
	ag, err := as.store.AgencyByCode(ctx, code)
	if err != nil {
		return nil, missing(err, "agency %q", code)
	}
	var changed []string
	if c.Name != nil {
		ag.Name = strings.TrimSpace(*c.Name)
		changed = append(changed, "name="+ag.Name)
	}
	if err := duban.ValidateAgency(ag.Code, ag.Name); err != nil {
		return nil, err
	}
	parent := ""
	if ag.ParentID != nil {
		if p, err := as.store.AgencyByID(ctx, *ag.ParentID); err == nil {
			parent = p.Code
		}
	}
	if c.Parent != nil {
		parent = strings.TrimSpace(*c.Parent)
		ag.ParentID = nil
		if parent != "" {
			p, err := AgencyByCode(ctx, as.store, parent, "parent")
			if err != nil {
				return nil, err
			}
			if err := as.checkNoCycle(ctx, ag.ID, p); err != nil {
				return nil, err
			}
			ag.ParentID = &p.ID
		}
		changed = append(changed, "parent="+parent)
	}
	if c.Active != nil {
		ag.Active = *c.Active
		changed = append(changed, fmt.Sprintf("active=%t", ag.Active))
	}
	err = as.store.InTx(ctx, func(tx *storage.Store) error {
		if err := tx.UpdateAgency(ctx, ag); err != nil {
			return err
		}
		return tx.Audit(ctx, actor.String(), "agency.update", "agency:"+ag.Code, strings.Join(changed, " "))
	})
	if err != nil {
		return nil, err
	}
	return &AgencyListing{Agency: *ag, Parent: parent}, nil
}

// checkNoCycle refuses a parent that is the agency itself or below it.
func (as *Agencies) checkNoCycle(ctx context.Context, id int64, parent *duban.Agency) error {
	seen := map[int64]bool{}
	for p := parent; p != nil && !seen[p.ID]; {
		if p.ID == id {
			return duban.Invalid("parent", "would make the agency its own ancestor")
		}
		seen[p.ID] = true
		if p.ParentID == nil {
			return nil
		}
		next, err := as.store.AgencyByID(ctx, *p.ParentID)
		if err != nil {
			return err
		}
		p = next
	}
	return nil
}
