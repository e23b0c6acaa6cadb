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

// NotDueError asks asynq to come back later: the task started before its
// row's due time. Like a rate limit, it is not a failure.
type NotDueError struct{ Wait time.Duration }

func (e *NotDueError) Error() string { return fmt.Sprintf("not due for %s", e.Wait) }

// earlyGrace is how early a task may start and still be handled by waiting
// in place: asynq keeps ProcessAt in whole seconds.
const earlyGrace = 1500 * time.Millisecond

// HandleReminder acts on one timed step of a hearing when it comes due: a
// reminder to the heads, an escalation to supervisors, or an outcome
// request to office staff. It re-reads the row and the hearing first: a
// stale task (moved or cancelled hearing, a step done already) does nothing.
func (hs *Hearings) HandleReminder(ctx context.Context, t *asynq.Task) error {
	var p ReminderPayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil || p.ReminderID == 0 {
		return fmt.Errorf("jobs: reminder payload %q: %w", t.Payload(), asynq.SkipRetry)
	}
	return hs.Remind(ctx, p)
}

// Remind is HandleReminder on a decoded payload.
func (hs *Hearings) Remind(ctx context.Context, p ReminderPayload) error {
	r, err := hs.store.ReminderByID(ctx, p.ReminderID)
	if errors.Is(err, duban.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if r.Status != duban.ReminderPending || r.DueAt.Unix() != p.Due {
		return nil // done already, or a task left behind by a reschedule
	}
	if wait := r.DueAt.Sub(hs.clock.Now()); wait > 0 {
		if wait > earlyGrace {
			return &NotDueError{Wait: wait}
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return ctx.Err()
		case <-timer.C:
		}
	}
	now := hs.clock.Now()
	hs.metrics.observeLateness(r.Kind, now.Sub(r.DueAt))
	var deliveries []*duban.Delivery
	err = hs.store.InTx(ctx, func(tx *storage.Store) error {
		h, err := tx.HearingByID(ctx, r.HearingID)
		if err != nil {
			return err
		}
		ha := findAgency(h, r.HearingAgencyID)
		if ha == nil {
			return fmt.Errorf("jobs: reminder %d: hearing agency %d missing", r.ID, r.HearingAgencyID)
		}
		status := duban.ReminderSent
		switch {
		case h.Status == duban.HearingCancelled:
			status = duban.ReminderCancelled
		case r.Kind == duban.KindReminder:
			if h.Status != duban.HearingScheduled || !now.Before(h.StartsAt) {
				status = duban.ReminderSkipped
				break
			}
			deliveries, err = hs.tellHeads(ctx, tx, duban.MsgReminder, h, ha, fmt.Sprintf("remind:%d", r.ID), time.Time{}, &r.ID)
		case r.Kind == duban.KindEscalation:
			if ha.Answer != duban.AnswerNone || h.Status != duban.HearingScheduled {
				status = duban.ReminderSkipped
				break
			}
			deliveries, err = hs.escalate(ctx, tx, h, ha, fmt.Sprintf("escalate:%d", r.ID), false, &r.ID)
		case r.Kind == duban.KindOutcome:
			if ha.Outcome != nil {
				status = duban.ReminderSkipped
				break
			}
			deliveries, err = hs.askOutcome(ctx, tx, h, ha, fmt.Sprintf("outcome:%d", r.ID), &r.ID)
		}
		if err != nil {
			return err
		}
		done, err := tx.FinishReminder(ctx, r.ID, status, now)
		if err != nil {
			return err
		}
		if !done {
			return errAlreadyDone
		}
		// Sent in this task, at once: with a task per send, a burst of
		// reminders due at one second would queue every send behind every
		// other reminder's task, and the first would leave late.
		tx.AfterCommit(func() { hs.Outbox.SendNow(ctx, deliveries...) })
		return nil
	})
	if errors.Is(err, errAlreadyDone) {
		return nil
	}
	if err != nil {
		return err
	}
	hs.log.Debug("reminder handled", slog.Int64("reminder_id", r.ID), slog.String("kind", string(r.Kind)), slog.Int("messages", len(deliveries)))
	return nil
}

var errAlreadyDone = errors.New("reminder already done")

func findAgency(h *duban.Hearing, haID int64) *duban.HearingAgency {
	for i := range h.Agencies {
		if h.Agencies[i].ID == haID {
			return &h.Agencies[i]
		}
	}
	return nil
}

// escalate tells every supervisor and the office staff that ha's head has
// not answered, or cannot be reached.
func (hs *Hearings) escalate(ctx context.Context, tx *storage.Store, h *duban.Hearing, ha *duban.HearingAgency, base string, noChannel bool, reminderID *int64) ([]*duban.Delivery, error) {
	heads, err := tx.HeadsOf(ctx, ha.AgencyID)
	if err != nil {
		return nil, err
	}
	if !noChannel {
		noChannel = true
		for i := range heads {
			if hs.Outbox.Reachable(&heads[i]) {
				noChannel = false
			}
		}
	}
	to, err := tx.PeopleWithAnyRole(ctx, duban.RoleSupervisor, duban.RoleStaff)
	if err != nil {
		return nil, err
	}
	var out []*duban.Delivery
	for i := range to {
		p := &to[i]
		msg := hs.Render.Escalation(p.Locale, h, ha, headNames(heads), noChannel)
		d, err := hs.Outbox.Plan(ctx, tx, p, fmt.Sprintf("%s:%d", base, p.ID), msg, reminderID, &ha.ID)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	hs.metrics.Escalations.Inc()
	tx.AfterCommit(func() { hs.postEscalation(ctx, ha.ID, base, noChannel) })
	return out, nil
}

// askOutcome asks the office staff (supervisors when there are none) who
// appeared for ha.
func (hs *Hearings) askOutcome(ctx context.Context, tx *storage.Store, h *duban.Hearing, ha *duban.HearingAgency, base string, reminderID *int64) ([]*duban.Delivery, error) {
	to, err := tx.PeopleWithAnyRole(ctx, duban.RoleStaff)
	if err != nil {
		return nil, err
	}
	if len(to) == 0 {
		if to, err = tx.PeopleWithAnyRole(ctx, duban.RoleSupervisor); err != nil {
			return nil, err
		}
	}
	heads, err := tx.HeadsOf(ctx, ha.AgencyID)
	if err != nil {
		return nil, err
	}
	var out []*duban.Delivery
	for i := range to {
		p := &to[i]
		msg := hs.Render.OutcomeRequest(p.Locale, h, ha, headNames(heads))
		d, err := hs.Outbox.Plan(ctx, tx, p, fmt.Sprintf("%s:%d", base, p.ID), msg, reminderID, &ha.ID)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

// escalateUnreachable tells supervisors at once that a head's message
// failed on every channel; once per hearing agency.
func (hs *Hearings) escalateUnreachable(ctx context.Context, d *duban.Delivery) error {
	var deliveries []*duban.Delivery
	err := hs.store.InTx(ctx, func(tx *storage.Store) error {
		ha, err := tx.HearingAgencyByID(ctx, *d.HearingAgencyID)
		if err != nil {
			return err
		}
		h, err := tx.HearingByID(ctx, ha.HearingID)
		if err != nil {
			return err
		}
		if h.Status != duban.HearingScheduled {
			return nil
		}
		deliveries, err = hs.escalate(ctx, tx, h, ha, fmt.Sprintf("unreachable:%d", ha.ID), true, nil)
		tx.AfterCommit(func() { hs.Outbox.Enqueue(ctx, deliveries...) })
		return err
	})
	return err
}
