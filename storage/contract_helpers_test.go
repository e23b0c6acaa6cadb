package storage_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/storage"
)

// The helpers of the storage contract suite: fixtures that read like the
// test's story, so each test states only what it is about.

// shanghai is where duban's users live; times are written in it to prove
// the store does not depend on the caller's zone.
var shanghai = func() *time.Location {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		return time.FixedZone("CST", 8*3600)
	}
	return loc
}()

// t0 is an arbitrary instant the fixtures count from.
var t0 = time.Date(2026, 12, 10, 9, 30, 0, 0, shanghai)

func ptr[T any](v T) *T { return &v }

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// mustIs fails unless err matches want (nil meaning no error).
func mustIs(t testing.TB, err, want error, what string) {
	t.Helper()
	if want == nil && err != nil || want != nil && !errors.Is(err, want) {
		t.Fatalf("%s: error %v, want %v", what, err, want)
	}
}

func diff(t testing.TB, what string, want, got any) {
	t.Helper()
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("%s (-want +got):\n%s", what, d)
	}
}

// newPerson creates an active person holding roles, in agency a when a is
// not nil.
func newPerson(t testing.TB, s *storage.Store, name string, a *duban.Agency, roles ...duban.Role) *duban.Person {
	t.Helper()
	p := &duban.Person{Name: name, Roles: roles, Locale: duban.LocaleZH}
	if a != nil {
		p.AgencyID = &a.ID
	}
	must(t, s.CreatePerson(t.Context(), p))
	return p
}

func newAgency(t testing.TB, s *storage.Store, code string) *duban.Agency {
	t.Helper()
	a := &duban.Agency{Code: code, Name: "机关 " + code}
	must(t, s.CreateAgency(t.Context(), a))
	return a
}

// newHearing creates a scheduled hearing of case caseNo at start against
// agencies.
func newHearing(t testing.TB, s *storage.Store, caseNo string, start time.Time, agencies ...*duban.Agency) *duban.Hearing {
	t.Helper()
	h := &duban.Hearing{CaseNumber: caseNo, Court: "黄浦区人民法院", Courtroom: "第一法庭", StartsAt: start,
		Plaintiff: "张三", Cause: "行政处罚"}
	for _, a := range agencies {
		h.Agencies = append(h.Agencies, duban.HearingAgency{AgencyID: a.ID})
	}
	must(t, s.CreateHearing(t.Context(), h))
	return h
}

// newReminder creates a pending reminder for the first agency of h.
func newReminder(t testing.TB, s *storage.Store, h *duban.Hearing, due time.Time) *duban.Reminder {
	t.Helper()
	r := &duban.Reminder{HearingAgencyID: h.Agencies[0].ID, HearingID: h.ID, Kind: duban.KindReminder,
		OffsetSeconds: int64(h.StartsAt.Sub(due) / time.Second), DueAt: due}
	must(t, s.CreateReminder(t.Context(), r))
	return r
}

// newDelivery plans a Telegram message to p under key.
func newDelivery(t testing.TB, s *storage.Store, key string, p *duban.Person) *duban.Delivery {
	t.Helper()
	d := &duban.Delivery{DedupeKey: key, PersonID: p.ID, Channel: duban.ChannelTelegram, Kind: duban.MsgReminder,
		Ref: "(2026)沪0101行初1号", Payload: fmt.Sprintf(`{"text":%q}`, key)}
	created, err := s.CreateDelivery(t.Context(), d)
	must(t, err)
	if !created {
		t.Fatalf("delivery %s: not created", key)
	}
	return d
}

// deliveryIn moves a new delivery to status the way the outbox does.
func deliveryIn(t testing.TB, s *storage.Store, key string, p *duban.Person, status duban.DeliveryStatus) *duban.Delivery {
	t.Helper()
	ctx := t.Context()
	d := newDelivery(t, s, key, p)
	if status != duban.DeliveryQueued {
		if ok, err := s.ClaimDelivery(ctx, d.ID); err != nil || !ok {
			t.Fatalf("claim %s: %v, %v", key, ok, err)
		}
	}
	switch status {
	case duban.DeliverySent:
		must(t, s.DeliverySent(ctx, d.ID, "msg-"+key))
	case duban.DeliveryFailed:
		must(t, s.DeliveryFailed(ctx, d.ID, "chat not found"))
	}
	got, err := s.DeliveryByID(ctx, d.ID)
	must(t, err)
	if got.Status != status {
		t.Fatalf("delivery %s is %s, want %s", key, got.Status, status)
	}
	return got
}

func ids[T any](xs []T, id func(T) int64) []int64 {
	out := []int64{}
	for _, x := range xs {
		out = append(out, id(x))
	}
	return out
}

func personID(p duban.Person) int64     { return p.ID }
func hearingID(h duban.Hearing) int64   { return h.ID }
func reminderID(r duban.Reminder) int64 { return r.ID }
func deliveryID(d duban.Delivery) int64 { return d.ID }
