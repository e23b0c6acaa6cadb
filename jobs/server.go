package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/hibiken/asynq"

	"github.com/cityhall/duban/notifier"
)

// ServerConfig tunes asynq for duban's work.
type ServerConfig struct {
	// Concurrency is the number of workers: sends wait on the network, not
	// the CPU, so it is not the CPU count.
	Concurrency     int
	ShutdownTimeout time.Duration
}

// NewServer makes the asynq server: due-task and idle checks well under a
// second, rate limits and early starts waited out without counting as
// failures, backoff for the rest.
func NewServer(r asynq.RedisConnOpt, cfg ServerConfig, log *slog.Logger) *asynq.Server {
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 20
	}
	return asynq.NewServer(r, asynq.Config{
		Concurrency: cfg.Concurrency,
		// A person waiting in a conversation is served before any bulk
		// work: strictly, not by weight. The supervision channel's posts
		// come next: a burst of reminders for Telegram once held them for
		// minutes (docs/RELIABILITY.md). They cannot hold the bulk work in
		// turn: a post for a channel booked more than a few seconds ahead
		// goes back to its queue, told when to come back (NewMux).
		Queues:                   map[string]int{QueueConversation: 3, QueueChannel: 2, QueueName: 1},
		StrictPriority:           true,
		TaskCheckInterval:        200 * time.Millisecond,
		DelayedTaskCheckInterval: 200 * time.Millisecond,
		ShutdownTimeout:          cfg.ShutdownTimeout,
		IsFailure:                IsFailure,
		RetryDelayFunc:           RetryDelay,
		Logger:                   slogAdapter{log.With("component", "asynq")},
		LogLevel:                 asynq.WarnLevel,
	})
}

// NewMux registers every handler; housekeeping runs with each SLA check.
func NewMux(hs *Hearings, ob *Outbox, rc *Reconciler, cs *Complaints, housekeeping ...Housekeeping) *asynq.ServeMux {
	mux := asynq.NewServeMux()
	// A worker's sends yield (notifier.Yielding): a message for a busy chat
	// or Slack channel goes back to the queue (its task retried when it is
	// free, not counted as a failure) so that the worker serves the others
	// meanwhile — a wave of supervision posts at Slack's one a second held
	// every worker for minutes, and reminders waited behind them. A request
	// (a bulletin sent from the web) has no queue to go back to: it waits.
	mux.Use(func(h asynq.Handler) asynq.Handler {
		return asynq.HandlerFunc(func(ctx context.Context, t *asynq.Task) error {
			return h.ProcessTask(notifier.Yielding(ctx), t)
		})
	})
	mux.HandleFunc(TypeComplaintSync, cs.HandleSync)
	mux.HandleFunc(TypeChannelEscalation, hs.HandleChannelEscalation)
	mux.HandleFunc(TypeSLACheck, cs.handleSLACheck(housekeeping))
	mux.HandleFunc(TypeReminderSend, hs.HandleReminder)
	mux.HandleFunc(TypeDeliverySend, ob.HandleDelivery)
	mux.HandleFunc(TypeReplySend, ob.HandleDelivery)
	mux.HandleFunc(TypeReconcile, rc.HandleReconcile)
	return mux
}

// IsFailure: a provider's rate limit, or a task that started early, is not
// a failure and does not use up a retry.
func IsFailure(err error) bool {
	if _, ok := waitFor(err); ok {
		return false
	}
	return true
}

// RetryDelay waits out a rate limit for its retry_after, an early start for
// its due time, and backs off exponentially otherwise (5 s doubling, at
// most 10 minutes, with jitter; a conversation reply, which someone is
// waiting for, from 1 s).
//
// A message's send backs off to at most a minute: a provider's 5xx passes
// in seconds or minutes, and a court reminder held back ten minutes by a
// bad spell would arrive late for nothing. Its MaxDeliveryAttempts then
// end within about four minutes, when the next channel is tried and, for
// a head reached nowhere, supervisors are told (Outbox.fallback).
func RetryDelay(n int, err error, t *asynq.Task) time.Duration {
	if d, ok := waitFor(err); ok {
		return d
	}
	base, most := 5*time.Second, 10*time.Minute
	if t != nil && (t.Type() == TypeDeliverySend || t.Type() == TypeReplySend) {
		most = maxSendBackoff
	}
	if t != nil && t.Type() == TypeReplySend {
		base = time.Second
	}
	d := base << min(n, 7)
	d = min(d, most)
	return d + rand.N(d/4+1)
}

// maxSendBackoff is the longest wait between two tries of a message's
// send for an error other than a rate limit (see RetryDelay).
const maxSendBackoff = time.Minute

func waitFor(err error) (time.Duration, bool) {
	if d, ok := notifier.RetryAfter(err); ok {
		return max(d, time.Second), true
	}
	var nd *NotDueError
	if errors.As(err, &nd) {
		return max(nd.Wait, time.Second), true
	}
	return 0, false
}

// slogAdapter lets asynq log through slog.
type slogAdapter struct{ l *slog.Logger }

func (a slogAdapter) Debug(args ...any) { a.l.Debug(fmt.Sprint(args...)) }
func (a slogAdapter) Info(args ...any)  { a.l.Info(fmt.Sprint(args...)) }
func (a slogAdapter) Warn(args ...any)  { a.l.Warn(fmt.Sprint(args...)) }
func (a slogAdapter) Error(args ...any) { a.l.Error(fmt.Sprint(args...)) }
func (a slogAdapter) Fatal(args ...any) { a.l.Error(fmt.Sprint(args...)) }
