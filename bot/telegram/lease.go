package telegram

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"
)

// DefaultPollLeaseTTL is how long the polling lease lasts unrenewed: a
// replica that dies holding it is replaced within this long. Its holder
// renews it every third of it.
const DefaultPollLeaseTTL = 15 * time.Second

// Telegram answers 409 Conflict to a getUpdates while another is open for
// the same bot (https://core.telegram.org/bots/api#getupdates), and two
// pollers would each confirm updates the other has not handled yet; so
// only one replica polls at a time, the holder of a lease in Redis.
var (
	// renewLease extends the lease only while it is still the caller's.
	renewLease = redis.NewScript(`if redis.call("GET", KEYS[1]) == ARGV[1] then
  return redis.call("PEXPIRE", KEYS[1], ARGV[2])
end
return 0`)
	// releaseLease deletes the lease only while it is still the caller's.
	releaseLease = redis.NewScript(`if redis.call("GET", KEYS[1]) == ARGV[1] then
  return redis.call("DEL", KEYS[1])
end
return 0`)
)

// lease is one replica's claim on the polling lease: SET NX PX with a token
// of its own, renewed by the holder, released on stop, and taken over by
// another replica when it expires because its holder died.
type lease struct {
	rdb   redis.UniversalClient
	key   string
	token string
	ttl   time.Duration
	log   *slog.Logger
}

func newLease(rdb redis.UniversalClient, key string, ttl time.Duration, log *slog.Logger) *lease {
	if ttl <= 0 {
		ttl = DefaultPollLeaseTTL
	}
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return &lease{rdb: rdb, key: key, token: hex.EncodeToString(b), ttl: ttl, log: log}
}

// acquire waits until this replica holds the lease, trying every third of
// its TTL; false when ctx ended first.
func (l *lease) acquire(ctx context.Context) bool {
	waiting := false
	for {
		ok, err := l.rdb.SetNX(ctx, l.key, l.token, l.ttl).Result()
		switch {
		case err == nil && ok:
			l.log.Info("telegram: polling lease taken; this replica polls")
			return true
		case err != nil && ctx.Err() == nil:
			l.log.Warn("telegram: polling lease", slog.Any("error", fmt.Errorf("take lease: %w", err)))
		case err == nil && !waiting:
			waiting = true
			l.log.Info("telegram: another replica polls; waiting for its lease")
		}
		t := time.NewTimer(l.ttl / 3)
		select {
		case <-ctx.Done():
			t.Stop()
			return false
		case <-t.C:
		}
	}
}

// hold renews the lease every third of its TTL until ctx ends, and calls
// lost (once) when the lease is no longer this replica's or could not be
// renewed before it would have expired: by then another replica may hold it.
func (l *lease) hold(ctx context.Context, lost func()) {
	tick := time.NewTicker(l.ttl / 3)
	defer tick.Stop()
	renewed := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		n, err := renewLease.Run(ctx, l.rdb, []string{l.key}, l.token, l.ttl.Milliseconds()).Int()
		if ctx.Err() != nil {
			return
		}
		switch {
		case err == nil && n == 1:
			renewed = time.Now()
			continue
		case err == nil:
			l.log.Warn("telegram: polling lease lost to another replica; stopping polling")
		case time.Since(renewed) < l.ttl*2/3:
			l.log.Warn("telegram: renew polling lease; retrying", slog.Any("error", err))
			continue
		default:
			l.log.Warn("telegram: polling lease could not be renewed in time; stopping polling", slog.Any("error", err))
		}
		lost()
		return
	}
}

// release gives the lease up at once if it is still this replica's, so
// that another replica takes over without waiting for it to expire.
func (l *lease) release() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := releaseLease.Run(ctx, l.rdb, []string{l.key}, l.token).Err(); err != nil {
		l.log.Warn("telegram: release polling lease", slog.Any("error", err))
	}
}
