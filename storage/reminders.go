package storage

import (
	"context"
	"fmt"
	"time"

	"github.com/cityhall/duban"
)

const reminderCols = `id, hearing_agency_id, hearing_id, kind, offset_seconds, due_at, status, sent_at`

// CreateReminder inserts one pending timed step.
func (s *Store) CreateReminder(ctx context.Context, r *duban.Reminder) error {
	r.Status = duban.ReminderPending
	r.DueAt = ts(r.DueAt)
	id, err := s.insert(ctx, `INSERT INTO reminders (hearing_agency_id, hearing_id, kind, offset_seconds, due_at, status, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, r.HearingAgencyID, r.HearingID, r.Kind, r.OffsetSeconds, r.DueAt, r.Status, s.now())
	if err != nil {
		return fmt.Errorf("create reminder: %w", err)
	}
	r.ID = id
	return nil
}

// ReminderByID loads a timed step.
func (s *Store) ReminderByID(ctx context.Context, id int64) (*duban.Reminder, error) {
	var r duban.Reminder
	if err := s.get(ctx, &r, `SELECT `+reminderCols+` FROM reminders WHERE id = ?`, id); err != nil {
		return nil, fmt.Errorf("reminder %d: %w", id, err)
	}
	return &r, nil
}

// RemindersOfHearing lists a hearing's timed steps by due time.
func (s *Store) RemindersOfHearing(ctx context.Context, hearingID int64) ([]duban.Reminder, error) {
	out := []duban.Reminder{}
	if err := s.sel(ctx, &out, `SELECT `+reminderCols+` FROM reminders WHERE hearing_id = ? ORDER BY due_at, id`, hearingID); err != nil {
		return nil, fmt.Errorf("reminders of hearing %d: %w", hearingID, err)
	}
	return out, nil
}

// CancelPendingReminders cancels a hearing's pending steps and returns
// them, so their tasks can be deleted.
func (s *Store) CancelPendingReminders(ctx context.Context, hearingID int64) ([]duban.Reminder, error) {
	var out []duban.Reminder
	if err := s.sel(ctx, &out, `SELECT `+reminderCols+` FROM reminders WHERE hearing_id = ? AND status = ?`,
		hearingID, duban.ReminderPending); err != nil {
		return nil, fmt.Errorf("pending reminders of hearing %d: %w", hearingID, err)
	}
	if _, err := s.exec(ctx, `UPDATE reminders SET status = ? WHERE hearing_id = ? AND status = ?`,
		duban.ReminderCancelled, hearingID, duban.ReminderPending); err != nil {
		return nil, fmt.Errorf("cancel reminders of hearing %d: %w", hearingID, err)
	}
	return out, nil
}

// FinishReminder moves a pending step to status. It reports false when the
// step was no longer pending: someone else finished or cancelled it, and the
// caller must not act.
func (s *Store) FinishReminder(ctx context.Context, id int64, status duban.ReminderStatus, at time.Time) (bool, error) {
	n, err := s.exec(ctx, `UPDATE reminders SET status = ?, sent_at = ? WHERE id = ? AND status = ?`,
		status, ts(at), id, duban.ReminderPending)
	if err != nil {
		return false, fmt.Errorf("finish reminder %d: %w", id, err)
	}
	return n == 1, nil
}

// PendingRemindersDueBefore lists pending steps due before t, oldest
// first; reconcile re-enqueues them.
func (s *Store) PendingRemindersDueBefore(ctx context.Context, t time.Time, limit int) ([]duban.Reminder, error) {
	out := []duban.Reminder{}
	if err := s.sel(ctx, &out, fmt.Sprintf(`SELECT `+reminderCols+` FROM reminders WHERE status = ? AND due_at < ?
		ORDER BY due_at, id LIMIT %d`, limit), duban.ReminderPending, ts(t)); err != nil {
		return nil, fmt.Errorf("due reminders: %w", err)
	}
	return out, nil
}

// PendingRemindersAfter lists up to limit pending steps due before t whose
// id is above afterID, by id: one page of a walk through all of them
// (reconcile), each page starting after the last id of the one before, so
// a walk reads every row once however many there are. PostgreSQL walks the
// primary key when many rows are due and reminders_due when few are.
func (s *Store) PendingRemindersAfter(ctx context.Context, t time.Time, afterID int64, limit int) ([]duban.Reminder, error) {
	out := []duban.Reminder{}
	if err := s.sel(ctx, &out, fmt.Sprintf(`SELECT `+reminderCols+` FROM reminders WHERE status = ? AND due_at < ? AND id > ?
		ORDER BY id LIMIT %d`, limit), duban.ReminderPending, ts(t), afterID); err != nil {
		return nil, fmt.Errorf("due reminders after %d: %w", afterID, err)
	}
	return out, nil
}
