package storage_test

import (
	"testing"
	"time"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/storage"
	"github.com/cityhall/duban/storage/storagetest"
)

func TestReportLimits_CountPerHashSinceAndPruneTheOld(t *testing.T) {
	clock := duban.NewManualClock(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := t.Context()
		must(t, s.RecordReportFiled(ctx, "aaa"))
		clock.Advance(time.Hour)
		must(t, s.RecordReportFiled(ctx, "aaa"))
		must(t, s.RecordReportFiled(ctx, "bbb"))

		n, err := s.ReportsFiledSince(ctx, "aaa", clock.Now().Add(-24*time.Hour))
		must(t, err)
		if n != 2 {
			t.Errorf("aaa filed %d within a day, want 2", n)
		}
		n, err = s.ReportsFiledSince(ctx, "aaa", clock.Now().Add(-30*time.Minute))
		must(t, err)
		if n != 1 {
			t.Errorf("aaa filed %d within half an hour, want 1", n)
		}

		gone, err := s.PruneReportLimits(ctx, clock.Now().Add(-30*time.Minute))
		must(t, err)
		if gone != 1 {
			t.Errorf("pruned %d, want the one older row", gone)
		}
		n, err = s.ReportsFiledSince(ctx, "aaa", time.Time{})
		must(t, err)
		if n != 1 {
			t.Errorf("aaa has %d rows after the prune, want 1", n)
		}
	}, storage.WithClock(clock))
}
