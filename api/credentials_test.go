package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/api"
	"github.com/cityhall/duban/jobs"
	"github.com/cityhall/duban/ratelimit"
	"github.com/cityhall/duban/storage"
	"github.com/cityhall/duban/storage/storagetest"
)

// audited returns the audit log, newest first.
func (e *env) audited() []struct{ Actor, Action, Target, Detail string } {
	e.t.Helper()
	var entries []struct{ Actor, Action, Target, Detail string }
	e.call("GET", "/api/v1/audit", adminToken, nil).want(http.StatusOK).decode(&entries)
	return entries
}

func (e *env) hasAudit(action, target string) bool {
	for _, en := range e.audited() {
		if en.Action == action && en.Target == target {
			return true
		}
	}
	return false
}

func personPath(p *duban.Person, rest string) string {
	return fmt.Sprintf("/api/v1/people/%d%s", p.ID, rest)
}

func TestPeople_OnlyAdminsGiveOrTakeRolesAndNobodyTheirOwn(t *testing.T) {
	e := newEnv(t, storagetest.Open(t, storagetest.SQLiteURL(t)))
	admin := storagetest.Person(t, e.store, duban.Person{Name: "管理员", Roles: duban.Roles{duban.RoleAdmin}})
	for _, tt := range []struct {
		name   string
		token  string
		method string
		path   string
		body   map[string]any
		status int
	}{
		{"staff make themselves supervisors", e.token(e.staff), "PATCH", personPath(e.staff, ""), map[string]any{"roles": []string{"staff", "supervisor"}}, http.StatusForbidden},
		{"staff grant another person a role", e.token(e.staff), "PATCH", personPath(e.handler, ""), map[string]any{"roles": []string{"agency_head"}}, http.StatusForbidden},
		{"staff take a role away", e.token(e.staff), "PATCH", personPath(e.sup, ""), map[string]any{"roles": []string{"handler"}, "agency": "GA"}, http.StatusForbidden},
		{"staff add a supervisor", e.token(e.staff), "POST", "/api/v1/people", map[string]any{"name": "甲", "roles": []string{"supervisor"}}, http.StatusForbidden},
		{"staff add office staff", e.token(e.staff), "POST", "/api/v1/people", map[string]any{"name": "乙", "roles": []string{"staff"}}, http.StatusForbidden},
		{"supervisors add nobody", e.token(e.sup), "POST", "/api/v1/people", map[string]any{"name": "丙", "agency": "GA", "roles": []string{"handler"}}, http.StatusForbidden},
		{"an admin changes their own roles", e.token(admin), "PATCH", personPath(admin, ""), map[string]any{"roles": []string{"admin", "supervisor"}}, http.StatusForbidden},
		{"staff add an agency's head", e.token(e.staff), "POST", "/api/v1/people", map[string]any{"name": "丁", "agency": "SF", "roles": []string{"agency_head"}}, http.StatusCreated},
		{"staff edit details keeping the roles", e.token(e.staff), "PATCH", personPath(e.handler, ""), map[string]any{"name": "钱办", "roles": []string{"handler"}}, http.StatusOK},
		{"an admin grants", e.token(admin), "PATCH", personPath(e.staff, ""), map[string]any{"roles": []string{"staff", "supervisor"}}, http.StatusOK},
		{"the bootstrap admin takes away", adminToken, "PATCH", personPath(e.staff, ""), map[string]any{"roles": []string{"staff"}}, http.StatusOK},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e.call(tt.method, tt.path, tt.token, tt.body).want(tt.status)
		})
	}
	if p, _ := e.store.PersonByID(e.ctx, e.staff.ID); p.Roles.String() != "staff" {
		t.Errorf("staff roles now %q", p.Roles)
	}
	var roles []string
	for _, en := range e.audited() {
		if en.Action == "person.roles" && en.Target == fmt.Sprintf("person:%d", e.staff.ID) {
			roles = append(roles, en.Actor+" "+en.Detail)
		}
	}
	want := []string{`admin from "staff,supervisor" to "staff"`, fmt.Sprintf(`person:%d from "staff" to "staff,supervisor"`, admin.ID)}
	if strings.Join(roles, "|") != strings.Join(want, "|") {
		t.Errorf("role audit %q, want %q", roles, want)
	}
}

func TestTokens_MintedByOwnerOrAdminListedWithoutSecretsRevocableExpiring(t *testing.T) {
	e := newEnv(t, storagetest.Open(t, storagetest.SQLiteURL(t)))
	// Office staff no longer mint tokens for others: an agency head's token
	// would let them answer for the head.
	e.call("POST", personPath(e.head, "/tokens"), e.token(e.staff), nil).want(http.StatusForbidden)
	e.call("POST", personPath(e.head, "/tokens"), e.token(e.sup), nil).want(http.StatusForbidden)
	e.call("GET", personPath(e.head, "/tokens"), e.token(e.staff), nil).want(http.StatusForbidden)

	var minted struct {
		ID    int64  `json:"id"`
		Token string `json:"token"`
	}
	r := e.call("POST", personPath(e.head, "/tokens"), e.token(e.head), map[string]any{"name": "laptop", "expires_at": "2026-12-01 10:00"}).want(http.StatusCreated)
	r.decode(&minted)
	if minted.ID == 0 || !strings.HasPrefix(minted.Token, "dbn_") || r.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("minted %+v, Cache-Control %q", minted, r.Header.Get("Cache-Control"))
	}
	byAdmin := e.call("POST", personPath(e.head, "/tokens"), adminToken, nil).want(http.StatusCreated).obj()
	adminMade := byAdmin["token"].(string)

	e.call("POST", personPath(e.head, "/tokens"), e.token(e.head), map[string]any{"expires_at": "2026-12-01 08:00"}).want(http.StatusUnprocessableEntity)
	e.call("POST", personPath(e.head, "/tokens"), e.token(e.head), map[string]any{"name": strings.Repeat("x", 101)}).want(http.StatusUnprocessableEntity)

	e.call("GET", "/api/v1/hearings", minted.Token, nil).want(http.StatusOK)
	list := e.call("GET", personPath(e.head, "/tokens"), e.token(e.head), nil).want(http.StatusOK)
	for _, secret := range []string{minted.Token, adminMade, e.token(e.head), api.HashToken(minted.Token)} {
		if strings.Contains(string(list.Body), secret) {
			t.Fatalf("the list shows a secret: %s", list.Body)
		}
	}
	var tokens []map[string]any
	list.decode(&tokens)
	if len(tokens) != 3 {
		t.Fatalf("tokens %v, want the test's, the laptop's and the admin's", tokens)
	}
	laptop := tokens[1]
	if laptop["id"] != float64(minted.ID) || laptop["name"] != "laptop" || laptop["expires_at"] != "2026-12-01T10:00:00+08:00" ||
		laptop["created_at"] == nil || laptop["last_used_at"] != "2026-12-01T09:00:00+08:00" {
		t.Errorf("laptop token %v", laptop)
	}
	if _, used := tokens[2]["last_used_at"]; used || tokens[2]["expires_at"] != nil {
		t.Errorf("unused token without expiry %v", tokens[2])
	}

	// Expired: 401.
	e.clock.Set(time.Date(2026, 12, 1, 10, 0, 0, 0, sh))
	e.call("GET", "/api/v1/hearings", minted.Token, nil).want(http.StatusUnauthorized)

	// Revoked one by one: 401 for that token only.
	e.call("DELETE", personPath(e.head, fmt.Sprintf("/tokens/%d", int64(byAdmin["id"].(float64)))), e.token(e.staff), nil).want(http.StatusForbidden)
	e.call("DELETE", personPath(e.sup, fmt.Sprintf("/tokens/%d", int64(byAdmin["id"].(float64)))), e.token(e.sup), nil).want(http.StatusNotFound)
	e.call("DELETE", personPath(e.head, fmt.Sprintf("/tokens/%d", int64(byAdmin["id"].(float64)))), e.token(e.head), nil).want(http.StatusNoContent)
	e.call("GET", "/api/v1/hearings", adminMade, nil).want(http.StatusUnauthorized)
	e.call("GET", "/api/v1/hearings", e.token(e.head), nil).want(http.StatusOK)
	e.call("DELETE", personPath(e.head, fmt.Sprintf("/tokens/%d", int64(byAdmin["id"].(float64)))), adminToken, nil).want(http.StatusNotFound)

	target := fmt.Sprintf("person:%d", e.head.ID)
	if !e.hasAudit("person.token", target) || !e.hasAudit("person.token_revoke", target) {
		t.Errorf("token changes not audited: %+v", e.audited())
	}
}

func TestBindCode_StaffOnlyForAPersonWithNoChatBound(t *testing.T) {
	e := newEnv(t, storagetest.Open(t, storagetest.SQLiteURL(t)))
	chat := int64(1001)
	bound := storagetest.Person(t, e.store, duban.Person{Name: "孙局长", AgencyID: &e.sf.ID, Roles: duban.Roles{duban.RoleAgencyHead}, TelegramChatID: &chat})
	e.call("POST", personPath(bound, "/bind-code"), e.token(e.staff), nil).want(http.StatusForbidden)
	e.call("POST", personPath(e.handler, "/bind-code"), e.token(e.sup), nil).want(http.StatusForbidden)
	e.call("POST", personPath(e.handler, "/bind-code"), e.token(e.handler), nil).want(http.StatusForbidden)
	e.call("POST", personPath(e.handler, "/bind-code"), e.token(e.staff), nil).want(http.StatusCreated)
	e.call("POST", personPath(bound, "/bind-code"), adminToken, nil).want(http.StatusCreated)
	for _, p := range []*duban.Person{e.handler, bound} {
		if !e.hasAudit("person.bind_code", fmt.Sprintf("person:%d", p.ID)) {
			t.Errorf("bind code of %s not audited", p.Name)
		}
	}
}

func TestPeople_RebindingAChatIsAnAdminsAndTellsTheOldAddress(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		e := newEnv(t, s)
		chat := int64(1001)
		head := storagetest.Person(t, s, duban.Person{Name: "孙局长", AgencyID: &e.sf.ID, Roles: duban.Roles{duban.RoleAgencyHead}, TelegramChatID: &chat})
		// The office could point a head's chat at its own, then answer
		// for the head.
		e.call("PATCH", personPath(head, ""), e.token(e.staff), map[string]any{"telegram_chat_id": 2002}).want(http.StatusForbidden)
		e.call("PATCH", personPath(head, ""), e.token(e.staff), map[string]any{"slack_user_id": "U2"}).want(http.StatusForbidden)
		e.call("PATCH", personPath(head, ""), e.token(head), map[string]any{"telegram_chat_id": 2002}).want(http.StatusForbidden)
		e.call("POST", "/api/v1/people", e.token(e.staff), map[string]any{"name": "假局长", "agency": "SF", "roles": []string{"agency_head"},
			"telegram_chat_id": 3003}).want(http.StatusForbidden)

		e.call("PATCH", personPath(head, ""), adminToken, map[string]any{"telegram_chat_id": 2002}).want(http.StatusOK)
		if p, _ := s.PersonByID(e.ctx, head.ID); p.TelegramChatID == nil || *p.TelegramChatID != 2002 {
			t.Fatalf("chat now %v", p.TelegramChatID)
		}
		ds, err := s.Deliveries(e.ctx, storage.DeliveryFilter{Ref: fmt.Sprintf("person:%d", head.ID)})
		if err != nil || len(ds) != 1 || ds[0].Kind != "rebind" || ds[0].PersonID != head.ID {
			t.Fatalf("notices %+v, %v: want one rebind notice to the head", ds, err)
		}
		var msg duban.Message
		if err := json.Unmarshal([]byte(ds[0].Payload), &msg); err != nil || !strings.Contains(msg.Text, "孙局长") || !strings.Contains(msg.Text, "Telegram") {
			t.Errorf("notice %q, %v", msg.Text, err)
		}
		if msg.To == nil || msg.To.TelegramChatID != chat {
			t.Errorf("notice addressed to %+v, want the old chat %d", msg.To, chat)
		}
		if !e.hasAudit("person.rebind", fmt.Sprintf("person:%d", head.ID)) {
			t.Error("rebind not audited")
		}
		// Binding a first Slack user tells nobody: there was no old address.
		e.call("PATCH", personPath(head, ""), adminToken, map[string]any{"slack_user_id": "U9"}).want(http.StatusOK)
		if ds, _ := s.Deliveries(e.ctx, storage.DeliveryFilter{Ref: fmt.Sprintf("person:%d", head.ID)}); len(ds) != 1 {
			t.Errorf("%d notices after a first binding, want still 1", len(ds))
		}
	})
}

func TestLimits_WrongTokensFromOneAddressAre429ForAMinute(t *testing.T) {
	e := newEnv(t, storagetest.Open(t, storagetest.SQLiteURL(t)))
	good := e.token(e.staff)
	for i := range 20 {
		r := e.call("GET", "/api/v1/hearings", "dbn_guess"+strconv.Itoa(i), nil)
		if r.Status != http.StatusUnauthorized {
			t.Fatalf("guess %d: %d", i+1, r.Status)
		}
	}
	for _, tok := range []string{"dbn_guess20", good, adminToken} {
		r := e.call("GET", "/api/v1/hearings", tok, nil).want(http.StatusTooManyRequests)
		if ra, _ := strconv.Atoi(r.Header.Get("Retry-After")); ra < 55 || ra > 60 {
			t.Errorf("Retry-After %q, want about a minute", r.Header.Get("Retry-After"))
		}
	}
	// Open311's api_key is a credential too.
	e.send("GET", "/open311/v2/requests.json?api_key="+good, "", "", nil).want(http.StatusTooManyRequests)
	e.redis.Mini.FastForward(61 * time.Second)
	e.call("GET", "/api/v1/hearings", good, nil).want(http.StatusOK)
	e.call("GET", "/api/v1/hearings", "", nil).want(http.StatusUnauthorized) // no token: nothing guessed, nothing counted
}

func TestLimits_Open311PostsPerClientAddressBehindTrustedProxies(t *testing.T) {
	e := newEnv(t, storagetest.Open(t, storagetest.SQLiteURL(t)))
	e.reconfigure(func(d *api.Deps) {
		d.Open311Rate = ratelimit.Rate{Limit: 3, Window: time.Minute}
		d.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("10.0.0.0/8")}
	})
	post := func(xff string) resp {
		v := request311()
		v.Set("description", "罚款 "+xff+" "+strconv.Itoa(e.complaintCount()))
		return e.post311(v, "X-Forwarded-For", xff)
	}
	for range 3 {
		post("203.0.113.7").want(http.StatusCreated)
	}
	r := post("203.0.113.7").want(http.StatusTooManyRequests)
	var errs []open311Error
	r.decode(&errs)
	if len(errs) != 1 || errs[0].Code != 429 || r.Header.Get("Retry-After") == "" {
		t.Errorf("429 %s with Retry-After %q", r.Body, r.Header.Get("Retry-After"))
	}
	// The client's own address is read from the right, past trusted proxies:
	// what the client wrote on the left does not let it start afresh.
	post("198.51.100.1, 203.0.113.7, 10.1.2.3").want(http.StatusTooManyRequests)
	post("203.0.113.8").want(http.StatusCreated)
	if n := e.complaintCount(); n != 4 {
		t.Errorf("%d complaints filed, want 4", n)
	}

	// From a peer that is not a trusted proxy, X-Forwarded-For is ignored:
	// every post counts against the peer.
	e.reconfigure(func(d *api.Deps) { d.TrustedProxies = nil })
	for i := range 3 {
		post(fmt.Sprintf("192.0.2.%d", i+1)).want(http.StatusCreated)
	}
	post("192.0.2.99").want(http.StatusTooManyRequests)
}

func TestDeliveries_ListsDeliveriesToReportersAsReporter(t *testing.T) {
	e := newEnv(t, storagetest.Open(t, storagetest.SQLiteURL(t)))
	chat := int64(900001)
	sys := jobs.Actor{Name: "test"}
	c, _, err := e.cs.Create(e.ctx, sys, jobs.Intake{Source: duban.SourceTelegram, Category: string(duban.CategoryIllegalFine),
		Description: "执法人员未出示证件即罚款。", ReporterChatID: &chat, ReporterLocale: duban.LocaleZH})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.cs.Act(e.ctx, sys, c.ID, duban.ActionRequest{Action: duban.ActionAccept}); err != nil {
		t.Fatal(err)
	}
	// Sent as notifier's Telegram sender records it: chat:message.
	queued, err := e.store.QueuedDeliveries(e.ctx, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range queued {
		if d.PersonID == 0 {
			if err := e.store.DeliverySent(e.ctx, d.ID, "900001:17"); err != nil {
				t.Fatal(err)
			}
		}
	}
	r := e.call("GET", "/api/v1/deliveries", e.token(e.sup), nil).want(http.StatusOK)
	if strings.Contains(string(r.Body), "900001") {
		t.Errorf("the log shows the reporter's chat: %s", r.Body)
	}
	var list []deliveryAnswer
	r.decode(&list)
	reporters := 0
	for _, d := range list {
		if d.Person == "reporter" {
			reporters++
		}
	}
	if reporters == 0 {
		t.Fatalf("no delivery to the reporter listed: %s", r.Body)
	}
}
