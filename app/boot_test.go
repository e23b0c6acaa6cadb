package app_test

import (
	"context"
	"io"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/cityhall/duban/app"
	"github.com/cityhall/duban/configs"
	"github.com/cityhall/duban/internal/testenv"
	"github.com/cityhall/duban/storage/storagetest"
)

// redisDB is this package's own database on a shared test Redis, so
// packages run in parallel without taking each other's tasks.
const redisDB = 2

// backend is where an end-to-end test keeps its state.
type backend struct {
	name     string
	database func(testing.TB) string
	redisURL func(testing.TB) string
}

// backends are SQLite with in-process Redis always, and PostgreSQL with
// the real Redis when the services are configured.
var backends = []backend{
	{"sqlite+miniredis", storagetest.SQLiteURL, func(testing.TB) string { return "" }},
	{"postgres+redis", storagetest.PostgresURL, func(t testing.TB) string { return testenv.RealRedis(t, redisDB).URL() }},
}

// testConfig is a valid configuration for tests: loopback on a free port,
// no quiet hours, and whatever set changes.
func testConfig(t testing.TB, b backend, set func(*configs.Config)) configs.Config {
	t.Helper()
	cfg := configs.Default()
	cfg.HTTPAddr = "127.0.0.1:0"
	cfg.DatabaseURL = configs.Secret(b.database(t))
	cfg.RedisURL = configs.Secret(b.redisURL(t))
	cfg.QuietHours = "off"
	cfg.AdminToken = "test-admin-token-0123456789abcdef"
	cfg.ShutdownTimeout = 5 * time.Second
	if set != nil {
		set(&cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("config: %v", err)
	}
	return cfg
}

// running is an App serving in the background.
type running struct {
	*app.App
	stop func()
	done chan error
	once sync.Once
	out  *syncBuffer
}

// boot builds and runs an App until the test ends.
func boot(t testing.TB, cfg configs.Config, opts app.Options) *running {
	t.Helper()
	out := &syncBuffer{}
	if opts.Stdout == nil {
		opts.Stdout = out
	}
	if opts.Logger == nil {
		var w io.Writer = io.Discard
		if os.Getenv("DUBAN_TEST_LOG") != "" {
			w = os.Stderr
		}
		opts.Logger = app.NewLogger(w, "debug", "text")
	}
	a, err := app.New(context.Background(), cfg, opts)
	if err != nil {
		t.Fatalf("app.New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{App: a, stop: cancel, done: make(chan error, 1), out: out}
	go func() { r.done <- a.Run(ctx) }()
	deadline := time.Now().Add(10 * time.Second)
	for a.Addr() == "" {
		if time.Now().After(deadline) {
			t.Fatal("app did not start listening")
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Cleanup(func() { r.shutdown(t) })
	return r
}

// shutdown stops the app and waits for it, once.
func (r *running) shutdown(t testing.TB) {
	r.once.Do(func() {
		r.stop()
		select {
		case err := <-r.done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("app did not stop within 30s")
		}
	})
}

// syncBuffer is a bytes.Buffer safe for the console channel's writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf []byte
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	return len(p), nil
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.buf)
}

// eventually polls cond until it holds or timeout passes.
func eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
