package storage_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/internal/testenv"
	"github.com/cityhall/duban/storage"
	"github.com/cityhall/duban/storage/storagetest"
)

// TestStats_RollupsFollowEveryChangeAndARebuildAgrees: complaints filed,
// assigned, moved, closed, rated, reopened and merged across a month's
// end; the reports' rollups then hold exactly what counting the
// complaints gives, and building them again from scratch gives the same.
func TestStats_RollupsFollowEveryChangeAndARebuildAgrees(t *testing.T) {
	storagetest.EachURL(t, func(t *testing.T, url string) {
		sh := testenv.Shanghai()
		clock := duban.NewManualClock(time.Date(2026, 2, 28, 23, 30, 0, 0, sh)) // 15:30 UTC: February here, and in UTC
		s := storagetest.Open(t, url, storage.WithClock(clock))
		ctx := context.Background()
		ga, sf := storagetest.Agency(t, s, "GA", "市公安局"), storagetest.Agency(t, s, "SF", "市司法局")
		file := func(code string, cat duban.Category) *duban.Complaint {
			c := &duban.Complaint{TrackingCode: code, Status: duban.ComplaintReceived, Source: duban.SourceHotlineCall,
				Category: cat, Description: "x", ReporterLocale: duban.LocaleZH}
			if err := s.CreateComplaint(ctx, c); err != nil {
				t.Fatal(err)
			}
			return c
		}
		update := func(c *duban.Complaint, change func(c *duban.Complaint)) {
			change(c)
			if err := s.UpdateComplaint(ctx, c); err != nil {
				t.Fatal(err)
			}
		}
		a, b := file("AAAA", duban.CategoryIllegalFine), file("BBBB", duban.CategoryInaction)
		clock.Set(time.Date(2026, 3, 1, 0, 30, 0, 0, sh)) // March here, still February in UTC
		c, d := file("CCCC", duban.CategoryIllegalFee), file("DDDD", duban.CategoryIllegalFine)
		now := clock.Now()
		yes, no, three, five, four := true, false, 3, 5, 4
		update(a, func(c *duban.Complaint) { c.Status, c.AgencyID, c.AssignedAt = duban.ComplaintAssigned, &ga.ID, &now })
		update(a, func(c *duban.Complaint) { c.AgencyID = &sf.ID }) // moved to another agency
		update(a, func(c *duban.Complaint) {
			c.Status, c.ClosedAt = duban.ComplaintClosed, &now
			c.ClosedOnTime, c.CloseWorkingDays = &yes, &three
		})
		update(a, func(c *duban.Complaint) { c.Rating = &five }) // rated
		update(b, func(c *duban.Complaint) {
			c.Status, c.AgencyID, c.ClosedAt = duban.ComplaintClosed, &ga.ID, &now
			c.ClosedOnTime, c.CloseWorkingDays = &no, &five
		})
		update(b, func(c *duban.Complaint) { c.Rating = &four })
		update(b, func(c *duban.Complaint) {
			c.Status, c.ClosedAt, c.Rating, c.ClosedOnTime, c.CloseWorkingDays = duban.ComplaintAccepted, nil, nil, nil, nil
		}) // reopened
		update(c, func(x *duban.Complaint) { x.Status, x.MergedInto, x.ClosedAt = duban.ComplaintMerged, &d.ID, &now })
		update(d, func(c *duban.Complaint) { c.Category = duban.CategoryAbuse })

		months := []string{"2026-02", "2026-03"}
		check := func(when string) {
			t.Helper()
			rolled, err := s.CountedBreakdown(ctx, months, nil)
			if err != nil {
				t.Fatal(err)
			}
			counted := storage.NewBreakdown()
			for _, m := range []struct {
				name     string
				from, to time.Time
			}{{"2026-02", time.Date(2026, 2, 1, 0, 0, 0, 0, sh), time.Date(2026, 3, 1, 0, 0, 0, 0, sh)},
				{"2026-03", time.Date(2026, 3, 1, 0, 0, 0, 0, sh), time.Date(2026, 4, 1, 0, 0, 0, 0, sh)}} {
				b, err := s.ComplaintBreakdown(ctx, m.from, m.to, m.name, nil)
				if err != nil {
					t.Fatal(err)
				}
				counted = counted.Add(b)
			}
			if diff := cmp.Diff(counted, rolled, cmpopts.EquateEmpty(), cmpopts.IgnoreMapEntries(func(_ any, n int) bool { return n == 0 })); diff != "" {
				t.Errorf("%s: the rollup disagrees with the complaints (-counted +rolled):\n%s", when, diff)
			}
			if rolled.Total != 4 || rolled.ByMonth["2026-02"] != 2 || rolled.ByAgency[sf.ID] != 1 || rolled.ByStatus["merged"] != 1 ||
				rolled.ByCategory["abuse"] != 1 {
				t.Errorf("%s: rolled up %+v", when, rolled)
			}
			closed, err := s.ClosedCells(ctx, months, nil)
			if err != nil {
				t.Fatal(err)
			}
			direct, err := s.Closing(ctx, time.Date(2026, 2, 1, 0, 0, 0, 0, sh), time.Date(2026, 4, 1, 0, 0, 0, 0, sh), nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(closed) != 1 || len(direct) != 1 || closed[0] != direct[0] || closed[0].Agency != sf.ID ||
				closed[0].Closed != 1 || closed[0].OnTime != 1 || closed[0].Days != 3 || closed[0].R5 != 1 || closed[0].Rated != 1 {
				t.Errorf("%s: closings rolled up %+v, counted %+v; want SF's one closing, on time, rated 5", when, closed, direct)
			}
		}
		check("as kept")
		if _, err := s.DB().Exec(`DELETE FROM stats_meta`); err != nil {
			t.Fatal(err)
		}
		if _, err := s.DB().Exec(`UPDATE complaint_counts SET n = n + 7`); err != nil { // whatever was there is rebuilt
			t.Fatal(err)
		}
		if err := s.EnsureStats(ctx); err != nil {
			t.Fatal(err)
		}
		check("rebuilt")
	})
}
