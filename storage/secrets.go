package storage

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
)

// KeptSecret returns the secret called name, making it (32 random bytes,
// hex) the first time any replica asks: the database keeps it, so every
// replica and every restart has the same.
func (s *Store) KeptSecret(ctx context.Context, name string) (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("kept secret %s: %w", name, err)
	}
	if _, err := s.exec(ctx, `INSERT INTO kept_secrets (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING`,
		name, hex.EncodeToString(b)); err != nil {
		return "", fmt.Errorf("kept secret %s: %w", name, err)
	}
	var v string
	if err := s.get(ctx, &v, `SELECT value FROM kept_secrets WHERE name = ?`, name); err != nil {
		return "", fmt.Errorf("kept secret %s: %w", name, err)
	}
	return v, nil
}
