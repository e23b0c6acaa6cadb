package storage

import (
	"context"
	"fmt"

	"github.com/cityhall/duban"
)

// CreateAgency inserts a new agency; a taken code is ErrConflict.
func (s *Store) CreateAgency(ctx context.Context, a *duban.Agency) error {
	now := s.now()
	id, err := s.insert(ctx, `INSERT INTO agencies (code, name, parent_id, active, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?)`, a.Code, a.Name, a.ParentID, true, now, now)
	if err != nil {
		return fmt.Errorf("create agency %s: %w", a.Code, err)
	}
	a.ID, a.Active, a.CreatedAt, a.UpdatedAt = id, true, now, now
	return nil
}

const agencyCols = `id, code, name, parent_id, active, created_at, updated_at`

// AgencyByCode finds an agency by its code.
func (s *Store) AgencyByCode(ctx context.Context, code string) (*duban.Agency, error) {
	var a duban.Agency
	if err := s.get(ctx, &a, `SELECT `+agencyCols+` FROM agencies WHERE code = ?`, code); err != nil {
		return nil, fmt.Errorf("agency %s: %w", code, err)
	}
	return &a, nil
}

// AgencyByID finds an agency by id.
func (s *Store) AgencyByID(ctx context.Context, id int64) (*duban.Agency, error) {
	var a duban.Agency
	if err := s.get(ctx, &a, `SELECT `+agencyCols+` FROM agencies WHERE id = ?`, id); err != nil {
		return nil, fmt.Errorf("agency %d: %w", id, err)
	}
	return &a, nil
}

// Agencies lists every agency, active or not, by code.
func (s *Store) Agencies(ctx context.Context) ([]duban.Agency, error) {
	out := []duban.Agency{}
	if err := s.sel(ctx, &out, `SELECT `+agencyCols+` FROM agencies ORDER BY code`); err != nil {
		return nil, fmt.Errorf("list agencies: %w", err)
	}
	return out, nil
}

// UpdateAgency saves name, parent and active.
func (s *Store) UpdateAgency(ctx context.Context, a *duban.Agency) error {
	a.UpdatedAt = s.now()
	n, err := s.exec(ctx, `UPDATE agencies SET name = ?, parent_id = ?, active = ?, updated_at = ? WHERE id = ?`,
		a.Name, a.ParentID, a.Active, a.UpdatedAt, a.ID)
	if err != nil {
		return fmt.Errorf("update agency %s: %w", a.Code, err)
	}
	if n == 0 {
		return fmt.Errorf("update agency %s: %w", a.Code, duban.ErrNotFound)
	}
	return nil
}
