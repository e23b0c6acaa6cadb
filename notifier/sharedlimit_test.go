package notifier

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cityhall/duban/internal/testenv"
)

// notifierRedisDB is this package's database on the real test Redis.
const notifierRedisDB = 9

// sharedRedis is each Redis the shared limiters are tested on: the
// in-process one with its clock stopped, and the real one when configured.
func sharedRedis(t *testing.T, fn func(t *testing.T, rdb redis.UniversalClient, frozen bool)) {
	t.Run("miniredis", func(t *testing.T) {
		m := testenv.MiniRedis(t)
		m.Mini.SetTime(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))
		rdb := redis.NewClient(&redis.Options{Addr: m.Addr})
		t.Cleanup(func() { rdb.Close() })
		fn(t, rdb, true)
	})
	t.Run("redis", func(t *testing.T) {
		r := testenv.RealRedis(t, notifierRedisDB)
		rdb := redis.NewClient(&redis.Options{Addr: r.Addr, DB: r.DB})
		t.Cleanup(func() { rdb.Close() })
		fn(t, rdb, false)
	})
}

// TestSharedTelegramLimits_TwoReplicasKeepOneLimit: two replicas on one
// Redis, each reserving slots for 40 different chats at once, are handed
// slots spaced as one limiter's at 29 a second overall — never more than
// 30 in any second — and a chat's second message waits its second.
func TestSharedTelegramLimits_TwoReplicasKeepOneLimit(t *testing.T) {
	sharedRedis(t, func(t *testing.T, rdb redis.UniversalClient, frozen bool) {
		ctx := context.Background()
		a := newSharedTelegramLimiter(rdb, "test:", telegramGlobalPerSecond)
		b := newSharedTelegramLimiter(rdb, "test:", telegramGlobalPerSecond)
		if frozen {
			// Redis's clock stands still while this one runs: the waits
			// are checked as the script computes them.
			a.clock, b.clock = nil, nil
		}
		perSecond := telegramGlobalPerSecond
		interval := time.Duration(float64(time.Second) / perSecond)
		start := time.Now()
		var slots []time.Duration // from start, as each replica was told
		for i := 0; i < 40; i++ {
			for _, l := range []*sharedTelegramLimiter{a, b} {
				asked := time.Since(start)
				if frozen {
					asked = 0
				}
				wait, ok, err := l.reserve(ctx, int64(1000+len(slots)))
				if err != nil || !ok {
					t.Fatalf("reserve %d: ok %v err %v", len(slots), ok, err)
				}
				slots = append(slots, asked+wait)
			}
		}
		// Off a running clock the reading of "now" around each call is
		// a little loose; 3 ms is far under the margin the limit keeps.
		slack := time.Duration(0)
		if !frozen {
			slack = 3 * time.Millisecond
		}
		for i := 1; i < len(slots); i++ {
			if gap := slots[i] - slots[i-1]; gap < interval-slack {
				t.Fatalf("slots %d and %d are %s apart; want at least %s (one limit for both replicas)", i-1, i, gap, interval)
			}
		}
		for i := 30; i < len(slots); i++ {
			if slots[i]-slots[i-30] < time.Second-slack {
				t.Fatalf("31 slots within %s: over Telegram's 30 a second", slots[i]-slots[i-30])
			}
		}

		// The last chat again, from the other replica: no slot until the
		// chat's second has passed, and no global slot taken meanwhile.
		last := slots[len(slots)-1]
		wait, ok, err := b.reserve(ctx, int64(1000+len(slots)-1))
		if err != nil || ok {
			t.Fatalf("a chat's second message at once: ok %v err %v; want to wait", ok, err)
		}
		if frozen {
			if want := last + telegramChatInterval; wait != want {
				t.Errorf("chat waits %s; want %s", wait, want)
			}
			next, ok, _ := a.reserve(ctx, 5000)
			if !ok || next < last+interval || next > last+interval+time.Microsecond {
				t.Errorf("next global slot at %s (ok %v); want %s: a refused chat must not take one", next, ok, last+interval)
			}
		}
	})
}

// TestSharedSlackLimits_OneChannelOnceASecondAcrossReplicas.
func TestSharedSlackLimits_OneChannelOnceASecondAcrossReplicas(t *testing.T) {
	sharedRedis(t, func(t *testing.T, rdb redis.UniversalClient, frozen bool) {
		ctx := context.Background()
		a := &sharedKeyedLimiter{rdb: rdb, prefix: "test:slack:", interval: slackChannelInterval, sleepFor: sleep}
		b := &sharedKeyedLimiter{rdb: rdb, prefix: "test:slack:", interval: slackChannelInterval, sleepFor: sleep}
		w1, err1 := a.reserve(ctx, "C-SUPERVISION")
		w2, err2 := b.reserve(ctx, "C-SUPERVISION")
		other, err3 := b.reserve(ctx, "D-HEAD")
		if err1 != nil || err2 != nil || err3 != nil {
			t.Fatal(err1, err2, err3)
		}
		if w1 > 5*time.Millisecond || other > 5*time.Millisecond {
			t.Errorf("first posts wait %s and %s; want none", w1, other)
		}
		if w2 < slackChannelInterval-5*time.Millisecond {
			t.Errorf("the channel's second post, from another replica, waits %s; want %s", w2, slackChannelInterval)
		}
	})
}

// A slot Redis hands out is waited for until its moment here, whenever
// the answer was read: a late reading shortens the wait by its lateness
// (against the promptest answer seen), so that a busy CPU does not send
// the message late, bunched with the next.
func TestRedisClock_ALateReadingShortensTheWait(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	c := &redisClock{base: t0}
	const redis0 = 5_000_000 // Redis's clock, µs, when t0 is here
	// A prompt answer, read 1 ms after Redis wrote it: its slot is 30 ms
	// after Redis's now, 31 ms after t0 here... as read plus the wait.
	read := t0.Add(time.Millisecond)
	if got, want := c.deadline(redis0, 30_000, read), t0.Add(31*time.Millisecond); !got.Equal(want) {
		t.Fatalf("prompt answer: slot at %s, want %s", got.Sub(t0), want.Sub(t0))
	}
	// An answer written 100 ms later by Redis but read 25 ms after that:
	// its slot is 100+30 ms after the first answer's now, not 25 ms later.
	read = t0.Add(126 * time.Millisecond)
	if got, want := c.deadline(redis0+100_000, 30_000, read), t0.Add(131*time.Millisecond); !got.Equal(want) {
		t.Fatalf("late reading: slot at %s, want %s", got.Sub(t0), want.Sub(t0))
	}
	// Two buckets on, the estimate forgets the prompt answer and follows
	// the later ones (a drifting clock).
	read = t0.Add(2*redisClockBucket + 5*time.Millisecond)
	c.deadline(redis0+int64(2*redisClockBucket/time.Microsecond), 0, read)
	read = t0.Add(3*redisClockBucket + 5*time.Millisecond)
	if got, want := c.deadline(redis0+int64(3*redisClockBucket/time.Microsecond), 0, read), read; !got.Equal(want) {
		t.Fatalf("after the window moved: slot at %s, want %s", got.Sub(t0), want.Sub(t0))
	}
}

// TestSharedTelegramLimits_AStallMovesEveryReplicasSlotsOnce: a replica
// whose message left late beyond the margin moves the overall slots in
// Redis back for every replica, just so far that the message's thirtieth
// successor leaves a second and lateGuard after it; the same stall's next
// message, whose successors have moved already, moves nothing more; a
// lateness within the margin calls nothing. (On the in-process Redis,
// whose clock the test sets, so the slots are the script's arithmetic.)
func TestSharedTelegramLimits_AStallMovesEveryReplicasSlotsOnce(t *testing.T) {
	m := testenv.MiniRedis(t)
	t0 := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	m.Mini.SetTime(t0)
	rdb := redis.NewClient(&redis.Options{Addr: m.Addr})
	t.Cleanup(func() { rdb.Close() })
	ctx := context.Background()
	a := newSharedTelegramLimiter(rdb, "test:", telegramGlobalPerSecond)
	b := newSharedTelegramLimiter(rdb, "test:", telegramGlobalPerSecond)
	a.clock, b.clock = nil, nil
	interval := a.global
	reserve := func(l *sharedTelegramLimiter, chat int64) (time.Duration, int64) {
		t.Helper()
		wait, ok, seq, err := l.reserveSeq(ctx, chat)
		if err != nil || !ok {
			t.Fatalf("reserve: ok %v err %v", ok, err)
		}
		return wait, seq
	}
	near := func(got, want time.Duration) bool {
		return got >= want-2*time.Microsecond && got <= want+2*time.Microsecond
	}
	// Three slots handed out at t0: 0, 1 and 2 intervals.
	_, first := reserve(a, 1)
	_, second := reserve(a, 2)
	reserve(b, 3)
	// Within the margin: nothing moves.
	a.leftLate(ctx, first, lateAllowance(interval))
	m.Mini.SetTime(t0.Add(100 * time.Millisecond))
	// The stall ends 100 ms after t0: the first message leaves 100 ms
	// late, and moves the next slot so that the thirtieth after it (the
	// 27th still to come) leaves a second and lateGuard after 100 ms.
	a.leftLate(ctx, first, 100*time.Millisecond)
	want := 100*time.Millisecond + time.Second + lateGuard - 27*interval
	want = 3*interval + time.Duration(math.Ceil(float64(want-3*interval)/float64(interval)))*interval // whole intervals
	next, _ := reserve(b, 4)
	if got := 100*time.Millisecond + next; !near(got, want) {
		t.Errorf("after a 100 ms stall the other replica's next slot is at %s after t0, want %s", got, want)
	}
	// The stall's second message moves nothing more.
	a.leftLate(ctx, second, 100*time.Millisecond-interval)
	if after, _ := reserve(b, 5); !near(after, next+interval) {
		t.Errorf("the stall's second message moved the slots again: next in %s, want %s", after, next+interval)
	}
}
