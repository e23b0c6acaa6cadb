package api_test

import (
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/api"
	"github.com/cityhall/duban/i18n"
	"github.com/cityhall/duban/internal/icstest"
	"github.com/cityhall/duban/jobs"
	"github.com/cityhall/duban/storage"
	"github.com/cityhall/duban/storage/storagetest"
)

var apiLinkKey = duban.AnswerKey("a-test-secret-of-at-least-32-characters")

// withCalendars serves the API with calendar feeds and answer links.
func (e *env) withCalendars() {
	e.t.Helper()
	e.reconfigure(func(d *api.Deps) {
		d.Calendars = jobs.NewCalendars(jobs.CalendarsDeps{Store: e.store, T: i18n.MustNew(), Loc: sh, PublicURL: "https://duban.example.gov.cn",
			Alarms: []time.Duration{24 * time.Hour}, Clock: e.clock})
		d.LinkAnswers = jobs.NewLinkAnswers(e.store, e.hs, apiLinkKey, e.clock)
	})
}

// get fetches path on the test server without a token.
func (e *env) get(path string) (*http.Response, string) {
	e.t.Helper()
	res, err := http.Get(e.srv.URL + path)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

func TestCalendarRoutes_MintServeRotateRevoke(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		e := newEnv(t, s)
		e.withCalendars()
		h := e.register("(2026)沪0101行初12号")

		var minted struct {
			URL string `json:"url"`
		}
		e.call("POST", "/api/v1/people/"+itoa(e.head.ID)+"/calendar", e.token(e.head), nil).want(http.StatusCreated).decode(&minted)
		path, ok := strings.CutPrefix(minted.URL, "https://duban.example.gov.cn")
		if !ok || !strings.HasPrefix(path, "/calendar/") || !strings.HasSuffix(path, ".ics") {
			t.Fatalf("url %q", minted.URL)
		}
		res, body := e.get(path)
		if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/calendar") {
			t.Fatalf("feed: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
		}
		cal := icstest.Parse(t, []byte(body))
		icstest.Event(t, cal, "hearing-"+itoa(h.ID)+"-agency-"+itoa(e.ga.ID)+"@duban")

		var again struct {
			URL string `json:"url"`
		}
		e.call("POST", "/api/v1/people/"+itoa(e.head.ID)+"/calendar", e.token(e.head), nil).want(http.StatusCreated).decode(&again)
		if res, _ := e.get(path); res.StatusCode != http.StatusNotFound {
			t.Errorf("rotated feed: %d", res.StatusCode)
		}
		e.call("DELETE", "/api/v1/people/"+itoa(e.head.ID)+"/calendar", e.token(e.head), nil).want(http.StatusNoContent)
		if res, _ := e.get(strings.TrimPrefix(again.URL, "https://duban.example.gov.cn")); res.StatusCode != http.StatusNotFound {
			t.Errorf("revoked feed: %d", res.StatusCode)
		}
		if res, _ := e.get("/calendar/nonsense"); res.StatusCode != http.StatusNotFound {
			t.Errorf("no .ics: %d", res.StatusCode)
		}

		// Who may: a person their own, the office an agency's.
		e.call("POST", "/api/v1/people/"+itoa(e.head.ID)+"/calendar", e.token(e.staff), nil).want(http.StatusForbidden)
		e.call("POST", "/api/v1/agencies/GA/calendar", e.token(e.head), nil).want(http.StatusForbidden)
		e.call("POST", "/api/v1/agencies/GA/calendar", e.token(e.sup), nil).want(http.StatusForbidden)
		e.call("POST", "/api/v1/agencies/GA/calendar", e.token(e.staff), nil).want(http.StatusCreated)
		e.call("POST", "/api/v1/agencies/NOPE/calendar", e.token(e.staff), nil).want(http.StatusNotFound)
		e.call("DELETE", "/api/v1/agencies/GA/calendar", e.token(e.staff), nil).want(http.StatusNoContent)
		e.call("POST", "/api/v1/agencies/GA/calendar", "", nil).want(http.StatusUnauthorized)
	})
}

func TestAnswerPage_ASignedLinkConfirmsAndABadOneChangesNothing(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		e := newEnv(t, s)
		e.withCalendars()
		h := e.register("(2026)沪0101行初13号")
		hr, err := s.HearingByID(e.ctx, h.ID)
		if err != nil {
			t.Fatal(err)
		}
		haID := hr.Agencies[0].ID
		good := duban.AnswerToken{HearingAgencyID: haID, PersonID: e.head.ID, Expires: hr.StartsAt}.Sign(apiLinkKey)
		expired := duban.AnswerToken{HearingAgencyID: haID, PersonID: e.head.ID, Expires: e.clock.Now().Add(-time.Second)}.Sign(apiLinkKey)
		tampered := duban.AnswerToken{HearingAgencyID: haID, PersonID: e.staff.ID, Expires: hr.StartsAt}.Sign(apiLinkKey)
		tampered = good[:20] + tampered[20:]

		res, body := e.get("/answer?a=confirm&t=" + url.QueryEscape(good))
		if res.StatusCode != http.StatusOK || !strings.Contains(body, "确认出庭") || !strings.Contains(body, "(2026)沪0101行初13号") ||
			!strings.Contains(body, `name="t" value="`+good+`"`) || res.Header.Get("Referrer-Policy") != "no-referrer" {
			t.Fatalf("page: %d\n%s", res.StatusCode, body)
		}

		post := func(form url.Values) (int, string) {
			t.Helper()
			r, err := http.PostForm(e.srv.URL+"/answer", form)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Body.Close()
			b, _ := io.ReadAll(r.Body)
			return r.StatusCode, string(b)
		}
		for name, tok := range map[string]string{"expired": expired, "tampered": tampered, "none": ""} {
			if code, body := post(url.Values{"t": {tok}, "answer": {"confirmed"}}); code != http.StatusForbidden {
				t.Errorf("%s: %d\n%s", name, code, body)
			}
		}
		if res, _ := e.get("/answer?t=" + url.QueryEscape(expired)); res.StatusCode != http.StatusForbidden {
			t.Errorf("GET expired: %d", res.StatusCode)
		}
		if ha, _ := s.HearingAgencyByID(e.ctx, haID); ha.Answer != duban.AnswerNone {
			t.Fatalf("a refused link changed the answer to %s", ha.Answer)
		}
		if code, _ := post(url.Values{"t": {good}, "answer": {"delegated"}}); code != http.StatusUnprocessableEntity {
			t.Errorf("delegation without a name: %d", code)
		}
		code, body := post(url.Values{"t": {good}, "answer": {"confirmed"}})
		if code != http.StatusOK || !strings.Contains(body, "已收到您的答复") {
			t.Fatalf("confirm: %d\n%s", code, body)
		}
		ha, _ := s.HearingAgencyByID(e.ctx, haID)
		if ha.Answer != duban.AnswerConfirmed || ha.AnsweredBy == nil || *ha.AnsweredBy != e.head.ID {
			t.Errorf("answer %s by %v", ha.Answer, ha.AnsweredBy)
		}
	})
}

func TestPeople_ChannelsInTheAPI(t *testing.T) {
	e := newEnv(t, storagetest.Open(t, storagetest.SQLiteURL(t)))
	path := "/api/v1/people/" + itoa(e.head.ID)
	got := e.call("PATCH", path, e.token(e.staff), map[string]any{"channels": []string{"email", "telegram"}, "email": "zhang@example.gov.cn"}).want(http.StatusOK).obj()
	if ch, _ := got["channels"].([]any); len(ch) != 2 || ch[0] != "email" || ch[1] != "telegram" {
		t.Errorf("channels %v", got["channels"])
	}
	bad := e.call("PATCH", path, e.token(e.staff), map[string]any{"channels": []string{"email", "fax"}}).want(http.StatusUnprocessableEntity)
	if f := bad.errorFields(); len(f) != 1 || f[0] != "channels" {
		t.Errorf("fields %v", f)
	}
	e.call("PATCH", path, e.token(e.staff), map[string]any{"channels": []string{"email", "email"}}).want(http.StatusUnprocessableEntity)
	p, _ := e.store.PersonByID(e.ctx, e.head.ID)
	if p.Channels.String() != "email,telegram" {
		t.Errorf("a refused change changed channels to %q", p.Channels)
	}
	if got := e.call("PATCH", path, e.token(e.staff), map[string]any{"channels": []string{}}).want(http.StatusOK).obj(); len(got["channels"].([]any)) != 0 {
		t.Errorf("[] did not restore the global order: %v", got["channels"])
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
