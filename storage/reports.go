package storage

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/cityhall/duban"
)

// ComplaintCell is one cell of the complaints received in a range: how many
// came in during one local month (YYYY-MM) with one category, source,
// status and assigned agency (its id; 0 before assignment). Every
// breakdown of the complaints report is a sum over these cells.
type ComplaintCell struct {
	Month    string `db:"month"`
	Category string `db:"category"`
	Source   string `db:"source"`
	Status   string `db:"status"`
	Agency   int64  `db:"agency_id"`
	N        int    `db:"n"`
}

// agencyCond keeps the rows of agency (nil: every row) in a query on the
// complaints table named alias.
func agencyCond(agency *int64, alias string) (string, []any) {
	if agency == nil {
		return "", nil
	}
	return " AND " + alias + ".agency_id = ?", []any{*agency}
}

// Breakdown is complaints received, summed by each dimension the report
// shows: local month (YYYY-MM), category, source, status now, and
// assigned agency (its id; 0: none).
type Breakdown struct {
	Total      int
	ByMonth    map[string]int
	ByCategory map[string]int
	BySource   map[string]int
	ByStatus   map[string]int
	ByAgency   map[int64]int
}

// NewBreakdown returns an empty breakdown.
func NewBreakdown() Breakdown {
	return Breakdown{ByMonth: map[string]int{}, ByCategory: map[string]int{}, BySource: map[string]int{},
		ByStatus: map[string]int{}, ByAgency: map[int64]int{}}
}

// Add adds o to b.
func (b Breakdown) Add(o Breakdown) Breakdown {
	b.Total += o.Total
	for _, p := range []struct{ dst, src map[string]int }{{b.ByMonth, o.ByMonth}, {b.ByCategory, o.ByCategory},
		{b.BySource, o.BySource}, {b.ByStatus, o.ByStatus}} {
		for k, n := range p.src {
			p.dst[k] += n
		}
	}
	for k, n := range o.ByAgency {
		b.ByAgency[k] += n
	}
	return b
}

func (b *Breakdown) addCell(c ComplaintCell) {
	b.Total += c.N
	b.ByMonth[c.Month] += c.N
	b.ByCategory[c.Category] += c.N
	b.BySource[c.Source] += c.N
	b.ByStatus[c.Status] += c.N
	b.ByAgency[c.Agency] += c.N
}

// CountedBreakdown reads the rollup of the complaints received in the
// given local months (YYYY-MM), of agency (nil: all): two small queries,
// however many complaints there are.
func (s *Store) CountedBreakdown(ctx context.Context, months []string, agency *int64) (Breakdown, error) {
	b := NewBreakdown()
	if len(months) == 0 {
		return b, nil
	}
	in := ` AND month IN (?` + strings.Repeat(", ?", len(months)-1) + `)`
	args := make([]any, 0, len(months)+1)
	for _, m := range months {
		args = append(args, m)
	}
	cond, cargs := agencyCond(agency, "c")
	args = append(args, cargs...)
	var dims []struct {
		Dim   string `db:"dim"`
		Value string `db:"value"`
		N     int    `db:"n"`
	}
	if err := s.sel(ctx, &dims, `SELECT dim, value, SUM(n) AS n FROM complaint_counts c WHERE 1 = 1`+in+cond+
		` GROUP BY dim, value`, args...); err != nil {
		return b, fmt.Errorf("complaint counts: %w", err)
	}
	for _, d := range dims {
		switch d.Dim {
		case "category":
			b.ByCategory[d.Value] += d.N
		case "source":
			b.BySource[d.Value] += d.N
		case "status":
			b.ByStatus[d.Value] += d.N
		}
	}
	// Every complaint has one status: the status counts are the
	// complaints, by month and agency.
	var cells []struct {
		Month  string `db:"month"`
		Agency int64  `db:"agency_id"`
		N      int    `db:"n"`
	}
	if err := s.sel(ctx, &cells, `SELECT month, agency_id, SUM(n) AS n FROM complaint_counts c WHERE dim = 'status'`+in+cond+
		` GROUP BY month, agency_id`, args...); err != nil {
		return b, fmt.Errorf("complaint counts: %w", err)
	}
	for _, c := range cells {
		b.Total += c.N
		b.ByMonth[c.Month] += c.N
		b.ByAgency[c.Agency] += c.N
	}
	return b, nil
}

// ComplaintBreakdown counts the complaints received in [from, to) from the
// complaints themselves (for the days of a range that are not a whole
// month, all in month), of agency (nil: all).
func (s *Store) ComplaintBreakdown(ctx context.Context, from, to time.Time, month string, agency *int64) (Breakdown, error) {
	b := NewBreakdown()
	cells, err := s.ComplaintCells(ctx, from, to, month, agency)
	if err != nil {
		return b, err
	}
	for _, c := range cells {
		b.addCell(c)
	}
	return b, nil
}

// ComplaintCells counts the complaints received in [from, to) from the
// complaints themselves, by category, source, status and agency, of
// agency (nil: all); every cell carries month.
func (s *Store) ComplaintCells(ctx context.Context, from, to time.Time, month string, agency *int64) ([]ComplaintCell, error) {
	cond, cargs := agencyCond(agency, "c")
	out := []ComplaintCell{}
	if err := s.sel(ctx, &out, `SELECT CAST(? AS TEXT) AS month, c.category, c.source, c.status, COALESCE(c.agency_id, 0) AS agency_id, COUNT(*) AS n
		FROM complaints c WHERE c.created_at >= ? AND c.created_at < ?`+cond+`
		GROUP BY c.category, c.source, c.status, COALESCE(c.agency_id, 0)`, append([]any{month, ts(from), ts(to)}, cargs...)...); err != nil {
		return nil, fmt.Errorf("complaint cells: %w", err)
	}
	return out, nil
}

// ClosingRow is one agency's closings: how many complaints it closed, how
// many within their limit, the working days they took in all (of those
// with the figure kept), and the reporters' ratings of them.
type ClosingRow struct {
	Agency    int64 `db:"agency_id"`
	Closed    int   `db:"closed"`
	OnTime    int   `db:"on_time"`
	Timed     int   `db:"timed"` // closings with the working days kept
	Days      int   `db:"days"`  // their working days in all
	Rated     int   `db:"rated"`
	RatingSum int   `db:"rating_sum"`
	R1        int   `db:"r1"`
	R2        int   `db:"r2"`
	R3        int   `db:"r3"`
	R4        int   `db:"r4"`
	R5        int   `db:"r5"`
}

// closingSums is the select list summing ClosingRow's columns.
const closingSums = `SUM(closed) AS closed, SUM(on_time) AS on_time, SUM(timed) AS timed, SUM(days) AS days,
	SUM(rated) AS rated, SUM(rating_sum) AS rating_sum, SUM(r1) AS r1, SUM(r2) AS r2, SUM(r3) AS r3, SUM(r4) AS r4, SUM(r5) AS r5`

// ClosedCells reads the rollup of closings in the given local months, per
// agency, of agency (nil: all).
func (s *Store) ClosedCells(ctx context.Context, months []string, agency *int64) ([]ClosingRow, error) {
	out := []ClosingRow{}
	if len(months) == 0 {
		return out, nil
	}
	args := make([]any, 0, len(months)+1)
	for _, m := range months {
		args = append(args, m)
	}
	cond, cargs := agencyCond(agency, "c")
	if err := s.sel(ctx, &out, `SELECT agency_id, `+closingSums+` FROM closing_counts c WHERE month IN (?`+
		strings.Repeat(", ?", len(months)-1)+`)`+cond+` GROUP BY agency_id HAVING SUM(closed) <> 0`, append(args, cargs...)...); err != nil {
		return nil, fmt.Errorf("closing counts: %w", err)
	}
	return out, nil
}

// Closing sums, per assigned agency, the complaints closed in [from, to)
// from the complaints themselves, of agency (nil: all).
func (s *Store) Closing(ctx context.Context, from, to time.Time, agency *int64) ([]ClosingRow, error) {
	cond, cargs := agencyCond(agency, "c")
	rating := func(n int) string {
		return fmt.Sprintf("SUM(CASE WHEN c.rating = %d THEN 1 ELSE 0 END) AS r%d", n, n)
	}
	out := []ClosingRow{}
	if err := s.sel(ctx, &out, `SELECT c.agency_id, COUNT(*) AS closed,
		SUM(CASE WHEN c.closed_on_time THEN 1 ELSE 0 END) AS on_time,
		COUNT(c.close_working_days) AS timed, COALESCE(SUM(c.close_working_days), 0) AS days,
		SUM(CASE WHEN c.rating BETWEEN 1 AND 5 THEN 1 ELSE 0 END) AS rated,
		COALESCE(SUM(CASE WHEN c.rating BETWEEN 1 AND 5 THEN c.rating END), 0) AS rating_sum,
		`+rating(1)+`, `+rating(2)+`, `+rating(3)+`, `+rating(4)+`, `+rating(5)+`
		FROM complaints c
		WHERE c.status = 'closed' AND c.agency_id IS NOT NULL AND c.closed_at >= ? AND c.closed_at < ?`+cond+`
		GROUP BY c.agency_id`, append([]any{ts(from), ts(to)}, cargs...)...); err != nil {
		return nil, fmt.Errorf("closing report: %w", err)
	}
	return out, nil
}

// CountOverdueOf counts the complaints received in [from, to) that are
// past their time limit at now, of agency (nil: all).
func (s *Store) CountOverdueOf(ctx context.Context, from, to, now time.Time, agency *int64) (int, error) {
	cond, args := agencyCond(agency, "c")
	var n int
	if err := s.get(ctx, &n, `SELECT COUNT(*) FROM complaints c WHERE c.status = 'assigned' AND c.due_at < ?
		AND c.created_at >= ? AND c.created_at < ?`+cond, append([]any{ts(now), ts(from), ts(to)}, args...)...); err != nil {
		return 0, fmt.Errorf("count overdue complaints: %w", err)
	}
	return n, nil
}

// AppearanceMonth is one agency's hearings held in one local month (YYYY-MM)
// and who appeared for it.
type AppearanceMonth struct {
	Month  string `db:"month"`
	Agency string `db:"agency"`
	Name   string `db:"name"`
	Held   int    `db:"held"`
	Head   int    `db:"head"`
	Deputy int    `db:"deputy"`
	None   int    `db:"nobody"`
}

// AppearanceByMonth counts, per agency and local month, the hearings in
// [from, to) with an outcome recorded, within scope. PostgreSQL reads the
// month in the zone's own rules; SQLite at the zone's offset at from
// (exact for zones without daylight saving, such as China's).
func (s *Store) AppearanceByMonth(ctx context.Context, from, to time.Time, scope duban.Scope) ([]AppearanceMonth, error) {
	month, args := `to_char(h.starts_at AT TIME ZONE ?, 'YYYY-MM')`, []any{s.loc.String()}
	if s.dialect == SQLite {
		_, off := from.In(s.loc).Zone()
		month, args = `strftime('%Y-%m', h.starts_at, ?)`, []any{fmt.Sprintf("%+d seconds", off)}
	}
	args = append(args, ts(from), ts(to))
	cond := ""
	switch {
	case scope.All:
	case scope.Agency == nil:
		cond = " AND 1 = 0"
	default:
		cond, args = " AND ha.agency_id = ?", append(args, *scope.Agency)
	}
	out := []AppearanceMonth{}
	if err := s.sel(ctx, &out, `SELECT `+month+` AS month, a.code AS agency, a.name AS name, COUNT(*) AS held,
		SUM(CASE WHEN ha.outcome = 'head' THEN 1 ELSE 0 END) AS head,
		SUM(CASE WHEN ha.outcome = 'deputy' THEN 1 ELSE 0 END) AS deputy,
		SUM(CASE WHEN ha.outcome = 'none' THEN 1 ELSE 0 END) AS nobody
		FROM hearing_agencies ha JOIN hearings h ON h.id = ha.hearing_id JOIN agencies a ON a.id = ha.agency_id
		WHERE ha.outcome IS NOT NULL AND h.status <> 'cancelled' AND h.starts_at >= ? AND h.starts_at < ?`+cond+`
		GROUP BY 1, a.code, a.name ORDER BY 1, a.code`, args...); err != nil {
		return nil, fmt.Errorf("appearance by month: %w", err)
	}
	return out, nil
}
