package storage_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/storage"
	"github.com/cityhall/duban/storage/storagetest"
)

// SQLite keeps times as text, so both dialects must agree on what a time
// reads back as and on how two times compare.

func TestTimes_ShanghaiSubSecondReadsBackEqual(t *testing.T) {
	times := []time.Time{
		t0,
		t0.Add(123456789 * time.Nanosecond),
		t0.Add(500 * time.Millisecond),
		t0.Add(999999999 * time.Nanosecond),
		time.Date(2026, 1, 1, 7, 59, 59, 999999000, shanghai), // still 2025 in UTC
		time.Date(2026, 3, 8, 2, 30, 0, 1000, time.FixedZone("", -5*3600)),
	}
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := t.Context()
		ga := newAgency(t, s, "GA")
		for i, at := range times {
			want := at.Truncate(time.Microsecond)
			h := newHearing(t, s, fmt.Sprintf("T%d", i), at, ga)
			r := newReminder(t, s, h, at.Add(-time.Hour))
			ha := h.Agencies[0]
			ha.Answer, ha.AnsweredAt = duban.AnswerConfirmed, &at
			must(t, s.SetAnswer(ctx, &ha))
			ok, err := s.FinishReminder(ctx, r.ID, duban.ReminderSent, at)
			must(t, err)
			if !ok {
				t.Fatal("finish reminder: false")
			}

			got, err := s.HearingByCaseStart(ctx, h.CaseNumber, at) // found by the untruncated time
			must(t, err)
			if !got.StartsAt.Equal(want) {
				t.Errorf("%v: starts_at read back %v, want %v", at, got.StartsAt, want)
			}
			if a := got.Agencies[0].AnsweredAt; a == nil || !a.Equal(want) {
				t.Errorf("%v: answered_at read back %v, want %v", at, a, want)
			}
			rem, err := s.ReminderByID(ctx, r.ID)
			must(t, err)
			if !rem.DueAt.Equal(want.Add(-time.Hour)) || rem.SentAt == nil || !rem.SentAt.Equal(want) {
				t.Errorf("%v: reminder read back due %v sent %v", at, rem.DueAt, rem.SentAt)
			}
		}
	})
}

func TestTimes_DueBeforeIsStrictAtTheBoundary(t *testing.T) {
	// Fractions of different lengths: as text, "…:00+00:00", "…:00.1+00:00"
	// and "…:00.12+00:00" must still order as the times do.
	offsets := []time.Duration{
		-time.Microsecond,
		0,
		time.Microsecond,
		5 * time.Millisecond,
		100 * time.Millisecond,
		120 * time.Millisecond,
		999999 * time.Microsecond,
		time.Second,
		10 * time.Second,
	}
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := t.Context()
		h := newHearing(t, s, "(2026)沪0101行初12号", t0.Add(24*time.Hour), newAgency(t, s, "GA"))
		due := map[int64]time.Duration{}
		for _, off := range offsets {
			due[newReminder(t, s, h, t0.Add(off)).ID] = off
		}
		for _, at := range offsets {
			for _, loc := range []*time.Location{shanghai, time.UTC} {
				cut := t0.Add(at).In(loc)
				got, err := s.PendingRemindersDueBefore(ctx, cut, 100)
				must(t, err)
				var gotOffs, want []time.Duration
				for _, r := range got {
					gotOffs = append(gotOffs, due[r.ID])
				}
				for _, off := range offsets {
					if off < at { // due == t is not before t
						want = append(want, off)
					}
				}
				diff(t, fmt.Sprintf("due before t0%+v (%s)", at, loc), want, gotOffs)
			}
		}
	})
}

func TestTimes_HearingWindowBoundariesAreExact(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := t.Context()
		ga := newAgency(t, s, "GA")
		whole := newHearing(t, s, "W", t0, ga)
		frac := newHearing(t, s, "F", t0.Add(100*time.Millisecond), ga)
		tests := []struct {
			name     string
			from, to time.Time
			want     []int64
		}{
			{"from the whole second", t0, t0.Add(time.Hour), []int64{whole.ID, frac.ID}},
			{"from a microsecond later", t0.Add(time.Microsecond), t0.Add(time.Hour), []int64{frac.ID}},
			{"to the fraction", t0.Add(-time.Hour), t0.Add(100 * time.Millisecond), []int64{whole.ID}},
			{"to just past it", t0.Add(-time.Hour), t0.Add(100*time.Millisecond + time.Microsecond), []int64{whole.ID, frac.ID}},
		}
		for _, tt := range tests {
			got, err := s.Hearings(ctx, storage.HearingFilter{From: ptr(tt.from.UTC()), To: ptr(tt.to)})
			must(t, err)
			diff(t, tt.name, tt.want, ids(got, hearingID))
		}
	})
}
