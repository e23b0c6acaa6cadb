package storage_test

import (
	"testing"
	"time"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/storage"
	"github.com/cityhall/duban/storage/storagetest"
)

func TestReminders_CreateThenRead(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := t.Context()
		h := newHearing(t, s, "(2026)沪0101行初20号", t0, newAgency(t, s, "GA"))
		r := &duban.Reminder{HearingAgencyID: h.Agencies[0].ID, HearingID: h.ID, Kind: duban.KindEscalation,
			OffsetSeconds: 86400, DueAt: t0.Add(-24 * time.Hour), Status: duban.ReminderSent}
		must(t, s.CreateReminder(ctx, r))
		if r.ID == 0 || r.Status != duban.ReminderPending {
			t.Fatalf("created reminder = %+v, want an id and pending", r)
		}
		got, err := s.ReminderByID(ctx, r.ID)
		must(t, err)
		diff(t, "read back", r, got)
		_, err = s.ReminderByID(ctx, 9999)
		mustIs(t, err, duban.ErrNotFound, "unknown reminder")

		early := newReminder(t, s, h, t0.Add(-48*time.Hour))
		all, err := s.RemindersOfHearing(ctx, h.ID)
		must(t, err)
		diff(t, "reminders of hearing by due time", []int64{early.ID, r.ID}, ids(all, reminderID))
	})
}

func TestReminders_CancelPendingReturnsOnlyThePendingOnes(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := t.Context()
		ga := newAgency(t, s, "GA")
		h := newHearing(t, s, "(2026)沪0101行初21号", t0, ga)
		other := newHearing(t, s, "(2026)沪0101行初22号", t0, ga)
		sent := newReminder(t, s, h, t0.Add(-72*time.Hour))
		p1 := newReminder(t, s, h, t0.Add(-24*time.Hour))
		p2 := newReminder(t, s, h, t0.Add(-time.Hour))
		untouched := newReminder(t, s, other, t0.Add(-time.Hour))
		if ok, err := s.FinishReminder(ctx, sent.ID, duban.ReminderSent, t0.Add(-72*time.Hour)); err != nil || !ok {
			t.Fatalf("finish: %v, %v", ok, err)
		}

		cancelled, err := s.CancelPendingReminders(ctx, h.ID)
		must(t, err)
		got := ids(cancelled, reminderID)
		if len(got) != 2 || !(got[0] == p1.ID && got[1] == p2.ID || got[0] == p2.ID && got[1] == p1.ID) {
			t.Fatalf("cancelled = %v, want %d and %d", got, p1.ID, p2.ID)
		}
		for _, r := range cancelled {
			if r.HearingID != h.ID || r.DueAt.IsZero() {
				t.Errorf("returned reminder lacks its fields: %+v", r)
			}
		}

		wantStatus := map[int64]duban.ReminderStatus{sent.ID: duban.ReminderSent, p1.ID: duban.ReminderCancelled,
			p2.ID: duban.ReminderCancelled, untouched.ID: duban.ReminderPending}
		for id, want := range wantStatus {
			r, err := s.ReminderByID(ctx, id)
			must(t, err)
			if r.Status != want {
				t.Errorf("reminder %d is %s, want %s", id, r.Status, want)
			}
		}
		again, err := s.CancelPendingReminders(ctx, h.ID)
		must(t, err)
		if len(again) != 0 {
			t.Errorf("second cancel returned %v, want none", ids(again, reminderID))
		}
	})
}

func TestReminders_FinishIsCompareAndSet(t *testing.T) {
	tests := []struct {
		name   string
		first  duban.ReminderStatus
		second duban.ReminderStatus
	}{
		{"sent, then sent again", duban.ReminderSent, duban.ReminderSent},
		{"skipped, then sent", duban.ReminderSkipped, duban.ReminderSent},
		{"failed, then sent", duban.ReminderFailed, duban.ReminderSent},
	}
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := t.Context()
		h := newHearing(t, s, "(2026)沪0101行初23号", t0, newAgency(t, s, "GA"))
		for _, tt := range tests {
			r := newReminder(t, s, h, t0.Add(-time.Hour))
			at := t0.Add(-time.Hour + 250*time.Millisecond)
			ok, err := s.FinishReminder(ctx, r.ID, tt.first, at)
			must(t, err)
			if !ok {
				t.Fatalf("%s: first finish = false", tt.name)
			}
			ok, err = s.FinishReminder(ctx, r.ID, tt.second, at.Add(time.Minute))
			must(t, err)
			if ok {
				t.Errorf("%s: second finish = true, want false", tt.name)
			}
			got, err := s.ReminderByID(ctx, r.ID)
			must(t, err)
			if got.Status != tt.first || got.SentAt == nil || !got.SentAt.Equal(at) {
				t.Errorf("%s: reminder = %s at %v, want %s at %v", tt.name, got.Status, got.SentAt, tt.first, at)
			}
		}

		c := newReminder(t, s, h, t0.Add(-2*time.Hour))
		_, err := s.CancelPendingReminders(ctx, h.ID)
		must(t, err)
		ok, err := s.FinishReminder(ctx, c.ID, duban.ReminderSent, t0)
		must(t, err)
		if ok {
			t.Error("finishing a cancelled reminder = true, want false")
		}
		ok, err = s.FinishReminder(ctx, 9999, duban.ReminderSent, t0)
		if err != nil || ok {
			t.Errorf("finishing an unknown reminder = %v, %v; want false, nil", ok, err)
		}
	})
}

func TestReminders_PendingDueBeforeLimitAndOrder(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := t.Context()
		ga := newAgency(t, s, "GA")
		h := newHearing(t, s, "(2026)沪0101行初24号", t0.Add(72*time.Hour), ga)
		// Created out of due order; two share a due time, ordered by id.
		r3 := newReminder(t, s, h, t0.Add(3*time.Hour))
		r1 := newReminder(t, s, h, t0.Add(time.Hour))
		r2a := newReminder(t, s, h, t0.Add(2*time.Hour))
		r2b := newReminder(t, s, h, t0.Add(2*time.Hour))
		done := newReminder(t, s, h, t0)
		newReminder(t, s, h, t0.Add(48*time.Hour)) // not due yet
		if ok, err := s.FinishReminder(ctx, done.ID, duban.ReminderSent, t0); err != nil || !ok {
			t.Fatalf("finish: %v, %v", ok, err)
		}

		tests := []struct {
			name  string
			limit int
			want  []int64
		}{
			{"all due", 100, []int64{r1.ID, r2a.ID, r2b.ID, r3.ID}},
			{"limit takes the oldest", 3, []int64{r1.ID, r2a.ID, r2b.ID}},
			{"limit one", 1, []int64{r1.ID}},
		}
		for _, tt := range tests {
			got, err := s.PendingRemindersDueBefore(ctx, t0.Add(24*time.Hour), tt.limit)
			must(t, err)
			diff(t, tt.name, tt.want, ids(got, reminderID))
		}
	})
}

func TestReminders_PendingAfterPagesByID(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := t.Context()
		ga := newAgency(t, s, "GA")
		h := newHearing(t, s, "(2026)沪0101行初25号", t0.Add(72*time.Hour), ga)
		// Created out of due order: pages follow the id, not the due time.
		r1 := newReminder(t, s, h, t0.Add(3*time.Hour))
		r2 := newReminder(t, s, h, t0.Add(time.Hour))
		done := newReminder(t, s, h, t0)
		newReminder(t, s, h, t0.Add(48*time.Hour)) // not due yet
		r3 := newReminder(t, s, h, t0.Add(2*time.Hour))
		r4 := newReminder(t, s, h, t0.Add(2*time.Hour))
		if ok, err := s.FinishReminder(ctx, done.ID, duban.ReminderSent, t0); err != nil || !ok {
			t.Fatalf("finish: %v, %v", ok, err)
		}

		tests := []struct {
			name    string
			afterID int64
			limit   int
			want    []int64
		}{
			{"first page", 0, 2, []int64{r1.ID, r2.ID}},
			{"next page skips the finished and the not yet due", r2.ID, 2, []int64{r3.ID, r4.ID}},
			{"last page", r4.ID, 2, []int64{}},
			{"all at once", 0, 100, []int64{r1.ID, r2.ID, r3.ID, r4.ID}},
		}
		for _, tt := range tests {
			got, err := s.PendingRemindersAfter(ctx, t0.Add(24*time.Hour), tt.afterID, tt.limit)
			must(t, err)
			diff(t, tt.name, tt.want, ids(got, reminderID))
		}
	})
}
