package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/storage"
	"github.com/cityhall/duban/storage/storagetest"
)

func TestCreateHearing_NewIs201AndTheSameNoticeAgainIs200(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		e := newEnv(t, s)
		first := e.register("(2026)沪01行初1号")
		var again hearing
		e.call("POST", "/api/v1/hearings", e.token(e.staff), notice("(2026)沪01行初1号")).want(http.StatusOK).decode(&again)
		if again.ID != first.ID {
			t.Errorf("again id %d, want %d", again.ID, first.ID)
		}
		if first.StartsAt != "2026-12-04T09:30:00+08:00" || first.Status != "scheduled" || first.Court != "市中级人民法院" ||
			len(first.Agencies) != 1 || first.Agencies[0].Code != "GA" || first.Agencies[0].Name != "市公安局" ||
			first.Agencies[0].Answer != "none" || first.Agencies[0].Outcome != nil {
			t.Errorf("hearing %+v", first)
		}
	})
}

func TestCreateHearing_CoDefendantsAreListedEachWithoutAnswer(t *testing.T) {
	e := newEnv(t, storagetest.Open(t, storagetest.SQLiteURL(t)))
	body := notice("X-2")
	delete(body, "agency")
	body["agencies"] = []string{"GA", "SF"}
	var h hearing
	e.call("POST", "/api/v1/hearings", e.token(e.staff), body).want(http.StatusCreated).decode(&h)
	if len(h.Agencies) != 2 || h.Agencies[0].Code != "GA" || h.Agencies[1].Code != "SF" || h.Agencies[0].Answer != "none" || h.Agencies[1].Answer != "none" {
		t.Errorf("agencies %+v", h.Agencies)
	}
	// Both agencies get their own steps; SF has no head, so its reminders name nobody.
	agencies := map[string]int{}
	for _, r := range h.Reminders {
		agencies[r.Agency]++
		if r.Agency == "SF" && r.Person != "" {
			t.Errorf("SF reminder names %q", r.Person)
		}
	}
	if agencies["GA"] == 0 || agencies["SF"] == 0 {
		t.Errorf("reminders per agency %v", agencies)
	}
}

func TestCreateHearing_InvalidNoticesAre422NamingTheField(t *testing.T) {
	e := newEnv(t, storagetest.Open(t, storagetest.SQLiteURL(t)))
	with := func(k string, v any) map[string]any {
		b := notice("BAD-1")
		if v == nil {
			delete(b, k)
		} else {
			b[k] = v
		}
		return b
	}
	for _, tt := range []struct {
		name  string
		body  map[string]any
		field string
	}{
		{"unknown agency", with("agency", "NOPE"), "agency"},
		{"no agency", with("agency", nil), "agency"},
		{"time in the past", with("starts_at", "2026-11-30 09:00"), "starts_at"},
		{"not a time", with("starts_at", "next Tuesday"), "starts_at"},
		{"missing starts_at", with("starts_at", nil), "starts_at"},
		{"missing court", with("court", nil), "court"},
		{"missing case number", with("case_number", nil), "case_number"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := e.call("POST", "/api/v1/hearings", e.token(e.staff), tt.body).want(http.StatusUnprocessableEntity)
			if !slices.Contains(r.errorFields(), tt.field) {
				t.Errorf("details %v, want %s: %s", r.errorFields(), tt.field, r.Body)
			}
		})
	}
	e.call("POST", "/api/v1/hearings", e.token(e.staff), `{"case_number": "X", `).want(http.StatusBadRequest)
	r := e.call("POST", "/api/v1/hearings", e.token(e.staff), `{"case_number": "X", "agencies": "GA"}`).want(http.StatusBadRequest)
	if !strings.Contains(r.obj()["error"].(string), "agencies") {
		t.Errorf("wrong type error %s", r.Body)
	}
	e.call("POST", "/api/v1/hearings", e.token(e.head), notice("BAD-1")).want(http.StatusForbidden)
	if hs, _ := e.store.Hearings(e.ctx, storage.HearingFilter{}); len(hs) != 0 {
		t.Errorf("%d hearings stored", len(hs))
	}
}

func dues(h hearing, status string) []string {
	var out []string
	for _, r := range h.Reminders {
		if r.Status == status {
			out = append(out, r.Kind+"@"+r.DueAt)
		}
	}
	return out
}

func TestGetHearing_ListsRemindersWithDueTimesAndChannel(t *testing.T) {
	e := newEnv(t, storagetest.Open(t, storagetest.SQLiteURL(t)))
	created := e.register("R-1")
	var h hearing
	e.call("GET", fmt.Sprintf("/api/v1/hearings/%d", created.ID), e.token(e.head), nil).want(http.StatusOK).decode(&h)
	want := []string{"reminder@2026-12-01T09:30:00+08:00", "reminder@2026-12-03T09:30:00+08:00", "escalation@2026-12-03T09:30:00+08:00",
		"reminder@2026-12-04T07:30:00+08:00", "outcome@2026-12-04T13:30:00+08:00"}
	if got := dues(h, "pending"); !slices.Equal(got, want) {
		t.Errorf("pending steps %v, want %v", got, want)
	}
	for _, r := range h.Reminders {
		if r.Kind == "reminder" && (r.Agency != "GA" || r.Person != "张局长" || r.Channel != "console") {
			t.Errorf("reminder %+v, want GA / 张局长 / console", r)
		}
	}
	e.call("GET", "/api/v1/hearings/999", e.token(e.staff), nil).want(http.StatusNotFound)
	e.call("GET", "/api/v1/hearings/abc", e.token(e.staff), nil).want(http.StatusNotFound)
}

func TestListHearings_FiltersAndHeadsSeeTheirOwnAgencyOnly(t *testing.T) {
	e := newEnv(t, storagetest.Open(t, storagetest.SQLiteURL(t)))
	e.register("L-1")
	sf := notice("L-2")
	sf["agency"], sf["starts_at"] = "SF", "2026-12-08T10:00:00+08:00"
	e.call("POST", "/api/v1/hearings", e.token(e.staff), sf).want(http.StatusCreated)
	for _, tt := range []struct {
		query string
		token string
		want  []string
	}{
		{"", e.token(e.staff), []string{"L-1", "L-2"}},
		{"?agency=SF", e.token(e.sup), []string{"L-2"}},
		{"?from=2026-12-05", e.token(e.staff), []string{"L-2"}},
		{"?to=2026-12-04", e.token(e.staff), []string{"L-1"}},
		{"?from=2026-12-04%2009:30&to=2026-12-04%2009:31", e.token(e.staff), []string{"L-1"}},
		{"?status=cancelled", e.token(e.staff), nil},
		{"", e.token(e.head), []string{"L-1"}},
		{"?agency=GA", e.token(e.head), []string{"L-1"}},
	} {
		t.Run(tt.query, func(t *testing.T) {
			var hs []hearing
			e.call("GET", "/api/v1/hearings"+tt.query, tt.token, nil).want(http.StatusOK).decode(&hs)
			var got []string
			for _, h := range hs {
				got = append(got, h.CaseNumber)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
	e.call("GET", "/api/v1/hearings?agency=SF", e.token(e.head), nil).want(http.StatusForbidden)
	e.call("GET", "/api/v1/hearings?status=done", e.token(e.staff), nil).want(http.StatusUnprocessableEntity)
	e.call("GET", "/api/v1/hearings?from=soon", e.token(e.staff), nil).want(http.StatusUnprocessableEntity)
	var all []hearing
	e.call("GET", "/api/v1/hearings?agency=SF", e.token(e.staff), nil).want(http.StatusOK).decode(&all)
	e.call("GET", fmt.Sprintf("/api/v1/hearings/%d", all[0].ID), e.token(e.head), nil).want(http.StatusForbidden)
}

func TestPatchHearing_StartsAtMovesReminders(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		e := newEnv(t, s)
		h := e.register("P-1")
		path := fmt.Sprintf("/api/v1/hearings/%d", h.ID)
		var moved hearing
		e.call("PATCH", path, e.token(e.staff), map[string]any{"starts_at": "2026-12-10 14:00", "courtroom": "第一法庭"}).want(http.StatusOK).decode(&moved)
		if moved.StartsAt != "2026-12-10T14:00:00+08:00" || moved.Courtroom != "第一法庭" {
			t.Errorf("moved %s in %s", moved.StartsAt, moved.Courtroom)
		}
		if got := len(dues(moved, "cancelled")); got != 5 {
			t.Errorf("%d cancelled steps, want the old 5", got)
		}
		want := []string{"reminder@2026-12-07T14:00:00+08:00", "reminder@2026-12-09T14:00:00+08:00", "escalation@2026-12-09T14:00:00+08:00",
			"reminder@2026-12-10T12:00:00+08:00", "outcome@2026-12-10T18:00:00+08:00"}
		if got := dues(moved, "pending"); !slices.Equal(got, want) {
			t.Errorf("pending %v, want %v", got, want)
		}
		e.call("PATCH", path, e.token(e.staff), map[string]any{"starts_at": "2026-11-01 14:00"}).want(http.StatusUnprocessableEntity)
		e.call("PATCH", path, e.token(e.staff), map[string]any{"status": "held"}).want(http.StatusUnprocessableEntity)
		e.call("PATCH", path, e.token(e.staff), map[string]any{}).want(http.StatusUnprocessableEntity)
		e.call("PATCH", path, e.token(e.head), map[string]any{"courtroom": "x"}).want(http.StatusForbidden)
	})
}

func TestPatchHearing_CancelThenChangesAre409WithAllowed(t *testing.T) {
	e := newEnv(t, storagetest.Open(t, storagetest.SQLiteURL(t)))
	h := e.register("C-1")
	path := fmt.Sprintf("/api/v1/hearings/%d", h.ID)
	var cancelled hearing
	e.call("PATCH", path, e.token(e.staff), map[string]any{"status": "cancelled"}).want(http.StatusOK).decode(&cancelled)
	if cancelled.Status != "cancelled" || len(dues(cancelled, "pending")) != 0 {
		t.Errorf("status %s, pending %v", cancelled.Status, dues(cancelled, "pending"))
	}
	for _, body := range []map[string]any{{"starts_at": "2026-12-10 14:00"}, {"courtroom": "第二法庭"}} {
		r := e.call("PATCH", path, e.token(e.staff), body).want(http.StatusConflict)
		if allowed, ok := r.obj()["allowed"].([]any); !ok || allowed == nil {
			t.Errorf("409 body %s, want an allowed array", r.Body)
		}
	}
	e.call("POST", path+"/outcome", e.token(e.staff), map[string]any{"attendance": "head"}).want(http.StatusConflict)
}

func TestOutcome_BeforeStartIs409AfterItHeldAndCounted(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		e := newEnv(t, s)
		h := e.register("O-1")
		path := fmt.Sprintf("/api/v1/hearings/%d/outcome", h.ID)
		r := e.call("POST", path, e.token(e.staff), map[string]any{"attendance": "head"}).want(http.StatusConflict)
		if _, ok := r.obj()["allowed"].([]any); !ok {
			t.Errorf("409 without allowed: %s", r.Body)
		}
		e.clock.Set(time.Date(2026, 12, 4, 11, 0, 0, 0, sh))
		e.call("POST", path, e.token(e.staff), map[string]any{"attendance": "maybe"}).want(http.StatusUnprocessableEntity)
		e.call("POST", path, e.token(e.staff), map[string]any{"agency": "SF", "attendance": "head"}).want(http.StatusUnprocessableEntity)
		e.call("POST", path, e.token(e.head), map[string]any{"attendance": "head"}).want(http.StatusForbidden)
		var held hearing
		e.call("POST", path, e.token(e.staff), map[string]any{"agency": "GA", "attendance": "head"}).want(http.StatusOK).decode(&held)
		if held.Status != "held" || held.Agencies[0].Outcome == nil || *held.Agencies[0].Outcome != "head" {
			t.Fatalf("after outcome %+v", held)
		}
		var rep struct {
			From, To string
			Agencies []struct {
				Agency, Name             string
				Held, Head, Deputy, None int
				Rate                     float64
			}
			Total struct {
				Held, Head int
				Rate       float64
			}
		}
		e.call("GET", "/api/v1/reports/appearance", e.token(e.sup), nil).want(http.StatusOK).decode(&rep)
		if rep.From != "2026-01-01" || rep.To != "2026-12-04" || len(rep.Agencies) != 1 || rep.Agencies[0].Agency != "GA" ||
			rep.Agencies[0].Held != 1 || rep.Agencies[0].Head != 1 || rep.Agencies[0].Rate != 1 || rep.Total.Rate != 1 {
			t.Errorf("report %+v", rep)
		}
		e.call("GET", "/api/v1/reports/appearance?from=2026-12-05&to=2026-12-31", e.token(e.staff), nil).want(http.StatusOK).decode(&rep)
		if len(rep.Agencies) != 0 || rep.Total.Held != 0 || rep.Total.Rate != 0 {
			t.Errorf("report after the hearing %+v", rep)
		}
		e.call("GET", "/api/v1/reports/appearance?from=2026-12-05&to=2026-12-01", e.token(e.staff), nil).want(http.StatusUnprocessableEntity)
		e.call("GET", "/api/v1/reports/appearance?from=2026/12/05", e.token(e.staff), nil).want(http.StatusUnprocessableEntity)
		// An agency's people get their own line, and no other agency's.
		e.call("GET", "/api/v1/reports/appearance", e.token(e.head), nil).want(http.StatusOK).decode(&rep)
		if len(rep.Agencies) != 1 || rep.Agencies[0].Agency != "GA" || rep.Total.Held != 1 {
			t.Errorf("GA's head sees %+v, want GA's line", rep)
		}
		sfHead := storagetest.Person(t, e.store, duban.Person{Name: "司法局长", AgencyID: &e.sf.ID, Roles: duban.Roles{duban.RoleAgencyHead}})
		e.call("GET", "/api/v1/reports/appearance", e.token(sfHead), nil).want(http.StatusOK).decode(&rep)
		if len(rep.Agencies) != 0 || rep.Total.Held != 0 {
			t.Errorf("SF's head sees %+v, want nothing of GA's", rep)
		}
	})
}

func TestAnswer_HeadConfirmsOrDelegatesOwnAgencyOnly(t *testing.T) {
	e := newEnv(t, storagetest.Open(t, storagetest.SQLiteURL(t)))
	body := notice("A-1")
	delete(body, "agency")
	body["agencies"] = []string{"GA", "SF"}
	var h hearing
	e.call("POST", "/api/v1/hearings", e.token(e.staff), body).want(http.StatusCreated).decode(&h)
	path := fmt.Sprintf("/api/v1/hearings/%d/answer", h.ID)
	e.call("POST", path, e.token(e.head), map[string]any{"answer": "confirmed"}).want(http.StatusOK).decode(&h)
	if h.Agencies[0].Answer != "confirmed" || h.Agencies[1].Answer != "none" {
		t.Errorf("answers %+v", h.Agencies)
	}
	e.call("POST", path, e.token(e.head), map[string]any{"agency": "SF", "answer": "confirmed"}).want(http.StatusForbidden)
	e.call("POST", path, e.token(e.head), map[string]any{"agency": "GA", "answer": "delegated"}).want(http.StatusUnprocessableEntity)
	e.call("POST", path, e.token(e.head), map[string]any{"agency": "GA", "answer": "delegated",
		"delegate": map[string]string{"name": "李副局长", "reason": "出差"}}).want(http.StatusOK).decode(&h)
	if d := h.Agencies[0].Delegate; h.Agencies[0].Answer != "delegated" || d == nil || d.Name != "李副局长" || d.Reason != "出差" {
		t.Errorf("delegated %+v", h.Agencies[0])
	}
	if h.Agencies[0].RecordedBy != "" {
		t.Errorf("the head's own answer says recorded by %q", h.Agencies[0].RecordedBy)
	}
	// SF's head phones the office, and staff record the answer: the
	// hearing shows who recorded it; a supervisor may not answer at all.
	e.call("POST", path, e.token(e.staff), map[string]any{"agency": "SF", "answer": "confirmed"}).want(http.StatusOK).decode(&h)
	if sf := h.Agencies[1]; sf.Answer != "confirmed" || sf.RecordedBy != e.staff.Name || h.Agencies[0].RecordedBy != "" {
		t.Errorf("after staff recorded SF's answer: %+v", h.Agencies)
	}
	e.call("POST", path, e.token(e.sup), map[string]any{"agency": "SF", "answer": "delegated",
		"delegate": map[string]string{"name": "某人", "reason": "x"}}).want(http.StatusForbidden)
	e.call("POST", path, e.token(e.sup), map[string]any{"agency": "NOPE", "answer": "confirmed"}).want(http.StatusUnprocessableEntity)
	e.call("POST", path, e.token(e.sup), map[string]any{"answer": "confirmed"}).want(http.StatusUnprocessableEntity)
}

// TestListHearings_EachRendersAsWhenFetchedAlone: the list reads its
// hearings' reminders, deliveries and answerers for all of them at once;
// each must still come out byte for byte as GET /api/v1/hearings/{id}
// answers it, answers, delegations, recorders and channels included.
func TestListHearings_EachRendersAsWhenFetchedAlone(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		e := newEnv(t, s)
		reg := func(caseNumber, agencies, at string) hearing {
			body := notice(caseNumber)
			body["agency"], body["starts_at"] = agencies, at
			var h hearing
			e.call("POST", "/api/v1/hearings", e.token(e.staff), body).want(http.StatusCreated).decode(&h)
			return h
		}
		confirmed := reg("E-1", "GA", "2026-12-04 09:30")
		both := reg("E-2", "GA;SF", "2026-12-07 10:00")
		reg("E-3", "SF", "2026-12-08 15:00") // no head, no answer, no delivery
		cancelled := reg("E-4", "GA", "2026-12-09 09:00")
		answer := func(h hearing, token string, body map[string]any) {
			e.call("POST", fmt.Sprintf("/api/v1/hearings/%d/answer", h.ID), token, body).want(http.StatusOK)
		}
		answer(confirmed, e.token(e.head), map[string]any{"answer": "confirmed"})
		answer(both, e.token(e.head), map[string]any{"agency": "GA", "answer": "delegated",
			"delegate": map[string]string{"name": "李副局长", "reason": "出差"}})
		answer(both, e.token(e.staff), map[string]any{"agency": "SF", "answer": "confirmed"})
		e.call("PATCH", fmt.Sprintf("/api/v1/hearings/%d", cancelled.ID), e.token(e.staff), map[string]any{"status": "cancelled"}).want(http.StatusOK)

		// Deliveries on several channels, one reminder sent twice: the
		// second, on Slack, is the one shown.
		deliver := func(h hearing, step int, chans ...duban.Channel) {
			rs, err := e.store.RemindersOfHearing(e.ctx, h.ID)
			if err != nil {
				t.Fatal(err)
			}
			for _, ch := range chans {
				d := &duban.Delivery{DedupeKey: fmt.Sprintf("test:%d:%s", rs[step].ID, ch), PersonID: e.head.ID, Channel: ch,
					Kind: duban.MsgReminder, Payload: `{}`, ReminderID: &rs[step].ID}
				if _, err := e.store.CreateDelivery(e.ctx, d); err != nil {
					t.Fatal(err)
				}
			}
		}
		deliver(confirmed, 0, duban.ChannelTelegram, duban.ChannelSlack)
		deliver(both, 0, duban.ChannelEmail)
		deliver(both, 1, duban.ChannelWebhook)
		deliver(cancelled, 0, duban.ChannelTelegram)
		e.clock.Set(time.Date(2026, 12, 4, 11, 0, 0, 0, sh))
		e.call("POST", fmt.Sprintf("/api/v1/hearings/%d/outcome", confirmed.ID), e.token(e.staff),
			map[string]any{"attendance": "head"}).want(http.StatusOK)

		list := e.call("GET", "/api/v1/hearings", e.token(e.staff), nil).want(http.StatusOK)
		var raw []json.RawMessage
		list.decode(&raw)
		var hs []hearing
		list.decode(&hs)
		var got []string
		channels := map[string]bool{}
		for _, h := range hs {
			got = append(got, h.CaseNumber)
			for _, r := range h.Reminders {
				channels[r.Channel] = true
			}
		}
		if want := []string{"E-1", "E-2", "E-3", "E-4"}; !slices.Equal(got, want) {
			t.Fatalf("listed %v, want %v", got, want)
		}
		// The list holds what the comparison is about.
		if hs[1].Agencies[0].Delegate == nil || hs[1].Agencies[1].RecordedBy != e.staff.Name || hs[0].Agencies[0].Outcome == nil ||
			hs[0].Reminders[0].Channel != "slack" || !channels["email"] || !channels["webhook"] || !channels["console"] || !channels[""] {
			t.Fatalf("the list lacks an answer, delegation, recorder, outcome or channel: %s", list.Body)
		}
		for i, h := range hs {
			alone := e.call("GET", fmt.Sprintf("/api/v1/hearings/%d", h.ID), e.token(e.staff), nil).want(http.StatusOK)
			if !bytes.Equal(raw[i], bytes.TrimSpace(alone.Body)) {
				t.Errorf("hearing %s in the list:\n%s\nalone:\n%s", h.CaseNumber, raw[i], alone.Body)
			}
		}
	})
}
