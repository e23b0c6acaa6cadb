package reports_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/i18n"
	"github.com/cityhall/duban/internal/testenv"
	"github.com/cityhall/duban/reports"
	"github.com/cityhall/duban/storage/storagetest"
)

// seedYear fills a PostgreSQL store with a year of work at the scale the
// office plans for: 50 agencies, 1,000,000 complaints and 10,000 hearings
// in 2026, generated in the database (inserting them one by one would
// take longer than the benchmark).
func seedYear(b *testing.B, url string) {
	b.Helper()
	st := storagetest.Open(b, url)
	db := st.DB()
	for _, q := range []string{
		`INSERT INTO agencies (code, name, created_at, updated_at) SELECT 'A' || g, '机关' || g, now(), now() FROM generate_series(1, 50) g`,
		`INSERT INTO complaints (tracking_code, status, source, category, agency_id, description, assigned_at, due_at,
			closed_at, rating, close_working_days, closed_on_time, created_at, updated_at)
		SELECT 'C' || g,
			-- Older complaints are done with; the last month's are still moving.
			CASE WHEN g < 920000 THEN (ARRAY['rejected','merged','closed','closed','closed','closed','closed','closed'])[1 + g % 8]
				ELSE (ARRAY['received','accepted','rejected','assigned','replied','closed','closed','closed'])[1 + g % 8] END,
			(ARRAY['telegram','hotline_call','media','open311','npc_deputy','cppcc_member','other'])[1 + g % 7],
			(ARRAY['illegal_fine','illegal_fee','illegal_levy','inaction','abuse','efficiency','other'])[1 + (g / 7) % 7],
			CASE WHEN g % 8 >= 3 THEN 1 + g % 50 END,
			'执法人员在检查中未出示证件，当场罚款二百元且未开具票据，请求核查处理。',
			CASE WHEN g % 8 >= 3 THEN t END, CASE WHEN g % 8 >= 3 THEN t + interval '7 days' END,
			CASE WHEN g % 8 >= 5 THEN t + ((g % 12) || ' days')::interval END,
			CASE WHEN g % 8 >= 5 AND g % 3 = 0 THEN 1 + g % 5 END,
			CASE WHEN g % 8 >= 5 THEN g % 12 END, CASE WHEN g % 8 >= 5 THEN g % 12 < 8 END,
			t, t
		FROM (SELECT g, timestamptz '2026-01-01 00:00+08' + (g * interval '31.5 seconds') AS t
			FROM generate_series(1, 1000000) g) s`,
		`INSERT INTO hearings (case_number, court, starts_at, plaintiff, cause, status, created_at, updated_at)
		SELECT '(2026)沪01行初' || g || '号', '市中级人民法院', timestamptz '2026-01-02 09:30+08' + (g * interval '52 minutes'),
			'原告', '行政处罚', CASE WHEN g % 10 = 0 THEN 'cancelled' ELSE 'held' END, now(), now()
		FROM generate_series(1, 10000) g`,
		`INSERT INTO hearing_agencies (hearing_id, agency_id, outcome)
		SELECT id, 1 + id % 50, (ARRAY['head','deputy','none'])[1 + id % 3] FROM hearings`,
		`DELETE FROM stats_meta`, // the rollups are built from what the seed wrote, as after an upgrade
	} {
		if _, err := db.Exec(q); err != nil {
			b.Fatalf("seed: %v", err)
		}
	}
	start := time.Now()
	if err := st.EnsureStats(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.Logf("rollups built in %s", time.Since(start).Round(time.Millisecond))
	if _, err := db.Exec(`ANALYZE`); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkReports_YearAtScale runs each of the year's reports — the
// appearance by month, and the complaints report with its closing and
// satisfaction — for the office and for one agency, and reports the p50
// and p95 of a call, as the page or the API waits for it.
func BenchmarkReports_YearAtScale(b *testing.B) {
	url := storagetest.PostgresURL(b)
	seedYear(b, url)
	st := storagetest.Open(b, url)
	sh := testenv.Shanghai()
	rs := reports.New(st, sh, duban.NewManualClock(time.Date(2026, 12, 31, 18, 0, 0, 0, sh)), i18n.MustNew())
	rg := reports.Range{From: time.Date(2026, 1, 1, 0, 0, 0, 0, sh), To: time.Date(2026, 12, 31, 0, 0, 0, 0, sh)}
	agency := int64(7)
	ctx := context.Background()
	for _, tc := range []struct {
		name  string
		scope duban.Scope
	}{{"office", duban.Scope{All: true}}, {"agency", duban.Scope{Agency: &agency}}} {
		for _, rep := range []struct {
			name string
			run  func() error
		}{
			{"appearance", func() error { _, err := rs.Appearance(ctx, rg, reports.Month, tc.scope); return err }},
			{"complaints", func() error { _, err := rs.Complaints(ctx, rg, tc.scope); return err }},
		} {
			b.Run(tc.name+"/"+rep.name, func(b *testing.B) {
				var lat []time.Duration
				for b.Loop() {
					start := time.Now()
					if err := rep.run(); err != nil {
						b.Fatal(err)
					}
					lat = append(lat, time.Since(start))
				}
				slices.Sort(lat)
				b.ReportMetric(float64(lat[len(lat)*95/100].Microseconds())/1000, "p95-ms")
				b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
			})
		}
	}
}
