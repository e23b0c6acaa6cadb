package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"testing"

	"github.com/cityhall/duban/storage/storagetest"
)

// TestPeople_TheOfficesPagesUnderTheRuleBook: staff add a person and mint
// their /start code while no chat is bound, but give no roles; an admin
// gives roles, mints a token shown once and revokes it, resets a password;
// an agency's handler is refused the pages.
func TestPeople_TheOfficesPagesUnderTheRuleBook(t *testing.T) {
	storagetest.EachURL(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL)
		staff := e.browser().signIn("staff")
		staff.get("/people").want(t, http.StatusOK, "赵监督", `id="add-person"`)
		added := staff.post("/people", "/people", url.Values{"name": {"孙科长"}, "agency": {"GA"}, "roles": {"deputy"}, "phone": {"13700000000"}}).
			want(t, http.StatusSeeOther)
		where := added.header.Get("Location")
		staff.get(where).want(t, http.StatusOK, "孙科长", "13700000000", `id="make-bind-code"`)
		staff.post(where, where+"/bind-code", nil).want(t, http.StatusOK, `id="bind-code"`, "/start ")
		staff.post("/people", "/people", url.Values{"name": {"冒名"}, "roles": {"supervisor"}}).want(t, http.StatusForbidden)
		staff.post(where, where+"/roles", url.Values{"roles": {"agency_head"}}).want(t, http.StatusForbidden)
		staff.post(where, where, url.Values{"name": {"孙副局长"}, "phone": {"13700000001"}}).want(t, http.StatusOK, `id="saved"`, "孙副局长")

		admin := e.browser().signIn("admin")
		admin.post(where, where+"/roles", url.Values{"roles": {"agency_head"}}).want(t, http.StatusOK, `id="saved"`)
		minted := admin.post(where, where+"/tokens", url.Values{"name": {"laptop"}}).want(t, http.StatusOK, `id="token-secret"`, "dbn_")
		secret := regexp.MustCompile(`dbn_[A-Za-z0-9_-]+`).FindString(minted.body)
		again := admin.get(where)
		if regexp.MustCompile(regexp.QuoteMeta(secret)).MatchString(again.body) {
			t.Error("the token is shown again after minting")
		}
		tid := regexp.MustCompile(`/tokens/(\d+)/revoke`).FindStringSubmatch(again.body)
		if tid == nil {
			t.Fatalf("no revoke form:\n%s", again.body)
		}
		admin.post(where, fmt.Sprintf("%s/tokens/%s/revoke", where, tid[1]), nil).want(t, http.StatusOK, `id="saved"`)
		admin.post(where, where+"/password", url.Values{"password": {"a new password of his"}}).want(t, http.StatusOK, `id="saved"`)
		admin.post(where, where, url.Values{"login": {"sun"}}).want(t, http.StatusOK)
		admin.post(where, where, url.Values{"login": {"STAFF"}}).want(t, http.StatusUnprocessableEntity)

		staff.get("/agencies").want(t, http.StatusOK, "市公安局", `id="add-agency"`)
		staff.post("/agencies", "/agencies", url.Values{"code": {"HB"}, "name": {"市生态环境局"}}).want(t, http.StatusSeeOther)
		staff.get("/agencies").want(t, http.StatusOK, "市生态环境局")

		handler := e.browser().signIn("handler")
		handler.get("/people").want(t, http.StatusForbidden)
		handler.post("/me", "/agencies", url.Values{"code": {"XX"}, "name": {"假单位"}}).want(t, http.StatusForbidden)
	})
}
