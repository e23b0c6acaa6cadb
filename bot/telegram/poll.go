package telegram

import (
	"context"
	"log/slog"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/cityhall/duban/bot"
	"github.com/cityhall/duban/redact"
)

// Long polling. https://core.telegram.org/bots/api#getupdates
const (
	// pollTimeout is how long, in seconds, Telegram holds a getUpdates
	// call open while there is nothing new.
	pollTimeout = 30
	// pollLimit is the most updates one getUpdates answers (Telegram's
	// default and maximum).
	pollLimit = 100
)

// allowedUpdates are the kinds of update the bot handles.
var allowedUpdates = []string{"message", "callback_query"}

// Poll receives updates by long polling until ctx ends, and then returns
// nil. Only the holder of the polling lease polls (lease.go): the other
// replicas wait, and take over when it is released or expires because its
// holder died; without Deps.Redis this replica polls alone. The holder
// removes any webhook first, since Telegram refuses getUpdates while one
// is set.
//
// An update is confirmed to Telegram (by asking for the next offset) only
// after HandleUpdate committed it; one that fails is retried, with a
// backoff from one second doubling to thirty, and never skipped.
// tgbotapi's GetUpdatesChan is not used because it confirms an update
// before anyone has handled it.
func (t *Bot) Poll(ctx context.Context) error {
	if t.redis == nil {
		return t.poll(ctx)
	}
	l := newLease(t.redis, t.leaseKey, t.leaseTTL, t.log)
	for ctx.Err() == nil {
		if !l.acquire(ctx) {
			return nil
		}
		held, lost := context.WithCancel(ctx)
		renewing := make(chan struct{})
		go func() {
			defer close(renewing)
			l.hold(held, lost)
		}()
		err := t.poll(held)
		lost()
		<-renewing
		l.release() // a no-op when the lease was lost to another replica
		if err != nil {
			return err
		}
	}
	return nil
}

// poll is Poll's loop, run while this replica holds the lease.
func (t *Bot) poll(ctx context.Context) error {
	var b bot.Backoff
	for {
		_, err := call(ctx, func() (*tgbotapi.APIResponse, error) { return t.api.Request(tgbotapi.DeleteWebhookConfig{}) })
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			return nil
		}
		t.log.Warn("telegram: delete webhook before polling", slog.Any("error", redact.Error(err, t.token)))
		if !bot.Sleep(ctx, b.Next()) {
			return nil
		}
	}
	b.Reset()
	next := 0
	for ctx.Err() == nil {
		updates, err := call(ctx, func() ([]tgbotapi.Update, error) {
			return t.api.GetUpdates(tgbotapi.UpdateConfig{Offset: next, Limit: pollLimit, Timeout: pollTimeout, AllowedUpdates: allowedUpdates})
		})
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			t.log.Warn("telegram: get updates", slog.Any("error", redact.Error(err, t.token)))
			if !bot.Sleep(ctx, b.Next()) {
				return nil
			}
			continue
		}
		b.Reset()
		for _, u := range updates {
			if u.UpdateID < next {
				continue // already handled; Telegram repeats what is unconfirmed
			}
			for {
				err := t.HandleUpdate(ctx, u)
				if err == nil {
					break
				}
				if ctx.Err() != nil {
					return nil
				}
				t.log.Error("telegram: handle update; retrying", slog.Int("update_id", u.UpdateID), slog.Any("error", err))
				if !bot.Sleep(ctx, b.Next()) {
					return nil
				}
			}
			b.Reset()
			next = u.UpdateID + 1
		}
	}
	return nil
}

// call runs f, a Bot API call that takes no context, and returns early when
// ctx ends; f then finishes in the background and its result is dropped
// (updates fetched that way are simply fetched again, being unconfirmed).
func call[T any](ctx context.Context, f func() (T, error)) (T, error) {
	type result struct {
		v   T
		err error
	}
	ch := make(chan result, 1)
	go func() {
		v, err := f()
		ch <- result{v, err}
	}()
	select {
	case r := <-ch:
		return r.v, r.err
	case <-ctx.Done():
		var zero T
		return zero, ctx.Err()
	}
}
