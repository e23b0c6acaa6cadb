package api_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/storage"
	"github.com/cityhall/duban/storage/storagetest"
)

// benchWeek is the hearings of the week BenchmarkHearingsWeek lists: a
// busy week of the courts the offices watch.
const benchWeek = 1_665

// BenchmarkHearingsWeek times GET /api/v1/hearings for a week of benchWeek
// hearings on PostgreSQL, every page of it (a page holds 1,000), with their
// reminders, answers (by heads, delegated, recorded by staff) and
// deliveries on several channels.
func BenchmarkHearingsWeek(b *testing.B) {
	e := newEnv(b, storagetest.Open(b, storagetest.PostgresURL(b)))
	const agencies = 40
	var codes []*duban.Agency
	for i := range agencies {
		a := storagetest.Agency(b, e.store, fmt.Sprintf("B%02d", i), fmt.Sprintf("压测机关%02d", i))
		storagetest.Person(b, e.store, duban.Person{Name: fmt.Sprintf("压测局长%02d", i), AgencyID: &a.ID,
			Roles: duban.Roles{duban.RoleAgencyHead}})
		codes = append(codes, a)
	}
	// Monday 7 to Friday 11 December 2026, 09:00 to 16:55; every fifth
	// hearing has two defendants. Written through the store with the
	// steps newEnv's policy plans: registering them through the API would
	// enqueue some 10,000 tasks in miniredis, which takes minutes.
	policy := duban.Policy{Offsets: []time.Duration{72 * time.Hour, 24 * time.Hour, 2 * time.Hour},
		EscalateBefore: 24 * time.Hour, OutcomeAfter: 4 * time.Hour}
	monday := time.Date(2026, 12, 7, 9, 0, 0, 0, sh)
	err := e.store.InTx(e.ctx, func(tx *storage.Store) error {
		for i := range benchWeek {
			h := &duban.Hearing{CaseNumber: fmt.Sprintf("(2026)沪0101行初%d号", i+1), Court: "上海市黄浦区人民法院",
				Courtroom: fmt.Sprintf("第%d法庭", i%9+1), Plaintiff: "压测原告", Cause: "行政处罚",
				StartsAt: monday.AddDate(0, 0, i%5).Add(time.Duration(i/5%96) * 5 * time.Minute),
				Agencies: []duban.HearingAgency{{AgencyID: codes[i%agencies].ID}}}
			if i%5 == 0 {
				h.Agencies = append(h.Agencies, duban.HearingAgency{AgencyID: codes[(i+7)%agencies].ID})
			}
			if err := tx.CreateHearing(e.ctx, h); err != nil {
				return err
			}
			for _, ha := range h.Agencies {
				for _, st := range policy.Plan(h.StartsAt, e.clock.Now()) {
					r := &duban.Reminder{HearingAgencyID: ha.ID, HearingID: h.ID, Kind: st.Kind,
						OffsetSeconds: int64(st.Offset / time.Second), DueAt: st.DueAt}
					if err := tx.CreateReminder(e.ctx, r); err != nil {
						return err
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	db := e.store.DB()
	for _, q := range []string{
		// A third confirmed by their heads, a third delegated, and half of
		// the rest recorded by office staff from a call.
		`UPDATE hearing_agencies ha SET answer = 'confirmed', answered_at = now(),
			answered_by = (SELECT p.id FROM people p WHERE p.agency_id = ha.agency_id ORDER BY p.id LIMIT 1) WHERE ha.id % 3 = 0`,
		`UPDATE hearing_agencies ha SET answer = 'delegated', delegate_name = '副局长', delegate_reason = '出差', answered_at = now(),
			answered_by = (SELECT p.id FROM people p WHERE p.agency_id = ha.agency_id ORDER BY p.id LIMIT 1) WHERE ha.id % 3 = 1`,
		fmt.Sprintf(`UPDATE hearing_agencies SET answer = 'confirmed', answered_at = now(), answered_by = %d WHERE id %% 6 = 2`, e.staff.ID),
		// Half the reminders delivered, on three channels; a sixth a second
		// time, on another.
		`INSERT INTO deliveries (dedupe_key, person_id, channel, kind, payload, status, attempts, reminder_id, hearing_agency_id, created_at, updated_at)
			SELECT 'bench:' || r.id, NULL, (ARRAY['telegram', 'slack', 'email'])[r.id % 3 + 1], 'reminder', '{}', 'sent', 1, r.id, r.hearing_agency_id, now(), now()
			FROM reminders r WHERE r.id % 2 = 0`,
		`INSERT INTO deliveries (dedupe_key, person_id, channel, kind, payload, status, attempts, reminder_id, hearing_agency_id, created_at, updated_at)
			SELECT 'bench-again:' || r.id, NULL, 'email', 'reminder', '{}', 'queued', 0, r.id, r.hearing_agency_id, now(), now()
			FROM reminders r WHERE r.id % 6 = 0`,
		`ANALYZE`,
	} {
		if _, err := db.Exec(q); err != nil {
			b.Fatalf("%s: %v", q, err)
		}
	}
	week := "/api/v1/hearings?from=2026-12-07&to=2026-12-13"
	listed := 0
	for _, page := range e.walk(week, e.token(e.staff)) {
		var hs []hearing
		page.decode(&hs)
		listed += len(hs)
	}
	if listed != benchWeek {
		b.Fatalf("the week lists %d hearings, want %d", listed, benchWeek)
	}
	for b.Loop() {
		e.walk(week, e.token(e.staff))
	}
}
