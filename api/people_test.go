package api_test

import (
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/storage"
	"github.com/cityhall/duban/storage/storagetest"
)

func TestAgencies_CreateListPatchAndRoles(t *testing.T) {
	e := newEnv(t, storagetest.Open(t, storagetest.SQLiteURL(t)))
	e.call("POST", "/api/v1/agencies", e.token(e.head), map[string]any{"code": "HB", "name": "环保局"}).want(http.StatusForbidden)
	e.call("POST", "/api/v1/agencies", e.token(e.sup), map[string]any{"code": "HB", "name": "环保局"}).want(http.StatusForbidden)

	created := e.call("POST", "/api/v1/agencies", e.token(e.staff), map[string]any{"code": "HB", "name": "环保局", "parent": "SF"}).want(http.StatusCreated).obj()
	if created["code"] != "HB" || created["parent"] != "SF" || created["active"] != true {
		t.Errorf("created %v", created)
	}
	for _, tt := range []struct {
		name   string
		body   map[string]any
		status int
		field  string
	}{
		{"taken code", map[string]any{"code": "HB", "name": "又一个"}, http.StatusConflict, ""},
		{"bad code", map[string]any{"code": "环保", "name": "x"}, http.StatusUnprocessableEntity, "code"},
		{"no name", map[string]any{"code": "ZZ"}, http.StatusUnprocessableEntity, "name"},
		{"unknown parent", map[string]any{"code": "ZZ", "name": "z", "parent": "NOPE"}, http.StatusUnprocessableEntity, "parent"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := e.call("POST", "/api/v1/agencies", adminToken, tt.body).want(tt.status)
			if tt.field != "" && !slices.Contains(r.errorFields(), tt.field) {
				t.Errorf("details %v, want %s", r.errorFields(), tt.field)
			}
		})
	}

	var list []map[string]any
	e.call("GET", "/api/v1/agencies", e.token(e.head), nil).want(http.StatusOK).decode(&list)
	var codes []string
	for _, a := range list {
		codes = append(codes, a["code"].(string))
	}
	if !slices.Equal(codes, []string{"GA", "HB", "SF"}) {
		t.Errorf("codes %v", codes)
	}

	patched := e.call("PATCH", "/api/v1/agencies/HB", e.token(e.staff), map[string]any{"name": "市生态环境局", "parent": "", "active": false}).want(http.StatusOK).obj()
	if patched["name"] != "市生态环境局" || patched["parent"] != nil || patched["active"] != false {
		t.Errorf("patched %v", patched)
	}
	e.call("PATCH", "/api/v1/agencies/NOPE", adminToken, map[string]any{"name": "x"}).want(http.StatusNotFound)
	e.call("PATCH", "/api/v1/agencies/SF", adminToken, map[string]any{"parent": "SF"}).want(http.StatusUnprocessableEntity)
	e.call("PATCH", "/api/v1/agencies/GA", e.token(e.head), map[string]any{"name": "x"}).want(http.StatusForbidden)
}

func TestPeople_CreateValidatesRolesAgencyAndLocale(t *testing.T) {
	e := newEnv(t, storagetest.Open(t, storagetest.SQLiteURL(t)))
	for _, tt := range []struct {
		name   string
		body   map[string]any
		fields []string
	}{
		{"unknown role", map[string]any{"name": "甲", "roles": []string{"boss"}}, []string{"roles"}},
		{"no roles", map[string]any{"name": "甲", "roles": []string{}}, []string{"roles"}},
		{"head without agency", map[string]any{"name": "甲", "roles": []string{"agency_head"}}, []string{"agency"}},
		{"unknown agency", map[string]any{"name": "甲", "agency": "NOPE", "roles": []string{"agency_head"}}, []string{"agency"}},
		{"bad locale and name", map[string]any{"name": "", "roles": []string{"staff"}, "locale": "fr"}, []string{"name", "locale"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := e.call("POST", "/api/v1/people", adminToken, tt.body).want(http.StatusUnprocessableEntity)
			if got := r.errorFields(); !slices.Equal(got, tt.fields) {
				t.Errorf("detail fields %v, want %v", got, tt.fields)
			}
		})
	}
	e.call("POST", "/api/v1/people", e.token(e.head), map[string]any{"name": "甲", "roles": []string{"staff"}}).want(http.StatusForbidden)
	e.call("POST", "/api/v1/people", e.token(e.staff), map[string]any{"name": "甲", "roles": []string{"admin"}}).want(http.StatusForbidden)

	byCode := e.call("POST", "/api/v1/people", e.token(e.staff), map[string]any{"name": "李副局长", "agency": "GA",
		"roles": []string{"deputy", "handler"}, "email": "li@example.gov", "phone": "13800000000"}).want(http.StatusCreated).obj()
	if byCode["agency"] != "GA" || byCode["locale"] != "zh-CN" || fmt.Sprint(byCode["roles"]) != "[deputy handler]" {
		t.Errorf("created %v", byCode)
	}
	id := int64(byCode["id"].(float64))
	withChat := e.call("POST", "/api/v1/people", adminToken, map[string]any{"name": "周副局长", "agency": "GA",
		"roles": []string{"deputy"}, "telegram_chat_id": 4242}).want(http.StatusCreated).obj()
	p, err := e.store.PersonByID(e.ctx, int64(withChat["id"].(float64)))
	if err != nil || p.TelegramUserID == nil || *p.TelegramUserID != 4242 {
		t.Errorf("stored %+v, %v: want the Telegram user id of the private chat", p, err)
	}
	byID := e.call("POST", "/api/v1/people", adminToken, map[string]any{"name": "王处长", "agency": e.sf.ID, "roles": []string{"agency_head"}, "locale": "en"}).want(http.StatusCreated).obj()
	if byID["agency"] != "SF" || byID["locale"] != "en" {
		t.Errorf("created by id %v", byID)
	}
	e.call("POST", "/api/v1/people", adminToken, map[string]any{"name": "重复", "roles": []string{"staff"}, "telegram_chat_id": 4242}).want(http.StatusConflict)

	var entries []struct{ Actor, Action, Target, Detail string }
	e.call("GET", "/api/v1/audit", adminToken, nil).want(http.StatusOK).decode(&entries)
	for _, en := range entries {
		if strings.Contains(en.Detail, "13800000000") || strings.Contains(en.Detail, "example.gov") {
			t.Errorf("audit holds personal data: %+v", en)
		}
	}
	if len(entries) < 3 || entries[2].Actor != fmt.Sprintf("person:%d", e.staff.ID) || entries[2].Target != fmt.Sprintf("person:%d", id) {
		t.Errorf("audit %+v", entries)
	}
}

func TestPeople_ReadPatchAndDeactivate(t *testing.T) {
	e := newEnv(t, storagetest.Open(t, storagetest.SQLiteURL(t)))
	headPath := fmt.Sprintf("/api/v1/people/%d", e.head.ID)
	e.call("GET", headPath, e.token(e.head), nil).want(http.StatusOK)
	e.call("GET", fmt.Sprintf("/api/v1/people/%d", e.staff.ID), e.token(e.head), nil).want(http.StatusForbidden)
	e.call("GET", "/api/v1/people", e.token(e.head), nil).want(http.StatusForbidden)
	e.call("GET", "/api/v1/people/999", adminToken, nil).want(http.StatusNotFound)

	var heads []map[string]any
	e.call("GET", "/api/v1/people?role=agency_head&agency=GA", e.token(e.sup), nil).want(http.StatusOK).decode(&heads)
	if len(heads) != 1 || heads[0]["name"] != "张局长" {
		t.Errorf("heads of GA %v", heads)
	}
	e.call("GET", "/api/v1/people?role=boss", e.token(e.sup), nil).want(http.StatusUnprocessableEntity)

	patched := e.call("PATCH", headPath, adminToken, map[string]any{"name": "张局", "slack_user_id": "U1"}).want(http.StatusOK).obj()
	if patched["name"] != "张局" || patched["slack_user_id"] != "U1" || patched["agency"] != "GA" {
		t.Errorf("patched %v", patched)
	}
	e.call("PATCH", headPath, e.token(e.staff), map[string]any{"roles": []string{"nope"}}).want(http.StatusUnprocessableEntity)
	e.call("PATCH", headPath, e.token(e.staff), map[string]any{"agency": nil}).want(http.StatusUnprocessableEntity) // a head needs one

	tok := e.token(e.head)
	r := e.call("DELETE", headPath, e.token(e.staff), nil).want(http.StatusNoContent)
	if len(r.Body) != 0 {
		t.Errorf("204 with a body %q", r.Body)
	}
	e.call("GET", "/api/v1/agencies", tok, nil).want(http.StatusUnauthorized)
	if p, _ := e.store.PersonByID(e.ctx, e.head.ID); p.Active {
		t.Error("person still active")
	}
	e.call("POST", headPath+"/tokens", adminToken, nil).want(http.StatusConflict)
}

func TestTokens_ActAsTheirPersonAndBindCodesLinkTheBot(t *testing.T) {
	e := newEnv(t, storagetest.Open(t, storagetest.SQLiteURL(t)))
	admin := storagetest.Person(t, e.store, duban.Person{Name: "管理员", Roles: duban.Roles{duban.RoleAdmin}})
	e.call("POST", fmt.Sprintf("/api/v1/people/%d/tokens", admin.ID), e.token(e.staff), nil).want(http.StatusForbidden)
	e.call("POST", fmt.Sprintf("/api/v1/people/%d/tokens", e.staff.ID), e.token(e.head), nil).want(http.StatusForbidden)

	r := e.call("POST", fmt.Sprintf("/api/v1/people/%d/tokens", e.staff.ID), adminToken, nil).want(http.StatusCreated)
	tok, _ := r.obj()["token"].(string)
	if !regexp.MustCompile(`^dbn_[A-Za-z0-9_-]{43}$`).MatchString(tok) {
		t.Fatalf("token %q", tok)
	}
	e.call("POST", "/api/v1/hearings", tok, notice("T-1")).want(http.StatusCreated)
	var entries []struct{ Actor, Action string }
	e.call("GET", "/api/v1/audit", adminToken, nil).want(http.StatusOK).decode(&entries)
	if entries[0].Action != "hearing.register" || entries[0].Actor != fmt.Sprintf("person:%d", e.staff.ID) {
		t.Errorf("latest audit %+v, want the register by person:%d", entries[0], e.staff.ID)
	}

	var bc struct {
		Code      string `json:"code"`
		ExpiresAt string `json:"expires_at"`
		Link      string `json:"link"`
	}
	e.call("POST", fmt.Sprintf("/api/v1/people/%d/bind-code", e.head.ID), e.token(e.staff), nil).want(http.StatusCreated).decode(&bc)
	if !regexp.MustCompile(`^[0-9A-HJKMNP-TV-Z]{8}$`).MatchString(bc.Code) {
		t.Errorf("code %q is not 8 Crockford symbols", bc.Code)
	}
	if bc.Link != "https://t.me/duban_bot?start="+bc.Code {
		t.Errorf("link %q", bc.Link)
	}
	if exp, err := time.Parse(time.RFC3339, bc.ExpiresAt); err != nil || !exp.Equal(e.clock.Now().Add(time.Hour)) || !strings.HasSuffix(bc.ExpiresAt, "+08:00") {
		t.Errorf("expires_at %q, want now+1h in local time", bc.ExpiresAt)
	}
	if pid, err := e.store.UseBindCode(e.ctx, bc.Code, e.clock.Now()); err != nil || pid != e.head.ID {
		t.Errorf("use code: %d, %v", pid, err)
	}
}

// TestPeople_LoginForTheWebSignIn: a person's web login is set with the
// person (and shown), unique regardless of case; a taken one is refused
// and changes nothing.
func TestPeople_LoginForTheWebSignIn(t *testing.T) {
	e := newEnv(t, storagetest.Open(t, storagetest.SQLiteURL(t)))
	var p struct {
		ID    int64  `json:"id"`
		Login string `json:"login"`
		Name  string `json:"name"`
	}
	e.call("POST", "/api/v1/people", adminToken, map[string]any{"name": "周监督", "roles": []string{"supervisor"}, "login": "zhou"}).
		want(http.StatusCreated).decode(&p)
	if p.Login != "zhou" {
		t.Errorf("created with login %q", p.Login)
	}
	before := e.peopleCount()
	e.call("POST", "/api/v1/people", adminToken, map[string]any{"name": "另一个周", "roles": []string{"supervisor"}, "login": "ZHOU"}).
		want(http.StatusUnprocessableEntity)
	if e.peopleCount() != before {
		t.Error("a taken login still added the person")
	}
	var other struct {
		ID int64 `json:"id"`
	}
	e.call("POST", "/api/v1/people", adminToken, map[string]any{"name": "吴", "roles": []string{"staff"}}).want(http.StatusCreated).decode(&other)
	e.call("PATCH", fmt.Sprintf("/api/v1/people/%d", other.ID), adminToken, map[string]any{"login": "Zhou", "name": "吴二"}).
		want(http.StatusUnprocessableEntity)
	got, _ := e.store.PersonByID(e.ctx, other.ID)
	if got.Name != "吴" || got.Login != "" {
		t.Errorf("a refused PATCH changed the person: %+v", got)
	}
	p.Login = "" // decoding leaves an absent field as it was
	e.call("PATCH", fmt.Sprintf("/api/v1/people/%d", p.ID), adminToken, map[string]any{"login": ""}).want(http.StatusOK).decode(&p)
	if again, _ := e.store.PersonByID(e.ctx, p.ID); again.Login != "" {
		t.Errorf("stored login %q after taking it away", again.Login)
	}
	if p.Login != "" {
		t.Errorf("login %q after taking it away", p.Login)
	}
}

func (e *env) peopleCount() int {
	e.t.Helper()
	ps, err := e.store.People(e.ctx, storage.PeopleFilter{})
	if err != nil {
		e.t.Fatal(err)
	}
	return len(ps)
}
