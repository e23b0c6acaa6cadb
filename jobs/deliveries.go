package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/hibiken/asynq"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/i18n"
	"github.com/cityhall/duban/notifier"
	"github.com/cityhall/duban/storage"
)

// DefaultChannelOrder is the order in which a person's channels are tried:
// the chat apps people answer in first, the generic webhook and the
// console last.
var DefaultChannelOrder = []duban.Channel{duban.ChannelTelegram, duban.ChannelSlack, duban.ChannelEmail, duban.ChannelWebhook, duban.ChannelConsole}

// Outbox plans deliveries (write-ahead rows) and sends them. Build it
// with NewOutbox.
type Outbox struct {
	store   *storage.Store
	queue   *Queue
	senders notifier.Senders
	order   []duban.Channel
	clock   duban.Clock
	log     *slog.Logger
	metrics *Metrics
	t       *i18n.Bundle
	// sender names this process in the rows it marks sending; its lease
	// (KeepLease) tells other replicas it is alive.
	sender string
	// immediate sends conversation replies in place rather than through
	// their tasks (tests of the bots).
	immediate bool

	// unreachable hears when a head's message failed on every channel, so
	// supervisors are told at once. It is an event rather than a
	// dependency: hearings plan their messages through the outbox, so the
	// outbox is built first and cannot be handed the hearings; NewHearings
	// subscribes instead, while it is built, and nothing is added later.
	unreachable []func(ctx context.Context, d *duban.Delivery) error
}

// OutboxConfig is what an Outbox may be given beside its store, queue and
// senders; every field has a default.
type OutboxConfig struct {
	Order   []duban.Channel // the order channels are tried in; default DefaultChannelOrder
	Clock   duban.Clock     // default the wall clock
	Log     *slog.Logger    // default discards
	Metrics *Metrics        // default unregistered collectors
	T       *i18n.Bundle    // the line of a possible repeat; default the built-in bundle
	// Sender names this process in the rows it marks sending; default a
	// fresh id (host, process and a random part).
	Sender string
	// Immediate sends conversation replies at once, in the caller, rather
	// than through their tasks: for tests of the bots, which run no
	// workers.
	Immediate bool
}

// NewOutbox makes the outbox sending through senders.
func NewOutbox(store *storage.Store, queue *Queue, senders notifier.Senders, cfg OutboxConfig) *Outbox {
	if cfg.Order == nil {
		cfg.Order = DefaultChannelOrder
	}
	if cfg.T == nil {
		cfg.T = i18n.MustNew()
	}
	if cfg.Sender == "" {
		cfg.Sender = newSenderID()
	}
	return &Outbox{store: store, queue: queue, senders: senders, order: cfg.Order,
		clock: orClock(cfg.Clock), log: orLog(cfg.Log), metrics: orMetrics(cfg.Metrics), t: cfg.T,
		sender: cfg.Sender, immediate: cfg.Immediate}
}

// With returns the outbox on another store (a store opened again after
// the database came back), the same in all else.
func (o *Outbox) With(s *storage.Store) *Outbox {
	c := *o
	c.store = s
	return &c
}

// SenderID names this process in the rows it marks sending.
func (o *Outbox) SenderID() string { return o.sender }

// onUnreachable subscribes f to heads found unreachable; see unreachable.
func (o *Outbox) onUnreachable(f func(ctx context.Context, d *duban.Delivery) error) {
	o.unreachable = append(o.unreachable, f)
}

// Has reports whether the outbox has a sender for ch.
func (o *Outbox) Has(ch duban.Channel) bool {
	_, ok := o.senders[ch]
	return ok
}

// AddressOf is where a person can be reached.
func AddressOf(p *duban.Person) duban.Address {
	a := duban.Address{PersonID: p.ID, Name: p.Name, SlackUserID: p.SlackUserID, Email: p.Email, Phone: p.Phone, Locale: p.Locale}
	if p.TelegramChatID != nil {
		a.TelegramChatID = *p.TelegramChatID
	}
	return a
}

// Channels lists the channels p can be reached on, in p's own order
// (duban.ChannelList.Order) or the global one.
func (o *Outbox) Channels(p *duban.Person) []duban.Channel {
	return o.senders.For(AddressOf(p), p.Channels.Order(o.order))
}

// Reachable reports whether p has any working channel.
func (o *Outbox) Reachable(p *duban.Person) bool { return len(o.Channels(p)) > 0 }

// Plan writes a queued delivery of msg to p on p's first channel, inside
// the caller's transaction tx. key makes it unique: planning the same key
// twice yields the first delivery and created false. It returns nil when p
// cannot be reached at all.
func (o *Outbox) Plan(ctx context.Context, tx *storage.Store, p *duban.Person, key string, msg duban.Message, reminderID, haID *int64) (*duban.Delivery, error) {
	chans := o.Channels(p)
	if len(chans) == 0 {
		return nil, nil
	}
	payload, err := json.Marshal(msg)
	if err != nil {
		return nil, fmt.Errorf("jobs: encode message: %w", err)
	}
	d := &duban.Delivery{DedupeKey: key + "|" + string(chans[0]), PersonID: p.ID, Channel: chans[0], Kind: msg.Kind,
		Ref: msg.Ref, Payload: string(payload), ReminderID: reminderID, HearingAgencyID: haID}
	if _, err := tx.CreateDelivery(ctx, d); err != nil {
		return nil, err
	}
	return d, nil
}

// PlanOn is Plan on channel ch only (an e-mail with attachments, say),
// whatever p's order: nil when p cannot be reached on it.
func (o *Outbox) PlanOn(ctx context.Context, tx *storage.Store, p *duban.Person, ch duban.Channel, key string, msg duban.Message) (*duban.Delivery, error) {
	if len(o.senders.For(AddressOf(p), []duban.Channel{ch})) == 0 {
		return nil, nil
	}
	payload, err := json.Marshal(msg)
	if err != nil {
		return nil, fmt.Errorf("jobs: encode message: %w", err)
	}
	d := &duban.Delivery{DedupeKey: key + "|" + string(ch), PersonID: p.ID, Channel: ch, Kind: msg.Kind,
		Ref: msg.Ref, Payload: string(payload)}
	if _, err := tx.CreateDelivery(ctx, d); err != nil {
		return nil, err
	}
	return d, nil
}

// Enqueue queues the send tasks of planned deliveries, after their rows
// are committed. A failure is logged, not returned: reconcile re-enqueues
// queued rows, so nothing is lost.
func (o *Outbox) Enqueue(ctx context.Context, ds ...*duban.Delivery) {
	for _, d := range ds {
		if d == nil || d.Status != duban.DeliveryQueued {
			continue
		}
		if err := o.queue.EnqueueDelivery(ctx, *d); err != nil {
			o.log.Warn("enqueue delivery; reconcile will retry", slog.Int64("delivery_id", d.ID), slog.Any("error", err))
		}
	}
}

// SendNow sends planned deliveries at once, in the caller, after their
// rows are committed. One that cannot go now is handed to its task: after
// the provider's retry_after when rate-limited, after the first backoff
// for another error. Nothing is lost to a failure here: the row stays
// queued, and reconcile re-enqueues queued rows.
func (o *Outbox) SendNow(ctx context.Context, ds ...*duban.Delivery) {
	for _, d := range ds {
		if d == nil || d.Status != duban.DeliveryQueued {
			continue
		}
		err := o.Deliver(ctx, d.ID)
		if err == nil {
			continue
		}
		o.log.Log(ctx, handOffLevel(err), "delivery not sent at once; handed to its task", slog.Int64("delivery_id", d.ID), slog.Any("error", err))
		ectx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		if err := o.queue.enqueue(ectx, NewDeliverySendTask(*d), asynq.ProcessIn(RetryDelay(0, err, nil))); err != nil {
			o.log.Warn("enqueue delivery; reconcile will retry", slog.Int64("delivery_id", d.ID), slog.Any("error", err))
		}
		cancel()
	}
}

// handOffLevel is the level at which a send that could not go at once,
// handed to its task, is logged: debug for a rate limit's wait (the
// ordinary course of a burst) and for a row another sender has (a
// reconciled task), info for the rest.
func handOffLevel(err error) slog.Level {
	if _, ok := notifier.RetryAfter(err); ok || errors.Is(err, ErrInFlight) {
		return slog.LevelDebug
	}
	return slog.LevelInfo
}

// HandleDelivery sends one delivery: write-ahead sending, call, sent. It
// returns a rate-limit error for asynq to wait out, a plain error for asynq
// to retry with backoff, and nil when there is nothing more to do.
func (o *Outbox) HandleDelivery(ctx context.Context, t *asynq.Task) error {
	var p DeliveryPayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil || p.DeliveryID == 0 {
		return fmt.Errorf("jobs: delivery payload %q: %w", t.Payload(), asynq.SkipRetry)
	}
	return o.deliverAll(ctx, append([]int64{p.DeliveryID}, p.Then...))
}

// Deliver sends the delivery with id; see HandleDelivery.
func (o *Outbox) Deliver(ctx context.Context, id int64) error {
	d, err := o.store.DeliveryByID(ctx, id)
	if errors.Is(err, duban.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if d.Status == duban.DeliverySending {
		// A sending row is sent again only once its sender is gone
		// (TakeOver), never while it may be alive; this task comes back
		// rather than finish (see ErrInFlight).
		return inFlight(d.ID)
	}
	if d.Status != duban.DeliveryQueued {
		return nil // sent or failed: nothing more to do
	}
	if d.PersonID == 0 && d.ComplaintID != nil {
		return o.deliverToReporter(ctx, d)
	}
	if d.PersonID == 0 {
		return o.deliverToAddress(ctx, d)
	}
	person, err := o.store.PersonByID(ctx, d.PersonID)
	if err != nil {
		return err
	}
	var msg duban.Message
	if err := json.Unmarshal([]byte(d.Payload), &msg); err != nil {
		_ = o.store.DeliveryFailed(ctx, d.ID, "unreadable payload")
		return fmt.Errorf("jobs: delivery %d payload: %w", d.ID, asynq.SkipRetry)
	}
	if !person.Active {
		return o.store.DeliveryFailed(ctx, d.ID, "person deactivated")
	}
	sender, ok := o.senders[d.Channel]
	if !ok {
		if err := o.store.DeliveryFailed(ctx, d.ID, "channel turned off"); err != nil {
			return err
		}
		return o.fallback(ctx, d, person, msg)
	}
	addr := AddressOf(person)
	if msg.To != nil {
		addr = *msg.To
	}
	msg = o.repeatLine(d, person.Locale, msg)
	return o.send(ctx, d, sender, addr, msg, func(ctx context.Context) error { return o.fallback(ctx, d, person, msg) })
}

// repeatLine starts a possible repeat's text with the line saying so, in
// locale (zh-CN when unknown). An edit replaces a message and says nothing.
func (o *Outbox) repeatLine(d *duban.Delivery, locale string, msg duban.Message) duban.Message {
	if !d.PossibleRepeat || msg.Edit != "" {
		return msg
	}
	if locale == "" {
		locale = duban.LocaleZH
	}
	msg.Text = o.t.T(locale, "delivery.possible_repeat", nil) + "\n" + msg.Text
	return msg
}

// deliverToReporter sends a message to a complaint's reporter, who is
// reachable only through the chat of the report (no fallback: the office
// calls those without one).
func (o *Outbox) deliverToReporter(ctx context.Context, d *duban.Delivery) error {
	c, err := o.store.ComplaintByID(ctx, *d.ComplaintID)
	if err != nil {
		return err
	}
	var msg duban.Message
	if err := json.Unmarshal([]byte(d.Payload), &msg); err != nil {
		_ = o.store.DeliveryFailed(ctx, d.ID, "unreadable payload")
		return fmt.Errorf("jobs: delivery %d payload: %w", d.ID, asynq.SkipRetry)
	}
	sender, ok := o.senders[d.Channel]
	if !ok || c.ReporterChatID == nil || c.ContactErasedAt != nil {
		return o.store.DeliveryFailed(ctx, d.ID, "reporter no longer reachable")
	}
	addr := duban.Address{Name: "reporter:" + duban.FormatTrackingCode(c.TrackingCode), TelegramChatID: *c.ReporterChatID}
	msg = o.repeatLine(d, c.ReporterLocale, msg)
	return o.send(ctx, d, sender, addr, msg, func(context.Context) error { return nil })
}

// errNotClaimed ends a send whose delivery another sender claimed first,
// or that is no longer queued.
var errNotClaimed = errors.New("jobs: delivery not claimed")

// ErrInFlight is the answer of a send task that finds its delivery being
// sent by another sender: the task is tried again, with the backoff of a
// send (RetryDelay), until the row is sent or failed, rather than finish.
// Finished, it would keep its id for asynq's Retention, and the other
// sender's task may be gone: a Redis flushed or restarted under a send
// takes it, so when that send then fails (a 429, a 5xx) the row goes back
// to queued with no task to retry it, and reconcile's task for it, the
// one that found it in flight, holds the id reconcile would enqueue for
// hours. The fault harness lost a notice so (docs/RELIABILITY.md,
// scenario 3).
var ErrInFlight = errors.New("being sent by another sender; looked at again")

// inFlight is ErrInFlight for delivery id.
func inFlight(id int64) error { return fmt.Errorf("jobs: delivery %d: %w", id, ErrInFlight) }

// send is the write-ahead send of one claimed delivery: sending before
// the provider call, sent after it; onFail runs after a permanent failure.
func (o *Outbox) send(ctx context.Context, d *duban.Delivery, sender notifier.Sender, addr duban.Address, msg duban.Message, onFail func(context.Context) error) error {
	if d.Kind == duban.MsgReply {
		ctx = notifier.Urgent(ctx) // someone is waiting in a conversation
	}
	// In a worker, ctx is Yielding (NewMux): a message for a busy chat or
	// Slack channel goes back to the queue rather than hold the worker.
	if msg.Edit != "" {
		ctx = notifier.Editing(ctx)
	}
	// The write-ahead mark is made once the provider's slot is reserved,
	// in the last moments of waiting for it: a row is sending for the call
	// and a few slots' wait at most (a crash then resends it marked as a
	// possible repeat: a false alarm, never a loss), and the mark's write
	// does not stand between the slot and the call, where its jitter would
	// show the provider more than its limit.
	claimed := false
	claim := func() error {
		var err error
		claimed, err = o.store.ClaimDeliveryAs(ctx, d.ID, o.sender)
		if err == nil && !claimed {
			return errNotClaimed
		}
		return err
	}
	if w, ok := sender.(notifier.Waiter); ok {
		if err := w.Wait(ctx, addr, claim); err != nil {
			if errors.Is(err, errNotClaimed) {
				// another sender has it, or it is done
				return inFlight(d.ID)
			}
			if claimed {
				// Claimed, then the wait was cut (a shutdown): nothing
				// left, so the row goes back to queued.
				if rerr := o.record(ctx, d, func(ctx context.Context) error {
					return o.store.DeliveryRequeue(ctx, d.ID, err.Error())
				}); rerr != nil {
					return rerr
				}
			}
			return err
		}
		ctx = notifier.Reserved(ctx)
	} else if err := claim(); err != nil {
		if errors.Is(err, errNotClaimed) {
			return inFlight(d.ID)
		}
		return err
	}
	start := o.clock.Now()
	providerID, sendErr := sender.Send(ctx, addr, msg)
	o.metrics.observeSend(d.Channel, sendErr, o.clock.Now().Sub(start))
	if sendErr == nil {
		// Recorded through record: the message is out, and its record must
		// survive a shutdown that cancels ctx and a database briefly gone.
		return o.record(ctx, d, func(ctx context.Context) error {
			if d.Kind == duban.MsgReply && d.PersonID == 0 {
				// A conversation's chat may be an anonymous reporter's: once
				// the reply is out, the log keeps neither it nor the chat.
				return o.store.DeliverySentForgotten(ctx, d.ID)
			}
			return o.store.DeliverySent(ctx, d.ID, providerID)
		})
	}
	if after, ok := notifier.RetryAfter(sendErr); ok {
		if err := o.record(ctx, d, func(ctx context.Context) error {
			return o.store.DeliveryRequeue(ctx, d.ID, sendErr.Error())
		}); err != nil {
			return err
		}
		o.log.Info("provider rate limit; waiting it out", slog.String("channel", string(d.Channel)), slog.Duration("retry_after", after))
		return sendErr
	}
	if notifier.InDoubt(sendErr) {
		// The request left and no answer came: the provider may have the
		// message. The next attempt says it may repeat it.
		if err := o.record(ctx, d, func(ctx context.Context) error {
			return o.store.DeliveryInDoubt(ctx, d.ID, sendErr.Error())
		}); err != nil {
			return err
		}
		o.metrics.Repeats.WithLabelValues(repeatConnection).Inc()
		o.log.Warn("connection lost after the request left; will send again as a possible repeat",
			slog.Int64("delivery_id", d.ID), slog.String("channel", string(d.Channel)))
		return sendErr
	}
	retried, _ := asynq.GetRetryCount(ctx)
	maxRetry, hasMax := asynq.GetMaxRetry(ctx)
	if notifier.IsPermanent(sendErr) || (hasMax && retried >= maxRetry) {
		o.log.Warn("delivery failed", slog.Int64("delivery_id", d.ID), slog.String("channel", string(d.Channel)), slog.Any("error", sendErr))
		// The failure and what follows it (the next channel, the
		// supervisors) are recorded together: a failed row is never looked
		// at again, so its fallback must not be lost to the database.
		return o.record(ctx, d, func(ctx context.Context) error {
			if err := o.store.DeliveryFailed(ctx, d.ID, sendErr.Error()); err != nil {
				return err
			}
			return onFail(ctx)
		})
	}
	if err := o.record(ctx, d, func(ctx context.Context) error {
		return o.store.DeliveryRequeue(ctx, d.ID, sendErr.Error())
	}); err != nil {
		return err
	}
	return sendErr
}

// recordWithin bounds how long the outcome of a provider call is retried
// into the database (see record): longer than a database restart, shorter
// than anyone would wait for a worker.
const recordWithin = 2 * time.Minute

// record writes the outcome of a provider call, retrying while the
// database refuses, for up to recordWithin, on a context a shutdown does
// not cancel. The row is this sender's `sending` row, which nothing else
// touches while this replica lives (the crash policy takes over only a
// gone sender's rows): given up on, a sent message would stay `sending`
// for good, and one not sent would never be sent.
func (o *Outbox) record(ctx context.Context, d *duban.Delivery, write func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordWithin)
	defer cancel()
	wait := 100 * time.Millisecond
	for attempt := 1; ; attempt++ {
		wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
		err := write(wctx)
		wcancel()
		if err == nil {
			if attempt > 1 {
				o.log.Info("delivery's outcome recorded after the database came back", slog.Int64("delivery_id", d.ID), slog.Int("attempts", attempt))
			}
			return nil
		}
		if attempt == 1 {
			o.log.Warn("recording a delivery's outcome failed; retrying", slog.Int64("delivery_id", d.ID), slog.Any("error", err))
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("jobs: record delivery %d: %w", d.ID, err)
		case <-time.After(wait):
		}
		wait = min(wait*2, 5*time.Second)
	}
}

// fallback tries the person's next channel after d's; when there is none
// and the message was a head's, supervisors are told at once.
func (o *Outbox) fallback(ctx context.Context, d *duban.Delivery, p *duban.Person, msg duban.Message) error {
	// The next channel is the first reachable one after d's in the order;
	// d's own may have been turned off since.
	order := p.Channels.Order(o.order)
	at := slices.Index(order, d.Channel)
	var nextCh duban.Channel
	for _, ch := range o.Channels(p) {
		if slices.Index(order, ch) > at {
			nextCh = ch
			break
		}
	}
	if nextCh != "" {
		base, _, _ := strings.Cut(d.DedupeKey, "|")
		payload, _ := json.Marshal(msg)
		next := &duban.Delivery{DedupeKey: base + "|" + string(nextCh), PersonID: p.ID, Channel: nextCh, Kind: d.Kind,
			Ref: d.Ref, Payload: string(payload), ReminderID: d.ReminderID, HearingAgencyID: d.HearingAgencyID}
		if _, err := o.store.CreateDelivery(ctx, next); err != nil {
			return err
		}
		o.Enqueue(ctx, next)
		return nil
	}
	if d.HearingAgencyID != nil && p.Has(duban.RoleAgencyHead) &&
		(d.Kind == duban.MsgNotice || d.Kind == duban.MsgReminder || d.Kind == duban.MsgReschedule) {
		for _, f := range o.unreachable {
			if err := f(ctx, d); err != nil {
				return err
			}
		}
	}
	return nil
}
