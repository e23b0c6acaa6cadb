package ratelimit_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cityhall/duban/internal/testenv"
	"github.com/cityhall/duban/ratelimit"
)

func newLimiter(t *testing.T) (*ratelimit.Redis, testenv.Redis) {
	t.Helper()
	r := testenv.MiniRedis(t)
	rdb := redis.NewClient(&redis.Options{Addr: r.Addr})
	t.Cleanup(func() { rdb.Close() })
	return ratelimit.New(rdb), r
}

func TestAllow_RefusesPastTheLimitUntilTheWindowEnds(t *testing.T) {
	l, r := newLimiter(t)
	ctx := context.Background()
	for i := range 3 {
		ok, _, err := l.Allow(ctx, "k", 3, time.Minute)
		if err != nil || !ok {
			t.Fatalf("hit %d: ok=%v err=%v", i+1, ok, err)
		}
	}
	ok, retry, err := l.Allow(ctx, "k", 3, time.Minute)
	if err != nil || ok || retry <= 50*time.Second || retry > time.Minute {
		t.Fatalf("hit 4: ok=%v retry=%v err=%v, want refused for about a minute", ok, retry, err)
	}
	if ok, _, _ := l.Allow(ctx, "other", 3, time.Minute); !ok {
		t.Error("another key shares the count")
	}
	n, left, err := l.Count(ctx, "k")
	if err != nil || n != 4 || left <= 0 {
		t.Errorf("Count = %d, %v, %v", n, left, err)
	}
	r.Mini.FastForward(time.Minute + time.Second)
	if ok, _, _ := l.Allow(ctx, "k", 3, time.Minute); !ok {
		t.Error("still refused after the window")
	}
	if n, _, err := l.Count(ctx, "never"); err != nil || n != 0 {
		t.Errorf("Count of an unused key = %d, %v", n, err)
	}
}

func TestAllow_ConcurrentHitsNeverExceedTheLimit(t *testing.T) {
	l, _ := newLimiter(t)
	var wg sync.WaitGroup
	var mu sync.Mutex
	allowed := 0
	for range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, _, err := l.Allow(context.Background(), "busy", 10, time.Minute)
			if err != nil {
				t.Error(err)
			}
			if ok {
				mu.Lock()
				allowed++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if allowed != 10 {
		t.Errorf("%d allowed, want 10", allowed)
	}
}

func TestParseRate(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want ratelimit.Rate
		bad  bool
	}{
		{in: "10/m", want: ratelimit.Rate{Limit: 10, Window: time.Minute}},
		{in: " 5/s", want: ratelimit.Rate{Limit: 5, Window: time.Second}},
		{in: "100/h", want: ratelimit.Rate{Limit: 100, Window: time.Hour}},
		{in: "3/30s", want: ratelimit.Rate{Limit: 3, Window: 30 * time.Second}},
		{in: "10", bad: true},
		{in: "0/m", bad: true},
		{in: "x/m", bad: true},
		{in: "10/week", bad: true},
		{in: "10/1ms", bad: true},
	} {
		got, err := ratelimit.ParseRate(tt.in)
		if tt.bad != (err != nil) || got != tt.want {
			t.Errorf("ParseRate(%q) = %v, %v", tt.in, got, err)
		}
		if !tt.bad {
			if back, _ := ratelimit.ParseRate(got.String()); back != got {
				t.Errorf("String() of %v reads back as %v", got, back)
			}
		}
	}
}

// FuzzParseRate: DUBAN_OPEN311_RATE is outside input; what parses is usable
// and reads back the same.
func FuzzParseRate(f *testing.F) {
	for _, s := range []string{"10/m", "5/s", "100/h", "3/30s", "0/m", "x/y", "/", "10/-1s", "9999999999999999999/m"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ratelimit.ParseRate(s)
		if err != nil {
			return
		}
		if r.Limit < 1 || r.Window < time.Second {
			t.Fatalf("ParseRate(%q) = %v: not a usable rate", s, r)
		}
		if back, err := ratelimit.ParseRate(r.String()); err != nil || back != r {
			t.Fatalf("ParseRate(%q) = %v, which reads back as %v, %v", s, r, back, err)
		}
	})
}
