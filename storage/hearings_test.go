package storage_test

import (
	"testing"
	"time"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/storage"
	"github.com/cityhall/duban/storage/storagetest"
)

func TestHearings_CreateWithSeveralAgencies(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := t.Context()
		ga, gov, edu := newAgency(t, s, "GA"), newAgency(t, s, "GOV"), newAgency(t, s, "EDU")
		h := newHearing(t, s, "(2026)沪0101行初7号", t0, gov, ga, edu)
		if h.ID == 0 || h.Status != duban.HearingScheduled {
			t.Fatalf("created hearing = %+v", h)
		}

		got, err := s.HearingByID(ctx, h.ID)
		must(t, err)
		if got.CaseNumber != h.CaseNumber || got.Court != h.Court || got.Courtroom != h.Courtroom ||
			got.Plaintiff != h.Plaintiff || got.Cause != h.Cause || !got.StartsAt.Equal(t0) || got.Status != duban.HearingScheduled {
			t.Errorf("hearing read back = %+v, want %+v", got, h)
		}
		var codes []string
		for i, ha := range got.Agencies {
			codes = append(codes, ha.AgencyCode)
			if ha.ID != h.Agencies[i].ID || ha.HearingID != h.ID || ha.Answer != duban.AnswerNone ||
				ha.Outcome != nil || ha.AnsweredAt != nil || ha.AgencyName != "机关 "+ha.AgencyCode {
				t.Errorf("agency %d read back = %+v", i, ha)
			}
		}
		diff(t, "agencies in the order given", []string{"GOV", "GA", "EDU"}, codes)

		byCase, err := s.HearingByCaseStart(ctx, h.CaseNumber, t0.UTC())
		must(t, err)
		if byCase.ID != h.ID || len(byCase.Agencies) != 3 {
			t.Errorf("by case and start = %+v", byCase)
		}
	})
}

func TestHearings_CaseAndStartAreUnique(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := t.Context()
		ga := newAgency(t, s, "GA")
		h := newHearing(t, s, "(2026)沪0101行初8号", t0, ga)
		dup := &duban.Hearing{CaseNumber: h.CaseNumber, Court: "x", StartsAt: t0.UTC(), Plaintiff: "x", Cause: "x",
			Agencies: []duban.HearingAgency{{AgencyID: ga.ID}}}
		mustIs(t, s.CreateHearing(ctx, dup), duban.ErrConflict, "same case, same start")
		// A case may have several hearings.
		next := newHearing(t, s, h.CaseNumber, t0.Add(7*24*time.Hour), ga)

		for name, call := range map[string]func() error{
			"unknown case":              func() error { _, err := s.HearingByCaseStart(ctx, "(2026)沪0101行初9号", t0); return err },
			"known case, no such start": func() error { _, err := s.HearingByCaseStart(ctx, h.CaseNumber, t0.Add(time.Hour)); return err },
			"by id":                     func() error { _, err := s.HearingByID(ctx, 9999); return err },
			"agency by id":              func() error { _, err := s.HearingAgencyByID(ctx, 9999); return err },
		} {
			mustIs(t, call(), duban.ErrNotFound, name)
		}

		// Moving a hearing onto its sibling's time is the same conflict.
		next.StartsAt = t0
		mustIs(t, s.UpdateHearing(ctx, next), duban.ErrConflict, "reschedule onto the same start")
	})
}

func TestHearings_FilterByAgencyTimeAndStatus(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := t.Context()
		ga, gov, edu := newAgency(t, s, "GA"), newAgency(t, s, "GOV"), newAgency(t, s, "EDU")
		// Created out of start order: the list orders by start.
		d := newHearing(t, s, "D", t0.Add(24*time.Hour), edu)
		b := newHearing(t, s, "B", t0.Add(time.Hour), gov)
		a := newHearing(t, s, "A", t0, ga, gov)
		c := newHearing(t, s, "C", t0.Add(2*time.Hour), ga)
		c.Status = duban.HearingCancelled
		must(t, s.UpdateHearing(ctx, c))

		tests := []struct {
			name string
			f    storage.HearingFilter
			want []int64
		}{
			{"all", storage.HearingFilter{}, []int64{a.ID, b.ID, c.ID, d.ID}},
			{"agency GA", storage.HearingFilter{AgencyID: &ga.ID}, []int64{a.ID, c.ID}},
			{"from is inclusive", storage.HearingFilter{From: ptr(t0.Add(time.Hour))}, []int64{b.ID, c.ID, d.ID}},
			{"to is exclusive", storage.HearingFilter{To: ptr(t0.Add(2 * time.Hour))}, []int64{a.ID, b.ID}},
			{"from and to", storage.HearingFilter{From: ptr(t0.Add(time.Hour)), To: ptr(t0.Add(24 * time.Hour))}, []int64{b.ID, c.ID}},
			{"cancelled", storage.HearingFilter{Status: duban.HearingCancelled}, []int64{c.ID}},
			{"scheduled of GOV", storage.HearingFilter{Status: duban.HearingScheduled, AgencyID: &gov.ID}, []int64{a.ID, b.ID}},
			{"limit", storage.HearingFilter{Limit: 2}, []int64{a.ID, b.ID}},
			{"nothing", storage.HearingFilter{From: ptr(t0.Add(48 * time.Hour))}, []int64{}},
		}
		for _, tt := range tests {
			got, err := s.Hearings(ctx, tt.f)
			must(t, err)
			diff(t, tt.name, tt.want, ids(got, hearingID))
		}

		all, err := s.Hearings(ctx, storage.HearingFilter{AgencyID: &gov.ID})
		must(t, err)
		if len(all) == 0 || len(all[0].Agencies) != 2 || all[0].Agencies[0].AgencyCode != "GA" {
			t.Errorf("filtered by GOV, hearing A should keep both its agencies: %+v", all)
		}
	})
}

func TestHearings_UpdateMovesStartCourtroomAndStatus(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := t.Context()
		h := newHearing(t, s, "(2026)沪0101行初10号", t0, newAgency(t, s, "GA"))
		moved := t0.Add(26*time.Hour + 15*time.Minute)
		h.StartsAt, h.Courtroom, h.Status = moved, "第三法庭", duban.HearingHeld
		must(t, s.UpdateHearing(ctx, h))

		got, err := s.HearingByCaseStart(ctx, h.CaseNumber, moved)
		must(t, err)
		if got.ID != h.ID || !got.StartsAt.Equal(moved) || got.Courtroom != "第三法庭" || got.Status != duban.HearingHeld {
			t.Errorf("after update = %+v", got)
		}
		_, err = s.HearingByCaseStart(ctx, h.CaseNumber, t0)
		mustIs(t, err, duban.ErrNotFound, "old start")
		mustIs(t, s.UpdateHearing(ctx, &duban.Hearing{ID: 9999, StartsAt: t0, Status: duban.HearingHeld}), duban.ErrNotFound, "update unknown")
	})
}

func TestHearings_AnswerAndOutcomeRoundTrip(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := t.Context()
		ga, gov := newAgency(t, s, "GA"), newAgency(t, s, "GOV")
		head := newPerson(t, s, "李局长", ga, duban.RoleAgencyHead)
		deputy := newPerson(t, s, "陈副局长", ga, duban.RoleDeputy)
		staff := newPerson(t, s, "王科员", nil, duban.RoleStaff)
		h := newHearing(t, s, "(2026)沪0101行初11号", t0, ga, gov)
		read := func() *duban.HearingAgency {
			t.Helper()
			got, err := s.HearingAgencyByID(ctx, h.Agencies[0].ID)
			must(t, err)
			return got
		}

		ha := h.Agencies[0]
		ha.AgencyCode, ha.AgencyName = "GA", "机关 GA"
		ha.Answer, ha.DelegateName, ha.DelegateReason = duban.AnswerDelegated, "陈副局长", "出差"
		ha.DelegatePersonID, ha.AnsweredBy = &deputy.ID, &head.ID
		ha.AnsweredAt = ptr(t0.Add(-26*time.Hour + 123456789*time.Nanosecond))
		must(t, s.SetAnswer(ctx, &ha))
		want := ha
		want.AnsweredAt = ptr(ha.AnsweredAt.Truncate(time.Microsecond))
		diff(t, "delegated answer", &want, read())

		// Changing the answer clears the delegation.
		ha.Answer, ha.DelegateName, ha.DelegateReason, ha.DelegatePersonID = duban.AnswerConfirmed, "", "", nil
		must(t, s.SetAnswer(ctx, &ha))
		want = ha
		want.AnsweredAt = ptr(ha.AnsweredAt.Truncate(time.Microsecond))
		diff(t, "confirmed answer", &want, read())

		ha.Outcome, ha.OutcomeAt, ha.OutcomeBy = ptr(duban.AttendanceDeputy), ptr(t0.Add(3*time.Hour)), &staff.ID
		must(t, s.SetOutcome(ctx, &ha))
		want.Outcome, want.OutcomeAt, want.OutcomeBy = ha.Outcome, ha.OutcomeAt, ha.OutcomeBy
		diff(t, "outcome", &want, read())

		ha.Outcome, ha.OutcomeAt, ha.OutcomeBy = nil, nil, nil
		must(t, s.SetOutcome(ctx, &ha))
		want.Outcome, want.OutcomeAt, want.OutcomeBy = nil, nil, nil
		diff(t, "outcome withdrawn", &want, read())

		other, err := s.HearingAgencyByID(ctx, h.Agencies[1].ID)
		must(t, err)
		if other.Answer != duban.AnswerNone || other.AnsweredAt != nil || other.Outcome != nil {
			t.Errorf("the other agency changed too: %+v", other)
		}
	})
}

func TestHearings_AppearanceCountsOutcomesPerAgency(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := t.Context()
		ga, gov, edu := newAgency(t, s, "GA"), newAgency(t, s, "GOV"), newAgency(t, s, "EDU")
		from, to := t0, t0.Add(30*24*time.Hour)
		outcome := func(h *duban.Hearing, i int, a duban.Attendance) {
			t.Helper()
			ha := h.Agencies[i]
			ha.Outcome, ha.OutcomeAt = &a, ptr(h.StartsAt.Add(3*time.Hour))
			must(t, s.SetOutcome(ctx, &ha))
		}

		onFrom := newHearing(t, s, "1", from, ga, gov) // the window includes from
		outcome(onFrom, 0, duban.AttendanceHead)
		outcome(onFrom, 1, duban.AttendanceDeputy)
		inside := newHearing(t, s, "2", from.Add(24*time.Hour), ga, gov)
		outcome(inside, 0, duban.AttendanceNone) // GOV: no outcome yet, not counted
		cancelled := newHearing(t, s, "3", from.Add(48*time.Hour), ga)
		outcome(cancelled, 0, duban.AttendanceHead)
		cancelled.Status = duban.HearingCancelled
		must(t, s.UpdateHearing(ctx, cancelled))
		outcome(newHearing(t, s, "4", to, ga), 0, duban.AttendanceHead)                          // the window excludes to
		outcome(newHearing(t, s, "5", from.Add(-time.Microsecond), ga), 0, duban.AttendanceHead) // before it
		newHearing(t, s, "6", from.Add(72*time.Hour), edu)                                       // no outcome: EDU absent

		got, err := s.Appearance(ctx, from, to, duban.Scope{All: true})
		must(t, err)
		diff(t, "appearance", []storage.AppearanceRow{
			{AgencyCode: "GA", AgencyName: "机关 GA", Held: 2, Head: 1, Nobody: 1},
			{AgencyCode: "GOV", AgencyName: "机关 GOV", Held: 1, Deputy: 1},
		}, got)

		empty, err := s.Appearance(ctx, to.Add(time.Hour), to.Add(2*time.Hour), duban.Scope{All: true})
		must(t, err)
		if empty == nil || len(empty) != 0 {
			t.Errorf("empty window = %#v, want an empty list", empty)
		}
	})
}
