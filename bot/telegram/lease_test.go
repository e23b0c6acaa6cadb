package telegram_test

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
	"github.com/redis/go-redis/v9"

	"github.com/cityhall/duban/bot/bottest"
	"github.com/cityhall/duban/bot/telegram"
	"github.com/cityhall/duban/internal/fakes/tgfake"
	"github.com/cityhall/duban/internal/testenv"
)

// telegramRedisDB is this package's database on the real test Redis.
const telegramRedisDB = 11

// leaseKey is the polling lease both replicas of a test contend for (their
// tokens differ, so that the fake tells their calls apart).
const leaseKey = "test:telegram:poll"

// replica is one duban replica's Telegram bot, polling through the lease.
type replica struct {
	token  string
	rdb    *redis.Client
	logs   *bottest.SyncBuffer
	cancel context.CancelFunc
	done   chan error
	once   sync.Once
}

func startReplica(t *testing.T, e *tgEnv, r testenv.Redis, token string) *replica {
	t.Helper()
	api, err := tgbotapi.NewBotAPIWithAPIEndpoint(token, e.fake.Endpoint())
	if err != nil {
		t.Fatalf("bot api: %v", err)
	}
	rep := &replica{token: token, rdb: redis.NewClient(&redis.Options{Addr: r.Addr, DB: r.DB}), logs: &bottest.SyncBuffer{}, done: make(chan error, 1)}
	t.Cleanup(func() { rep.rdb.Close() })
	b := telegram.New(telegram.Deps{API: api, Token: token, Store: e.Store, Hearings: e.Hearings, Complaints: e.Complaints,
		T: bottest.Bundle, Clock: e.Clock, Log: slog.New(slog.NewTextHandler(rep.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Redis: rep.rdb, PollLeaseKey: leaseKey, PollLeaseTTL: 600 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	rep.cancel = cancel
	go func() { rep.done <- b.Poll(ctx) }()
	t.Cleanup(func() { rep.stop(t) })
	return rep
}

// stop ends the replica's polling as a shutdown does, waiting for it.
func (r *replica) stop(t *testing.T) {
	r.once.Do(func() {
		r.cancel()
		select {
		case err := <-r.done:
			if err != nil {
				t.Errorf("Poll returned %v, want nil when its context ends", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("Poll did not return after its context ended")
		}
	})
}

// die ends the replica as a crash does: it can no longer reach Redis to
// release its lease, and stops.
func (r *replica) die(t *testing.T) {
	r.rdb.Close()
	r.stop(t)
}

// pollers are the tokens that called getUpdates, each once, in order of
// their first call, and the count of calls by each.
func pollers(fake *tgfake.Server) ([]string, map[string]int) {
	var order []string
	n := map[string]int{}
	for _, c := range fake.AllCalls() {
		if c.Method != "getUpdates" {
			continue
		}
		if n[c.Token] == 0 {
			order = append(order, c.Token)
		}
		n[c.Token]++
	}
	return order, n
}

// waitFor waits until cond holds, failing the test after a minute (a
// bound against hanging, not a timing assertion).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func leaseRedis(t *testing.T, fn func(t *testing.T, r testenv.Redis)) {
	t.Run("miniredis", func(t *testing.T) { fn(t, testenv.MiniRedis(t)) })
	t.Run("redis", func(t *testing.T) { fn(t, testenv.RealRedis(t, telegramRedisDB)) })
}

// TestTelegramPoll_OneReplicaPollsAndAnotherTakesOverWhenItDies: two
// replicas on one Redis; only the holder of the lease calls getUpdates
// while the other waits; when the holder dies without releasing it, the
// other takes over once the lease expires and handles what follows.
func TestTelegramPoll_OneReplicaPollsAndAnotherTakesOverWhenItDies(t *testing.T) {
	leaseRedis(t, func(t *testing.T, r testenv.Redis) {
		e := newTelegram(t)
		a := startReplica(t, e, r, "111:replica-a")
		waitFor(t, "replica a to poll", func() bool { _, n := pollers(e.fake); return n[a.token] > 0 })
		b := startReplica(t, e, r, "111:replica-b")
		waitFor(t, "replica b to find the lease taken", func() bool { return strings.Contains(b.logs.String(), "waiting for its lease") })

		e.fake.Queue(tgfake.TextUpdate(10, tgStranger, tgStranger, "/help"), tgfake.TextUpdate(11, tgStranger, tgStranger, "/help"))
		e.fake.WaitSent(t, 2, time.Minute)
		if order, n := pollers(e.fake); len(order) != 1 || order[0] != a.token {
			t.Fatalf("getUpdates called by %v (%v) while a held the lease, want a only", order, n)
		}

		a.die(t)
		// A getUpdates a had started as it died may still reach the fake;
		// from b's first poll on (after a's lease expired), a is silent.
		waitFor(t, "replica b to take the lease over", func() bool { _, n := pollers(e.fake); return n[b.token] > 0 })
		before := len(e.fake.AllCalls())
		e.fake.Queue(tgfake.TextUpdate(12, tgStranger, tgStranger, "/help"))
		e.fake.WaitSent(t, 3, time.Minute)
		if order, _ := pollers(e.fake); len(order) != 2 || order[1] != b.token {
			t.Fatalf("getUpdates callers %v after a died, want a then b", order)
		}
		for _, c := range e.fake.AllCalls()[before:] {
			if c.Token == a.token {
				t.Errorf("dead replica a called %s after it died", c.Method)
			}
		}
		// b confirms update 12 by asking for 13: nothing skipped.
		waitFor(t, "b to confirm update 12", func() bool {
			for _, c := range e.fake.AllCalls() {
				if c.Token == b.token && c.Method == "getUpdates" && c.Form.Get("offset") == "13" {
					return true
				}
			}
			return false
		})
		if sent := e.fake.Sent(); len(sent) != 3 {
			t.Errorf("%d replies to three updates", len(sent))
		}
	})
}

// TestTelegramPoll_ReleasesTheLeaseOnStop: a replica that stops gives the
// lease up, so that another takes over without waiting for it to expire.
func TestTelegramPoll_ReleasesTheLeaseOnStop(t *testing.T) {
	leaseRedis(t, func(t *testing.T, r testenv.Redis) {
		e := newTelegram(t)
		a := startReplica(t, e, r, "111:replica-a")
		waitFor(t, "replica a to poll", func() bool { _, n := pollers(e.fake); return n[a.token] > 0 })
		check := redis.NewClient(&redis.Options{Addr: r.Addr, DB: r.DB})
		defer check.Close()
		if n, err := check.Exists(context.Background(), leaseKey).Result(); err != nil || n != 1 {
			t.Fatalf("lease exists %d (%v) while a polls, want 1", n, err)
		}
		a.stop(t)
		if n, err := check.Exists(context.Background(), leaseKey).Result(); err != nil || n != 0 {
			t.Errorf("lease exists %d (%v) after a stopped, want released", n, err)
		}
	})
}

// TestTelegramPoll_AloneHoldsTheLease: with one replica (as on the
// in-process Redis) the lease is simply held, and renewed past its TTL.
func TestTelegramPoll_AloneHoldsTheLease(t *testing.T) {
	leaseRedis(t, func(t *testing.T, r testenv.Redis) {
		e := newTelegram(t)
		a := startReplica(t, e, r, "111:replica-a")
		e.fake.Queue(tgfake.TextUpdate(20, tgStranger, tgStranger, "/help"))
		e.fake.WaitSent(t, 1, time.Minute)
		time.Sleep(1500 * time.Millisecond) // past two TTLs: renewals keep it
		e.fake.Queue(tgfake.TextUpdate(21, tgStranger, tgStranger, "/help"))
		e.fake.WaitSent(t, 2, time.Minute)
		if strings.Contains(a.logs.String(), "lost") || strings.Count(a.logs.String(), "lease taken") != 1 {
			t.Errorf("lease not held throughout:\n%s", a.logs.String())
		}
	})
}
