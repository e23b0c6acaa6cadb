package storage

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cityhall/duban"
)

const deliveryCols = `id, dedupe_key, COALESCE(person_id, 0) AS person_id, complaint_id, channel, kind, ref, payload, status, attempts, resends,
	provider_message_id, error, reminder_id, hearing_agency_id, created_at, updated_at, sent_at, sender, possible_repeat`

// CreateDelivery writes a queued delivery ahead of sending. A delivery
// with the same dedupe key already there is returned instead, with created
// false: the message was already planned, and must not be sent twice.
func (s *Store) CreateDelivery(ctx context.Context, d *duban.Delivery) (created bool, err error) {
	now := s.now()
	d.Status, d.CreatedAt, d.UpdatedAt = duban.DeliveryQueued, now, now
	id, err := s.insert(ctx, `INSERT INTO deliveries (dedupe_key, person_id, channel, kind, ref, payload, status,
		attempts, reminder_id, hearing_agency_id, complaint_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?)
		ON CONFLICT (dedupe_key) DO NOTHING`,
		d.DedupeKey, nullID(d.PersonID), d.Channel, d.Kind, d.Ref, d.Payload, d.Status, d.ReminderID, d.HearingAgencyID, d.ComplaintID, now, now)
	if errors.Is(err, duban.ErrNotFound) { // DO NOTHING returns no row
		var existing duban.Delivery
		if err := s.get(ctx, &existing, `SELECT `+deliveryCols+` FROM deliveries WHERE dedupe_key = ?`, d.DedupeKey); err != nil {
			return false, fmt.Errorf("delivery %s: %w", d.DedupeKey, err)
		}
		*d = existing
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("create delivery: %w", err)
	}
	d.ID = id
	return true, nil
}

// DeliveryByID loads a delivery.
func (s *Store) DeliveryByID(ctx context.Context, id int64) (*duban.Delivery, error) {
	var d duban.Delivery
	if err := s.get(ctx, &d, `SELECT `+deliveryCols+` FROM deliveries WHERE id = ?`, id); err != nil {
		return nil, fmt.Errorf("delivery %d: %w", id, err)
	}
	return &d, nil
}

// ClaimDelivery moves a queued delivery to sending and counts the attempt.
// It reports false when the delivery was not queued (already sent, failed,
// or being sent): the caller must not call the provider.
func (s *Store) ClaimDelivery(ctx context.Context, id int64) (bool, error) {
	return s.ClaimDeliveryAs(ctx, id, "")
}

// ClaimDeliveryAs is ClaimDelivery by the sender named sender, whose lease
// (RenewLease) keeps the row its own while it is sending: once the lease
// lapses, TakeOverSending hands the row to whoever is alive.
func (s *Store) ClaimDeliveryAs(ctx context.Context, id int64, sender string) (bool, error) {
	n, err := s.exec(ctx, `UPDATE deliveries SET status = ?, attempts = attempts + 1, sender = ?, updated_at = ?
		WHERE id = ? AND status = ?`, duban.DeliverySending, sender, s.now(), id, duban.DeliveryQueued)
	if err != nil {
		return false, fmt.Errorf("claim delivery %d: %w", id, err)
	}
	return n == 1, nil
}

// RenderAgain replaces the payload of delivery id while it is still
// queued: a post whose task comes back (its channel was busy) sends what
// it renders now, not what it rendered first; and reconcile, should the
// task be lost, sends the latest. It reports whether it did.
func (s *Store) RenderAgain(ctx context.Context, id int64, payload string) (bool, error) {
	n, err := s.exec(ctx, `UPDATE deliveries SET payload = ?, updated_at = ? WHERE id = ? AND status = ?`,
		payload, s.now(), id, duban.DeliveryQueued)
	if err != nil {
		return false, fmt.Errorf("render delivery %d again: %w", id, err)
	}
	return n == 1, nil
}

// DeliverySent records the provider's acceptance.
func (s *Store) DeliverySent(ctx context.Context, id int64, providerID string) error {
	now := s.now()
	if _, err := s.exec(ctx, `UPDATE deliveries SET status = ?, provider_message_id = ?, error = '', updated_at = ?, sent_at = ?
		WHERE id = ?`, duban.DeliverySent, providerID, now, now, id); err != nil {
		return fmt.Errorf("delivery %d sent: %w", id, err)
	}
	return nil
}

// DeliveryRequeue puts a sending delivery back in the queue after an error
// worth retrying, keeping the error for the operator.
func (s *Store) DeliveryRequeue(ctx context.Context, id int64, reason string) error {
	if _, err := s.exec(ctx, `UPDATE deliveries SET status = ?, error = ?, updated_at = ? WHERE id = ?`,
		duban.DeliveryQueued, duban.Truncate(reason, 500), s.now(), id); err != nil {
		return fmt.Errorf("requeue delivery %d: %w", id, err)
	}
	return nil
}

// DeliveryFailed records a delivery that will not be retried.
func (s *Store) DeliveryFailed(ctx context.Context, id int64, reason string) error {
	if _, err := s.exec(ctx, `UPDATE deliveries SET status = ?, error = ?, updated_at = ? WHERE id = ?`,
		duban.DeliveryFailed, duban.Truncate(reason, 500), s.now(), id); err != nil {
		return fmt.Errorf("fail delivery %d: %w", id, err)
	}
	return nil
}

// DeliveryInDoubt puts a sending delivery back in the queue after a call
// whose request left but whose answer never came (the connection dropped):
// the provider may have the message, so the next attempt is marked as a
// possible repeat.
func (s *Store) DeliveryInDoubt(ctx context.Context, id int64, reason string) error {
	if _, err := s.exec(ctx, `UPDATE deliveries SET status = ?, possible_repeat = ?, error = ?, updated_at = ? WHERE id = ?`,
		duban.DeliveryQueued, true, duban.Truncate(reason, 500), s.now(), id); err != nil {
		return fmt.Errorf("requeue delivery %d in doubt: %w", id, err)
	}
	return nil
}

// DeliverySentForgotten records the provider's acceptance and, in the same
// statement, drops what the delivery said and where it went (its payload
// and the provider's message id, which names the chat), keeping the row: a
// conversation reply to an anonymous reporter's chat is not kept once it
// is out, not even for the moment between two writes.
func (s *Store) DeliverySentForgotten(ctx context.Context, id int64) error {
	now := s.now()
	if _, err := s.exec(ctx, `UPDATE deliveries SET status = ?, payload = '{}', provider_message_id = '', error = '', updated_at = ?, sent_at = ?
		WHERE id = ?`, duban.DeliverySent, now, now, id); err != nil {
		return fmt.Errorf("delivery %d sent: %w", id, err)
	}
	return nil
}

// ResendDelivery queues a failed delivery, or one left sending by a crash,
// again. Anything else is ErrConflict.
func (s *Store) ResendDelivery(ctx context.Context, id int64) error {
	n, err := s.exec(ctx, `UPDATE deliveries SET status = ?, resends = resends + 1, updated_at = ? WHERE id = ? AND status IN (?, ?)`,
		duban.DeliveryQueued, s.now(), id, duban.DeliveryFailed, duban.DeliverySending)
	if err != nil {
		return fmt.Errorf("resend delivery %d: %w", id, err)
	}
	if n == 0 {
		if _, err := s.DeliveryByID(ctx, id); err != nil {
			return err
		}
		return &duban.StateError{Action: "resend", State: "sent or queued", Allowed: []string{}}
	}
	return nil
}

// DeliveryFilter narrows Deliveries.
type DeliveryFilter struct {
	Status     duban.DeliveryStatus
	ReminderID *int64
	Ref        string
	Limit      int
	After      string // the cursor of the page before (DeliveriesPage)
}

// Deliveries lists deliveries, newest first.
func (s *Store) Deliveries(ctx context.Context, f DeliveryFilter) ([]duban.Delivery, error) {
	q := `SELECT ` + deliveryCols + ` FROM deliveries WHERE 1=1`
	var args []any
	if f.Status != "" {
		q += ` AND status = ?`
		args = append(args, f.Status)
	}
	if f.ReminderID != nil {
		q += ` AND reminder_id = ?`
		args = append(args, *f.ReminderID)
	}
	if f.Ref != "" {
		q += ` AND ref = ?`
		args = append(args, f.Ref)
	}
	cond, more, err := idCursor(f.After, "deliveries")
	if err != nil {
		return nil, err
	}
	if cond != "" {
		q += ` AND ` + cond
		args = append(args, more...)
	}
	q += fmt.Sprintf(` ORDER BY id DESC LIMIT %d`, pageRows(f.Limit, MaxPage))
	out := []duban.Delivery{}
	if err := s.sel(ctx, &out, q, args...); err != nil {
		return nil, fmt.Errorf("list deliveries: %w", err)
	}
	return out, nil
}

// LatestDeliveryChannels returns, by reminder, the channel of the latest
// delivery (the highest id) made for each of reminderIDs; a reminder with
// no delivery is absent. A list of hearings asks once (a batch of ids at a
// time), not once a reminder. MAX and GROUP BY rather than PostgreSQL's
// DISTINCT ON, which SQLite lacks.
func (s *Store) LatestDeliveryChannels(ctx context.Context, reminderIDs []int64) (map[int64]duban.Channel, error) {
	out := map[int64]duban.Channel{}
	err := eachBatch(reminderIDs, func(in string, args []any) error {
		var rows []struct {
			ReminderID int64         `db:"reminder_id"`
			Channel    duban.Channel `db:"channel"`
		}
		if err := s.sel(ctx, &rows, `SELECT reminder_id, channel FROM deliveries WHERE id IN
			(SELECT MAX(id) FROM deliveries WHERE reminder_id IN (`+in+`) GROUP BY reminder_id)`, args...); err != nil {
			return fmt.Errorf("latest deliveries of %d reminders: %w", len(args), err)
		}
		for _, r := range rows {
			out[r.ReminderID] = r.Channel
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// QueuedDeliveries lists queued deliveries, oldest first, for reconcile.
func (s *Store) QueuedDeliveries(ctx context.Context, limit int) ([]duban.Delivery, error) {
	out := []duban.Delivery{}
	if err := s.sel(ctx, &out, fmt.Sprintf(`SELECT `+deliveryCols+` FROM deliveries WHERE status = ? ORDER BY id LIMIT %d`, limit),
		duban.DeliveryQueued); err != nil {
		return nil, fmt.Errorf("queued deliveries: %w", err)
	}
	return out, nil
}

// QueuedDeliveriesAfter lists up to limit queued deliveries whose id is
// above afterID, by id (deliveries_status): one page of reconcile's walk
// through all of them.
func (s *Store) QueuedDeliveriesAfter(ctx context.Context, afterID int64, limit int) ([]duban.Delivery, error) {
	out := []duban.Delivery{}
	if err := s.sel(ctx, &out, fmt.Sprintf(`SELECT `+deliveryCols+` FROM deliveries WHERE status = ? AND id > ? ORDER BY id LIMIT %d`, limit),
		duban.DeliveryQueued, afterID); err != nil {
		return nil, fmt.Errorf("queued deliveries after %d: %w", afterID, err)
	}
	return out, nil
}

// CountDeliveries counts deliveries by status.
func (s *Store) CountDeliveries(ctx context.Context) (map[duban.DeliveryStatus]int, error) {
	var rows []struct {
		Status duban.DeliveryStatus `db:"status"`
		N      int                  `db:"n"`
	}
	if err := s.sel(ctx, &rows, `SELECT status, COUNT(*) AS n FROM deliveries GROUP BY status`); err != nil {
		return nil, fmt.Errorf("count deliveries: %w", err)
	}
	out := map[duban.DeliveryStatus]int{}
	for _, r := range rows {
		out[r.Status] = r.N
	}
	return out, nil
}

// StaleSending counts deliveries left sending since before t. A live
// sender's row is sending only for the length of one provider call, so
// these are rows of a crashed sender not yet taken over (TakeOverSending).
func (s *Store) StaleSending(ctx context.Context, before time.Time) (int, error) {
	var n int
	if err := s.get(ctx, &n, `SELECT COUNT(*) FROM deliveries WHERE status = ? AND updated_at < ?`,
		duban.DeliverySending, ts(before)); err != nil {
		return 0, fmt.Errorf("stale sending: %w", err)
	}
	return n, nil
}

// RenewLease records that the sender id is alive until now+ttl. Each
// process sending deliveries renews its lease every few seconds.
func (s *Store) RenewLease(ctx context.Context, id string, ttl time.Duration) error {
	if _, err := s.exec(ctx, `INSERT INTO sender_leases (id, expires_at) VALUES (?, ?)
		ON CONFLICT (id) DO UPDATE SET expires_at = excluded.expires_at`, id, ts(s.clock.Now().Add(ttl))); err != nil {
		return fmt.Errorf("renew lease %s: %w", id, err)
	}
	return nil
}

// ReleaseLease ends the lease of sender id, at a clean shutdown.
func (s *Store) ReleaseLease(ctx context.Context, id string) error {
	if _, err := s.exec(ctx, `DELETE FROM sender_leases WHERE id = ?`, id); err != nil {
		return fmt.Errorf("release lease %s: %w", id, err)
	}
	return nil
}

// TakeOverSending queues again, marked as possible repeats, the sending
// deliveries whose sender is gone: its lease lapsed (or was never taken:
// a row claimed by a version without leases, left sending since before
// unnamedBefore). A live sender's rows are left alone, and so are self's,
// the caller's own, which is alive. It returns the rows
// taken over, for their tasks to be enqueued.
func (s *Store) TakeOverSending(ctx context.Context, self string, unnamedBefore time.Time) ([]duban.Delivery, error) {
	now := s.now()
	out := []duban.Delivery{}
	if err := s.sel(ctx, &out, `UPDATE deliveries SET status = ?, possible_repeat = ?, sender = '', updated_at = ?
		WHERE status = ? AND (
			(sender <> '' AND sender <> ? AND NOT EXISTS (SELECT 1 FROM sender_leases l WHERE l.id = deliveries.sender AND l.expires_at > ?))
			OR (sender = '' AND updated_at < ?))
		RETURNING `+deliveryCols, duban.DeliveryQueued, true, now, duban.DeliverySending, self, now, ts(unnamedBefore)); err != nil {
		return nil, fmt.Errorf("take over sending deliveries: %w", err)
	}
	// Leases lapsed long ago name no row any more.
	if _, err := s.exec(ctx, `DELETE FROM sender_leases WHERE expires_at < ?`, now.Add(-time.Hour)); err != nil {
		return nil, fmt.Errorf("drop old leases: %w", err)
	}
	return out, nil
}

// nullID stores 0 as NULL.
func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}
