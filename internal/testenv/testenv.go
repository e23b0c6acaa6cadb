// Package testenv gives tests the outside services they need: PostgreSQL
// and Redis from DUBAN_TEST_POSTGRES_URL and DUBAN_TEST_REDIS_ADDR when
// set, and otherwise a skip that says why (or a failure when
// DUBAN_TEST_REQUIRE_SERVICES=1), or an in-process Redis.
package testenv

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
)

// PostgresURL returns the test database URL, skipping the test when none
// is configured.
func PostgresURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("DUBAN_TEST_POSTGRES_URL")
	if u == "" {
		missing(t, "DUBAN_TEST_POSTGRES_URL is not set: PostgreSQL tests skipped")
	}
	return u
}

// RealRedisAddr returns the test Redis address, skipping the test when none
// is configured.
func RealRedisAddr(t testing.TB) string {
	t.Helper()
	a := os.Getenv("DUBAN_TEST_REDIS_ADDR")
	if a == "" {
		missing(t, "DUBAN_TEST_REDIS_ADDR is not set: real-Redis tests skipped")
	}
	return a
}

func missing(t testing.TB, why string) {
	t.Helper()
	if os.Getenv("DUBAN_TEST_REQUIRE_SERVICES") == "1" {
		t.Fatal(why + " (DUBAN_TEST_REQUIRE_SERVICES=1)")
	}
	t.Skip(why)
}

// Redis is a Redis for one test: its address, database number and URL.
type Redis struct {
	Addr string
	DB   int
	Mini *miniredis.Miniredis // nil on a real server
}

// URL is the redis:// form of r.
func (r Redis) URL() string { return fmt.Sprintf("redis://%s/%d", r.Addr, r.DB) }

// MiniRedis starts an in-process Redis for the test, with TTLs following
// the clock as asynq's leases need.
func MiniRedis(t testing.TB) Redis {
	t.Helper()
	m := miniredis.NewMiniRedis()
	m.ClockTTL(true)
	if err := m.Start(); err != nil {
		t.Fatalf("miniredis: %v", err)
	}
	t.Cleanup(m.Close)
	return Redis{Addr: m.Addr(), Mini: m}
}

// RealRedis returns the configured Redis on database db, flushed. Each test
// package passes its own db so packages run in parallel without taking each
// other's tasks; tests within a package must not run in parallel on it.
func RealRedis(t testing.TB, db int) Redis {
	t.Helper()
	addr := RealRedisAddr(t)
	c := redis.NewClient(&redis.Options{Addr: addr, DB: db})
	defer c.Close()
	if err := c.FlushDB(context.Background()).Err(); err != nil {
		t.Fatalf("flush redis db %d: %v", db, err)
	}
	return Redis{Addr: addr, DB: db}
}
