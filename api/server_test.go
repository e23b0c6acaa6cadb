package api_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/cityhall/duban/storage"
	"github.com/cityhall/duban/storage/storagetest"
)

func TestAuth_MissingOrUnknownTokenIs401WithChallenge(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		e := newEnv(t, s)
		for _, tt := range []struct {
			name, header string
		}{
			{"no header", ""},
			{"basic scheme", "Basic YWRtaW46YWRtaW4="},
			{"empty bearer", "Bearer "},
			{"unknown token", "Bearer nope"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				req, _ := http.NewRequest("GET", e.srv.URL+"/api/v1/agencies", nil)
				if tt.header != "" {
					req.Header.Set("Authorization", tt.header)
				}
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				res.Body.Close()
				if res.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(res.Header.Get("WWW-Authenticate"), "Bearer") {
					t.Fatalf("status %d, WWW-Authenticate %q; want 401 with a Bearer challenge", res.StatusCode, res.Header.Get("WWW-Authenticate"))
				}
				if ct := res.Header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
					t.Errorf("Content-Type %q", ct)
				}
			})
		}
		e.call("GET", "/api/v1/agencies", adminToken, nil).want(http.StatusOK)
		e.call("GET", "/api/v1/agencies", e.token(e.head), nil).want(http.StatusOK)
	})
}

func TestHealth_ProbesAndMetricsNeedNoToken(t *testing.T) {
	e := newEnv(t, storagetest.Open(t, storagetest.SQLiteURL(t)))
	if got := e.call("GET", "/healthz", "", nil).want(http.StatusOK).obj()["status"]; got != "ok" {
		t.Errorf("healthz status %v", got)
	}
	e.call("GET", "/readyz", "", nil).want(http.StatusOK)
	if r := e.call("GET", "/metrics", "", nil).want(http.StatusOK); !strings.Contains(string(r.Body), "# metrics") {
		t.Errorf("metrics body %q", r.Body)
	}
	e.call("POST", "/telegram/webhook", "", nil).want(http.StatusTeapot)
}

func TestReadyz_FailingPartIs503WithoutSecrets(t *testing.T) {
	e := newEnv(t, storagetest.Open(t, storagetest.SQLiteURL(t)))
	e.ready = errors.New("redis: dial tcp 10.1.2.3:6379: auth failed for password s3cr3t")
	r := e.call("GET", "/readyz", "", nil).want(http.StatusServiceUnavailable)
	if !strings.Contains(string(r.Body), "redis") || strings.Contains(string(r.Body), "s3cr3t") || strings.Contains(string(r.Body), "10.1.2.3") {
		t.Errorf("readyz body %s: want the part named and nothing more", r.Body)
	}
}

func TestRouting_UnknownPathAndMethodAnswerJSON(t *testing.T) {
	e := newEnv(t, storagetest.Open(t, storagetest.SQLiteURL(t)))
	r := e.call("GET", "/api/v1/nope", adminToken, nil).want(http.StatusNotFound)
	if r.obj()["error"] == nil {
		t.Errorf("404 body %s", r.Body)
	}
	r = e.call("DELETE", "/api/v1/agencies", adminToken, nil).want(http.StatusMethodNotAllowed)
	if !strings.Contains(r.Header.Get("Allow"), "GET") || r.obj()["error"] == nil {
		t.Errorf("405 Allow %q body %s", r.Header.Get("Allow"), r.Body)
	}
}

func TestAudit_AdminsOnly(t *testing.T) {
	e := newEnv(t, storagetest.Open(t, storagetest.SQLiteURL(t)))
	e.call("POST", "/api/v1/agencies", adminToken, map[string]any{"code": "HB", "name": "环保局"}).want(http.StatusCreated)
	for _, tok := range []string{e.token(e.staff), e.token(e.sup), e.token(e.head)} {
		e.call("GET", "/api/v1/audit", tok, nil).want(http.StatusForbidden)
	}
	var entries []struct {
		Actor, Action, Target, At string
	}
	e.call("GET", "/api/v1/audit?limit=5", adminToken, nil).want(http.StatusOK).decode(&entries)
	if len(entries) != 1 || entries[0].Actor != "admin" || entries[0].Action != "agency.create" || !strings.HasSuffix(entries[0].At, "+08:00") {
		t.Errorf("audit = %+v", entries)
	}
	e.call("GET", "/api/v1/audit?limit=x", adminToken, nil).want(http.StatusUnprocessableEntity)
}

func TestJSONErrors_AreBadRequestsNamingTheField(t *testing.T) {
	e := newEnv(t, storagetest.Open(t, storagetest.SQLiteURL(t)))
	for _, tt := range []struct {
		name, body, field string
	}{
		{"malformed", `{"code": "X",`, ""},
		{"not an object", `[1,2]`, ""},
		{"unknown field", `{"code": "X", "name": "y", "colour": "red"}`, "colour"},
		{"wrong type", `{"code": 7, "name": "y"}`, "code"},
		{"two objects", `{"code": "X", "name": "y"} {}`, ""},
		{"empty", ``, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := e.call("POST", "/api/v1/agencies", adminToken, tt.body).want(http.StatusBadRequest)
			m := r.obj()
			if msg, _ := m["error"].(string); msg == "" || (tt.field != "" && !strings.Contains(msg, tt.field)) {
				t.Errorf("error %q, want it to name %q", msg, tt.field)
			}
		})
	}
	big := `{"code": "X", "name": "` + strings.Repeat("x", 2<<20) + `"}`
	e.call("POST", "/api/v1/agencies", adminToken, big).want(http.StatusRequestEntityTooLarge)
}
