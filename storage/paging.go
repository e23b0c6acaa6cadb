package storage

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"time"

	"github.com/cityhall/duban"
)

// MaxPage is the most rows a page of a list holds: a larger limit is
// clamped to it (docs/API.md, paging of lists).
const MaxPage = 1000

// pageRows is the rows a list query asks for: limit, def when it is not
// positive, and at most MaxPage+1 (a page function asks for one more row
// than it shows, to know whether another page follows).
func pageRows(limit, def int) int {
	switch {
	case limit <= 0:
		return def
	case limit > MaxPage+1:
		return MaxPage + 1
	}
	return limit
}

// ClampPage is the rows a page shows for a requested limit: def when it
// is not positive, MaxPage at most.
func ClampPage(limit, def int) int {
	switch {
	case limit <= 0:
		return def
	case limit > MaxPage:
		return MaxPage
	}
	return limit
}

// cursor is where a page ends, in the order of its list: the sort key of
// its last row (a time, or none for a row without one) and the row's id,
// which breaks ties. It travels as opaque base64url JSON: callers never
// build one, they pass back what a page gave them.
type cursor struct {
	At   *time.Time `json:"t,omitempty"`
	ID   int64      `json:"i"`
	List string     `json:"l"` // the list and order it belongs to
}

func (c cursor) encode() string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeCursor reads a cursor of list; anything else is ErrInvalid
// naming the field "cursor".
func decodeCursor(s, list string) (cursor, error) {
	var c cursor
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil {
		err = json.Unmarshal(b, &c)
	}
	if err != nil || c.List != list || c.ID <= 0 {
		return cursor{}, duban.Invalid("cursor", "is not a cursor of this list; pass back the one a page gave")
	}
	return c, nil
}

// ComplaintOrder is the order of a list of complaints.
type ComplaintOrder string

// The orders of complaints.
const (
	// NewestFirst is the API's order: by id, newest first.
	NewestFirst ComplaintOrder = ""
	// ByTimeLimit is the queue's: the nearest time limit first (overdue
	// ones before all), then those without a limit, oldest first.
	ByTimeLimit ComplaintOrder = "due"
)

// complaintPaging returns f.After's condition with its arguments and the
// ORDER BY clause of f.Order.
func complaintPaging(f ComplaintFilter) (order, cond string, args []any, err error) {
	list := "complaints:" + string(f.Order)
	var c cursor
	if f.After != "" {
		if c, err = decodeCursor(f.After, list); err != nil {
			return "", "", nil, err
		}
	}
	switch f.Order {
	case NewestFirst:
		if f.After != "" {
			cond, args = "id < ?", []any{c.ID}
		}
		return " ORDER BY id DESC", cond, args, nil
	case ByTimeLimit:
		switch {
		case f.After == "":
		case c.At == nil:
			cond, args = "due_at IS NULL AND id > ?", []any{c.ID}
		default:
			cond, args = "(due_at IS NULL OR due_at > ? OR (due_at = ? AND id > ?))", []any{ts(*c.At), ts(*c.At), c.ID}
		}
		// NULLS LAST is PostgreSQL's default for ASC, so its (due_at, id)
		// indexes (migration 00007) give this order without a sort.
		return " ORDER BY due_at ASC NULLS LAST, id", cond, args, nil
	}
	return "", "", nil, duban.Invalid("order", "unknown order %q", f.Order)
}

// complaintCursor is the cursor after c in order.
func complaintCursor(c duban.Complaint, order ComplaintOrder) string {
	cur := cursor{ID: c.ID, List: "complaints:" + string(order)}
	if order == ByTimeLimit && c.DueAt != nil {
		t := ts(*c.DueAt)
		cur.At = &t
	}
	return cur.encode()
}

// ComplaintsPage lists one page of complaints: at most f.Limit (clamped
// to MaxPage; 50 when unset) in f.Order from the cursor f.After, and the
// cursor of the next page, "" when this one is the last.
func (s *Store) ComplaintsPage(ctx context.Context, f ComplaintFilter) ([]duban.Complaint, string, error) {
	n := ClampPage(f.Limit, 50)
	f.Limit = n + 1
	out, err := s.Complaints(ctx, f)
	if err != nil || len(out) <= n {
		return out, "", err
	}
	out = out[:n]
	return out, complaintCursor(out[n-1], f.Order), nil
}

// idCursor is the condition of a list by id, newest first, after cursor
// after of list.
func idCursor(after, list string) (cond string, args []any, err error) {
	if after == "" {
		return "", nil, nil
	}
	c, err := decodeCursor(after, list)
	if err != nil {
		return "", nil, err
	}
	return "id < ?", []any{c.ID}, nil
}

// HearingsPage lists one page of hearings by start time: at most f.Limit
// (clamped to MaxPage; 1000 when unset) from the cursor f.After, and the
// cursor of the next page, "" when this one is the last.
func (s *Store) HearingsPage(ctx context.Context, f HearingFilter) ([]duban.Hearing, string, error) {
	n := ClampPage(f.Limit, MaxPage)
	f.Limit = n + 1
	out, err := s.Hearings(ctx, f)
	if err != nil || len(out) <= n {
		return out, "", err
	}
	out = out[:n]
	last := ts(out[n-1].StartsAt)
	return out, cursor{At: &last, ID: out[n-1].ID, List: "hearings"}.encode(), nil
}

// hearingCursor is the condition of the hearings after cursor after.
func hearingCursor(after string) (cond string, args []any, err error) {
	if after == "" {
		return "", nil, nil
	}
	c, err := decodeCursor(after, "hearings")
	if err != nil || c.At == nil {
		return "", nil, duban.Invalid("cursor", "is not a cursor of this list; pass back the one a page gave")
	}
	return "(starts_at > ? OR (starts_at = ? AND id > ?))", []any{*c.At, *c.At, c.ID}, nil
}

// DeliveriesPage lists one page of deliveries, newest first: at most
// f.Limit (clamped to MaxPage; 1000 when unset) from the cursor f.After,
// and the cursor of the next page, "" when this one is the last.
func (s *Store) DeliveriesPage(ctx context.Context, f DeliveryFilter) ([]duban.Delivery, string, error) {
	n := ClampPage(f.Limit, MaxPage)
	f.Limit = n + 1
	out, err := s.Deliveries(ctx, f)
	if err != nil || len(out) <= n {
		return out, "", err
	}
	out = out[:n]
	return out, cursor{ID: out[n-1].ID, List: "deliveries"}.encode(), nil
}

// AuditPage lists one page of the audit log, newest first: at most limit
// entries (clamped to MaxPage; 200 when unset) from the cursor after, and
// the cursor of the next page, "" when this one is the last.
func (s *Store) AuditPage(ctx context.Context, limit int, after string) ([]AuditEntry, string, error) {
	n := ClampPage(limit, 200)
	cond, args, err := idCursor(after, "audit")
	if err != nil {
		return nil, "", err
	}
	q := `SELECT id, actor, action, target, detail, at FROM audit_log`
	if cond != "" {
		q += ` WHERE ` + cond
	}
	out := []AuditEntry{}
	if err := s.sel(ctx, &out, q+fmt.Sprintf(` ORDER BY id DESC LIMIT %d`, n+1), args...); err != nil {
		return nil, "", fmt.Errorf("audit log: %w", err)
	}
	if len(out) <= n {
		return out, "", nil
	}
	out = out[:n]
	return out, cursor{ID: out[n-1].ID, List: "audit"}.encode(), nil
}
