// Package storage keeps duban's truth: sqlx repositories over PostgreSQL
// (lib/pq) or an embedded SQLite file (modernc.org/sqlite, no cgo), one set
// of portable SQL for both, with versioned migrations embedded in the
// binary.
package storage

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"github.com/pressly/goose/v3"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/cityhall/duban"
)

//go:embed migrations
var migrations embed.FS

func init() {
	// modernc registers itself as "sqlite"; tell sqlx it takes ? placeholders.
	sqlx.BindDriver("sqlite", sqlx.QUESTION)
}

// Dialect names the database behind a Store.
type Dialect string

// Supported dialects.
const (
	Postgres Dialect = "postgres"
	SQLite   Dialect = "sqlite"
)

// maxPostgresConns bounds the connections a Store keeps to PostgreSQL.
const maxPostgresConns = 20

// Store is the set of repositories. Inside InTx its methods run on the
// transaction.
type Store struct {
	db      *sqlx.DB
	rebound *rebound
	q       sqlx.ExtContext
	inTx    bool
	after   *[]func()
	dialect Dialect
	clock   duban.Clock
	loc     *time.Location // where the reports' months are counted
}

// Option adjusts Open.
type Option func(*Store)

// WithClock sets the clock used for created_at and updated_at.
func WithClock(c duban.Clock) Option { return func(s *Store) { s.clock = c } }

// Open connects to url: "postgres://…" or "sqlite:PATH". It does not
// migrate; call Migrate.
func Open(ctx context.Context, url string, opts ...Option) (*Store, error) {
	s := &Store{clock: duban.SystemClock{}, loc: time.UTC, rebound: &rebound{}}
	for _, o := range opts {
		o(s)
	}
	var err error
	switch {
	case strings.HasPrefix(url, "postgres://"), strings.HasPrefix(url, "postgresql://"):
		s.dialect = Postgres
		s.db, err = sqlx.Open("postgres", url)
		if err == nil {
			// As many kept idle as may be open: asynq's workers and the
			// webhooks take connections in bursts, and a pool that closed
			// what it could not keep idle opened it again moments later,
			// a new PostgreSQL backend (a fork, cold caches) each time
			// (docs/PERFORMANCE.md, the webhook intake). Connections
			// unused for the idle time are still closed.
			s.db.SetMaxOpenConns(maxPostgresConns)
			s.db.SetMaxIdleConns(maxPostgresConns)
			s.db.SetConnMaxIdleTime(5 * time.Minute)
		}
	case strings.HasPrefix(url, "sqlite:"):
		s.dialect = SQLite
		path := strings.TrimPrefix(url, "sqlite:")
		if dir := filepath.Dir(path); dir != "." && path != ":memory:" {
			if err := os.MkdirAll(dir, 0o750); err != nil {
				return nil, fmt.Errorf("storage: create %s: %w", dir, err)
			}
		}
		// WAL lets readers run beside the one writer; the busy timeout makes
		// writers queue instead of failing; _txlock=immediate takes the write
		// lock at BEGIN so two transactions never deadlock upgrading it.
		dsn := "file:" + path + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)" +
			"&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_txlock=immediate&_time_format=sqlite"
		s.db, err = sqlx.Open("sqlite", dsn)
		if err == nil {
			s.db.SetMaxOpenConns(4)
		}
	default:
		return nil, fmt.Errorf("storage: database url must start with postgres:// or sqlite:")
	}
	if err != nil {
		return nil, fmt.Errorf("storage: open: %w", err)
	}
	s.q = s.db
	if err := s.db.PingContext(ctx); err != nil {
		s.db.Close()
		return nil, fmt.Errorf("storage: connect to %s: %w", s.dialect, err)
	}
	return s, nil
}

// Dialect reports which database the store talks to.
func (s *Store) Dialect() Dialect { return s.dialect }

// DB exposes the handle for benchmarks that compare with raw SQL.
func (s *Store) DB() *sqlx.DB { return s.db }

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// Ping checks the database answers.
func (s *Store) Ping(ctx context.Context) error { return s.db.PingContext(ctx) }

// Migrate applies every embedded migration not yet applied.
func (s *Store) Migrate(ctx context.Context) error {
	sub, err := fs.Sub(migrations, "migrations/"+string(s.dialect))
	if err != nil {
		return fmt.Errorf("storage: migrations: %w", err)
	}
	d := goose.DialectPostgres
	if s.dialect == SQLite {
		d = goose.DialectSQLite3
	}
	// Migrations are numbered when their work starts; two written side by
	// side can land in either order, so a database that has a later one
	// still takes an earlier one it lacks.
	p, err := goose.NewProvider(d, s.db.DB, sub, goose.WithAllowOutofOrder(true))
	if err != nil {
		return fmt.Errorf("storage: migrations: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("storage: migrate: %w", err)
	}
	return s.EnsureStats(ctx)
}

// InTx runs fn in one transaction: committed when fn returns nil, rolled
// back otherwise. Nested calls join the outer transaction.
func (s *Store) InTx(ctx context.Context, fn func(tx *Store) error) error {
	if s.inTx {
		return fn(s)
	}
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return fmt.Errorf("storage: begin: %w", err)
	}
	// A panic in fn (recovered by asynq or net/http) must not leave the
	// transaction open: on SQLite it would hold the write lock for good.
	// After Commit, Rollback is a no-op.
	defer func() { _ = tx.Rollback() }()
	t := *s
	t.q = tx
	t.inTx = true
	t.after = new([]func())
	if err := fn(&t); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("storage: commit: %w", mapErr(err))
	}
	for _, f := range *t.after {
		f()
	}
	return nil
}

// AfterCommit runs f once the outermost transaction has committed, or at
// once outside a transaction. Tasks are enqueued this way: a task that ran
// before its rows were committed would find nothing to do.
func (s *Store) AfterCommit(f func()) {
	if !s.inTx {
		f()
		return
	}
	*s.after = append(*s.after, f)
}

func (s *Store) now() time.Time { return ts(s.clock.Now()) }

// ts normalises a time for storage: UTC, microseconds (PostgreSQL's
// precision). SQLite keeps times as text, and UTC with one format is what
// makes its text comparisons order correctly.
func ts(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

func tsp(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	v := ts(*t)
	return &v
}

// rebound remembers statements rewritten to the driver's placeholders
// ($1 for PostgreSQL): the statements are a fixed set of strings (an IN
// list varies only by its length), and rewriting one on every call
// allocated a copy each time, on every statement of every update.
type rebound struct {
	m sync.Map // statement as written → as the driver wants it
	n atomic.Int64
}

// reboundMax bounds the statements remembered, should a caller ever build
// them from values.
const reboundMax = 10000

func (s *Store) rebind(q string) string {
	if s.dialect != Postgres {
		return q // SQLite takes ? as written
	}
	if v, ok := s.rebound.m.Load(q); ok {
		return v.(string)
	}
	r := s.db.Rebind(q)
	if s.rebound.n.Load() < reboundMax {
		if _, loaded := s.rebound.m.LoadOrStore(q, r); !loaded {
			s.rebound.n.Add(1)
		}
	}
	return r
}

func (s *Store) get(ctx context.Context, dest any, q string, args ...any) error {
	return mapErr(sqlx.GetContext(ctx, s.q, dest, s.rebind(q), args...))
}

func (s *Store) sel(ctx context.Context, dest any, q string, args ...any) error {
	return mapErr(sqlx.SelectContext(ctx, s.q, dest, s.rebind(q), args...))
}

func (s *Store) exec(ctx context.Context, q string, args ...any) (int64, error) {
	res, err := s.q.ExecContext(ctx, s.rebind(q), args...)
	if err != nil {
		return 0, mapErr(err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, mapErr(err)
	}
	return n, nil
}

// insert runs an INSERT … RETURNING id (both dialects support RETURNING).
func (s *Store) insert(ctx context.Context, q string, args ...any) (int64, error) {
	var id int64
	if err := mapErr(s.q.QueryRowxContext(ctx, s.rebind(q+" RETURNING id"), args...).Scan(&id)); err != nil {
		return 0, err
	}
	return id, nil
}

// mapErr turns driver errors into the domain's.
func mapErr(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return duban.ErrNotFound
	}
	var pqErr *pq.Error
	if errors.As(err, &pqErr) && pqErr.Code == "23505" {
		return fmt.Errorf("%w: %s", duban.ErrConflict, pqErr.Constraint)
	}
	var sqErr *sqlite.Error
	if errors.As(err, &sqErr) && (sqErr.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || sqErr.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY) {
		return fmt.Errorf("%w: %s", duban.ErrConflict, sqErr.Error())
	}
	return fmt.Errorf("storage: %w", err)
}
