package storage

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/cityhall/duban"
)

// The reports' rollups (migration 00014): complaints received per local
// month by category, source, status and agency, and closings per local
// month and agency. CreateComplaint and UpdateComplaint keep them in the
// same transaction as the complaint, so they never disagree with it;
// EnsureStats builds them from the complaints when they are new or the
// time zone changed.

// WithLocation sets the local time zone the reports' months are counted
// in (DUBAN_TIMEZONE); UTC by default.
func WithLocation(loc *time.Location) Option { return func(s *Store) { s.loc = loc } }

// CountCell is one cell of the received-complaints rollup: complaints
// received in a local month, of an agency (0: none), with one value of one
// dimension (category, source or status).
type CountCell struct {
	Month  string
	Agency int64
	Dim    string
	Value  string
}

// closingCell is one cell of the closings rollup.
type closingCell struct {
	Month  string
	Agency int64
}

// closingVals is what one closed complaint adds to its cell.
type closingVals struct {
	Closed, OnTime, Timed, Days, Rated, RatingSum int
	R                                             [5]int
}

func (v closingVals) times(k int) closingVals {
	v.Closed, v.OnTime, v.Timed, v.Days, v.Rated, v.RatingSum = k*v.Closed, k*v.OnTime, k*v.Timed, k*v.Days, k*v.Rated, k*v.RatingSum
	for i := range v.R {
		v.R[i] *= k
	}
	return v
}

func (s *Store) month(t time.Time) string { return t.In(s.loc).Format("2006-01") }

// countCells are the cells c counts in: one for each dimension.
func (s *Store) countCells(c *duban.Complaint) []CountCell {
	var agency int64
	if c.AgencyID != nil {
		agency = *c.AgencyID
	}
	m := s.month(c.CreatedAt)
	return []CountCell{{m, agency, "category", string(c.Category)}, {m, agency, "source", string(c.Source)},
		{m, agency, "status", string(c.Status)}}
}

// closingOf is c's part of the closings rollup: none unless it is closed,
// with an agency.
func (s *Store) closingOf(c *duban.Complaint) (closingCell, closingVals, bool) {
	if c == nil || c.Status != duban.ComplaintClosed || c.ClosedAt == nil || c.AgencyID == nil {
		return closingCell{}, closingVals{}, false
	}
	v := closingVals{Closed: 1}
	if c.ClosedOnTime != nil && *c.ClosedOnTime {
		v.OnTime = 1
	}
	if c.CloseWorkingDays != nil {
		v.Timed, v.Days = 1, *c.CloseWorkingDays
	}
	if c.Rating != nil && *c.Rating >= 1 && *c.Rating <= 5 {
		v.Rated, v.RatingSum = 1, *c.Rating
		v.R[*c.Rating-1] = 1
	}
	return closingCell{Month: s.month(*c.ClosedAt), Agency: *c.AgencyID}, v, true
}

// adjustStats moves complaint old (nil: new) to its state now in the
// rollups. Cells are written in one order, so two transactions moving
// complaints between the same cells never deadlock.
func (s *Store) adjustStats(ctx context.Context, old, now *duban.Complaint) error {
	counts := map[CountCell]int{}
	if old != nil {
		for _, k := range s.countCells(old) {
			counts[k]--
		}
	}
	for _, k := range s.countCells(now) {
		counts[k]++
	}
	for _, k := range slices.SortedFunc(maps.Keys(counts), func(a, b CountCell) int {
		return cmp.Or(cmp.Compare(a.Month, b.Month), cmp.Compare(a.Agency, b.Agency), cmp.Compare(a.Dim, b.Dim), cmp.Compare(a.Value, b.Value))
	}) {
		if counts[k] == 0 {
			continue
		}
		if _, err := s.exec(ctx, `INSERT INTO complaint_counts (month, agency_id, dim, value, n) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (month, agency_id, dim, value) DO UPDATE SET n = complaint_counts.n + excluded.n`,
			k.Month, k.Agency, k.Dim, k.Value, counts[k]); err != nil {
			return fmt.Errorf("complaint counts: %w", err)
		}
	}
	closings := map[closingCell]closingVals{}
	if k, v, ok := s.closingOf(old); ok {
		closings[k] = addVals(closings[k], v.times(-1))
	}
	if k, v, ok := s.closingOf(now); ok {
		closings[k] = addVals(closings[k], v)
	}
	for _, k := range slices.SortedFunc(maps.Keys(closings), func(a, b closingCell) int {
		return cmp.Or(cmp.Compare(a.Month, b.Month), cmp.Compare(a.Agency, b.Agency))
	}) {
		v := closings[k]
		if v == (closingVals{}) {
			continue
		}
		if _, err := s.exec(ctx, `INSERT INTO closing_counts (month, agency_id, closed, on_time, timed, days, rated, rating_sum, r1, r2, r3, r4, r5)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (month, agency_id) DO UPDATE SET closed = closing_counts.closed + excluded.closed,
			on_time = closing_counts.on_time + excluded.on_time, timed = closing_counts.timed + excluded.timed,
			days = closing_counts.days + excluded.days, rated = closing_counts.rated + excluded.rated,
			rating_sum = closing_counts.rating_sum + excluded.rating_sum, r1 = closing_counts.r1 + excluded.r1,
			r2 = closing_counts.r2 + excluded.r2, r3 = closing_counts.r3 + excluded.r3, r4 = closing_counts.r4 + excluded.r4,
			r5 = closing_counts.r5 + excluded.r5`,
			k.Month, k.Agency, v.Closed, v.OnTime, v.Timed, v.Days, v.Rated, v.RatingSum, v.R[0], v.R[1], v.R[2], v.R[3], v.R[4]); err != nil {
			return fmt.Errorf("closing counts: %w", err)
		}
	}
	return nil
}

func addVals(a, b closingVals) closingVals {
	a.Closed, a.OnTime, a.Timed, a.Days, a.Rated, a.RatingSum = a.Closed+b.Closed, a.OnTime+b.OnTime, a.Timed+b.Timed,
		a.Days+b.Days, a.Rated+b.Rated, a.RatingSum+b.RatingSum
	for i := range a.R {
		a.R[i] += b.R[i]
	}
	return a
}

// EnsureStats builds the rollups from the complaints when they were never
// built (a new database, or one from before them) or were counted in
// another time zone; otherwise it does nothing. Run at start-up, after
// Migrate.
func (s *Store) EnsureStats(ctx context.Context) error {
	return s.InTx(ctx, func(tx *Store) error {
		var zones []string
		if err := tx.sel(ctx, &zones, `SELECT zone FROM stats_meta`); err != nil {
			return fmt.Errorf("stats zone: %w", err)
		}
		if len(zones) == 1 && zones[0] == tx.loc.String() {
			return nil
		}
		for _, q := range []string{`DELETE FROM complaint_counts`, `DELETE FROM closing_counts`, `DELETE FROM stats_meta`} {
			if _, err := tx.exec(ctx, q); err != nil {
				return fmt.Errorf("rebuild stats: %w", err)
			}
		}
		if err := tx.rebuildStats(ctx); err != nil {
			return fmt.Errorf("rebuild stats: %w", err)
		}
		if _, err := tx.exec(ctx, `INSERT INTO stats_meta (zone) VALUES (?)`, tx.loc.String()); err != nil {
			return fmt.Errorf("stats zone: %w", err)
		}
		return nil
	})
}

// rebuildStats fills the empty rollups from the complaints: in SQL on
// PostgreSQL, which reads months in the zone's own rules as Go does; on
// SQLite (small, one-machine installs) through the same code as every
// change, over the few columns it needs.
func (s *Store) rebuildStats(ctx context.Context) error {
	if s.dialect == Postgres {
		zone := s.loc.String()
		for _, dim := range []string{"category", "source", "status"} {
			if _, err := s.exec(ctx, `INSERT INTO complaint_counts (month, agency_id, dim, value, n)
				SELECT to_char(created_at AT TIME ZONE ?, 'YYYY-MM'), COALESCE(agency_id, 0), '`+dim+`', `+dim+`, COUNT(*)
				FROM complaints GROUP BY 1, 2, 4`, zone); err != nil {
				return err
			}
		}
		r := func(n int) string { return fmt.Sprintf("SUM(CASE WHEN rating = %d THEN 1 ELSE 0 END)", n) }
		_, err := s.exec(ctx, `INSERT INTO closing_counts (month, agency_id, closed, on_time, timed, days, rated, rating_sum, r1, r2, r3, r4, r5)
			SELECT to_char(closed_at AT TIME ZONE ?, 'YYYY-MM'), agency_id, COUNT(*), SUM(CASE WHEN closed_on_time THEN 1 ELSE 0 END),
				COUNT(close_working_days), COALESCE(SUM(close_working_days), 0),
				SUM(CASE WHEN rating BETWEEN 1 AND 5 THEN 1 ELSE 0 END), COALESCE(SUM(CASE WHEN rating BETWEEN 1 AND 5 THEN rating END), 0),
				`+r(1)+`, `+r(2)+`, `+r(3)+`, `+r(4)+`, `+r(5)+`
			FROM complaints WHERE status = 'closed' AND closed_at IS NOT NULL AND agency_id IS NOT NULL GROUP BY 1, 2`, zone)
		return err
	}
	var all []duban.Complaint
	if err := s.sel(ctx, &all, `SELECT id, status, source, category, agency_id, created_at, closed_at, rating,
		close_working_days, closed_on_time FROM complaints`); err != nil {
		return err
	}
	for i := range all {
		if err := s.adjustStats(ctx, nil, &all[i]); err != nil {
			return err
		}
	}
	return nil
}
