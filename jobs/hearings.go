package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/storage"
)

// Hearings holds the use cases of court-hearing reminders: each writes its
// rows in one transaction and enqueues tasks after the commit. Build it
// with NewHearings.
type Hearings struct {
	// Outbox and Render are read by the adapters (the API's outbox, the
	// bots' hearing details); NewHearings sets them, nothing else does.
	Outbox *Outbox
	Render Renderer

	store   *storage.Store
	queue   *Queue
	policy  duban.Policy
	clock   duban.Clock
	log     *slog.Logger
	metrics *Metrics

	// supervision and channel, when set, also post escalations to the
	// Slack supervision channel.
	supervision SupervisionPoster
	channel     string
}

// HearingsConfig is what Hearings are given beside the store, queue and
// outbox. Render.T is required; the rest has defaults.
type HearingsConfig struct {
	Render Renderer     // the texts of the messages
	Policy duban.Policy // when the timed steps fall
	// Supervision and Channel, when both set, also post escalations to
	// the Slack supervision channel.
	Supervision SupervisionPoster
	Channel     string
	Clock       duban.Clock  // default the wall clock
	Log         *slog.Logger // default discards
	Metrics     *Metrics     // default unregistered collectors
}

// NewHearings makes the hearings' use cases on outbox, and subscribes them
// to the heads the outbox finds unreachable (escalated at once).
func NewHearings(store *storage.Store, queue *Queue, outbox *Outbox, cfg HearingsConfig) *Hearings {
	if cfg.Render.T == nil {
		panic("jobs: NewHearings needs a translator (HearingsConfig.Render.T)")
	}
	hs := &Hearings{Outbox: outbox, Render: cfg.Render, store: store, queue: queue, policy: cfg.Policy,
		clock: orClock(cfg.Clock), log: orLog(cfg.Log), metrics: orMetrics(cfg.Metrics)}
	if cfg.Supervision != nil && cfg.Channel != "" {
		hs.supervision, hs.channel = cfg.Supervision, cfg.Channel
	}
	outbox.onUnreachable(hs.escalateUnreachable)
	return hs
}

// Actor is who acts; the rule book (duban.Actor.May) decides what.
type Actor = duban.Actor

// With returns a copy of hs working inside the transaction tx, so a caller
// can make a use case part of its own transaction (the bots record the
// update id with its effects). Tasks are enqueued after tx commits.
func (hs *Hearings) With(tx *storage.Store) *Hearings {
	c := *hs
	c.store = tx
	return &c
}

// ResolveAgencies maps codes to agency ids, naming the unknown ones.
func ResolveAgencies(ctx context.Context, s *storage.Store, codes []string) ([]duban.HearingAgency, error) {
	var v duban.ValidationError
	out := make([]duban.HearingAgency, 0, len(codes))
	for _, c := range codes {
		a, err := s.AgencyByCode(ctx, strings.TrimSpace(c))
		switch {
		case errors.Is(err, duban.ErrNotFound):
			v.Add("agency", "unknown agency %q", c)
		case err != nil:
			return nil, err
		case !a.Active:
			v.Add("agency", "agency %q is deactivated", c)
		default:
			out = append(out, duban.HearingAgency{AgencyID: a.ID, AgencyCode: a.Code, AgencyName: a.Name})
		}
	}
	return out, v.Err()
}

// Register takes a court's notice. The same case number and start answers
// the existing hearing with created false and changes nothing.
func (hs *Hearings) Register(ctx context.Context, actor Actor, n duban.Notice) (*duban.Hearing, bool, error) {
	if err := actor.Check(duban.HearingRegister, duban.Subject{}); err != nil {
		return nil, false, err
	}
	n.StartsAt = n.StartsAt.Truncate(time.Second)
	if existing, err := hs.store.HearingByCaseStart(ctx, strings.TrimSpace(n.CaseNumber), n.StartsAt); err == nil {
		return existing, false, nil
	}
	now := hs.clock.Now()
	if err := n.Validate(now); err != nil {
		return nil, false, err
	}
	agencies, err := ResolveAgencies(ctx, hs.store, n.Agencies)
	if err != nil {
		return nil, false, err
	}
	h := &duban.Hearing{CaseNumber: strings.TrimSpace(n.CaseNumber), Court: strings.TrimSpace(n.Court), Courtroom: strings.TrimSpace(n.Courtroom),
		StartsAt: n.StartsAt, Plaintiff: strings.TrimSpace(n.Plaintiff), Cause: strings.TrimSpace(n.Cause), Agencies: agencies}
	var reminders []duban.Reminder
	var deliveries []*duban.Delivery
	err = hs.store.InTx(ctx, func(tx *storage.Store) error {
		if err := tx.CreateHearing(ctx, h); err != nil {
			return err
		}
		var err error
		reminders, err = hs.plan(ctx, tx, h, now)
		if err != nil {
			return err
		}
		for i := range h.Agencies {
			ds, err := hs.tellHeads(ctx, tx, duban.MsgNotice, h, &h.Agencies[i], fmt.Sprintf("notice:%d:%d", h.Agencies[i].ID, h.StartsAt.Unix()), time.Time{}, nil)
			if err != nil {
				return err
			}
			deliveries = append(deliveries, ds...)
		}
		tx.AfterCommit(func() {
			hs.schedule(ctx, reminders)
			hs.Outbox.Enqueue(ctx, deliveries...)
		})
		return tx.Audit(ctx, actor.String(), "hearing.register", fmt.Sprintf("hearing:%d", h.ID), h.CaseNumber)
	})
	if errors.Is(err, duban.ErrConflict) {
		// A concurrent registration of the same notice won the race.
		existing, gerr := hs.store.HearingByCaseStart(ctx, h.CaseNumber, h.StartsAt)
		if gerr == nil {
			return existing, false, nil
		}
	}
	if err != nil {
		return nil, false, err
	}
	hs.log.Info("hearing registered", slog.Int64("hearing_id", h.ID), slog.Int("agencies", len(h.Agencies)), slog.Int("steps", len(reminders)))
	return h, true, nil
}

// plan writes the timed steps of every agency of h.
func (hs *Hearings) plan(ctx context.Context, tx *storage.Store, h *duban.Hearing, now time.Time) ([]duban.Reminder, error) {
	var out []duban.Reminder
	steps := hs.policy.Plan(h.StartsAt, now)
	for _, ha := range h.Agencies {
		heads, err := tx.HeadsOf(ctx, ha.AgencyID)
		if err != nil {
			return nil, err
		}
		reachable := false
		for i := range heads {
			reachable = reachable || hs.Outbox.Reachable(&heads[i])
		}
		for _, st := range steps {
			r := duban.Reminder{HearingAgencyID: ha.ID, HearingID: h.ID, Kind: st.Kind, OffsetSeconds: int64(st.Offset / time.Second), DueAt: st.DueAt}
			if st.Kind == duban.KindEscalation && !reachable {
				// A head nobody can reach is escalated at once.
				r.DueAt = now.Truncate(time.Second)
			}
			if err := tx.CreateReminder(ctx, &r); err != nil {
				return nil, err
			}
			out = append(out, r)
		}
	}
	return out, nil
}

// schedule enqueues reminder tasks after their rows are committed.
func (hs *Hearings) schedule(ctx context.Context, rs []duban.Reminder) {
	for _, r := range rs {
		if err := hs.queue.EnqueueReminder(ctx, r); err != nil {
			hs.log.Warn("enqueue reminder; reconcile will retry", slog.Int64("reminder_id", r.ID), slog.Any("error", err))
		}
	}
}

// tellHeads plans a message of kind to the heads of ha and to its named
// deputy, each keyed by base and the person.
func (hs *Hearings) tellHeads(ctx context.Context, tx *storage.Store, kind duban.MessageKind, h *duban.Hearing, ha *duban.HearingAgency, base string, oldStart time.Time, reminderID *int64) ([]*duban.Delivery, error) {
	heads, err := tx.HeadsOf(ctx, ha.AgencyID)
	if err != nil {
		return nil, err
	}
	now := hs.clock.Now()
	var out []*duban.Delivery
	for i := range heads {
		p := &heads[i]
		msg := hs.Render.HeadMessage(kind, p.Locale, h, ha, now, oldStart, "")
		d, err := hs.Outbox.Plan(ctx, tx, p, fmt.Sprintf("%s:%d", base, p.ID), msg, reminderID, &ha.ID)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	if ha.DelegatePersonID != nil && ha.Answer == duban.AnswerDelegated {
		dep, err := tx.PersonByID(ctx, *ha.DelegatePersonID)
		if err == nil && dep.Active {
			msg := hs.Render.HeadMessage(kind, dep.Locale, h, ha, now, oldStart, headNames(heads))
			d, err := hs.Outbox.Plan(ctx, tx, dep, fmt.Sprintf("%s:%d", base, dep.ID), msg, reminderID, &ha.ID)
			if err != nil {
				return nil, err
			}
			out = append(out, d)
		}
	}
	return out, nil
}

// Reschedule moves a hearing: every pending step is replaced by steps for
// the new time, stale tasks are withdrawn, and the heads are told.
func (hs *Hearings) Reschedule(ctx context.Context, actor Actor, id int64, start time.Time) (*duban.Hearing, error) {
	if err := actor.Check(duban.HearingMove, duban.Subject{}); err != nil {
		return nil, err
	}
	start = start.Truncate(time.Second)
	now := hs.clock.Now()
	if !start.After(now) {
		return nil, duban.Invalid("starts_at", "is in the past")
	}
	var h *duban.Hearing
	var old, fresh []duban.Reminder
	var deliveries []*duban.Delivery
	err := hs.store.InTx(ctx, func(tx *storage.Store) error {
		var err error
		if h, err = tx.HearingByID(ctx, id); err != nil {
			return err
		}
		if h.Status != duban.HearingScheduled {
			return &duban.StateError{Action: "reschedule", State: string(h.Status), Allowed: []string{}}
		}
		if h.StartsAt.Equal(start) {
			return nil
		}
		oldStart := h.StartsAt
		h.StartsAt = start
		if err := tx.UpdateHearing(ctx, h); err != nil {
			return err
		}
		if old, err = tx.CancelPendingReminders(ctx, h.ID); err != nil {
			return err
		}
		if fresh, err = hs.plan(ctx, tx, h, now); err != nil {
			return err
		}
		for i := range h.Agencies {
			ds, err := hs.tellHeads(ctx, tx, duban.MsgReschedule, h, &h.Agencies[i], fmt.Sprintf("resched:%d:%d", h.Agencies[i].ID, start.Unix()), oldStart, nil)
			if err != nil {
				return err
			}
			deliveries = append(deliveries, ds...)
		}
		tx.AfterCommit(func() {
			hs.withdraw(old)
			hs.schedule(ctx, fresh)
			hs.Outbox.Enqueue(ctx, deliveries...)
		})
		return tx.Audit(ctx, actor.String(), "hearing.reschedule", fmt.Sprintf("hearing:%d", h.ID), oldStart.UTC().Format(time.RFC3339)+" -> "+start.UTC().Format(time.RFC3339))
	})
	if err != nil {
		return nil, err
	}
	return hs.store.HearingByID(ctx, id)
}

func (hs *Hearings) withdraw(rs []duban.Reminder) {
	for _, r := range rs {
		if err := hs.queue.WithdrawReminder(r); err != nil {
			// Harmless: the handler finds the row cancelled and does nothing.
			hs.log.Debug("withdraw reminder task", slog.Int64("reminder_id", r.ID), slog.Any("error", err))
		}
	}
}

// SetCourtroom changes the courtroom; reminders carry it from then on.
func (hs *Hearings) SetCourtroom(ctx context.Context, actor Actor, id int64, room string) (*duban.Hearing, error) {
	if err := actor.Check(duban.HearingMove, duban.Subject{}); err != nil {
		return nil, err
	}
	if len([]rune(room)) > duban.MaxNameRunes {
		return nil, duban.Invalid("courtroom", "must be at most %d characters", duban.MaxNameRunes)
	}
	err := hs.store.InTx(ctx, func(tx *storage.Store) error {
		h, err := tx.HearingByID(ctx, id)
		if err != nil {
			return err
		}
		if h.Status != duban.HearingScheduled {
			return &duban.StateError{Action: "update", State: string(h.Status), Allowed: []string{}}
		}
		h.Courtroom = strings.TrimSpace(room)
		if err := tx.UpdateHearing(ctx, h); err != nil {
			return err
		}
		return tx.Audit(ctx, actor.String(), "hearing.courtroom", fmt.Sprintf("hearing:%d", id), h.Courtroom)
	})
	if err != nil {
		return nil, err
	}
	return hs.store.HearingByID(ctx, id)
}

// Cancel withdraws every pending step and tells the heads.
func (hs *Hearings) Cancel(ctx context.Context, actor Actor, id int64) (*duban.Hearing, error) {
	if err := actor.Check(duban.HearingCancel, duban.Subject{}); err != nil {
		return nil, err
	}
	var old []duban.Reminder
	var deliveries []*duban.Delivery
	err := hs.store.InTx(ctx, func(tx *storage.Store) error {
		h, err := tx.HearingByID(ctx, id)
		if err != nil {
			return err
		}
		if h.Status == duban.HearingCancelled {
			return nil // cancelling twice changes nothing
		}
		if h.Status != duban.HearingScheduled {
			return &duban.StateError{Action: "cancel", State: string(h.Status), Allowed: []string{}}
		}
		h.Status = duban.HearingCancelled
		if err := tx.UpdateHearing(ctx, h); err != nil {
			return err
		}
		if old, err = tx.CancelPendingReminders(ctx, h.ID); err != nil {
			return err
		}
		for i := range h.Agencies {
			ds, err := hs.tellHeads(ctx, tx, duban.MsgCancel, h, &h.Agencies[i], fmt.Sprintf("cancel:%d", h.Agencies[i].ID), time.Time{}, nil)
			if err != nil {
				return err
			}
			deliveries = append(deliveries, ds...)
		}
		tx.AfterCommit(func() {
			hs.withdraw(old)
			hs.Outbox.Enqueue(ctx, deliveries...)
		})
		return tx.Audit(ctx, actor.String(), "hearing.cancel", fmt.Sprintf("hearing:%d", h.ID), "")
	})
	if err != nil {
		return nil, err
	}
	return hs.store.HearingByID(ctx, id)
}
