package notifier

import (
	"context"
	"math"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/cityhall/duban"
)

// Provider rate limits. Every limiter below has a burst of one, so messages
// are evenly spaced rather than bunched at the start of each window.
const (
	// https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this
	// "no more than 30 messages per second", "avoid sending more than one
	// message per second" to a chat, and "no more than 20 messages per
	// minute" to a group.
	//
	// The slots are reserved here, but the provider counts arrivals, and a
	// request can be held up a few milliseconds on its way while the next
	// one is not: evenly spaced at exactly the limit, any such jitter shows
	// the provider one message too many in some window. So the limits are
	// kept with a margin: a message a second overall (29/s, 0.967 of the
	// limit: the 31st message of any window arrives 1.034 s after the
	// first, tolerating ~34 ms of jitter; half a message, ~17 ms, was too
	// little on a busy 2-core machine, see docs/PERFORMANCE.md) and 10%
	// per chat.
	telegramGlobalLimit     = 30
	telegramGlobalPerSecond = telegramGlobalLimit - 1.0
	telegramChatInterval    = time.Second * 11 / 10
	telegramGroupInterval   = time.Minute / 20 * 11 / 10

	// https://api.slack.com/methods/chat.postMessage#rate_limiting
	// "1 message per second per channel", with the same 10% margin.
	slackChannelInterval = time.Second * 11 / 10

	// bulkAhead is how many bulk messages may hold a reserved slot of the
	// overall limit at once (see bulkGate): an urgent message (Urgent)
	// reserves without the gate, so during a burst it waits behind at most
	// these few (about 0.2 s) rather than behind every worker's
	// reservation. A holder marks its delivery sending while it waits
	// (Waiter), so the few must cover that write: at 29/s, six slots give
	// it 0.2 s before the gate, not the limit, sets the pace.
	bulkAhead = 6

	// chatYieldAfter is the longest a yielding send (Yielding) waits for
	// its chat in its worker; a longer wait is handed back to the queue.
	chatYieldAfter = 250 * time.Millisecond

	// lateGuard is kept between a late message's arrival and that of the
	// thirtieth after it (see lateAllowance).
	lateGuard = 10 * time.Millisecond

	// slackYieldAfter is the longest a yielding post (Yielding) waits for
	// its Slack channel in its worker: a few posts' worth at one a second,
	// so that a burst of posts to one channel (the supervision channel,
	// after a wave of complaints) holds a few workers, not all of them, and
	// reminders are not held behind it.
	slackYieldAfter = 3 * time.Second

	// limiterIdle is how long a key of a KeyedLimiter goes unused before
	// it is forgotten.
	limiterIdle = time.Minute
)

// KeyedLimiter holds one token-bucket limiter per key (a chat, a channel),
// created on first use and forgotten once idle, so its map holds only the
// keys used in the last minute or so. It is safe for concurrent use.
//
// A rate.Limiter must see reservations in time order: given an earlier time
// than the last, it credits tokens it never earned. KeyedLimiter therefore
// moves an out-of-order time forward to the key's latest reservation, which
// can only delay an event.
type KeyedLimiter struct {
	limit rate.Limit
	burst int
	idle  time.Duration

	mu        sync.Mutex
	keys      map[string]*keyState
	lastSweep time.Time
}

type keyState struct {
	lim  *rate.Limiter
	last time.Time // the latest time a reservation was made at
}

// NewKeyedLimiter returns a limiter allowing each key limit events a second
// with the given burst.
func NewKeyedLimiter(limit rate.Limit, burst int) *KeyedLimiter {
	return &KeyedLimiter{limit: limit, burst: burst, idle: limiterIdle, keys: make(map[string]*keyState)}
}

// ReserveAt reserves one event for key at t (or at the key's latest
// reservation, when t is earlier). The caller waits r.DelayFrom(t).
func (k *KeyedLimiter) ReserveAt(key string, t time.Time) *rate.Reservation {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.sweep(t)
	s, ok := k.keys[key]
	if !ok {
		s = &keyState{lim: rate.NewLimiter(k.limit, k.burst)}
		k.keys[key] = s
	}
	if t.Before(s.last) {
		t = s.last
	}
	s.last = t
	return s.lim.ReserveN(t, 1)
}

// ReadyAt returns the earliest time, not before t, at which key has an event
// to spare. It reserves nothing.
func (k *KeyedLimiter) ReadyAt(key string, t time.Time) time.Time {
	k.mu.Lock()
	defer k.mu.Unlock()
	s, ok := k.keys[key]
	if !ok {
		return t
	}
	if t.Before(s.last) {
		t = s.last
	}
	return t.Add(untilToken(k.limit, s.lim.TokensAt(t)))
}

// CancelAt gives back r, a reservation for key that will not be used, as of
// t. As with rate.Reservation.CancelAt, tokens reserved after r are not
// given back.
func (k *KeyedLimiter) CancelAt(key string, r *rate.Reservation, t time.Time) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if s, ok := k.keys[key]; ok {
		if t.Before(s.last) {
			t = s.last
		}
		r.CancelAt(t)
	}
}

// Len returns the number of keys held.
func (k *KeyedLimiter) Len() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.keys)
}

// sweep forgets the keys unused for k.idle whose buckets have refilled, at
// most once per k.idle so that a send costs O(1) on average. A refilled
// bucket is the same as a new one, so forgetting it loses nothing.
func (k *KeyedLimiter) sweep(now time.Time) {
	if now.Sub(k.lastSweep) < k.idle {
		return
	}
	k.lastSweep = now
	for key, s := range k.keys {
		if now.Sub(s.last) >= k.idle && s.lim.TokensAt(now) >= float64(k.burst) {
			delete(k.keys, key)
		}
	}
}

// untilToken is how long a bucket at limit holding tokens takes to hold one
// whole token, rounded up so that the answer is never early.
func untilToken(limit rate.Limit, tokens float64) time.Duration {
	if tokens >= 1 || limit == rate.Inf {
		return 0
	}
	if limit <= 0 {
		return time.Duration(math.MaxInt64)
	}
	return time.Duration(math.Ceil((1 - tokens) / float64(limit) * float64(time.Second)))
}

// telegramLimiter keeps the Bot API's three limits together: 30 messages a
// second overall, one a second per chat, 20 a minute per group.
//
// The global slot is reserved first, at the current time, so the global
// limiter only ever sees reservations in time order; then the chat must have
// a token at that very slot. If it has not, the global slot is given back at
// once (it is the latest, so it is restored whole) and the caller asks again
// when the chat will be ready. A message therefore never holds a global slot
// it cannot use, and each limiter accounts a message at the instant it is
// sent: neither limit is exceeded, and a busy chat does not stall the others.
type telegramLimiter struct {
	now func() time.Time

	mu     sync.Mutex
	global *rate.Limiter
	chats  *KeyedLimiter
	groups *KeyedLimiter
	edits  *KeyedLimiter // no limit per chat: global slots only (perChat)
	seq    int64         // overall slots handed out to messages (leftLate counts a message's successors by it)
}

// newTelegramLimiter returns the limiter; globalPerSecond <= 0 lifts the
// global limit (benchmarks only).
func newTelegramLimiter(globalPerSecond float64, now func() time.Time) *telegramLimiter {
	limit := rate.Limit(globalPerSecond)
	if globalPerSecond <= 0 {
		limit = rate.Inf
	}
	return &telegramLimiter{
		now:    now,
		global: rate.NewLimiter(limit, 1),
		chats:  NewKeyedLimiter(rate.Every(telegramChatInterval), 1),
		groups: NewKeyedLimiter(rate.Every(telegramGroupInterval), 1),
		edits:  NewKeyedLimiter(rate.Inf, 1),
	}
}

// slot is a reserved moment to send one message to one chat.
type slot struct {
	at     time.Time
	key    string
	keyed  *KeyedLimiter
	global *rate.Reservation
	chat   *rate.Reservation
	seq    int64 // the limiter's seq once s was handed out
}

// reserve holds the earliest slot for a message to chatID and returns it
// with the time to wait for it; or, when the chat is not ready, ok=false
// and the time to wait before asking again.
func (l *telegramLimiter) reserve(chatID int64) (s slot, wait time.Duration, ok bool) {
	return l.reserveFor(chatID, false)
}

// reserveFor is reserve, without the chat's limit when edit is set (see
// perChat).
func (l *telegramLimiter) reserveFor(chatID int64, edit bool) (s slot, wait time.Duration, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	keyed := l.chats
	switch {
	case edit:
		keyed = l.edits
	case chatID < 0: // groups, supergroups and channels have negative ids
		keyed = l.groups
	}
	key := strconv.FormatInt(chatID, 10)

	g := l.global.ReserveN(now, 1)
	at := now.Add(g.DelayFrom(now))
	if ready := keyed.ReadyAt(key, at); ready.After(at) {
		g.CancelAt(now)
		return slot{}, ready.Sub(now), false
	}
	c := keyed.ReserveAt(key, at)
	l.seq++
	return slot{at: at, key: key, keyed: keyed, global: g, chat: c, seq: l.seq}, at.Sub(now), true
}

// lateAllowance is how late a message may leave its slot before the
// slots after it must move. Telegram counts 30 messages in any second; at
// one message every interval, a slot's thirtieth successor comes
// 30·interval after it, 34 ms more than a second at 29/s. Messages that
// leave later than that margin (their sender stalled on a busy CPU, and
// all that fell due meanwhile leave together) land in the same second as
// their thirtieth successors, on time, and those are refused 429. Such a
// message moves the slots not yet handed out (leftLate) just so far that
// its thirtieth successor comes a second and lateGuard after it left: no
// farther, so a long stall costs a second's slots at most, and the
// stall's later messages, whose successors have moved already, move
// nothing more.
func lateAllowance(interval time.Duration) time.Duration {
	return max(telegramGlobalLimit*interval-time.Second-lateGuard, 0)
}

// thirtiethAfter is the earliest a message's thirtieth successor may leave
// for Telegram to count it in a second of its own: a second and lateGuard
// after the message left at leftAt, less the intervals of the successors
// after the next one (handed out is how many were handed out already; the
// next leaves no earlier than the limiter's next slot).
func thirtiethAfter(leftAt time.Time, handedOut int64, interval time.Duration) (next time.Time, ok bool) {
	rest := telegramGlobalLimit - 1 - handedOut
	if rest < 0 {
		return time.Time{}, false // its thirtieth successor is out already
	}
	return leftAt.Add(time.Second + lateGuard - time.Duration(rest)*interval), true
}

// leftLate moves the overall slots not yet handed out back, when the
// message of s left at leftAt later than lateAllowance, so that its
// thirtieth successor does not land within its second.
func (l *telegramLimiter) leftLate(s slot, leftAt time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	limit := l.global.Limit()
	if limit == rate.Inf || limit <= 0 {
		return
	}
	interval := time.Duration(float64(time.Second) / float64(limit))
	if interval <= 0 || leftAt.Sub(s.at) <= lateAllowance(interval) {
		return // no overall limit to speak of (+Inf, as benchmarks lift it), or on time
	}
	target, ok := thirtiethAfter(leftAt, l.seq-s.seq, interval)
	if !ok {
		return
	}
	now := l.now()
	next := now.Add(untilToken(limit, l.global.TokensAt(now)))
	// At most a limit's worth: target is at most a second and lateGuard
	// past leftAt, and next is not before it.
	for n := 0; next.Before(target) && n <= telegramGlobalLimit; next, n = next.Add(interval), n+1 {
		// A slot nobody uses: it moves the schedule, and is no message,
		// so seq does not count it.
		l.global.ReserveN(now, 1)
	}
}

// cancel gives s back, for a message that will not be sent.
func (l *telegramLimiter) cancel(s slot) {
	l.mu.Lock()
	defer l.mu.Unlock()
	s.global.CancelAt(l.now())
	s.keyed.CancelAt(s.key, s.chat, s.at)
	l.seq-- // counted short, a late message moves the slots a little farther: never nearer
}

// perChat reports whether a message keeps its chat's one message a second.
// Edits (Editing) do not: the limit counts messages sent. Conversation
// replies (Urgent) do not either: Telegram allows a chat short bursts
// (https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this),
// a conversation makes one or two replies per step of a person who types,
// and held a second each its replies would fall behind the person.
func perChat(ctx context.Context) bool { return !editing(ctx) && !urgent(ctx) }

// bulkGate admits bulkAhead bulk messages at a time to reserve a slot; an
// urgent message passes without it. A bulk message holds its place from
// its reservation to its slot, and gives it up while it waits for its
// chat, so that a busy chat does not hold the others back.
type bulkGate chan struct{}

func newBulkGate() bulkGate { return make(bulkGate, bulkAhead) }

// enter takes a place, unless ctx is urgent (then leave is a no-op too).
func (g bulkGate) enter(ctx context.Context) (leave func(), err error) {
	if g == nil || urgent(ctx) {
		return func() {}, nil
	}
	select {
	case g <- struct{}{}:
		return func() { <-g }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// wait blocks until a slot for a message to chatID comes, or ctx ends.
// Once the slot is reserved, and before waiting for it, it runs prepare
// (when not nil; see Waiter); an error from prepare gives the slot back.
func (l *telegramLimiter) wait(ctx context.Context, chatID int64, gate bulkGate, prepare func() error) error {
	for {
		leave, err := gate.enter(ctx)
		if err != nil {
			return err
		}
		s, d, ok := l.reserveFor(chatID, !perChat(ctx))
		if !ok {
			leave()
			if yielding(ctx) && d > chatYieldAfter {
				return &RateLimitError{Channel: duban.ChannelTelegram, RetryAfter: d, Err: errChatBusy}
			}
			if err := sleep(ctx, d); err != nil {
				return err
			}
			continue
		}
		if prepare != nil {
			if err := prepare(); err != nil {
				leave()
				l.cancel(s)
				return err
			}
			d = s.at.Sub(l.now()) // what is left of the wait
		}
		err = sleep(ctx, d)
		leave()
		if err != nil {
			l.cancel(s)
			return err
		}
		l.leftLate(s, l.now())
		return nil
	}
}

// keyedWait blocks until key's next slot in k comes, or ctx ends.
func keyedWait(ctx context.Context, k *KeyedLimiter, key string, now func() time.Time) error {
	t := now()
	r := k.ReserveAt(key, t)
	if err := sleep(ctx, r.DelayFrom(t)); err != nil {
		k.CancelAt(key, r, now())
		return err
	}
	return nil
}
