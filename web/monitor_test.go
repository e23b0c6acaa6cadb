package web_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/cityhall/duban/storage/storagetest"
)

func TestMonitor_AsynqmonForAdminsWithDubansFonts(t *testing.T) {
	e := newEnv(t, storagetest.SQLiteURL(t))
	e.assigned("乱罚款", 5)
	admin := e.browser().signIn("admin")
	page := admin.get("/admin/queues").want(t, http.StatusOK, "/static/vendor/roboto.css", "/static/vendor/material-icons.css", "/admin/queues/static/js/")
	if strings.Contains(page.body, "googleapis") || strings.Contains(page.body, "gstatic") {
		t.Errorf("the monitor's page still asks another host:\n%s", page.body)
	}
	if csp := page.header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") || strings.Contains(csp, "http") {
		t.Errorf("monitor CSP %q", csp)
	}
	for _, f := range []string{"/static/vendor/roboto.css", "/static/vendor/roboto/roboto-latin-400-normal.woff2",
		"/static/vendor/material-icons.css", "/static/vendor/material-icons/material-icons-latin-400-normal.woff2"} {
		admin.get(f).want(t, http.StatusOK)
	}
	admin.get("/admin/queues/api/queues").want(t, http.StatusOK, `"queues"`)
	// Its calls that change something must come from this site.
	req, _ := http.NewRequest("POST", e.srv.URL+"/admin/queues/api/queues/default:pause", nil)
	admin.do(req).want(t, http.StatusForbidden)
	req, _ = http.NewRequest("POST", e.srv.URL+"/admin/queues/api/queues/default:pause", nil)
	req.Header.Set("Origin", "https://evil.example")
	admin.do(req).want(t, http.StatusForbidden)
	req, _ = http.NewRequest("POST", e.srv.URL+"/admin/queues/api/queues/default:pause", nil)
	req.Header.Set("Origin", e.srv.URL)
	if p := admin.do(req); p.status == http.StatusForbidden {
		t.Errorf("a same-origin call of the monitor was refused: %s", p.body)
	}
	for _, who := range []string{"staff", "sup"} {
		e.browser().signIn(who).get("/admin/queues").want(t, http.StatusForbidden)
		e.browser().signIn(who).get("/admin/queues/api/queues").want(t, http.StatusForbidden)
	}
	if p := e.browser().get("/admin/queues/api/queues"); p.status != http.StatusSeeOther {
		t.Errorf("signed out, the monitor's API answers %d", p.status)
	}
}
