// Package storagetest opens fresh stores for tests: SQLite in a temporary
// directory always, PostgreSQL in a schema of its own when the test
// database is configured, so packages can run in parallel.
package storagetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"path/filepath"
	"testing"

	"github.com/jmoiron/sqlx"
	_ "github.com/lib/pq" // the PostgreSQL driver for the schema set-up

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/internal/testenv"
	"github.com/cityhall/duban/storage"
)

// SQLiteURL returns a database URL for a new SQLite file.
func SQLiteURL(t testing.TB) string {
	return "sqlite:" + filepath.Join(t.TempDir(), "duban.db")
}

// PostgresURL creates an empty schema and returns a URL whose search_path
// points at it; the schema is dropped when the test ends. It skips (or fails
// when services are required) without a test database.
func PostgresURL(t testing.TB) string {
	t.Helper()
	base := testenv.PostgresURL(t)
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	schema := "t_" + hex.EncodeToString(b)
	admin, err := sqlx.Open("postgres", base)
	if err != nil {
		t.Fatalf("postgres: %v", err)
	}
	if _, err := admin.Exec(`CREATE SCHEMA ` + schema); err != nil {
		admin.Close()
		t.Fatalf("postgres: create schema: %v", err)
	}
	t.Cleanup(func() {
		_, _ = admin.Exec(`DROP SCHEMA ` + schema + ` CASCADE`)
		admin.Close()
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("postgres url: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// Open opens and migrates a store at url, closed when the test ends.
func Open(t testing.TB, url string, opts ...storage.Option) *storage.Store {
	t.Helper()
	// Tests read their dates in Shanghai, as duban does by default.
	s, err := storage.Open(context.Background(), url, append([]storage.Option{storage.WithLocation(testenv.Shanghai())}, opts...)...)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	return s
}

// Each runs fn on a fresh SQLite store and, when configured, a fresh
// PostgreSQL store, as subtests named for the dialect.
func Each(t *testing.T, fn func(t *testing.T, s *storage.Store), opts ...storage.Option) {
	t.Run("sqlite", func(t *testing.T) { fn(t, Open(t, SQLiteURL(t), opts...)) })
	t.Run("postgres", func(t *testing.T) { fn(t, Open(t, PostgresURL(t), opts...)) })
}

// EachURL runs fn with the URL of a fresh SQLite database and, when
// configured, a fresh PostgreSQL schema, for tests that open the store
// themselves (with their own clock, say).
func EachURL(t *testing.T, fn func(t *testing.T, url string)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, SQLiteURL(t)) })
	t.Run("postgres", func(t *testing.T) { fn(t, PostgresURL(t)) })
}

// Agency creates an agency for a test.
func Agency(t testing.TB, s *storage.Store, code, name string) *duban.Agency {
	t.Helper()
	a := &duban.Agency{Code: code, Name: name}
	if err := s.CreateAgency(context.Background(), a); err != nil {
		t.Fatalf("create agency: %v", err)
	}
	return a
}

// Person creates a person for a test.
func Person(t testing.TB, s *storage.Store, p duban.Person) *duban.Person {
	t.Helper()
	if p.Locale == "" {
		p.Locale = duban.LocaleZH
	}
	if err := s.CreatePerson(context.Background(), &p); err != nil {
		t.Fatalf("create person: %v", err)
	}
	return &p
}
