package jobs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"time"
)

// The crash policy (README.md, Reliability): every process that sends
// holds a lease, a row it renews every LeaseRenew; a delivery it marks
// sending names it. Once a lease has not been renewed for LeaseTTL its
// process is taken for dead, and its sending rows are sent once more by
// whoever is alive, marked as possible repeats. A live process's rows are
// never touched.
const (
	LeaseRenew = 3 * time.Second
	LeaseTTL   = 15 * time.Second
)

// newSenderID names this process: host, process id and a random part, so
// that a restarted process is a new sender and its predecessor's rows are
// taken over.
func newSenderID() string {
	host, _ := os.Hostname()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b))
}

// RenewLease renews this process's lease once; KeepLease does it in a loop.
// Call it before the workers start, so that no row is marked sending by
// a sender without a lease.
func (o *Outbox) RenewLease(ctx context.Context) error {
	return o.store.RenewLease(ctx, o.sender, LeaseTTL)
}

// KeepLease renews this process's lease every LeaseRenew, takes over the
// rows of senders that are gone and queues again the tasks their workers
// left running (Queue.RescueOrphans), until ctx ends; then it releases the
// lease (call it after the workers drained: a row still sending then was
// abandoned, and is for another replica to take over).
func (o *Outbox) KeepLease(ctx context.Context) {
	t := time.NewTicker(LeaseRenew)
	defer t.Stop()
	for {
		if err := o.RenewLease(ctx); err != nil && ctx.Err() == nil {
			o.log.Warn("renew sender lease", slog.Any("error", err))
		}
		if _, err := o.TakeOver(ctx); err != nil && ctx.Err() == nil {
			o.log.Warn("take over deliveries of gone senders", slog.Any("error", err))
		}
		if o.queue != nil {
			if n, err := o.queue.RescueOrphans(ctx); err != nil && ctx.Err() == nil {
				o.log.Warn("rescue tasks of dead workers", slog.Any("error", err))
			} else if n > 0 {
				o.log.Warn("tasks left running by a dead worker queued again", slog.Int("count", n))
			}
		}
		select {
		case <-ctx.Done():
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			if err := o.store.ReleaseLease(rctx, o.sender); err != nil {
				o.log.Warn("release sender lease", slog.Any("error", err))
			}
			return
		case <-t.C:
		}
	}
}

// TakeOver queues again, as possible repeats, the sending deliveries of
// senders whose lease lapsed (a row of this process is never one: it is
// alive), and enqueues their tasks. It returns how many it took.
func (o *Outbox) TakeOver(ctx context.Context) (int, error) {
	ds, err := o.store.TakeOverSending(ctx, o.sender, o.clock.Now().Add(-LeaseTTL))
	if err != nil {
		return 0, err
	}
	for _, d := range ds {
		o.metrics.Repeats.WithLabelValues(repeatCrash).Inc()
		o.log.Warn("delivery left sending by a sender that is gone; sending it again as a possible repeat",
			slog.Int64("delivery_id", d.ID), slog.String("channel", string(d.Channel)))
		if o.immediate {
			continue
		}
		if err := o.queue.enqueueAgain(ctx, d); err != nil {
			return len(ds), err // the row is queued: reconcile enqueues it
		}
	}
	return len(ds), nil
}
