package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/storage"
)

// SLAStats says what a check did.
type SLAStats struct {
	Urged, Escalated, FollowedUp, Erased int
}

// CheckSLA runs one pass over open complaints, on working days and
// outside quiet hours: a handler is urged (催办) once when one working day
// is left; past the limit every supervisor and the agency's head are
// escalated to (督办) once per working day; one working day after closing
// the reporter is asked to rate the handling (回访). Identities of reporters
// closed longer than the retention ago are erased. The marks that make
// each step once-only are rows, so several replicas never double them.
func (cs *Complaints) CheckSLA(ctx context.Context) (SLAStats, error) {
	var st SLAStats
	now := cs.clock.Now()
	if err := cs.erase(ctx, now, &st); err != nil {
		return st, err
	}
	if n, err := cs.store.PruneTraffic(ctx, now); err != nil {
		return st, err
	} else if n > 0 {
		cs.log.Info("pruned update ids, idempotency keys and status look-ups", slog.Int64("rows", n))
	}
	if cs.quiet.Contains(now) || !cs.Calendar.IsWorkday(now) {
		return st, nil
	}
	day := now.In(cs.Loc).Format("2006-01-02")
	// Assigned complaints by time limit, the nearest (overdue) first, a
	// page at a time until the limits lie past the urge window: however
	// many are assigned, none that is due or overdue is left out (the
	// newest thousand, as this once read, could miss every overdue one).
	f := storage.ComplaintFilter{Status: duban.ComplaintAssigned, Order: storage.ByTimeLimit, Limit: slaPage}
	for {
		assigned, next, err := cs.store.ComplaintsPage(ctx, f)
		if err != nil {
			return st, err
		}
		past := false
		for i := range assigned {
			c := &assigned[i]
			if c.DueAt == nil {
				past = true // those without a limit come last
				break
			}
			switch {
			case now.After(*c.DueAt):
				ok, err := cs.systemStep(ctx, c, "escalate", day, duban.ActionEscalate)
				if err != nil {
					return st, err
				}
				if ok {
					st.Escalated++
				}
			case cs.Calendar.WorkingDaysBetween(now, *c.DueAt) <= 1:
				// Once per time limit: an extension makes a new limit.
				ok, err := cs.systemStep(ctx, c, "urge", c.DueAt.In(cs.Loc).Format("2006-01-02"), duban.ActionUrge)
				if err != nil {
					return st, err
				}
				if ok {
					st.Urged++
				}
			default:
				past = true // the rest are due later still
			}
			if past {
				break
			}
		}
		if past || next == "" {
			break
		}
		f.After = next
	}
	closed, err := cs.store.Complaints(ctx, storage.ComplaintFilter{Status: duban.ComplaintClosed, Limit: 1000})
	if err != nil {
		return st, err
	}
	for i := range closed {
		c := &closed[i]
		if c.ClosedAt == nil || c.Rating != nil || cs.Calendar.WorkingDaysBetween(*c.ClosedAt, now) < 1 {
			continue
		}
		ok, err := cs.followUp(ctx, c)
		if err != nil {
			return st, err
		}
		if ok {
			st.FollowedUp++
		}
	}
	return st, nil
}

// systemStep urges or escalates c as the system, once per mark.
func (cs *Complaints) systemStep(ctx context.Context, c *duban.Complaint, kind, day string, a duban.Action) (bool, error) {
	var done bool
	err := cs.store.InTx(ctx, func(tx *storage.Store) error {
		ok, err := tx.MarkSLA(ctx, c.ID, kind, day)
		if err != nil || !ok {
			return err
		}
		if _, err := cs.With(tx).Act(ctx, Actor{Name: "system"}, c.ID, duban.ActionRequest{Action: a}); err != nil {
			return err
		}
		done = true
		return nil
	})
	return done, err
}

// followUp asks the reporter of a closed complaint to rate it: buttons in
// Telegram, or a call-back task for the office staff.
func (cs *Complaints) followUp(ctx context.Context, c *duban.Complaint) (bool, error) {
	var done bool
	err := cs.store.InTx(ctx, func(tx *storage.Store) error {
		ok, err := tx.MarkSLA(ctx, c.ID, "followup", c.ClosedAt.In(cs.Loc).Format("2006-01-02T15:04:05"))
		if err != nil || !ok {
			return err
		}
		locale := duban.NormalizeLocale(c.ReporterLocale)
		var row []duban.Button
		for n := 1; n <= 5; n++ {
			row = append(row, duban.Button{Label: cs.T.T(locale, "button.rate", map[string]any{"N": n}),
				Data: duban.ComplaintCallback{Verb: duban.VerbRate, ComplaintID: c.ID, Rating: n}.Encode()})
		}
		msg := duban.Message{Kind: duban.MsgFollowup, Ref: fmt.Sprintf("complaint:%d", c.ID), RefName: duban.FormatTrackingCode(c.TrackingCode),
			Text: cs.T.T(locale, "complaint.followup", cs.fields(ctx, locale, c)), Buttons: [][]duban.Button{row}}
		d, err := cs.outbox.PlanReporter(ctx, tx, c, fmt.Sprintf("r:%d:followup:%d", c.ID, c.ClosedAt.Unix()), msg)
		if err != nil {
			return err
		}
		ds := []*duban.Delivery{d}
		if d == nil {
			if ds, err = cs.callback(ctx, tx, c, "followup"); err != nil {
				return err
			}
		}
		tx.AfterCommit(func() { cs.outbox.Enqueue(ctx, ds...) })
		done = true
		return tx.AppendEvent(ctx, &duban.Event{ComplaintID: c.ID, Action: duban.ActionNote, Actor: "system", At: cs.clock.Now(), Text: "follow-up asked"})
	})
	return done, err
}

// erase removes reporters' identities and contacts a retention after
// closing; the complaint and its timeline stay.
func (cs *Complaints) erase(ctx context.Context, now time.Time, st *SLAStats) error {
	if cs.retention <= 0 {
		return nil
	}
	old, err := cs.store.ComplaintsClosedBefore(ctx, now.Add(-cs.retention), 500)
	if err != nil {
		return err
	}
	for i := range old {
		if err := cs.store.EraseReporter(ctx, old[i].ID, now); err != nil {
			return err
		}
		st.Erased++
	}
	if st.Erased > 0 {
		cs.log.Info("reporter contacts erased after retention", slog.Int("complaints", st.Erased))
	}
	return nil
}

// Housekeeping is work that runs with every SLA check, beside it: the
// Telegram bot drops idle half-written reports this way. It is handed to
// NewMux, which builds the check's handler, rather than to Complaints: the
// bot is built on the complaints, and the complaints need nothing of it.
type Housekeeping func(ctx context.Context) error

// handleSLACheck makes the periodic task's handler: the check, then the
// housekeeping, whose errors are logged and do not fail the check.
func (cs *Complaints) handleSLACheck(housekeeping []Housekeeping) asynq.HandlerFunc {
	return func(ctx context.Context, _ *asynq.Task) error {
		st, err := cs.CheckSLA(ctx)
		if err != nil {
			return err
		}
		for _, h := range housekeeping {
			if err := h(ctx); err != nil {
				cs.log.Warn("maintenance hook", slog.Any("error", err))
			}
		}
		if st != (SLAStats{}) {
			cs.log.Info("sla check", slog.Int("urged", st.Urged), slog.Int("escalated", st.Escalated),
				slog.Int("followed_up", st.FollowedUp), slog.Int("erased", st.Erased))
		}
		return nil
	}
}

// slaPage is how many assigned complaints the SLA check reads at a time.
const slaPage = 500
