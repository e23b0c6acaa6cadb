package storage

import (
	"context"
	"fmt"
	"time"
)

// AuditEntry is one line of the audit log: who did what to what.
type AuditEntry struct {
	ID     int64     `db:"id" json:"id"`
	Actor  string    `db:"actor" json:"actor"`
	Action string    `db:"action" json:"action"`
	Target string    `db:"target" json:"target"`
	Detail string    `db:"detail" json:"detail,omitempty"`
	At     time.Time `db:"at" json:"at"`
}

// Audit appends to the audit log.
func (s *Store) Audit(ctx context.Context, actor, action, target, detail string) error {
	if _, err := s.insert(ctx, `INSERT INTO audit_log (actor, action, target, detail, at) VALUES (?, ?, ?, ?, ?)`,
		actor, action, target, detail, s.now()); err != nil {
		return fmt.Errorf("audit %s: %w", action, err)
	}
	return nil
}

// AuditLog lists the newest entries first.
func (s *Store) AuditLog(ctx context.Context, limit int) ([]AuditEntry, error) {
	if limit <= 0 || limit > 1000 {
		limit = 200
	}
	out := []AuditEntry{}
	if err := s.sel(ctx, &out, fmt.Sprintf(`SELECT id, actor, action, target, detail, at FROM audit_log ORDER BY id DESC LIMIT %d`, limit)); err != nil {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	return out, nil
}
