package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/storage"
)

// Conversation replies and channel posts take the road every message
// takes (README.md, Reliability): a delivery row written ahead, the
// provider's limit, sent, recorded, retried after a 429's retry_after or
// with backoff after a 5xx. They are addressed to a chat, a Slack user's
// direct messages or a channel rather than to a person, so the row
// carries its address in the message (Message.To) and has no person.

// PlanReply writes a queued conversation reply of msg to the address to on
// channel ch, inside the caller's transaction tx (the one that records the
// update it answers), under key; planning the same key twice yields the
// first reply. Its kind is MsgReply: it is sent ahead of bulk messages.
func (o *Outbox) PlanReply(ctx context.Context, tx *storage.Store, key string, ch duban.Channel, to duban.Address, msg duban.Message) (*duban.Delivery, error) {
	msg.Kind = duban.MsgReply
	d, err := addressed(key, ch, to, msg)
	if err != nil {
		return nil, err
	}
	if _, err := tx.CreateDelivery(ctx, d); err != nil {
		return nil, err
	}
	return d, nil
}

// addressed is a delivery of msg to the address to, with no person.
func addressed(key string, ch duban.Channel, to duban.Address, msg duban.Message) (*duban.Delivery, error) {
	msg.To = &to
	payload, err := json.Marshal(msg)
	if err != nil {
		return nil, fmt.Errorf("jobs: encode message: %w", err)
	}
	return &duban.Delivery{DedupeKey: key, Channel: ch, Kind: msg.Kind, Ref: msg.Ref, Payload: string(payload)}, nil
}

// EnqueueReplies hands the planned replies to one update to the workers
// once their rows are committed: one task sending them in order, on the
// conversation queue, which workers serve before any other (NewServer). A
// failure is logged: reconcile re-enqueues queued rows. With
// OutboxConfig.Immediate they are sent at once instead.
func (o *Outbox) EnqueueReplies(ctx context.Context, ds ...*duban.Delivery) {
	ids := queuedIDs(ds)
	if len(ids) == 0 {
		return
	}
	if o.immediate {
		if err := o.deliverAll(ctx, ids); err != nil {
			o.log.Warn("reply not sent; queued for a retry", slog.Any("error", err))
		}
		return
	}
	if err := o.queue.enqueue(ctx, NewReplySendTask(duban.Delivery{ID: ids[0]}, ids[1:]...)); err != nil {
		o.log.Warn("enqueue reply; reconcile will retry", slog.Int64("delivery_id", ids[0]), slog.Any("error", err))
	}
}

// queuedIDs are the ids of the deliveries of ds still queued, in order.
func queuedIDs(ds []*duban.Delivery) []int64 {
	var ids []int64
	for _, d := range ds {
		if d != nil && d.Status == duban.DeliveryQueued {
			ids = append(ids, d.ID)
		}
	}
	return ids
}

// SendReplies sends the planned replies to one update at once, in the
// caller and in order, once their rows are committed: the road of every
// delivery (claimed, within the provider's limit, recorded) without a
// worker's hand-off, so that a reporter's answer leaves as soon as the
// update is kept. What cannot go now — a 429, a 5xx, a dropped
// connection — is handed with the replies after it to one task on the
// conversation queue, after the provider's retry_after or the first
// backoff; those already sent are skipped there. Nothing is lost to a
// crash meanwhile: the rows stay queued, and reconcile re-enqueues them.
//
// The sends outlive the caller's context (a webhook's request whose
// client went away), so that a reply is not cut between its claim and its
// record; replyWithin bounds their waits (the limit's slot, the database)
// — the provider call has its HTTP client's own timeout.
func (o *Outbox) SendReplies(ctx context.Context, ds ...*duban.Delivery) {
	ids := queuedIDs(ds)
	if len(ids) == 0 {
		return
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), replyWithin)
	err := o.deliverAll(sctx, ids)
	cancel()
	if err == nil {
		return
	}
	o.log.Log(ctx, handOffLevel(err), "reply not sent at once; handed to its task", slog.Int64("delivery_id", ids[0]), slog.Any("error", err))
	// The hand-off has a moment of its own: the sends may have used up
	// theirs (a call that hung until its client's timeout).
	ectx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	t := NewReplySendTask(duban.Delivery{ID: ids[0]}, ids[1:]...)
	if err := o.queue.enqueue(ectx, t, asynq.ProcessIn(RetryDelay(0, err, t))); err != nil {
		o.log.Warn("enqueue reply; reconcile will retry", slog.Int64("delivery_id", ids[0]), slog.Any("error", err))
	}
}

// replyWithin bounds the waits of the replies SendReplies makes in its
// caller: well within the webhook's answer, which Telegram waits for.
const replyWithin = 30 * time.Second

// deliverAll sends the deliveries ids in order, stopping at the first
// error: a retry starts again from the first, and those sent are skipped.
func (o *Outbox) deliverAll(ctx context.Context, ids []int64) error {
	for _, id := range ids {
		if err := o.Deliver(ctx, id); err != nil {
			return err
		}
	}
	return nil
}

// deliverToAddress sends a delivery addressed in its message (a reply, a
// channel post): no person, no fallback. The line of a possible repeat is
// in the address's language when it has one (a Slack user's), else zh-CN.
func (o *Outbox) deliverToAddress(ctx context.Context, d *duban.Delivery) error {
	var msg duban.Message
	if err := json.Unmarshal([]byte(d.Payload), &msg); err != nil || msg.To == nil {
		_ = o.store.DeliveryFailed(ctx, d.ID, "unreadable payload")
		return fmt.Errorf("jobs: delivery %d payload: %w", d.ID, asynq.SkipRetry)
	}
	sender, ok := o.senders[d.Channel]
	if !ok {
		return o.store.DeliveryFailed(ctx, d.ID, "channel turned off")
	}
	msg = o.repeatLine(d, msg.To.Locale, msg)
	return o.send(ctx, d, sender, *msg.To, msg, func(context.Context) error { return nil })
}

// postRetry is how soon a post being sent by another worker is looked at
// again.
const postRetry = 2 * time.Second

// Post sends msg to the address to on channel ch now, in the caller's
// task, through the delivery log under key: written ahead, claimed, sent
// within the provider's limit and recorded like every delivery. It
// returns the provider's message id: the one already recorded when key
// was sent before (a retried task posts once). A post being sent by
// another worker answers a NotDueError, to be tried again shortly; a
// provider's error is returned for the caller's task to retry.
func (o *Outbox) Post(ctx context.Context, key string, ch duban.Channel, to duban.Address, msg duban.Message) (string, error) {
	sender, ok := o.senders[ch]
	if !ok {
		return "", fmt.Errorf("jobs: post %s: no %s channel", key, ch)
	}
	d, err := addressed(key, ch, to, msg)
	if err != nil {
		return "", err
	}
	payload := d.Payload
	created, err := o.store.CreateDelivery(ctx, d)
	if err != nil {
		return "", err
	}
	if !created && d.Status == duban.DeliveryQueued && d.Payload != payload {
		// Back after its channel was busy (or a failure): the post says
		// what is true now. The row stays queued meanwhile, so that
		// reconcile sends it should this task be lost.
		if _, err := o.store.RenderAgain(ctx, d.ID, payload); err != nil {
			return "", err
		}
		d.Payload = payload
	}
	for attempt := 0; ; attempt++ {
		switch d.Status {
		case duban.DeliverySent:
			return d.ProviderMessageID, nil
		case duban.DeliveryFailed:
			return "", fmt.Errorf("jobs: post %s failed: %s", key, d.Error)
		case duban.DeliverySending:
			return "", &NotDueError{Wait: postRetry}
		}
		if attempt > 0 {
			return "", &NotDueError{Wait: postRetry} // claimed by someone else meanwhile
		}
		if err := o.send(ctx, d, sender, to, o.repeatLine(d, "", msg), func(context.Context) error { return nil }); err != nil {
			if errors.Is(err, ErrInFlight) {
				return "", &NotDueError{Wait: postRetry} // claimed by someone else meanwhile
			}
			return "", err
		}
		if d, err = o.store.DeliveryByID(ctx, d.ID); err != nil {
			return "", err
		}
	}
}
