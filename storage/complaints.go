package storage

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/cityhall/duban"
)

const complaintCols = `id, tracking_code, status, source, category, agency_id, reported_agency_id, agency_text, handler_id, description,
	occurred_at, location, latitude, longitude, reporter_name, reporter_phone, reporter_chat_id, reporter_locale,
	anonymous, outlet, link, headline, assigned_at, due_at, closed_at, merged_into, rating, slack_channel, slack_ts,
	contact_erased_at, created_at, updated_at, close_working_days, closed_on_time`

// CreateComplaint inserts a complaint; a taken tracking code is
// ErrConflict (the caller draws another).
func (s *Store) CreateComplaint(ctx context.Context, c *duban.Complaint) error {
	now := s.now()
	c.CreatedAt, c.UpdatedAt = now, now
	id, err := s.insert(ctx, `INSERT INTO complaints (tracking_code, status, source, category, agency_id, reported_agency_id,
		agency_text, handler_id, description, occurred_at, location, latitude, longitude, reporter_name, reporter_phone,
		reporter_chat_id, reporter_locale, anonymous, outlet, link, headline, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.TrackingCode, c.Status, c.Source, c.Category, c.AgencyID, c.ReportedAgencyID, c.AgencyText, c.HandlerID, c.Description,
		tsp(c.OccurredAt), c.Location, c.Latitude, c.Longitude, c.ReporterName, c.ReporterPhone, c.ReporterChatID,
		c.ReporterLocale, c.Anonymous, c.Outlet, c.Link, c.Headline, now, now)
	if err != nil {
		return fmt.Errorf("create complaint: %w", err)
	}
	if err := s.indexComplaintText(ctx, id, complaintText(c.Description, c.TrackingCode)); err != nil {
		return err
	}
	c.ID = id
	return s.adjustStats(ctx, nil, c)
}

// UpdateComplaint saves what actions change after intake. It leaves
// alone the supervision message's place, which SetSupervisionMessage owns
// (a sync task and an action run concurrently; neither may undo the
// other), and the reporter's identity, which only EraseReporter clears.
// Callers load the row with ComplaintForUpdate in the same transaction.
func (s *Store) UpdateComplaint(ctx context.Context, c *duban.Complaint) error {
	return s.InTx(ctx, func(s *Store) error { return s.updateComplaint(ctx, c) })
}

// updateComplaint is UpdateComplaint in a transaction: the row as it was
// is read first, to move it in the reports' rollups.
func (s *Store) updateComplaint(ctx context.Context, c *duban.Complaint) error {
	var old duban.Complaint
	if err := s.get(ctx, &old, `SELECT `+complaintCols+` FROM complaints WHERE id = ?`, c.ID); err != nil {
		return fmt.Errorf("update complaint %d: %w", c.ID, err)
	}
	// What UpdateComplaint never changes stays as it was, whatever c says.
	c.CreatedAt, c.Source = old.CreatedAt, old.Source
	c.UpdatedAt = s.now()
	n, err := s.exec(ctx, `UPDATE complaints SET status = ?, category = ?, agency_id = ?, agency_text = ?, handler_id = ?,
		assigned_at = ?, due_at = ?, closed_at = ?, merged_into = ?, rating = ?, updated_at = ?,
		close_working_days = ?, closed_on_time = ? WHERE id = ?`,
		c.Status, c.Category, c.AgencyID, c.AgencyText, c.HandlerID, tsp(c.AssignedAt), tsp(c.DueAt), tsp(c.ClosedAt),
		c.MergedInto, c.Rating, c.UpdatedAt, c.CloseWorkingDays, c.ClosedOnTime, c.ID)
	if err != nil {
		return fmt.Errorf("update complaint %d: %w", c.ID, err)
	}
	if n == 0 {
		return fmt.Errorf("update complaint %d: %w", c.ID, duban.ErrNotFound)
	}
	return s.adjustStats(ctx, &old, c)
}

// ComplaintByID loads a complaint.
func (s *Store) ComplaintByID(ctx context.Context, id int64) (*duban.Complaint, error) {
	var c duban.Complaint
	if err := s.get(ctx, &c, `SELECT `+complaintCols+` FROM complaints WHERE id = ?`, id); err != nil {
		return nil, fmt.Errorf("complaint %d: %w", id, err)
	}
	return &c, nil
}

// ComplaintForUpdate loads a complaint for a change, locking its row until
// the transaction ends, so one action at a time changes a complaint: a
// concurrent one waits and then sees the state the first left. (SQLite
// transactions are immediate and already one at a time.)
func (s *Store) ComplaintForUpdate(ctx context.Context, id int64) (*duban.Complaint, error) {
	q := `SELECT ` + complaintCols + ` FROM complaints WHERE id = ?`
	if s.dialect == Postgres {
		q += ` FOR UPDATE`
	}
	var c duban.Complaint
	if err := s.get(ctx, &c, q, id); err != nil {
		return nil, fmt.Errorf("complaint %d: %w", id, err)
	}
	return &c, nil
}

// EraseReporter clears the reporter's identity of a complaint, and
// nothing else, so it never undoes a concurrent action; and the reporter's
// address from the delivery log, where a provider's message id names the
// chat (notifier's Telegram sender writes chat:message).
func (s *Store) EraseReporter(ctx context.Context, id int64, at time.Time) error {
	return s.InTx(ctx, func(tx *Store) error {
		if _, err := tx.exec(ctx, `UPDATE complaints SET reporter_name = '', reporter_phone = '', reporter_chat_id = NULL,
			contact_erased_at = ? WHERE id = ? AND contact_erased_at IS NULL`, ts(at), id); err != nil {
			return fmt.Errorf("erase reporter of complaint %d: %w", id, err)
		}
		if _, err := tx.exec(ctx, `UPDATE deliveries SET provider_message_id = '', error = ''
			WHERE complaint_id = ? AND person_id IS NULL`, id); err != nil {
			return fmt.Errorf("erase reporter's deliveries of complaint %d: %w", id, err)
		}
		return nil
	})
}

// AssignedAgencies lists every agency a complaint has been assigned to,
// now or before, for the rule book.
func (s *Store) AssignedAgencies(ctx context.Context, complaintID int64) ([]int64, error) {
	out := []int64{}
	if err := s.sel(ctx, &out, `SELECT DISTINCT agency_id FROM complaint_events
		WHERE complaint_id = ? AND action = 'assign' AND agency_id IS NOT NULL`, complaintID); err != nil {
		return nil, fmt.Errorf("agencies of complaint %d: %w", complaintID, err)
	}
	return out, nil
}

// ComplaintByCode loads a complaint by its canonical tracking code.
func (s *Store) ComplaintByCode(ctx context.Context, code string) (*duban.Complaint, error) {
	var c duban.Complaint
	if err := s.get(ctx, &c, `SELECT `+complaintCols+` FROM complaints WHERE tracking_code = ?`, code); err != nil {
		return nil, fmt.Errorf("complaint by code: %w", err)
	}
	return &c, nil
}

// ComplaintFilter narrows Complaints.
type ComplaintFilter struct {
	// Scope, when set, is the rule book's scope of the caller
	// (duban.Actor.ScopeOf(duban.ComplaintRead)), applied in the query; nil
	// lists everything, for duban's own work.
	Scope            *duban.Scope
	Status           duban.ComplaintStatus
	AgencyID         *int64 // the agency the office assigned
	ReportedAgencyID *int64 // the agency the reporter named
	HandlerID        *int64
	Source           duban.Source
	Category         duban.Category
	OverdueAt        *time.Time // assigned with a limit before this time
	Query            string     // in the description or the tracking code
	MergedInto       *int64
	Codes            []string
	CreatedFrom      *time.Time
	CreatedTo        *time.Time
	Limit            int
	// Order is the order of the list: newest first by default, or by
	// time limit (ComplaintsPage).
	Order ComplaintOrder
	// After is the cursor of the page before (ComplaintsPage).
	After string
}

// Complaints lists complaints, newest first (or in f.Order, from the
// cursor f.After).
func (s *Store) Complaints(ctx context.Context, f ComplaintFilter) ([]duban.Complaint, error) {
	q := `SELECT ` + complaintCols + ` FROM complaints WHERE 1=1`
	var args []any
	add := func(cond string, v any) { q += " AND " + cond; args = append(args, v) }
	if f.Status != "" {
		add("status = ?", f.Status)
	}
	if f.Scope != nil {
		cond, sargs, err := s.scopeFor(ctx, *f.Scope, "complaints")
		if err != nil {
			return nil, err
		}
		q += cond
		args = append(args, sargs...)
	}
	if f.AgencyID != nil {
		add("agency_id = ?", *f.AgencyID)
	}
	if f.ReportedAgencyID != nil {
		add("reported_agency_id = ?", *f.ReportedAgencyID)
	}
	if f.HandlerID != nil {
		add("handler_id = ?", *f.HandlerID)
	}
	if f.Source != "" {
		add("source = ?", f.Source)
	}
	if f.Category != "" {
		add("category = ?", f.Category)
	}
	if f.OverdueAt != nil {
		q += " AND status = 'assigned'"
		add("due_at < ?", ts(*f.OverdueAt))
	}
	if f.Query != "" {
		cond, more, err := s.textCondition(ctx, f.Query)
		if err != nil {
			return nil, err
		}
		q += " AND " + cond
		args = append(args, more...)
	}
	if f.MergedInto != nil {
		add("merged_into = ?", *f.MergedInto)
	}
	if len(f.Codes) > 0 {
		q += " AND tracking_code IN (?" + strings.Repeat(", ?", len(f.Codes)-1) + ")"
		for _, c := range f.Codes {
			args = append(args, c)
		}
	}
	if f.CreatedFrom != nil {
		add("created_at >= ?", ts(*f.CreatedFrom))
	}
	if f.CreatedTo != nil {
		add("created_at < ?", ts(*f.CreatedTo))
	}
	order, cond, more, err := complaintPaging(f)
	if err != nil {
		return nil, err
	}
	if cond != "" {
		q += " AND " + cond
		args = append(args, more...)
	}
	q += order + fmt.Sprintf(" LIMIT %d", pageRows(f.Limit, 200))
	out := []duban.Complaint{}
	if err := s.sel(ctx, &out, q, args...); err != nil {
		return nil, fmt.Errorf("list complaints: %w", err)
	}
	return out, nil
}

// AppendEvent adds an event to a complaint's timeline.
func (s *Store) AppendEvent(ctx context.Context, e *duban.Event) error {
	e.At = ts(e.At)
	if e.At.IsZero() {
		e.At = s.now()
	}
	id, err := s.insert(ctx, `INSERT INTO complaint_events (complaint_id, action, actor, at, text, public, agency_id)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, e.ComplaintID, e.Action, e.Actor, e.At, e.Text, e.Public, e.AgencyID)
	if err != nil {
		return fmt.Errorf("append event: %w", err)
	}
	e.ID = id
	return nil
}

// Events lists a complaint's timeline, oldest first.
func (s *Store) Events(ctx context.Context, complaintID int64) ([]duban.Event, error) {
	out := []duban.Event{}
	if err := s.sel(ctx, &out, `SELECT id, complaint_id, action, actor, at, text, public, agency_id FROM complaint_events
		WHERE complaint_id = ? ORDER BY id`, complaintID); err != nil {
		return nil, fmt.Errorf("events of complaint %d: %w", complaintID, err)
	}
	return out, nil
}

// Attachment is a photo or document of a report, kept as the Telegram file
// id with its size and type.
type Attachment struct {
	ID          int64  `db:"id" json:"-"`
	ComplaintID int64  `db:"complaint_id" json:"-"`
	FileID      string `db:"file_id" json:"file_id"`
	Kind        string `db:"kind" json:"kind"`
	Size        int64  `db:"size" json:"size"`
	MIME        string `db:"mime" json:"mime,omitempty"`
}

// AddAttachment stores an attachment of a complaint.
func (s *Store) AddAttachment(ctx context.Context, a *Attachment) error {
	id, err := s.insert(ctx, `INSERT INTO complaint_attachments (complaint_id, file_id, kind, size, mime) VALUES (?, ?, ?, ?, ?)`,
		a.ComplaintID, a.FileID, a.Kind, a.Size, a.MIME)
	if err != nil {
		return fmt.Errorf("add attachment: %w", err)
	}
	a.ID = id
	return nil
}

// Attachments lists a complaint's attachments.
func (s *Store) Attachments(ctx context.Context, complaintID int64) ([]Attachment, error) {
	out := []Attachment{}
	if err := s.sel(ctx, &out, `SELECT id, complaint_id, file_id, kind, size, mime FROM complaint_attachments
		WHERE complaint_id = ? ORDER BY id`, complaintID); err != nil {
		return nil, fmt.Errorf("attachments: %w", err)
	}
	return out, nil
}

// ComplaintByIdempotencyKey finds the complaint a key created, or
// ErrNotFound.
func (s *Store) ComplaintByIdempotencyKey(ctx context.Context, key string) (*duban.Complaint, error) {
	var id int64
	if err := s.get(ctx, &id, `SELECT complaint_id FROM idempotency_keys WHERE key = ?`, key); err != nil {
		return nil, fmt.Errorf("idempotency key: %w", err)
	}
	return s.ComplaintByID(ctx, id)
}

// SaveIdempotencyKey records which complaint a key created; a key taken
// already is ErrConflict.
func (s *Store) SaveIdempotencyKey(ctx context.Context, key string, complaintID int64) error {
	if _, err := s.exec(ctx, `INSERT INTO idempotency_keys (key, complaint_id, created_at) VALUES (?, ?, ?)`,
		key, complaintID, s.now()); err != nil {
		return fmt.Errorf("idempotency key: %w", err)
	}
	return nil
}

// MarkSLA records an urge, escalation or follow-up of a complaint on a
// working day; false when it was recorded already.
func (s *Store) MarkSLA(ctx context.Context, complaintID int64, kind, day string) (bool, error) {
	n, err := s.exec(ctx, `INSERT INTO sla_marks (complaint_id, kind, day, at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		complaintID, kind, day, s.now())
	if err != nil {
		return false, fmt.Errorf("mark sla: %w", err)
	}
	return n == 1, nil
}

// CallbackTask is a call staff must make to a reporter without Telegram.
type CallbackTask struct {
	ID          int64      `db:"id" json:"id"`
	ComplaintID int64      `db:"complaint_id" json:"complaint_id"`
	Reason      string     `db:"reason" json:"reason"`
	Status      string     `db:"status" json:"status"`
	CreatedAt   time.Time  `db:"created_at" json:"created_at"`
	DoneAt      *time.Time `db:"done_at" json:"done_at,omitempty"`
	DoneBy      string     `db:"done_by" json:"done_by,omitempty"`
}

// CreateCallbackTask opens a call-back task; the same reason twice for a
// complaint is one task (created false).
func (s *Store) CreateCallbackTask(ctx context.Context, complaintID int64, reason string) (bool, error) {
	n, err := s.exec(ctx, `INSERT INTO callback_tasks (complaint_id, reason, status, created_at) VALUES (?, ?, 'open', ?)
		ON CONFLICT DO NOTHING`, complaintID, reason, s.now())
	if err != nil {
		return false, fmt.Errorf("callback task: %w", err)
	}
	return n == 1, nil
}

// CallbackTasks lists call-back tasks of a complaint (0: all), open ones
// only when open is set.
func (s *Store) CallbackTasks(ctx context.Context, complaintID int64, open bool) ([]CallbackTask, error) {
	q := `SELECT id, complaint_id, reason, status, created_at, done_at, done_by FROM callback_tasks WHERE 1=1`
	var args []any
	if complaintID != 0 {
		q += ` AND complaint_id = ?`
		args = append(args, complaintID)
	}
	if open {
		q += ` AND status = 'open'`
	}
	out := []CallbackTask{}
	if err := s.sel(ctx, &out, q+` ORDER BY id`, args...); err != nil {
		return nil, fmt.Errorf("callback tasks: %w", err)
	}
	return out, nil
}

// CompleteCallbackTasks closes a complaint's open call-back tasks.
func (s *Store) CompleteCallbackTasks(ctx context.Context, complaintID int64, by string) error {
	if _, err := s.exec(ctx, `UPDATE callback_tasks SET status = 'done', done_at = ?, done_by = ? WHERE complaint_id = ? AND status = 'open'`,
		s.now(), by, complaintID); err != nil {
		return fmt.Errorf("complete callback tasks: %w", err)
	}
	return nil
}

// RecordStatusLookup counts a /status lookup of a chat, and returns how
// many it made since since (this one included).
func (s *Store) RecordStatusLookup(ctx context.Context, chatID int64, since time.Time) (int, error) {
	if _, err := s.insert(ctx, `INSERT INTO status_lookups (chat_id, at) VALUES (?, ?)`, chatID, s.now()); err != nil {
		return 0, fmt.Errorf("status lookup: %w", err)
	}
	var n int
	if err := s.get(ctx, &n, `SELECT COUNT(*) FROM status_lookups WHERE chat_id = ? AND at > ?`, chatID, ts(since)); err != nil {
		return 0, fmt.Errorf("status lookups: %w", err)
	}
	return n, nil
}

// ComplaintsClosedBefore lists closed or rejected complaints whose
// reporter's identity is still kept, closed before t.
func (s *Store) ComplaintsClosedBefore(ctx context.Context, t time.Time, limit int) ([]duban.Complaint, error) {
	out := []duban.Complaint{}
	// A merged complaint's reporter follows the survivor: kept until the
	// survivor too has been closed a retention ago.
	if err := s.sel(ctx, &out, fmt.Sprintf(`SELECT `+complaintCols+` FROM complaints c WHERE closed_at IS NOT NULL
		AND closed_at < ? AND contact_erased_at IS NULL AND (status IN ('closed', 'rejected') OR (status = 'merged'
		AND EXISTS (SELECT 1 FROM complaints s WHERE s.id = c.merged_into AND s.status IN ('closed', 'rejected') AND s.closed_at < ?)))
		ORDER BY id LIMIT %d`, limit), ts(t), ts(t)); err != nil {
		return nil, fmt.Errorf("complaints to erase: %w", err)
	}
	return out, nil
}

// ComplaintCount is one line of the complaints report.
type ComplaintCount struct {
	Key string `db:"k" json:"key"`
	N   int    `db:"n" json:"count"`
}

// CountComplaints counts complaints created in [from, to) by a column:
// status, source, category or agency code.
func (s *Store) CountComplaints(ctx context.Context, by string, from, to time.Time, scope duban.Scope) ([]ComplaintCount, error) {
	col := map[string]string{"status": "c.status", "source": "c.source", "category": "c.category", "agency": "COALESCE(a.code, '')"}[by]
	if col == "" {
		return nil, duban.Invalid("by", "must be status, source, category or agency")
	}
	cond, args := complaintScope(scope, "c")
	out := []ComplaintCount{}
	if err := s.sel(ctx, &out, `SELECT `+col+` AS k, COUNT(*) AS n FROM complaints c LEFT JOIN agencies a ON a.id = c.agency_id
		WHERE c.created_at >= ? AND c.created_at < ?`+cond+` GROUP BY `+col+` ORDER BY `+col,
		append([]any{ts(from), ts(to)}, args...)...); err != nil {
		return nil, fmt.Errorf("count complaints: %w", err)
	}
	return out, nil
}

// complaintScope is the condition (" AND …", on the complaints table
// named alias) that keeps the complaints scope admits: every one, none,
// or an agency's — assigned to it now or before (duban.Actor.ScopeOf).
func complaintScope(scope duban.Scope, alias string) (string, []any) {
	switch {
	case scope.All:
		return "", nil
	case scope.Agency == nil:
		return " AND 1 = 0", nil
	}
	// An uncorrelated IN is computed once and hashed, so a page in the
	// queue's order reads its rows and stops; a correlated EXISTS under
	// the OR is probed row by row (docs/PERFORMANCE.md).
	return ` AND (` + alias + `.agency_id = ? OR ` + alias + `.id IN (SELECT e.complaint_id FROM complaint_events e
		WHERE e.action = 'assign' AND e.agency_id = ?))`, []any{*scope.Agency, *scope.Agency}
}

// SetSupervisionMessage records where a complaint's supervision-channel
// message is; only those columns, so it never overwrites a concurrent
// change of the complaint.
func (s *Store) SetSupervisionMessage(ctx context.Context, id int64, channel, ts string) error {
	if _, err := s.exec(ctx, `UPDATE complaints SET slack_channel = ?, slack_ts = ? WHERE id = ?`, channel, ts, id); err != nil {
		return fmt.Errorf("supervision message of complaint %d: %w", id, err)
	}
	return nil
}

// ClaimSupervisionPost marks a complaint's supervision message as being
// posted, so that two sync tasks never post it twice; false when another
// one has it (or it is posted).
func (s *Store) ClaimSupervisionPost(ctx context.Context, id int64) (bool, error) {
	n, err := s.exec(ctx, `UPDATE complaints SET slack_ts = ? WHERE id = ? AND slack_ts = ''`, PostingMarker, id)
	if err != nil {
		return false, fmt.Errorf("claim supervision post %d: %w", id, err)
	}
	return n == 1, nil
}

// PostingMarker stands in slack_ts while the message is being posted.
const PostingMarker = "posting"
