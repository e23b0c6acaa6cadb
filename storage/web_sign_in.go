package storage

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/cityhall/duban"
)

// LoginKey is what makes two logins the same: trimmed and in lower case,
// computed here rather than by the database so that both dialects agree
// on letters beyond ASCII.
func LoginKey(login string) string { return strings.ToLower(strings.TrimSpace(login)) }

// SetLogin gives a person a web login (trimmed), or takes it away with
// "". A login another person holds, in any case, is ErrConflict.
func (s *Store) SetLogin(ctx context.Context, personID int64, login string) error {
	login = strings.TrimSpace(login)
	var l, key any
	if login != "" {
		l, key = login, LoginKey(login)
	}
	n, err := s.exec(ctx, `UPDATE people SET login = ?, login_key = ?, updated_at = ? WHERE id = ?`, l, key, s.now(), personID)
	if err != nil {
		return fmt.Errorf("set login of person %d: %w", personID, err)
	}
	if n == 0 {
		return fmt.Errorf("set login of person %d: %w", personID, duban.ErrNotFound)
	}
	return nil
}

// SetPasswordHash stores the hash of a person's password ("" takes the
// password away).
func (s *Store) SetPasswordHash(ctx context.Context, personID int64, hash string) error {
	n, err := s.exec(ctx, `UPDATE people SET password_hash = ?, updated_at = ? WHERE id = ?`, hash, s.now(), personID)
	if err != nil {
		return fmt.Errorf("set password of person %d: %w", personID, err)
	}
	if n == 0 {
		return fmt.Errorf("set password of person %d: %w", personID, duban.ErrNotFound)
	}
	return nil
}

// PasswordHash returns the stored hash of a person's password, "" when
// they have none.
func (s *Store) PasswordHash(ctx context.Context, personID int64) (string, error) {
	var h string
	if err := s.get(ctx, &h, `SELECT password_hash FROM people WHERE id = ?`, personID); err != nil {
		return "", fmt.Errorf("password of person %d: %w", personID, err)
	}
	return h, nil
}

// PersonByLogin finds the person holding a login, in any case, active or
// not, with their password hash.
func (s *Store) PersonByLogin(ctx context.Context, login string) (*duban.Person, string, error) {
	var row struct {
		duban.Person
		Hash string `db:"password_hash"`
	}
	err := s.get(ctx, &row, `SELECT `+personCols+`, p.password_hash`+personFrom+`WHERE p.login_key = ?`, LoginKey(login))
	if err != nil {
		return nil, "", fmt.Errorf("person by login: %w", err)
	}
	return &row.Person, row.Hash, nil
}

// FindWebSession returns the data of a web session not expired at now;
// found is false for an unknown or expired one.
func (s *Store) FindWebSession(ctx context.Context, tokenHash string, now time.Time) (data []byte, found bool, err error) {
	err = s.get(ctx, &data, `SELECT data FROM web_sessions WHERE token = ? AND expiry > ?`, tokenHash, ts(now))
	if errors.Is(err, duban.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("web session: %w", err)
	}
	return data, true, nil
}

// CommitWebSession stores a web session's data and expiry, replacing
// what the token held.
func (s *Store) CommitWebSession(ctx context.Context, tokenHash string, data []byte, expiry time.Time) error {
	_, err := s.exec(ctx, `INSERT INTO web_sessions (token, data, expiry) VALUES (?, ?, ?)
		ON CONFLICT (token) DO UPDATE SET data = excluded.data, expiry = excluded.expiry`, tokenHash, data, ts(expiry))
	if err != nil {
		return fmt.Errorf("commit web session: %w", err)
	}
	return nil
}

// DeleteWebSession ends a web session; an unknown token is no error.
func (s *Store) DeleteWebSession(ctx context.Context, tokenHash string) error {
	if _, err := s.exec(ctx, `DELETE FROM web_sessions WHERE token = ?`, tokenHash); err != nil {
		return fmt.Errorf("delete web session: %w", err)
	}
	return nil
}

// PruneWebSessions deletes the sessions expired before t.
func (s *Store) PruneWebSessions(ctx context.Context, t time.Time) (int64, error) {
	n, err := s.exec(ctx, `DELETE FROM web_sessions WHERE expiry <= ?`, ts(t))
	if err != nil {
		return 0, fmt.Errorf("prune web sessions: %w", err)
	}
	return n, nil
}
