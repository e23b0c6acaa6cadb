package notifier

import (
	"context"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"golang.org/x/time/rate"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/internal/testenv"
)

var t0 = time.Date(2025, 6, 3, 9, 0, 0, 0, time.UTC)

// nextSlot asks l for a slot for chat as wait does, but moves the manual
// clock instead of sleeping, and returns when the message would go.
func nextSlot(t *testing.T, l *telegramLimiter, clock *duban.ManualClock, chat int64) time.Time {
	t.Helper()
	for range 100 {
		s, d, ok := l.reserve(chat)
		if ok {
			if want := clock.Now().Add(d); !s.at.Equal(want) {
				t.Fatalf("slot at %v, but wait says %v", s.at, want)
			}
			return s.at
		}
		if d <= 0 {
			t.Fatalf("chat %d not ready, but asked to retry after %v", chat, d)
		}
		clock.Advance(d)
	}
	t.Fatalf("no slot for chat %d after 100 tries", chat)
	return time.Time{}
}

func TestTelegramLimiter_SecondMessageToAChatWaitsASecond(t *testing.T) {
	clock := duban.NewManualClock(t0)
	l := newTelegramLimiter(telegramGlobalPerSecond, clock.Now)

	first := nextSlot(t, l, clock, 1001)
	clock.Advance(100 * time.Millisecond)
	if _, d, ok := l.reserve(1001); ok || d < 900*time.Millisecond {
		t.Errorf("second message 100ms later: ok=%v, retry in %v; want to be told to come back ≥900ms later", ok, d)
	}
	second := nextSlot(t, l, clock, 1001)
	if gap := second.Sub(first); gap < time.Second {
		t.Errorf("two messages to one chat %v apart, want ≥ 1s", gap)
	}
}

func TestTelegramLimiter_ThirtyOneChatsSpanASecond(t *testing.T) {
	clock := duban.NewManualClock(t0)
	l := newTelegramLimiter(telegramGlobalPerSecond, clock.Now)

	var slots []time.Time
	for chat := int64(1); chat <= 31; chat++ {
		slots = append(slots, nextSlot(t, l, clock, chat))
	}
	if span := slots[30].Sub(slots[0]); span < time.Second {
		t.Errorf("31 messages to distinct chats span %v, want ≥ 1s", span)
	}
	for i := 1; i < len(slots); i++ {
		if slots[i].Before(slots[i-1]) {
			t.Errorf("slot %d at %v is before slot %d at %v", i, slots[i], i-1, slots[i-1])
		}
	}
}

func TestTelegramLimiter_GroupChatsThreeSecondsApart(t *testing.T) {
	clock := duban.NewManualClock(t0)
	l := newTelegramLimiter(telegramGlobalPerSecond, clock.Now)

	first := nextSlot(t, l, clock, -100123)
	second := nextSlot(t, l, clock, -100123)
	third := nextSlot(t, l, clock, -100123)
	for _, gap := range []time.Duration{second.Sub(first), third.Sub(second)} {
		if gap < 3*time.Second {
			t.Errorf("messages to one group %v apart, want ≥ 3s (20 a minute)", gap)
		}
	}
}

func TestTelegramLimiter_BusyChatDoesNotHoldUpOthers(t *testing.T) {
	clock := duban.NewManualClock(t0)
	l := newTelegramLimiter(telegramGlobalPerSecond, clock.Now)

	nextSlot(t, l, clock, 1)
	if _, _, ok := l.reserve(1); ok {
		t.Fatal("second message to chat 1 got a slot at once")
	}
	// Chat 1's refusal gave its global slot back: chat 2 gets the very next
	// one, 1/30 s after chat 1's first message.
	if _, d, ok := l.reserve(2); !ok || d > globalInterval+time.Millisecond {
		t.Errorf("chat 2: ok=%v wait=%v; want a slot one global interval away", ok, d)
	}
}

func TestTelegramLimiter_CancelGivesTheSlotBack(t *testing.T) {
	clock := duban.NewManualClock(t0)
	l := newTelegramLimiter(telegramGlobalPerSecond, clock.Now)

	nextSlot(t, l, clock, 1)
	s2, _, _ := l.reserve(2)
	l.cancel(s2)
	s3, _, ok := l.reserve(3)
	if !ok || !s3.at.Equal(s2.at) {
		t.Errorf("after cancelling chat 2's slot at %v, chat 3 got %v (ok=%v); want the same slot", s2.at, s3.at, ok)
	}
	// Chat 2's own slot is free again too.
	clock.Advance(time.Second)
	if _, d, ok := l.reserve(2); !ok || d > globalInterval+time.Millisecond {
		t.Errorf("chat 2 after cancel: ok=%v wait=%v", ok, d)
	}
}

func TestTelegramLimiter_WaitEndsWithContext(t *testing.T) {
	clock := duban.NewManualClock(t0) // stopped: every wait would last
	l := newTelegramLimiter(telegramGlobalPerSecond, clock.Now)
	nextSlot(t, l, clock, 1)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := l.wait(ctx, 1, nil, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("wait with a cancelled context = %v, want context.Canceled", err)
	}
}

func TestTelegramLimiter_GlobalRateCanBeLifted(t *testing.T) {
	clock := duban.NewManualClock(t0)
	l := newTelegramLimiter(0, clock.Now)
	for chat := int64(1); chat <= 100; chat++ {
		if _, d, ok := l.reserve(chat); !ok || d != 0 {
			t.Fatalf("chat %d: ok=%v wait=%v; want no wait without a global limit", chat, ok, d)
		}
	}
	if _, _, ok := l.reserve(1); ok {
		t.Error("the per-chat limit must hold without a global limit")
	}
}

func TestKeyedLimiter_SpacesEventsPerKey(t *testing.T) {
	k := NewKeyedLimiter(rate.Every(slackChannelInterval), 1)
	if d := k.ReserveAt("C1", t0).DelayFrom(t0); d != 0 {
		t.Errorf("first event waits %v", d)
	}
	at := t0.Add(300 * time.Millisecond)
	if d := k.ReserveAt("C1", at).DelayFrom(at); at.Add(d).Before(t0.Add(time.Second)) {
		t.Errorf("second event to C1 at %v, want ≥ 1s after the first", at.Add(d).Sub(t0))
	}
	if d := k.ReserveAt("C2", at).DelayFrom(at); d != 0 {
		t.Errorf("first event to C2 waits %v", d)
	}
}

func TestKeyedLimiter_OutOfOrderTimeOnlyDelays(t *testing.T) {
	k := NewKeyedLimiter(rate.Every(time.Second), 1)
	k.ReserveAt("a", t0.Add(time.Second))
	r := k.ReserveAt("a", t0) // a caller that read the clock earlier
	if act := t0.Add(r.DelayFrom(t0)); act.Before(t0.Add(2 * time.Second)) {
		t.Errorf("out-of-order reservation acts at %v, want ≥ 2s (after the first)", act.Sub(t0))
	}
}

func TestKeyedLimiter_EvictsIdleKeys(t *testing.T) {
	k := NewKeyedLimiter(rate.Every(time.Second), 1)
	k.ReserveAt("a", t0)
	k.ReserveAt("b", t0.Add(30*time.Second))
	k.ReserveAt("c", t0.Add(61*time.Second))
	if n := k.Len(); n != 2 {
		t.Errorf("after a minute: %d keys, want 2 (a evicted, b and c kept)", n)
	}
	k.ReserveAt("d", t0.Add(10*time.Minute))
	if n := k.Len(); n != 1 {
		t.Errorf("after ten minutes: %d keys, want 1", n)
	}
}

func TestKeyedLimiter_KeepsKeysStillRefilling(t *testing.T) {
	k := NewKeyedLimiter(rate.Every(5*time.Minute), 1)
	k.ReserveAt("slow", t0)
	k.ReserveAt("other", t0.Add(2*time.Minute))
	if n := k.Len(); n != 2 {
		t.Fatalf("%d keys, want 2: a key whose bucket has not refilled must be kept", n)
	}
	if at := k.ReadyAt("slow", t0.Add(2*time.Minute)); at.Before(t0.Add(5 * time.Minute)) {
		t.Errorf("slow is ready at %v, want ≥ 5m", at.Sub(t0))
	}
}

func TestKeyedLimiter_ReadyAtReservesNothing(t *testing.T) {
	k := NewKeyedLimiter(rate.Every(time.Second), 1)
	for range 3 {
		if at := k.ReadyAt("a", t0); !at.Equal(t0) {
			t.Fatalf("ReadyAt = %v, want t0", at)
		}
	}
	if k.Len() != 0 {
		t.Error("ReadyAt created a key")
	}
}

// globalInterval is the spacing of the global Telegram limit.
var globalPerSecond float64 = telegramGlobalPerSecond

var globalInterval = time.Duration(float64(time.Second) / globalPerSecond)

// TestBulkGate_UrgentPassesAFullGate: bulk messages take places ahead
// three at a time; an urgent message (a reply in a conversation) reserves
// without waiting for one.
func TestBulkGate_UrgentPassesAFullGate(t *testing.T) {
	g := newBulkGate()
	bulk := context.Background()
	var leaves []func()
	for range bulkAhead {
		leave, err := g.enter(bulk)
		if err != nil {
			t.Fatal(err)
		}
		leaves = append(leaves, leave)
	}
	full, cancel := context.WithCancel(bulk)
	cancel()
	if _, err := g.enter(full); !errors.Is(err, context.Canceled) {
		t.Fatalf("a fourth bulk message entered a full gate: %v", err)
	}
	leave, err := g.enter(Urgent(full))
	if err != nil {
		t.Fatalf("an urgent message waited at a full gate: %v", err)
	}
	leave()
	leaves[0]()
	if _, err := g.enter(bulk); err != nil {
		t.Fatalf("a bulk message did not get the place given up: %v", err)
	}
}

// The outbox marks a delivery sending in prepare: it runs once the slot is
// reserved, and the wait that follows is only what is left of it, so that
// the mark's write does not delay the message past its slot.
func TestTelegramWait_PrepareRunsInsideTheSlotsWait(t *testing.T) {
	clock := duban.NewManualClock(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))
	l := newTelegramLimiter(1, clock.Now) // one a second overall
	gate := newBulkGate()
	if err := l.wait(context.Background(), 1, gate, nil); err != nil {
		t.Fatal(err)
	}
	// The next slot is a second ahead on the clock. prepare takes that
	// second (the clock moves on inside it): nothing is left to wait, so
	// Wait returns well within the half second the context allows.
	ran := 0
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	err := l.wait(ctx, 2, gate, func() error {
		ran++
		clock.Advance(time.Second)
		return nil
	})
	if err != nil || ran != 1 {
		t.Fatalf("wait = %v with prepare run %d times; want nil and once, the wait shortened by prepare's time", err, ran)
	}
}

func TestTelegramWait_PrepareErrorGivesTheSlotBack(t *testing.T) {
	clock := duban.NewManualClock(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))
	l := newTelegramLimiter(1, clock.Now)
	gate := newBulkGate()
	refused := errors.New("not claimed")
	if err := l.wait(context.Background(), 1, gate, func() error { return refused }); !errors.Is(err, refused) {
		t.Fatalf("wait = %v, want prepare's own error", err)
	}
	// The slot was given back: the chat and the overall limit are free now.
	if _, wait, ok := l.reserve(1); !ok || wait != 0 {
		t.Errorf("after a refused prepare the next slot is in %s (ok=%v), want at once", wait, ok)
	}
	if len(gate) != 0 {
		t.Errorf("%d places of the bulk gate still held after a refused prepare", len(gate))
	}
}

// A yielding bulk send for a chat that is busy for longer than
// chatYieldAfter is told when to come back instead of holding its worker;
// a short wait, an urgent reply and a send that does not yield wait in
// place.
func TestTelegramWait_YieldingSendToABusyChatIsToldWhenToComeBack(t *testing.T) {
	for _, tt := range []struct {
		name      string
		ctx       func(context.Context) context.Context
		busyFor   time.Duration // how long after the first message the second asks
		wantYield bool
	}{
		{"yielding, chat busy a second", Yielding, 0, true},
		{"yielding, chat free within the yield bound", Yielding, telegramChatInterval - chatYieldAfter/2, false},
		{"not yielding", func(c context.Context) context.Context { return c }, 0, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			clock := duban.NewManualClock(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))
			l := newTelegramLimiter(telegramGlobalPerSecond, clock.Now)
			gate := newBulkGate()
			if err := l.wait(context.Background(), 7, gate, nil); err != nil {
				t.Fatal(err)
			}
			clock.Advance(tt.busyFor)
			// A short deadline: a send that waits in place for a busy chat
			// ends in it (the clock stands still), one that yields at once.
			ctx, cancel := context.WithTimeout(tt.ctx(context.Background()), 300*time.Millisecond)
			defer cancel()
			err := l.wait(ctx, 7, gate, nil)
			after, limited := RetryAfter(err)
			if tt.wantYield {
				if !limited || after <= chatYieldAfter || after > telegramChatInterval+time.Millisecond {
					t.Fatalf("wait = %v; want told to come back within the chat's interval", err)
				}
				if len(gate) != 0 {
					t.Errorf("%d places of the bulk gate held after yielding", len(gate))
				}
				if _, _, ok := l.reserve(8); !ok {
					t.Error("another chat's message cannot have the next slot after a yield")
				}
				return
			}
			if limited {
				t.Fatalf("wait = %v; want it to wait in place, not be handed back", err)
			}
		})
	}
}

// crowdedSecond is the first arrival that found 30 others in the second
// before it, as Telegram counts them (tgfake refuses it 429); -1 for none.
func crowdedSecond(arrivals []time.Time) int {
	for i := telegramGlobalLimit; i < len(arrivals); i++ {
		if arrivals[i].Sub(arrivals[i-telegramGlobalLimit]) < time.Second {
			return i
		}
	}
	return -1
}

// stalledBurst sends n messages to distinct chats through l as a burst's
// senders would, bulkAhead+1 slots handed out ahead of the one leaving,
// the sender stalled from stallFrom for stall: every message whose slot
// falls in the stall leaves at its end, the rest on their slots. With
// report it tells l when each left (as wait does). It returns the slots
// and when each message left, in order of leaving.
func stalledBurst(t *testing.T, n int, stallFrom, stall time.Duration, report bool) (slots, left []time.Time) {
	clock := duban.NewManualClock(t0)
	l := newTelegramLimiter(telegramGlobalPerSecond, clock.Now)
	var ahead []slot
	take := func(chat int64) {
		for range 100 {
			s, d, ok := l.reserve(chat)
			if ok {
				ahead = append(ahead, s)
				slots = append(slots, s.at)
				return
			}
			clock.Advance(d)
		}
		t.Fatalf("no slot for chat %d", chat)
	}
	chat := int64(1)
	for ; chat <= bulkAhead+1; chat++ {
		take(chat)
	}
	stallStart, stallEnd := t0.Add(stallFrom), t0.Add(stallFrom+stall)
	for len(ahead) > 0 {
		s := ahead[0]
		ahead = ahead[1:]
		at := s.at
		if !at.Before(stallStart) && at.Before(stallEnd) {
			at = stallEnd
		}
		if at.After(clock.Now()) {
			clock.Set(at)
		}
		left = append(left, clock.Now())
		if report {
			l.leftLate(s, clock.Now())
		}
		if chat <= int64(n) {
			take(chat)
			chat++
		}
	}
	return slots, left
}

// TestTelegramLimiter_AStalledSenderMovesTheSlotsAfterIt: a sender that
// stalls on a busy CPU sends what fell due meanwhile all at once when it
// wakes; were the slots after it kept, the thirtieth after each would
// arrive within a second of it and be refused 429. The slots not yet
// handed out move back by what the stall exceeds the margin — once for
// the stall, not once for each of its messages — so no second holds 31
// arrivals, and a stall within the margin costs no slot at all.
func TestTelegramLimiter_AStalledSenderMovesTheSlotsAfterIt(t *testing.T) {
	const n = 100
	tests := []struct {
		name      string
		stall     time.Duration
		wantMoved bool
	}{
		{"10 ms: within the margin", 10 * time.Millisecond, false},
		{"60 ms", 60 * time.Millisecond, true},
		{"150 ms", 150 * time.Millisecond, true},
		{"500 ms", 500 * time.Millisecond, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kept, keptLeft := stalledBurst(t, n, 200*time.Millisecond, tt.stall, false)
			slots, left := stalledBurst(t, n, 200*time.Millisecond, tt.stall, true)
			if i := crowdedSecond(left); i >= 0 {
				t.Errorf("message %d left as the 31st within a second: Telegram refuses it", i)
			}
			if tt.wantMoved && crowdedSecond(keptLeft) < 0 {
				t.Errorf("with the slots kept no second is crowded either: the case proves nothing")
			}
			moved := slots[n-1].Sub(kept[n-1])
			if (moved > 0) != tt.wantMoved {
				t.Errorf("the last slot moved %v, want moved = %v", moved, tt.wantMoved)
			}
			if moved > tt.stall {
				t.Errorf("the last slot moved %v for a stall of %v, want at most the stall", moved, tt.stall)
			}
		})
	}
}

// TestSlackWait_AYieldingPostToABusyChannelIsToldWhenToComeBack: a post
// whose channel is booked more than slackYieldAfter ahead (a burst of
// supervision posts) does not hold its worker: a yielding wait answers at
// once with a rate-limit error to come back when the channel is free
// (plus up to half again, so that those told together do not all come
// back together), and takes no slot; a wait within the bound sleeps it.
func TestSlackWait_AYieldingPostToABusyChannelIsToldWhenToComeBack(t *testing.T) {
	const interval = 200 * time.Millisecond
	busyFor := func(t *testing.T, s *Slack, book func()) time.Duration {
		t.Helper()
		for range 20 { // 4 s of posts ahead
			book()
		}
		start := time.Now()
		err := s.wait(Yielding(context.Background()), "CSUPERVISION")
		if waited := time.Since(start); waited > time.Second {
			t.Errorf("a yielding post to a busy channel held its worker %s", waited)
		}
		after, ok := RetryAfter(err)
		if !ok {
			t.Fatalf("yielding wait: %v, want a rate-limit error", err)
		}
		return after
	}
	t.Run("in process", func(t *testing.T) {
		s := NewSlack(nil, WithSlackChannelInterval(interval))
		booked := func() { s.limiter.ReserveAt("CSUPERVISION", time.Now()) }
		after := busyFor(t, s, booked)
		free := s.limiter.ReadyAt("CSUPERVISION", time.Now())
		if want := time.Until(free); after < want-50*time.Millisecond || after > want*3/2+50*time.Millisecond {
			t.Errorf("told to come back in %s; the channel is free in %s", after, want)
		}
		if again := s.limiter.ReadyAt("CSUPERVISION", time.Now()); again.After(free.Add(10 * time.Millisecond)) {
			t.Errorf("the yielding post took a slot: the channel is free at %s, was %s", again, free)
		}
	})
	t.Run("shared", func(t *testing.T) {
		m := testenv.MiniRedis(t)
		m.Mini.SetTime(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)) // stopped: waits are the script's arithmetic
		rdb := redis.NewClient(&redis.Options{Addr: m.Addr})
		t.Cleanup(func() { rdb.Close() })
		s := NewSlack(nil, WithSlackChannelInterval(interval), WithSlackSharedLimits(rdb, "test:"))
		s.shared.sleepFor = func(context.Context, time.Duration) error { return nil }
		booked := func() {
			if _, err := s.shared.reserve(context.Background(), "CSUPERVISION"); err != nil {
				t.Fatal(err)
			}
		}
		after := busyFor(t, s, booked)
		if after < 4*time.Second || after > 6*time.Second {
			t.Errorf("told to come back in %s; the channel is free in 4s", after)
		}
		next, err := s.shared.reserve(context.Background(), "CSUPERVISION")
		if err != nil {
			t.Fatal(err)
		}
		if next != 4*time.Second {
			t.Errorf("next slot in %s, want 4s: the yielding post must not take one", next)
		}
		// Within the bound a yielding post takes its slot and waits it.
		m2 := testenv.MiniRedis(t)
		m2.Mini.SetTime(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))
		rdb2 := redis.NewClient(&redis.Options{Addr: m2.Addr})
		t.Cleanup(func() { rdb2.Close() })
		s2 := NewSlack(nil, WithSlackChannelInterval(interval), WithSlackSharedLimits(rdb2, "test:"))
		var slept []time.Duration
		s2.shared.sleepFor = func(_ context.Context, d time.Duration) error { slept = append(slept, d); return nil }
		for range 3 {
			if err := s2.wait(Yielding(context.Background()), "CSUPERVISION"); err != nil {
				t.Fatalf("a post within the bound: %v", err)
			}
		}
		if len(slept) != 3 || slept[2] != 2*interval {
			t.Errorf("slept %v, want the third post to wait two intervals", slept)
		}
	})
}

// TestTelegramLimiter_ALateMessageOnAnIdleLimiterCostsNoSecond: however
// late a message leaves (a claim waiting seconds for a database lock),
// the slots after it move only so far that its thirtieth successor
// leaves a second after it — on an idle limiter, one slot at most (the
// limiter moves by whole slots) — never by the lateness itself, which
// would hold every message after it as long.
func TestTelegramLimiter_ALateMessageOnAnIdleLimiterCostsNoSecond(t *testing.T) {
	for _, late := range []time.Duration{100 * time.Millisecond, 2 * time.Second, 30 * time.Second} {
		t.Run(late.String(), func(t *testing.T) {
			clock := duban.NewManualClock(t0)
			l := newTelegramLimiter(telegramGlobalPerSecond, clock.Now)
			s, _, ok := l.reserve(1)
			if !ok {
				t.Fatal("no slot on an idle limiter")
			}
			clock.Advance(late)
			l.leftLate(s, clock.Now())
			next := nextSlot(t, l, clock, 2)
			interval := time.Second * 1000 / time.Duration(telegramGlobalPerSecond*1000)
			if wait := next.Sub(clock.Now()); wait > interval {
				t.Errorf("the next message waits %s after one that left %s late; want at most one slot (%s)", wait, late, interval)
			}
		})
	}
}

// TestTelegramLimiter_ALiftedLimitIgnoresLateness: with the overall limit
// lifted (benchmarks give +Inf) a late message moves nothing, and returns.
func TestTelegramLimiter_ALiftedLimitIgnoresLateness(t *testing.T) {
	for _, perSecond := range []float64{0, math.Inf(1), 1e12} {
		clock := duban.NewManualClock(t0)
		l := newTelegramLimiter(perSecond, clock.Now)
		s, _, ok := l.reserve(1)
		if !ok {
			t.Fatalf("%g a second: no slot", perSecond)
		}
		done := make(chan struct{})
		go func() { l.leftLate(s, s.at.Add(time.Second)); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatalf("%g a second: leftLate did not return", perSecond)
		}
	}
}
