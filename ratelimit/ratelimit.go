// Package ratelimit counts hits per key in Redis, so that every replica of
// duban shares one count: the limits on public doors (DUBAN_OPEN311_RATE
// and the failed-credentials limit; docs/API.md, Limits on public doors).
package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Rate is a number of hits allowed in a window.
type Rate struct {
	Limit  int
	Window time.Duration
}

// String writes r as ParseRate reads it.
func (r Rate) String() string {
	switch r.Window {
	case time.Second:
		return fmt.Sprintf("%d/s", r.Limit)
	case time.Minute:
		return fmt.Sprintf("%d/m", r.Limit)
	case time.Hour:
		return fmt.Sprintf("%d/h", r.Limit)
	}
	return fmt.Sprintf("%d/%s", r.Limit, r.Window)
}

// ParseRate reads "N/s", "N/m", "N/h" or "N/DURATION" (e.g. 10/30s): a
// positive number of hits per a positive window.
func ParseRate(s string) (Rate, error) {
	n, per, ok := strings.Cut(strings.TrimSpace(s), "/")
	if !ok {
		return Rate{}, fmt.Errorf("%q is not N/window (want like 10/m)", s)
	}
	limit, err := strconv.Atoi(strings.TrimSpace(n))
	if err != nil || limit < 1 {
		return Rate{}, fmt.Errorf("%q: %q is not a positive whole number (want like 10/m)", s, n)
	}
	var window time.Duration
	switch per = strings.TrimSpace(per); per {
	case "s":
		window = time.Second
	case "m":
		window = time.Minute
	case "h":
		window = time.Hour
	default:
		window, err = time.ParseDuration(per)
		if err != nil || window < time.Second {
			return Rate{}, fmt.Errorf("%q: the window %q is not s, m, h or a Go duration of at least 1s (want like 10/m)", s, per)
		}
	}
	return Rate{Limit: limit, Window: window}, nil
}

// Redis is a fixed-window counter in Redis. A key's window starts with its
// first hit; the hit that reaches the limit starts the window again, so
// whoever uses up a limit waits a whole window from their last allowed hit.
type Redis struct {
	rdb    redis.UniversalClient
	prefix string
}

// keyPrefix keeps the counters apart from asynq's keys in a shared Redis.
const keyPrefix = "duban:limit:"

// New returns a limiter counting in rdb.
func New(rdb redis.UniversalClient) *Redis { return &Redis{rdb: rdb, prefix: keyPrefix} }

// allowScript counts one hit and answers {allowed, milliseconds left in the
// window}: one round trip, and atomic, so concurrent replicas never both
// take the last hit.
var allowScript = redis.NewScript(`
local n = redis.call('INCR', KEYS[1])
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local ttl = redis.call('PTTL', KEYS[1])
if n == 1 or n == limit or ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], window)
  ttl = window
end
if n > limit then
  return {0, ttl}
end
return {1, ttl}
`)

// Allow counts one hit of key and reports whether it is within limit hits
// in window; when it is not, retry is how long until the window ends.
func (l *Redis) Allow(ctx context.Context, key string, limit int, window time.Duration) (ok bool, retry time.Duration, err error) {
	res, err := allowScript.Run(ctx, l.rdb, []string{l.prefix + key}, limit, window.Milliseconds()).Int64Slice()
	if err != nil {
		return false, 0, fmt.Errorf("ratelimit: %w", err)
	}
	if len(res) != 2 {
		return false, 0, errors.New("ratelimit: unexpected answer from redis")
	}
	if res[0] == 1 {
		return true, 0, nil
	}
	return false, time.Duration(res[1]) * time.Millisecond, nil
}

// Count returns the hits of key in its current window and how long the
// window has left, without counting a hit.
func (l *Redis) Count(ctx context.Context, key string) (n int, left time.Duration, err error) {
	pipe := l.rdb.Pipeline()
	get := pipe.Get(ctx, l.prefix+key)
	ttl := pipe.PTTL(ctx, l.prefix+key)
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return 0, 0, fmt.Errorf("ratelimit: %w", err)
	}
	n, err = get.Int()
	if errors.Is(err, redis.Nil) {
		return 0, 0, nil
	}
	if err != nil {
		return 0, 0, fmt.Errorf("ratelimit: %w", err)
	}
	left = ttl.Val()
	if left < 0 {
		left = 0
	}
	return n, left, nil
}
