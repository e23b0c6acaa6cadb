package storage

import (
	"context"
	"fmt"
	"time"

	"github.com/cityhall/duban"
)

// ComplaintCell is one cell of the complaints received in a range: how many
// came in during one local month (YYYY-MM) with one category, source,
// status and assigned agency (its code; "" before assignment). Every
// breakdown of the complaints report is a sum over these cells, so one
// query answers them all.
type ComplaintCell struct {
	Month    string `db:"month"`
	Category string `db:"category"`
	Source   string `db:"source"`
	Status   string `db:"status"`
	Agency   string `db:"agency"`
	N        int    `db:"n"`
}

// ComplaintCells counts the complaints received in [from, to), by local
// month in loc, category, source, status and assigned agency, within scope.
// PostgreSQL reads the month in loc's own rules; SQLite at loc's offset at
// from (exact for zones without daylight saving, such as China's).
func (s *Store) ComplaintCells(ctx context.Context, from, to time.Time, loc *time.Location, scope duban.Scope) ([]ComplaintCell, error) {
	cond, sargs := complaintScope(scope, "c")
	month := `to_char(c.created_at AT TIME ZONE ?, 'YYYY-MM')`
	margs := []any{loc.String()}
	if s.dialect == SQLite {
		_, off := from.In(loc).Zone()
		month, margs = `strftime('%Y-%m', c.created_at, ?)`, []any{fmt.Sprintf("%+d seconds", off)}
	}
	args := append(append(margs, ts(from), ts(to)), sargs...)
	out := []ComplaintCell{}
	if err := s.sel(ctx, &out, `SELECT `+month+` AS month, c.category, c.source, c.status, COALESCE(a.code, '') AS agency, COUNT(*) AS n
		FROM complaints c LEFT JOIN agencies a ON a.id = c.agency_id
		WHERE c.created_at >= ? AND c.created_at < ?`+cond+`
		GROUP BY 1, c.category, c.source, c.status, COALESCE(a.code, '') ORDER BY 1`, args...); err != nil {
		return nil, fmt.Errorf("complaint cells: %w", err)
	}
	return out, nil
}

// ClosingRow is one agency's closings in a range: how many complaints it
// closed, how many within their limit, the working days they took in all
// (of those with the figure kept: closed since duban keeps it), and the
// reporters' ratings of them.
type ClosingRow struct {
	Agency    string `db:"agency"`
	Name      string `db:"name"`
	Closed    int    `db:"closed"`
	OnTime    int    `db:"on_time"`
	Timed     int    `db:"timed"` // closings with the working days kept
	Days      int    `db:"days"`  // their working days in all
	Rated     int    `db:"rated"`
	RatingSum int    `db:"rating_sum"`
	R1        int    `db:"r1"`
	R2        int    `db:"r2"`
	R3        int    `db:"r3"`
	R4        int    `db:"r4"`
	R5        int    `db:"r5"`
}

// Closing sums, per assigned agency, the complaints closed in [from, to)
// within scope.
func (s *Store) Closing(ctx context.Context, from, to time.Time, scope duban.Scope) ([]ClosingRow, error) {
	cond, sargs := complaintScope(scope, "c")
	rating := func(n int) string {
		return fmt.Sprintf("SUM(CASE WHEN c.rating = %d THEN 1 ELSE 0 END) AS r%d", n, n)
	}
	out := []ClosingRow{}
	if err := s.sel(ctx, &out, `SELECT a.code AS agency, a.name AS name, COUNT(*) AS closed,
		SUM(CASE WHEN c.closed_on_time THEN 1 ELSE 0 END) AS on_time,
		COUNT(c.close_working_days) AS timed, COALESCE(SUM(c.close_working_days), 0) AS days,
		COUNT(c.rating) AS rated, COALESCE(SUM(c.rating), 0) AS rating_sum,
		`+rating(1)+`, `+rating(2)+`, `+rating(3)+`, `+rating(4)+`, `+rating(5)+`
		FROM complaints c JOIN agencies a ON a.id = c.agency_id
		WHERE c.status = 'closed' AND c.closed_at >= ? AND c.closed_at < ?`+cond+`
		GROUP BY a.code, a.name ORDER BY a.code`, append([]any{ts(from), ts(to)}, sargs...)...); err != nil {
		return nil, fmt.Errorf("closing report: %w", err)
	}
	return out, nil
}

// AppearanceFact is one defendant agency of a hearing held in a range,
// with who appeared.
type AppearanceFact struct {
	Agency   string           `db:"agency"`
	Name     string           `db:"name"`
	StartsAt time.Time        `db:"starts_at"`
	Outcome  duban.Attendance `db:"outcome"`
}

// AppearanceFacts lists the outcomes recorded for hearings in [from, to),
// within scope, oldest first; the report groups them by period.
func (s *Store) AppearanceFacts(ctx context.Context, from, to time.Time, scope duban.Scope) ([]AppearanceFact, error) {
	cond, args := "", []any{ts(from), ts(to)}
	switch {
	case scope.All:
	case scope.Agency == nil:
		cond = " AND 1 = 0"
	default:
		cond, args = " AND ha.agency_id = ?", append(args, *scope.Agency)
	}
	out := []AppearanceFact{}
	if err := s.sel(ctx, &out, `SELECT a.code AS agency, a.name AS name, h.starts_at, ha.outcome
		FROM hearing_agencies ha JOIN hearings h ON h.id = ha.hearing_id JOIN agencies a ON a.id = ha.agency_id
		WHERE ha.outcome IS NOT NULL AND h.status <> 'cancelled' AND h.starts_at >= ? AND h.starts_at < ?`+cond+`
		ORDER BY h.starts_at, a.code`, args...); err != nil {
		return nil, fmt.Errorf("appearance facts: %w", err)
	}
	return out, nil
}
