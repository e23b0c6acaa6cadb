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

// complaintAnswer is a complaint as the API answers it.
type complaintAnswer struct {
	ID           int64   `json:"id"`
	TrackingCode string  `json:"tracking_code"`
	Status       string  `json:"status"`
	Source       string  `json:"source"`
	Category     string  `json:"category"`
	Agency       *string `json:"agency"`
	Handler      *string `json:"handler"`
	Description  string  `json:"description"`
	DueAt        *string `json:"due_at"`
	Overdue      bool    `json:"overdue"`
	MergedInto   *string `json:"merged_into"`
	Rating       *int    `json:"rating"`
	Events       []struct {
		Action     string `json:"action"`
		Actor      string `json:"actor"`
		At         string `json:"at"`
		Text       string `json:"text"`
		RecordedBy string `json:"recorded_by"`
	} `json:"events"`
	Reporter *struct {
		Name      string `json:"name"`
		Phone     string `json:"phone"`
		Anonymous bool   `json:"anonymous"`
	} `json:"reporter"`
}

func (c complaintAnswer) actions() []string {
	var out []string
	for _, e := range c.Events {
		out = append(out, e.Action)
	}
	return out
}

// hotlineCall is a valid complaint body: a caller who left a name and
// number.
func hotlineCall(description string) map[string]any {
	return map[string]any{"source": "hotline_call", "category": "illegal_fine", "description": description,
		"location": "人民路 1 号", "reporter": map[string]any{"name": "王五", "phone": "13900001111"}}
}

// file logs a complaint as office staff.
func (e *env) file(body map[string]any) complaintAnswer {
	e.t.Helper()
	var c complaintAnswer
	e.call("POST", "/api/v1/complaints", e.token(e.staff), body).want(http.StatusCreated).decode(&c)
	return c
}

// act takes an action on a complaint (id or code) with token.
func (e *env) act(token string, ref any, body map[string]any) resp {
	e.t.Helper()
	return e.call("POST", fmt.Sprintf("/api/v1/complaints/%v/actions", ref), token, body)
}

func (e *env) complaintCount() int {
	e.t.Helper()
	cs, err := e.store.Complaints(e.ctx, storage.ComplaintFilter{})
	if err != nil {
		e.t.Fatal(err)
	}
	return len(cs)
}

func TestCreateComplaint_IdempotencyKeyRetryAnswersTheFirst(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		e := newEnv(t, s)
		body := hotlineCall("城管队员当场罚款不开票据")
		var first, again struct {
			ID           int64  `json:"id"`
			TrackingCode string `json:"tracking_code"`
			Status       string `json:"status"`
		}
		e.call("POST", "/api/v1/complaints", e.token(e.staff), body, "Idempotency-Key", "call-1").want(http.StatusCreated).decode(&first)
		e.call("POST", "/api/v1/complaints", e.token(e.staff), body, "Idempotency-Key", "call-1").want(http.StatusOK).decode(&again)
		if again != first || first.Status != "received" || len(first.TrackingCode) != 14 || first.TrackingCode[4] != '-' {
			t.Errorf("first %+v, again %+v", first, again)
		}
		if n := e.complaintCount(); n != 1 {
			t.Errorf("%d complaints stored, want 1", n)
		}
		// Another caller's key of the same name is another complaint.
		var other complaintAnswer
		e.call("POST", "/api/v1/complaints", e.token(e.sup), body, "Idempotency-Key", "call-1").want(http.StatusCreated).decode(&other)
		if other.ID == first.ID {
			t.Error("a supervisor's key answered the staff member's complaint")
		}
		r := e.call("POST", "/api/v1/complaints", e.token(e.staff), hotlineCall("另一件事"), "Idempotency-Key", "call-1").want(http.StatusUnprocessableEntity)
		if !slices.Contains(r.errorFields(), "Idempotency-Key") {
			t.Errorf("reused key for another body: %s", r.Body)
		}
		e.call("POST", "/api/v1/complaints", e.token(e.staff), body, "Idempotency-Key", strings.Repeat("k", 201)).want(http.StatusBadRequest)
		if n := e.complaintCount(); n != 2 {
			t.Errorf("%d complaints stored, want 2", n)
		}
	})
}

// rawBody marshals body with the string "PLACEHOLDER" replaced by raw
// bytes, which encoding/json would not write.
func rawBody(t *testing.T, body map[string]any, raw string) string {
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	return string(bytes.Replace(b, []byte("PLACEHOLDER"), []byte(raw), 1))
}

func TestCreateComplaint_BadInputIs422NamingTheFieldAndStoresNothing(t *testing.T) {
	e := newEnv(t, storagetest.Open(t, storagetest.SQLiteURL(t)))
	with := func(k string, v any) map[string]any {
		b := hotlineCall("乱收费")
		b[k] = v
		return b
	}
	at := func(lat, long float64) map[string]any {
		b := with("latitude", lat)
		b["longitude"] = long
		return b
	}
	withReporter := with("reporter", map[string]any{"name": "PLACEHOLDER", "phone": "139"})
	for _, tt := range []struct {
		name  string
		body  any
		field string
	}{
		{"empty description", with("description", "  "), "description"},
		{"20,001 characters", with("description", strings.Repeat("罚", duban.MaxReportRunes+1)), "description"},
		{"invalid UTF-8", rawBody(t, with("description", "PLACEHOLDER"), "bad \xff\xfe text"), "description"},
		{"lone surrogate", rawBody(t, with("description", "PLACEHOLDER"), `half \ud800 a pair`), "description"},
		{"NUL", rawBody(t, with("description", "PLACEHOLDER"), `nul \u0000 here`), "description"},
		{"invalid UTF-8 in the reporter's name", rawBody(t, withReporter, "\xc3\x28"), "reporter.name"},
		{"unknown category", with("category", "bribery"), "category"},
		{"unknown source", with("source", "fax"), "source"},
		{"latitude out of range", at(91, 121.5), "latitude"},
		{"longitude out of range", at(31.2, 181), "longitude"},
		{"latitude alone", with("latitude", 31.2), "location"},
		{"unknown agency", with("agency", "NOPE"), "agency"},
		{"occurred_at not a time", with("occurred_at", "yesterday"), "occurred_at"},
		{"occurred_at in the future", with("occurred_at", "2027-01-01 10:00"), "occurred_at"},
		{"hotline call without a number", with("reporter", map[string]any{"name": "王五"}), "reporter.phone"},
		{"media without an outlet", with("source", "media"), "outlet"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := e.call("POST", "/api/v1/complaints", e.token(e.staff), tt.body).want(http.StatusUnprocessableEntity)
			if !slices.Contains(r.errorFields(), tt.field) {
				t.Errorf("details %v, want %s: %s", r.errorFields(), tt.field, r.Body)
			}
		})
	}
	e.call("POST", "/api/v1/complaints", e.token(e.staff), with("fax", "yes")).want(http.StatusBadRequest)
	e.call("POST", "/api/v1/complaints", e.token(e.staff), `{"source": "other",`).want(http.StatusBadRequest)
	e.call("POST", "/api/v1/complaints", e.token(e.staff), with("description", strings.Repeat("x", 1<<20))).want(http.StatusRequestEntityTooLarge)
	e.call("POST", "/api/v1/complaints", e.token(e.head), hotlineCall("乱收费")).want(http.StatusForbidden)
	e.call("POST", "/api/v1/complaints", e.token(e.handler), hotlineCall("乱收费")).want(http.StatusForbidden)
	if n := e.complaintCount(); n != 0 {
		t.Errorf("%d complaints stored", n)
	}
}

func TestComplaintActions_AcceptAssignReplyCloseRate(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		e := newEnv(t, s)
		// Friday before the Spring Festival: Saturday 14 February is a
		// working day, 15–23 February are the holiday.
		e.clock.Set(time.Date(2026, 2, 13, 10, 0, 0, 0, sh))
		c := e.file(hotlineCall("窗口工作人员推诿不办"))
		steps := []struct {
			token  string
			ref    any
			body   map[string]any
			status string
		}{
			{e.token(e.sup), c.ID, map[string]any{"action": "accept"}, "accepted"},
			{e.token(e.sup), c.TrackingCode, map[string]any{"action": "assign", "agency": "GA", "handler": e.handler.ID, "working_days": 5}, "assigned"},
			{e.token(e.handler), c.ID, map[string]any{"action": "reply", "text": "已约谈当事窗口，当场办结"}, "replied"},
			{e.token(e.sup), c.ID, map[string]any{"action": "close", "text": "办结"}, "closed"},
			{e.token(e.staff), strings.ToLower(strings.ReplaceAll(c.TrackingCode, "-", "")), map[string]any{"action": "rate", "rating": 4}, "closed"},
		}
		var got complaintAnswer
		for _, st := range steps {
			e.act(st.token, st.ref, st.body).want(http.StatusOK).decode(&got)
			if got.Status != st.status {
				t.Fatalf("after %v: status %s, want %s", st.body["action"], got.Status, st.status)
			}
			if got.Reporter != nil {
				t.Errorf("action answer shows the reporter: %+v", got.Reporter)
			}
		}
		if got.DueAt == nil || *got.DueAt != "2026-02-27T23:59:59+08:00" {
			t.Errorf("due_at %v, want 2026-02-27T23:59:59+08:00", got.DueAt)
		}
		if got.Agency == nil || *got.Agency != "GA" || got.Handler == nil || *got.Handler != "钱办理" || got.Rating == nil || *got.Rating != 4 {
			t.Errorf("complaint %+v", got)
		}
		if want := []string{"receive", "accept", "assign", "reply", "close", "rate"}; !slices.Equal(got.actions(), want) {
			t.Errorf("events %v, want %v", got.actions(), want)
		}
		if got.Events[2].Actor != "赵监督" || got.Events[2].At != "2026-02-13T10:00:00+08:00" {
			t.Errorf("assign event %+v", got.Events[2])
		}
	})
}

func TestComplaintActions_RefusedActionsSayWhy(t *testing.T) {
	e := newEnv(t, storagetest.Open(t, storagetest.SQLiteURL(t)))
	c := e.file(hotlineCall("乱摊派"))
	r := e.act(e.token(e.sup), c.ID, map[string]any{"action": "close"}).want(http.StatusConflict)
	var body struct {
		Error   string   `json:"error"`
		Allowed []string `json:"allowed"`
	}
	r.decode(&body)
	if want := []string{"accept", "reject", "merge", "note"}; !slices.Equal(body.Allowed, want) || body.Error == "" {
		t.Errorf("409 %s, want allowed %v", r.Body, want)
	}
	for _, tt := range []struct {
		name   string
		token  string
		body   map[string]any
		status int
		field  string
	}{
		{"unknown action", e.token(e.sup), map[string]any{"action": "bribe"}, http.StatusUnprocessableEntity, "action"},
		{"reject without a reason", e.token(e.sup), map[string]any{"action": "reject"}, http.StatusUnprocessableEntity, "reason"},
		{"rating out of range", e.token(e.sup), map[string]any{"action": "rate", "rating": 9}, http.StatusUnprocessableEntity, "rating"},
		{"note with invalid UTF-8", e.token(e.sup), map[string]any{"action": "note", "text": "PLACEHOLDER"}, http.StatusUnprocessableEntity, "text"},
		{"unknown field", e.token(e.sup), map[string]any{"action": "accept", "why": "x"}, http.StatusBadRequest, "why"},
		{"a handler the complaint is not handed to", e.token(e.handler), map[string]any{"action": "accept"}, http.StatusForbidden, ""},
		{"staff accepting", e.token(e.staff), map[string]any{"action": "accept"}, http.StatusForbidden, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var body any = tt.body
			if tt.body["text"] == "PLACEHOLDER" {
				body = rawBody(t, tt.body, "\xff")
			}
			r := e.call("POST", fmt.Sprintf("/api/v1/complaints/%d/actions", c.ID), tt.token, body).want(tt.status)
			if tt.field != "" && !slices.Contains(r.errorFields(), tt.field) {
				t.Errorf("details %v, want %s: %s", r.errorFields(), tt.field, r.Body)
			}
		})
	}
	e.act(e.token(e.sup), 999, map[string]any{"action": "accept"}).want(http.StatusNotFound)
	e.act(e.token(e.sup), "ZZZZ-ZZZZ-ZZZZ", map[string]any{"action": "accept"}).want(http.StatusNotFound)
	var still complaintAnswer
	e.call("GET", fmt.Sprintf("/api/v1/complaints/%d", c.ID), e.token(e.sup), nil).want(http.StatusOK).decode(&still)
	if still.Status != "received" || !slices.Equal(still.actions(), []string{"receive"}) {
		t.Errorf("refused actions changed the complaint: %+v", still)
	}
}

func TestComplaintActions_MergeIntoAnother(t *testing.T) {
	e := newEnv(t, storagetest.Open(t, storagetest.SQLiteURL(t)))
	dup, survivor := e.file(hotlineCall("同一处乱收费")), e.file(hotlineCall("同一处乱收费（重复）"))
	var got complaintAnswer
	e.act(e.token(e.sup), dup.ID, map[string]any{"action": "merge", "into": survivor.TrackingCode}).want(http.StatusOK).decode(&got)
	if got.Status != "merged" || got.MergedInto == nil || *got.MergedInto != survivor.TrackingCode {
		t.Errorf("merged %+v, want into %s", got, survivor.TrackingCode)
	}
	r := e.act(e.token(e.sup), dup.ID, map[string]any{"action": "merge", "into": fmt.Sprint(survivor.ID)}).want(http.StatusConflict)
	if _, ok := r.obj()["allowed"]; !ok {
		t.Errorf("409 without allowed: %s", r.Body)
	}
	for _, into := range []string{survivor.TrackingCode, "nowhere"} {
		r := e.act(e.token(e.sup), survivor.ID, map[string]any{"action": "merge", "into": into}).want(http.StatusUnprocessableEntity)
		if !slices.Contains(r.errorFields(), "into") {
			t.Errorf("merge into %s: %s", into, r.Body)
		}
	}
}
