package notifier

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cityhall/duban"
)

// Shared limits: replicas of duban sending through one bot must share the
// provider's limits, or two of them send at twice the rate Telegram
// allows. These limiters keep the same limits, margins and fairness as the
// in-process ones in limit.go, with the state in Redis: for each limit the
// earliest moment its next message may leave (a "theoretical arrival
// time", as in the generic cell rate algorithm), read off Redis's own
// clock so that replicas with skewed clocks still agree.

// sharedTelegramScript reserves the next slot for one chat: the global
// slot is taken only when the chat is ready at that slot; otherwise
// nothing is taken and the caller asks again when the chat will be ready
// (as telegramLimiter.reserve does). It returns {1, wait µs} with a slot,
// {0, wait µs} without.
//
// KEYS[1] global, KEYS[2] chat, KEYS[3] the count of overall slots handed
// out; ARGV[1] global interval µs, ARGV[2] chat interval µs, ARGV[3] key
// lifetime ms. The third value is Redis's clock, µs, for the caller's
// estimate of it (see redisClock); the fourth, with a slot, the count
// including it (see sharedLeftLateScript).
var sharedTelegramScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local at = math.max(now, tonumber(redis.call('GET', KEYS[1]) or '0'))
local chat = tonumber(redis.call('GET', KEYS[2]) or '0')
if chat > at then
  return {0, string.format('%.0f', chat - now), string.format('%.0f', now), 0}
end
redis.call('SET', KEYS[1], string.format('%.0f', at + tonumber(ARGV[1])), 'PX', ARGV[3])
redis.call('SET', KEYS[2], string.format('%.0f', at + tonumber(ARGV[2])), 'PX', ARGV[3])
local seq = redis.call('INCR', KEYS[3])
redis.call('PEXPIRE', KEYS[3], ARGV[3])
return {1, string.format('%.0f', at - now), string.format('%.0f', now), seq}
`)

// sharedLeftLateScript is telegramLimiter.leftLate in Redis: a message
// that left late moves every replica's next overall slot to no earlier
// than thirtiethAfter would have it. KEYS[1] global, KEYS[2] the count of
// slots handed out; ARGV[1] the count when the message's slot was handed
// out, ARGV[2] global interval µs, ARGV[3] a second and lateGuard, µs,
// ARGV[4] Telegram's overall limit less one, ARGV[5] key lifetime ms. The
// message left just now: the caller runs it as the message leaves.
var sharedLeftLateScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local rest = tonumber(ARGV[4]) - (tonumber(redis.call('GET', KEYS[2]) or '0') - tonumber(ARGV[1]))
if rest < 0 then
  return 0
end
local target = now + tonumber(ARGV[3]) - rest * tonumber(ARGV[2])
local at = math.max(now, tonumber(redis.call('GET', KEYS[1]) or '0'))
if target <= at then
  return 0
end
local n = math.ceil((target - at) / tonumber(ARGV[2]))
redis.call('SET', KEYS[1], string.format('%.0f', at + n * tonumber(ARGV[2])), 'PX', ARGV[5])
return n
`)

// sharedKeyedScript reserves the next slot for one key (a Slack channel):
// {wait µs}. KEYS[1] the key; ARGV[1] interval µs, ARGV[2] lifetime ms.
var sharedKeyedScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local at = math.max(now, tonumber(redis.call('GET', KEYS[1]) or '0'))
redis.call('SET', KEYS[1], string.format('%.0f', at + tonumber(ARGV[1])), 'PX', ARGV[2])
return string.format('%.0f', at - now)
`)

// sharedKeyLife is how long a limiter key outlives its last slot: long
// enough to cover any slot handed out, short enough not to pile up keys.
const sharedKeyLife = 10 * time.Minute

// ceilMicros is d in whole microseconds, rounded up so that a slot is
// never early.
func ceilMicros(d time.Duration) int64 { return (d + time.Microsecond - 1).Microseconds() }

// redisClock estimates where Redis's clock stands against this process's
// monotonic one, so that a slot Redis hands out in its own time is waited
// for until that moment here, not for "wait" counted from whenever this
// goroutine got to read the answer: a reply read late (a busy CPU, a
// queue for the connection pool) would otherwise send late, and a late
// message bunches with the next one, on time, into more than the provider
// allows in some second. Each answer bounds the offset from above (local
// time on reading it minus Redis's time in it); the least of the last
// 10-20 s of answers is the estimate, a window that follows a clock's
// slow drift.
type redisClock struct {
	base time.Time // local monotonic origin

	mu          sync.Mutex
	bucketStart time.Time
	cur, prev   int64 // least offsets, µs, of this bucket and the last; 0 unset
}

const redisClockBucket = 10 * time.Second

// deadline returns the local moment of a slot wait µs after redisNow µs
// of Redis's clock, given that the answer was read at read.
func (c *redisClock) deadline(redisNow, wait int64, read time.Time) time.Time {
	sample := read.Sub(c.base).Microseconds() - redisNow
	c.mu.Lock()
	if read.Sub(c.bucketStart) >= redisClockBucket {
		c.bucketStart, c.prev, c.cur = read, c.cur, 0
	}
	if c.cur == 0 || sample < c.cur {
		c.cur = sample
	}
	offset := c.cur
	if c.prev != 0 && c.prev < offset {
		offset = c.prev
	}
	c.mu.Unlock()
	return c.base.Add(time.Duration(redisNow+wait+offset) * time.Microsecond)
}

// sharedTelegramLimiter is telegramLimiter with its state in Redis.
type sharedTelegramLimiter struct {
	rdb      redis.UniversalClient
	prefix   string
	global   time.Duration // 0: no global limit (benchmarks only)
	chat     time.Duration
	group    time.Duration
	sleepFor func(context.Context, time.Duration) error
	clock    *redisClock // nil: waits as Redis counts them, from the reading of its answer
}

func newSharedTelegramLimiter(rdb redis.UniversalClient, prefix string, globalPerSecond float64) *sharedTelegramLimiter {
	l := &sharedTelegramLimiter{rdb: rdb, prefix: prefix, chat: telegramChatInterval, group: telegramGroupInterval, sleepFor: sleep,
		clock: &redisClock{base: time.Now()}}
	if globalPerSecond > 0 {
		l.global = time.Duration(float64(time.Second) / globalPerSecond)
	}
	return l
}

// reserve asks Redis for chatID's next slot: ok with the wait until it,
// or not ok with the wait before asking again. The wait is counted from
// the local moment Redis's answer stands for (redisClock), so it may be
// less than Redis said when the answer was read late.
func (l *sharedTelegramLimiter) reserve(ctx context.Context, chatID int64) (wait time.Duration, ok bool, err error) {
	wait, ok, _, err = l.reserveSeq(ctx, chatID)
	return wait, ok, err
}

// reserveSeq is reserve, with the count of overall slots handed out once
// this one was (see sharedLeftLateScript).
func (l *sharedTelegramLimiter) reserveSeq(ctx context.Context, chatID int64) (wait time.Duration, ok bool, seq int64, err error) {
	interval := l.chat
	if chatID < 0 { // groups, supergroups and channels have negative ids
		interval = l.group
	}
	keys := []string{l.prefix + "telegram:global", l.prefix + "telegram:chat:" + strconv.FormatInt(chatID, 10), l.prefix + "telegram:seq"}
	if !perChat(ctx) { // edits and conversation replies: no limit per chat
		keys[1], interval = l.prefix+"telegram:edit:"+strconv.FormatInt(chatID, 10), 0
	}
	res, err := sharedTelegramScript.Run(ctx, l.rdb, keys, ceilMicros(l.global), ceilMicros(interval), sharedKeyLife.Milliseconds()).Slice()
	read := time.Now()
	if err != nil {
		return 0, false, 0, fmt.Errorf("shared telegram limit: %w", err)
	}
	if len(res) != 4 {
		return 0, false, 0, fmt.Errorf("shared telegram limit: answer %v", res)
	}
	us, err1 := strconv.ParseInt(fmt.Sprint(res[1]), 10, 64)
	now, err2 := strconv.ParseInt(fmt.Sprint(res[2]), 10, 64)
	seq, err3 := strconv.ParseInt(fmt.Sprint(res[3]), 10, 64)
	if err := errors.Join(err1, err2, err3); err != nil {
		return 0, false, 0, fmt.Errorf("shared telegram limit: answer %v: %w", res, err)
	}
	wait = time.Duration(us) * time.Microsecond
	if l.clock != nil { // nil in tests of the script's arithmetic alone
		wait = max(time.Until(l.clock.deadline(now, us, read)), 0)
	}
	return wait, fmt.Sprint(res[0]) == "1", seq, nil
}

// wait blocks until a slot for a message to chatID comes, or ctx ends;
// bulk messages take their slots through gate (see bulkGate), which holds
// this process's bulk reservations to a few ahead. Once the slot is
// reserved, and before waiting for it, it runs prepare (when not nil; see
// Waiter).
func (l *sharedTelegramLimiter) wait(ctx context.Context, chatID int64, gate bulkGate, prepare func() error) error {
	for {
		leave, err := gate.enter(ctx)
		if err != nil {
			return err
		}
		d, ok, seq, err := l.reserveSeq(ctx, chatID)
		if err != nil {
			leave()
			return err
		}
		if !ok && yielding(ctx) && d > chatYieldAfter {
			leave()
			return &RateLimitError{Channel: duban.ChannelTelegram, RetryAfter: d, Err: errChatBusy}
		}
		slot := time.Now().Add(d)
		if ok && prepare != nil {
			if err := prepare(); err != nil {
				leave()
				return err // the slot is lost: never early, at worst a little late
			}
			d = time.Until(slot) // what is left of the wait
		}
		err = l.sleepFor(ctx, d)
		leave()
		if err != nil {
			return err // a slot taken and not used is lost: never early, at worst a little late
		}
		if ok {
			l.leftLate(ctx, seq, time.Since(slot))
			return nil
		}
	}
}

// leftLate moves every replica's overall slots back after the message of
// the seq-th slot left late by late (see lateAllowance): a call to Redis
// only then. An error is dropped: the message is out, and the move only
// widens a margin.
func (l *sharedTelegramLimiter) leftLate(ctx context.Context, seq int64, late time.Duration) {
	if l.global <= 0 || late <= lateAllowance(l.global) {
		return
	}
	keys := []string{l.prefix + "telegram:global", l.prefix + "telegram:seq"}
	_ = sharedLeftLateScript.Run(ctx, l.rdb, keys, seq, ceilMicros(l.global), (time.Second + lateGuard).Microseconds(),
		telegramGlobalLimit-1, sharedKeyLife.Milliseconds()).Err()
}

// sharedKeyedLimiter is a KeyedLimiter (burst one) with its state in Redis.
type sharedKeyedLimiter struct {
	rdb      redis.UniversalClient
	prefix   string
	interval time.Duration
	sleepFor func(context.Context, time.Duration) error
}

func (l *sharedKeyedLimiter) reserve(ctx context.Context, key string) (time.Duration, error) {
	s, err := sharedKeyedScript.Run(ctx, l.rdb, []string{l.prefix + key}, ceilMicros(l.interval), sharedKeyLife.Milliseconds()).Text()
	if err != nil {
		return 0, fmt.Errorf("shared limit %s: %w", key, err)
	}
	us, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("shared limit %s: wait %q: %w", key, s, err)
	}
	return time.Duration(us) * time.Microsecond, nil
}

func (l *sharedKeyedLimiter) wait(ctx context.Context, key string) error {
	_, err := l.waitWithin(ctx, key, 0)
	return err
}

// sharedKeyedWithinScript is sharedKeyedScript that takes the slot only
// when it comes within ARGV[3] µs: {1, wait µs} with it, {0, wait µs}
// without.
var sharedKeyedWithinScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local at = math.max(now, tonumber(redis.call('GET', KEYS[1]) or '0'))
if at - now > tonumber(ARGV[3]) then
  return {0, string.format('%.0f', at - now)}
end
redis.call('SET', KEYS[1], string.format('%.0f', at + tonumber(ARGV[1])), 'PX', ARGV[2])
return {1, string.format('%.0f', at - now)}
`)

// waitWithin waits for key's next slot when it comes within most (any
// slot for most 0); a later one is not taken, and its wait is returned.
func (l *sharedKeyedLimiter) waitWithin(ctx context.Context, key string, most time.Duration) (busy time.Duration, err error) {
	if most <= 0 {
		d, err := l.reserve(ctx, key)
		if err != nil {
			return 0, err
		}
		return 0, l.sleepFor(ctx, d)
	}
	res, err := sharedKeyedWithinScript.Run(ctx, l.rdb, []string{l.prefix + key}, ceilMicros(l.interval), sharedKeyLife.Milliseconds(), most.Microseconds()).Slice()
	if err != nil {
		return 0, fmt.Errorf("shared limit %s: %w", key, err)
	}
	if len(res) != 2 {
		return 0, fmt.Errorf("shared limit %s: answer %v", key, res)
	}
	us, err := strconv.ParseInt(fmt.Sprint(res[1]), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("shared limit %s: answer %v: %w", key, res, err)
	}
	d := time.Duration(us) * time.Microsecond
	if fmt.Sprint(res[0]) != "1" {
		return d, nil
	}
	return 0, l.sleepFor(ctx, d)
}
