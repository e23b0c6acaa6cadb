package notifier

import (
	"context"
	"fmt"
	"strconv"
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
// KEYS[1] global, KEYS[2] chat; ARGV[1] global interval µs, ARGV[2] chat
// interval µs, ARGV[3] key lifetime ms.
var sharedTelegramScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local at = math.max(now, tonumber(redis.call('GET', KEYS[1]) or '0'))
local chat = tonumber(redis.call('GET', KEYS[2]) or '0')
if chat > at then
  return {0, string.format('%.0f', chat - now)}
end
redis.call('SET', KEYS[1], string.format('%.0f', at + tonumber(ARGV[1])), 'PX', ARGV[3])
redis.call('SET', KEYS[2], string.format('%.0f', at + tonumber(ARGV[2])), 'PX', ARGV[3])
return {1, string.format('%.0f', at - now)}
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

// sharedTelegramLimiter is telegramLimiter with its state in Redis.
type sharedTelegramLimiter struct {
	rdb      redis.UniversalClient
	prefix   string
	global   time.Duration // 0: no global limit (benchmarks only)
	chat     time.Duration
	group    time.Duration
	sleepFor func(context.Context, time.Duration) error
}

func newSharedTelegramLimiter(rdb redis.UniversalClient, prefix string, globalPerSecond float64) *sharedTelegramLimiter {
	l := &sharedTelegramLimiter{rdb: rdb, prefix: prefix, chat: telegramChatInterval, group: telegramGroupInterval, sleepFor: sleep}
	if globalPerSecond > 0 {
		l.global = time.Duration(float64(time.Second) / globalPerSecond)
	}
	return l
}

// reserve asks Redis for chatID's next slot: ok with the wait until it,
// or not ok with the wait before asking again.
func (l *sharedTelegramLimiter) reserve(ctx context.Context, chatID int64) (wait time.Duration, ok bool, err error) {
	interval := l.chat
	if chatID < 0 { // groups, supergroups and channels have negative ids
		interval = l.group
	}
	keys := []string{l.prefix + "telegram:global", l.prefix + "telegram:chat:" + strconv.FormatInt(chatID, 10)}
	if !perChat(ctx) { // edits and conversation replies: no limit per chat
		keys[1], interval = l.prefix+"telegram:edit:"+strconv.FormatInt(chatID, 10), 0
	}
	res, err := sharedTelegramScript.Run(ctx, l.rdb, keys, ceilMicros(l.global), ceilMicros(interval), sharedKeyLife.Milliseconds()).Slice()
	if err != nil {
		return 0, false, fmt.Errorf("shared telegram limit: %w", err)
	}
	if len(res) != 2 {
		return 0, false, fmt.Errorf("shared telegram limit: answer %v", res)
	}
	us, err := strconv.ParseInt(fmt.Sprint(res[1]), 10, 64)
	if err != nil {
		return 0, false, fmt.Errorf("shared telegram limit: wait %v: %w", res[1], err)
	}
	return time.Duration(us) * time.Microsecond, fmt.Sprint(res[0]) == "1", nil
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
		d, ok, err := l.reserve(ctx, chatID)
		if err != nil {
			leave()
			return err
		}
		if !ok && yielding(ctx) && d > chatYieldAfter {
			leave()
			return &RateLimitError{Channel: duban.ChannelTelegram, RetryAfter: d, Err: errChatBusy}
		}
		if ok && prepare != nil {
			start := time.Now()
			if err := prepare(); err != nil {
				leave()
				return err // the slot is lost: never early, at worst a little late
			}
			d -= time.Since(start) // what is left of the wait
		}
		err = l.sleepFor(ctx, d)
		leave()
		if err != nil {
			return err // a slot taken and not used is lost: never early, at worst a little late
		}
		if ok {
			return nil
		}
	}
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
	d, err := l.reserve(ctx, key)
	if err != nil {
		return err
	}
	return l.sleepFor(ctx, d)
}
