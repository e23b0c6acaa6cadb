package storage_test

import (
	"errors"
	"testing"
	"time"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/storage"
	"github.com/cityhall/duban/storage/storagetest"
)

func TestComplaints_RoundTripFilterAndTimeline(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := t.Context()
		ag := storagetest.Agency(t, s, "SJ", "市场监管局")
		chat := int64(77)
		lat, lon := 31.23, 121.47
		c := &duban.Complaint{TrackingCode: duban.NewTrackingCode(), Status: duban.ComplaintReceived, Source: duban.SourceTelegram,
			Category: duban.CategoryIllegalFine, AgencyID: &ag.ID, Description: "执法人员乱罚款 100% 无依据", Location: "人民广场",
			Latitude: &lat, Longitude: &lon, ReporterName: "匿名", ReporterChatID: &chat, ReporterLocale: duban.LocaleZH}
		if err := s.CreateComplaint(ctx, c); err != nil {
			t.Fatal(err)
		}
		dup := *c
		if err := s.CreateComplaint(ctx, &dup); !errors.Is(err, duban.ErrConflict) {
			t.Fatalf("same tracking code: %v, want conflict", err)
		}
		got, err := s.ComplaintByCode(ctx, c.TrackingCode)
		if err != nil || got.ID != c.ID || *got.Latitude != lat || *got.ReporterChatID != chat {
			t.Fatalf("by code: %+v %v", got, err)
		}
		due := time.Date(2026, 12, 8, 15, 59, 59, 0, time.UTC)
		got.Status, got.DueAt = duban.ComplaintAssigned, &due
		if err := s.UpdateComplaint(ctx, got); err != nil {
			t.Fatal(err)
		}
		after := due.Add(time.Second)
		for _, tt := range []struct {
			name string
			f    storage.ComplaintFilter
			want int
		}{
			{"by status", storage.ComplaintFilter{Status: duban.ComplaintAssigned}, 1},
			{"other status", storage.ComplaintFilter{Status: duban.ComplaintClosed}, 0},
			{"overdue", storage.ComplaintFilter{OverdueAt: &after}, 1},
			{"not yet overdue", storage.ComplaintFilter{OverdueAt: &due}, 0},
			{"query with a percent sign", storage.ComplaintFilter{Query: "100%"}, 1},
			{"query missing", storage.ComplaintFilter{Query: "不存在"}, 0},
			{"by codes", storage.ComplaintFilter{Codes: []string{c.TrackingCode, "X"}}, 1},
			{"by agency", storage.ComplaintFilter{AgencyID: &ag.ID}, 1},
		} {
			list, err := s.Complaints(ctx, tt.f)
			if err != nil || len(list) != tt.want {
				t.Errorf("%s: %d complaints, %v; want %d", tt.name, len(list), err, tt.want)
			}
		}
		for _, a := range []duban.Action{duban.ActionAccept, duban.ActionAssign} {
			if err := s.AppendEvent(ctx, &duban.Event{ComplaintID: c.ID, Action: a, Actor: "person:1", At: time.Now(), Public: true}); err != nil {
				t.Fatal(err)
			}
		}
		evs, err := s.Events(ctx, c.ID)
		if err != nil || len(evs) != 2 || evs[0].Action != duban.ActionAccept {
			t.Fatalf("events %+v %v", evs, err)
		}
		if ok, _ := s.MarkSLA(ctx, c.ID, "urge", "2026-12-07"); !ok {
			t.Error("first urge of the day not recorded")
		}
		if ok, _ := s.MarkSLA(ctx, c.ID, "urge", "2026-12-07"); ok {
			t.Error("second urge of the same day recorded")
		}
		if err := s.SaveIdempotencyKey(ctx, "k1", c.ID); err != nil {
			t.Fatal(err)
		}
		if err := s.SaveIdempotencyKey(ctx, "k1", c.ID); !errors.Is(err, duban.ErrConflict) {
			t.Errorf("key twice: %v", err)
		}
		if byKey, err := s.ComplaintByIdempotencyKey(ctx, "k1"); err != nil || byKey.ID != c.ID {
			t.Errorf("by key: %v", err)
		}
		for i := 1; i <= 3; i++ {
			n, err := s.RecordStatusLookup(ctx, 5, time.Now().Add(-time.Hour))
			if err != nil || n != i {
				t.Errorf("lookup %d counted %d, %v", i, n, err)
			}
		}
		if created, _ := s.CreateCallbackTask(ctx, c.ID, "accepted"); !created {
			t.Error("callback task not created")
		}
		if created, _ := s.CreateCallbackTask(ctx, c.ID, "accepted"); created {
			t.Error("the same callback task twice")
		}
		counts, err := s.CountComplaints(ctx, "category", time.Now().Add(-time.Hour), time.Now().Add(time.Hour), duban.Scope{All: true})
		if err != nil || len(counts) != 1 || counts[0].N != 1 {
			t.Errorf("counts %+v %v", counts, err)
		}
	})
}
