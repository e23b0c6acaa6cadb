package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/storage"
	"github.com/cityhall/duban/storage/storagetest"
)

func TestLog_TheOfficeLogsACallOnceEvenWhenSubmittedTwice(t *testing.T) {
	storagetest.EachURL(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL)
		staff := e.browser().signIn("staff")
		form := staff.get("/complaints/new").want(t, http.StatusOK, `name="phone"`, `name="key"`)
		key := regexp.MustCompile(`name="key" value="([0-9a-f]+)"`).FindStringSubmatch(form.body)[1]
		call := url.Values{"source": {"hotline_call"}, "category": {"inaction"}, "description": {"来电反映占道经营无人管"}, "key": {key}}
		staff.post("/complaints/new", "/complaints/new", call).want(t, http.StatusUnprocessableEntity, "reporter.phone")
		call.Set("phone", "13900002222")
		first := staff.post("/complaints/new", "/complaints/new", call).want(t, http.StatusSeeOther)
		again := staff.post("/complaints/new", "/complaints/new", call).want(t, http.StatusSeeOther)
		if first.header.Get("Location") != again.header.Get("Location") {
			t.Errorf("a double submit filed two complaints: %s and %s", first.header.Get("Location"), again.header.Get("Location"))
		}
		staff.get(first.header.Get("Location")).want(t, http.StatusOK, "来电反映占道经营无人管", "13900002222")
		staff.get("/complaints/new?source=media").want(t, http.StatusOK, `name="outlet"`)
		e.browser().signIn("handler").get("/complaints/new").want(t, http.StatusForbidden)
	})
}

func TestCallbacks_ShowPhonesToTheOfficeAudited(t *testing.T) {
	e := newEnv(t, storagetest.SQLiteURL(t))
	c := e.assigned("乱罚款", 5)
	staff := e.browser().signIn("staff")
	staff.get("/callbacks").want(t, http.StatusOK, "13800001111", duban.FormatTrackingCode(c.TrackingCode), "已受理")
	audit, _, err := e.app.Store.AuditPage(e.ctx, 5, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(audit) == 0 || audit[0].Action != "complaint.read_identity" || !strings.Contains(audit[0].Detail, "callbacks") {
		t.Errorf("the call-back list is not audited: %+v", audit)
	}
	e.browser().signIn("handler").get("/callbacks").want(t, http.StatusForbidden)
	if strings.Contains(e.browser().signIn("handler").get("/complaints").body, "/callbacks") {
		t.Error("the handler is offered the call-backs")
	}
}

func TestDeliveries_TheOfficeResendsAFailedOneSupervisorsOnlyRead(t *testing.T) {
	e := newEnv(t, storagetest.SQLiteURL(t))
	e.assigned("乱罚款", 5)
	ds, err := e.app.Store.Deliveries(e.ctx, storage.DeliveryFilter{})
	if err != nil || len(ds) == 0 {
		t.Fatalf("no deliveries planned: %v", err)
	}
	d := ds[0]
	if err := e.app.Store.DeliveryFailed(e.ctx, d.ID, "chat not found"); err != nil {
		t.Fatal(err)
	}
	sup := e.browser().signIn("sup")
	page := sup.get("/deliveries").want(t, http.StatusOK, "chat not found")
	if strings.Contains(page.body, "/resend") {
		t.Error("a supervisor is offered resend")
	}
	sup.post("/deliveries", path("/deliveries/%d/resend", d.ID), nil).want(t, http.StatusForbidden)
	staff := e.browser().signIn("staff")
	staff.post("/deliveries", path("/deliveries/%d/resend", d.ID), url.Values{"status": {"failed"}}).want(t, http.StatusSeeOther)
	if got, _ := e.app.Store.DeliveryByID(e.ctx, d.ID); got.Status != duban.DeliveryQueued {
		t.Errorf("after resend the delivery is %s", got.Status)
	}
	staff.post("/deliveries", path("/deliveries/%d/resend", d.ID), nil).want(t, http.StatusConflict)
	e.browser().signIn("handler").get("/deliveries").want(t, http.StatusForbidden)
}

func TestAudit_ForAdminsOnly(t *testing.T) {
	e := newEnv(t, storagetest.SQLiteURL(t))
	e.browser().signIn("admin").get("/admin/audit").want(t, http.StatusOK, "web.sign_in", "person.password")
	for _, who := range []string{"staff", "sup", "head"} {
		e.browser().signIn(who).get("/admin/audit").want(t, http.StatusForbidden)
	}
}
