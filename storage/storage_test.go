package storage_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/storage"
	"github.com/cityhall/duban/storage/storagetest"
)

func TestHearings_RoundTripAndConflict(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		a := storagetest.Agency(t, s, "GA", "公安局")
		b := storagetest.Agency(t, s, "GOV", "市政府")
		start := time.Date(2026, 12, 10, 1, 30, 0, 0, time.UTC)
		h := &duban.Hearing{CaseNumber: "(2026)沪0101行初1号", Court: "黄浦区人民法院", StartsAt: start,
			Plaintiff: "张三", Cause: "行政处罚", Agencies: []duban.HearingAgency{{AgencyID: a.ID}, {AgencyID: b.ID}}}
		if err := s.CreateHearing(ctx, h); err != nil {
			t.Fatal(err)
		}
		got, err := s.HearingByCaseStart(ctx, h.CaseNumber, start)
		if err != nil {
			t.Fatal(err)
		}
		if !got.StartsAt.Equal(start) || len(got.Agencies) != 2 || got.Agencies[1].AgencyCode != "GOV" {
			t.Fatalf("round trip: %+v", got)
		}
		dup := &duban.Hearing{CaseNumber: h.CaseNumber, Court: "x", StartsAt: start, Plaintiff: "x", Cause: "x"}
		if err := s.CreateHearing(ctx, dup); !errors.Is(err, duban.ErrConflict) {
			t.Fatalf("duplicate: %v, want ErrConflict", err)
		}
		r := &duban.Reminder{HearingAgencyID: h.Agencies[0].ID, HearingID: h.ID, Kind: duban.KindReminder, DueAt: start.Add(-time.Hour)}
		if err := s.CreateReminder(ctx, r); err != nil {
			t.Fatal(err)
		}
		due, err := s.PendingRemindersDueBefore(ctx, start, 10)
		if err != nil || len(due) != 1 {
			t.Fatalf("due = %v, %v", due, err)
		}
		before, err := s.PendingRemindersDueBefore(ctx, start.Add(-time.Hour), 10)
		if err != nil || len(before) != 0 {
			t.Fatalf("due before its time = %v, %v", before, err)
		}
	})
}
