// Package notifier delivers rendered messages to people, one small sender
// per channel (Telegram, Slack, a signed webhook, the console) behind one
// interface, each keeping within its provider's rate limits and classifying
// its provider's errors once: rate-limited, permanent, or worth a retry.
package notifier

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cityhall/duban"
)

// Sender delivers a rendered message to one address on one channel.
type Sender interface {
	// Channel names the channel this sender delivers on.
	Channel() duban.Channel
	// Reachable reports whether addr can be reached on this channel at all
	// (e.g. Telegram needs a chat id).
	Reachable(addr duban.Address) bool
	// Send waits for the channel's rate-limit slot (ctx-cancellable), sends,
	// and returns the provider's message id.
	Send(ctx context.Context, addr duban.Address, msg duban.Message) (providerID string, err error)
}

// ErrUnreachable is wrapped in the PermanentError a sender returns when asked
// to send to an address it cannot reach.
var ErrUnreachable = errors.New("address not reachable on this channel")

// RateLimitError says the provider asked us to slow down (HTTP 429, Telegram
// retry_after, slack.RateLimitedError). It is not a failure: the caller tries
// again after RetryAfter.
type RateLimitError struct {
	Channel    duban.Channel
	RetryAfter time.Duration
	Err        error
}

func (e *RateLimitError) Error() string {
	return fmt.Sprintf("%s (rate limited, retry after %s)", describe(e.Channel, e.Err), e.RetryAfter)
}

// Unwrap returns the provider's error.
func (e *RateLimitError) Unwrap() error { return e.Err }

// PermanentError says retrying cannot help (the bot was blocked by the user;
// the chat, user or channel does not exist; the credentials are invalid; the
// request is malformed). The caller tries the person's next channel.
type PermanentError struct {
	Channel duban.Channel
	Err     error
}

func (e *PermanentError) Error() string {
	return describe(e.Channel, e.Err) + " (permanent)"
}

// describe is the text of a classified error: the provider's error, which
// already names the channel, or the channel alone.
func describe(ch duban.Channel, err error) string {
	if err == nil {
		return string(ch)
	}
	return err.Error()
}

// Unwrap returns the provider's error.
func (e *PermanentError) Unwrap() error { return e.Err }

// defaultRetryAfter is the pause asked for by a provider that said "slow
// down" without saying for how long.
const defaultRetryAfter = time.Second

// rateLimited returns a RateLimitError, with defaultRetryAfter when the
// provider gave no delay.
func rateLimited(ch duban.Channel, after time.Duration, err error) *RateLimitError {
	if after <= 0 {
		after = defaultRetryAfter
	}
	return &RateLimitError{Channel: ch, RetryAfter: after, Err: err}
}

// RetryAfter reports whether err is a RateLimitError, and how long the
// provider asked us to wait.
func RetryAfter(err error) (time.Duration, bool) {
	var rl *RateLimitError
	if errors.As(err, &rl) {
		return rl.RetryAfter, true
	}
	return 0, false
}

// IsPermanent reports whether err is a PermanentError. Every error that is
// neither permanent nor a rate limit (5xx, network errors, timeouts) is
// transient: the caller retries it with backoff.
func IsPermanent(err error) bool {
	var pe *PermanentError
	return errors.As(err, &pe)
}

// Senders holds the configured sender of each channel.
type Senders map[duban.Channel]Sender

// For returns the channels of order, in that order, that are configured and
// can reach addr.
func (s Senders) For(addr duban.Address, order []duban.Channel) []duban.Channel {
	var out []duban.Channel
	for _, ch := range order {
		if snd, ok := s[ch]; ok && snd != nil && snd.Reachable(addr) {
			out = append(out, ch)
		}
	}
	return out
}

// Func adapts functions to a Sender, for tests and fakes (Alertmanager's
// notifierFunc). A nil ReachableFunc reaches every address.
type Func struct {
	Chan          duban.Channel
	ReachableFunc func(addr duban.Address) bool
	SendFunc      func(ctx context.Context, addr duban.Address, msg duban.Message) (string, error)
}

// Channel returns f.Chan.
func (f Func) Channel() duban.Channel { return f.Chan }

// Reachable calls f.ReachableFunc, true when it is nil.
func (f Func) Reachable(addr duban.Address) bool {
	return f.ReachableFunc == nil || f.ReachableFunc(addr)
}

// Send calls f.SendFunc.
func (f Func) Send(ctx context.Context, addr duban.Address, msg duban.Message) (string, error) {
	return f.SendFunc(ctx, addr, msg)
}

// unreachable is the error of a send to an address the channel cannot reach.
func unreachable(ch duban.Channel) error {
	return &PermanentError{Channel: ch, Err: fmt.Errorf("%s: %w", ch, ErrUnreachable)}
}

// sleep waits d, or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Waiter is a Sender whose rate-limit slot can be waited for ahead of the
// call. The outbox waits before it marks a delivery sending, so that the
// write-ahead mark covers the provider call alone and a crash while waiting
// leaves the delivery queued, not in doubt.
//
// Wait runs prepare (when not nil) once the slot is reserved and before
// waiting for it, so that the outbox's write-ahead mark is made in the
// slot's wait rather than between the slot and the call: the provider
// counts arrivals, and a database write there would show it the jitter of
// the write. An error from prepare ends Wait with that error, the slot
// given back where the limiter can.
type Waiter interface {
	Wait(ctx context.Context, addr duban.Address, prepare func() error) error
}

type reservedKey struct{}

// Reserved marks ctx as holding the slot a Wait took: the next Send with it
// does not wait again (and so does not take a second slot).
func Reserved(ctx context.Context) context.Context {
	return context.WithValue(ctx, reservedKey{}, true)
}

func reserved(ctx context.Context) bool {
	v, _ := ctx.Value(reservedKey{}).(bool)
	return v
}

type urgentKey struct{}

// Urgent marks ctx as a send to someone waiting in a conversation (a reply
// in a report, a tracking code): the limiter serves it ahead of bulk
// messages such as a burst of reminders, within the overall limit but
// without the chat's (see perChat).
func Urgent(ctx context.Context) context.Context {
	return context.WithValue(ctx, urgentKey{}, true)
}

func urgent(ctx context.Context) bool {
	v, _ := ctx.Value(urgentKey{}).(bool)
	return v
}

type yieldKey struct{}

// Yielding marks ctx as a bulk send by a worker that would rather be told
// to come back than wait long for a busy chat: when the chat's one message
// a second keeps the message back longer than chatYieldAfter, Wait
// answers a *RateLimitError with the wait instead of sleeping it. A worker
// holding several messages for one busy chat would otherwise sleep through
// slots of the overall limit that messages to other chats could use.
func Yielding(ctx context.Context) context.Context {
	return context.WithValue(ctx, yieldKey{}, true)
}

func yielding(ctx context.Context) bool {
	v, _ := ctx.Value(yieldKey{}).(bool)
	return v
}

// errChatBusy is the error inside the RateLimitError of a yielding send
// whose chat (or Slack channel) is busy (see Yielding).
var errChatBusy = errors.New("chat busy: its next message may leave later")

type editKey struct{}

// Editing marks ctx as an edit of a message sent earlier (its buttons):
// it takes a slot of the overall limit but not of its chat's one message
// a second, which counts messages sent, so that the edits of a
// conversation's buttons do not hold its replies back.
func Editing(ctx context.Context) context.Context {
	return context.WithValue(ctx, editKey{}, true)
}

func editing(ctx context.Context) bool {
	v, _ := ctx.Value(editKey{}).(bool)
	return v
}
