package bot_test

import (
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/bot"
	"github.com/cityhall/duban/jobs"
	"github.com/cityhall/duban/storage"
)

// newSlackQueue is the Slack app with the complaint queue on.
func newSlackQueue(t *testing.T) *slackEnv {
	t.Helper()
	e := newSlack(t)
	client := slack.New("xoxb-test-token", slack.OptionAPIURL(e.fake.APIURL()))
	e.app = bot.NewSlack(bot.SlackDeps{Client: client, APIURL: e.fake.APIURL(), SigningSecret: signingSecret,
		Store: e.store, Hearings: e.hs, Complaints: e.cs, T: bundle, Clock: e.clock, Loc: sh, Log: slog.New(slog.NewTextHandler(e.logs, nil))})
	return e
}

// submission is a modal's view_submission with text inputs and selects.
func submission(user, callbackID, viewID, metadata string, text, selects map[string]string) map[string]any {
	p := viewSubmission(user, callbackID, viewID, metadata, text)
	vals := p["view"].(map[string]any)["state"].(map[string]any)["values"].(map[string]any)
	for block, v := range selects {
		vals[block] = map[string]any{"value": map[string]any{"type": "static_select", "selected_option": map[string]any{"value": v}}}
	}
	return p
}

func (e *slackEnv) submit(t *testing.T, p map[string]any) *http.Response {
	t.Helper()
	return e.post(e.app.InteractionsHandler(), payloadBody(t, p), time.Now()).Result()
}

func (e *slackEnv) all() []duban.Complaint {
	e.t.Helper()
	cs, err := e.store.Complaints(e.ctx, storage.ComplaintFilter{})
	if err != nil {
		e.t.Fatal(err)
	}
	return cs
}

func TestSlackLog_MediaReportOnceAndRefusedWithoutOutlet(t *testing.T) {
	e := newSlackQueue(t)
	rec := e.post(e.app.CommandsHandler(), commandBody(slStaff, "log media", "trig-1"), time.Now())
	if rec.Code != 200 {
		t.Fatalf("command: %d", rec.Code)
	}
	opened := e.fake.WaitCalls(t, "views.open", 1, 5*time.Second)
	if !strings.Contains(string(opened[0].Body), "duban_c_media") || !strings.Contains(string(opened[0].Body), "trig-1") {
		t.Fatalf("views.open %s", opened[0].Body)
	}
	bad := submission(slStaff, "duban_c_media", "V1", "", map[string]string{"description": "晚报报道窗口排长队"}, map[string]string{"category": "efficiency"})
	rec = e.post(e.app.InteractionsHandler(), payloadBody(t, bad), time.Now())
	if got := decode(t, rec); got["response_action"] != "errors" || got["errors"].(map[string]any)["outlet"] == nil {
		t.Fatalf("missing outlet answered %v", got)
	}
	if n := len(e.all()); n != 0 {
		t.Fatalf("%d complaints after a refused submission", n)
	}
	good := submission(slStaff, "duban_c_media", "V2", "", map[string]string{"description": "晚报报道窗口排长队", "outlet": "城市晚报",
		"link": "https://example.org/1", "headline": "排队三小时"}, map[string]string{"category": "efficiency"})
	for range 2 {
		if res := e.submit(t, good); res.StatusCode != 200 {
			t.Fatalf("submission: %d", res.StatusCode)
		}
	}
	all := e.all()
	if len(all) != 1 || all[0].Source != duban.SourceMedia || all[0].Outlet != "城市晚报" || all[0].Headline != "排队三小时" {
		t.Fatalf("complaints %+v, want one media report", all)
	}
	dm := e.fake.WaitCalls(t, "chat.postMessage", 1, 5*time.Second)
	if !strings.Contains(dm[0].Param("text"), duban.FormatTrackingCode(all[0].TrackingCode)) {
		t.Errorf("the user was not told the code: %s", dm[0].Param("text"))
	}
	// A head may not log.
	rec = e.post(e.app.CommandsHandler(), commandBody(slHead, "log call", "trig-2"), time.Now())
	if !strings.Contains(rec.Body.String(), tr(duban.LocaleZH, "bot.not_yours", nil)) {
		t.Errorf("head logging: %s", rec.Body.String())
	}
}

func TestSlackLog_CallKeepsThePhoneOrNothingWhenAnonymous(t *testing.T) {
	e := newSlackQueue(t)
	e.submit(t, submission(slStaff, "duban_c_call", "V1", "", map[string]string{"description": "来电反映乱收费", "reporter_phone": "13800000000",
		"reporter_name": "王先生"}, map[string]string{"category": "illegal_fee"}))
	e.submit(t, submission(slStaff, "duban_c_call", "V2", "", map[string]string{"description": "匿名来电"}, map[string]string{"category": "other"}))
	all := e.all()
	if len(all) != 2 {
		t.Fatalf("%d complaints", len(all))
	}
	named, anon := all[1], all[0]
	if named.Source != duban.SourceHotlineCall || named.ReporterPhone != "13800000000" || !anon.Anonymous || anon.ReporterName != "" {
		t.Errorf("named %+v anonymous %+v", named, anon)
	}
}

func TestSlackSupervision_ButtonsThroughToCloseOnlyForSupervisors(t *testing.T) {
	e := newSlackQueue(t)
	c, _, err := e.cs.Create(e.ctx, jobs.Actor{Name: "test"}, jobs.Intake{Source: duban.SourceHotlineCall, Category: "illegal_fine",
		Description: "无依据罚款", ReporterName: "李某", ReporterPhone: "13900000000"})
	if err != nil {
		t.Fatal(err)
	}
	press := func(user, trigger, verb, resp string) {
		t.Helper()
		data := duban.ComplaintCallback{Verb: verb, ComplaintID: c.ID}.Encode()
		if rec := e.post(e.app.InteractionsHandler(), payloadBody(t, blockAction(user, trigger, data, e.fake.ResponseURL(resp))), time.Now()); rec.Code != 200 {
			t.Fatalf("press %s: %d", verb, rec.Code)
		}
	}
	status := func() duban.ComplaintStatus {
		got, err := e.store.ComplaintByID(e.ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		return got.Status
	}
	press(slOther, "t1", duban.VerbCAccept, "handler")
	if got := e.fake.WaitResponses(t, "handler", 1, 5*time.Second); !strings.Contains(got[0].Text(), tr(duban.LocaleZH, "bot.not_yours", nil)) || status() != duban.ComplaintReceived {
		t.Fatalf("a handler's press: %q, status %s", got[0].Text(), status())
	}
	press(slSup, "t2", duban.VerbCAccept, "sup")
	e.fake.WaitResponses(t, "sup", 1, 5*time.Second)
	if status() != duban.ComplaintAccepted {
		t.Fatalf("status %s after accept", status())
	}
	press(slSup, "t3", duban.VerbCAccept, "again")
	if got := e.fake.WaitResponses(t, "again", 1, 5*time.Second); !strings.Contains(got[0].Text(), "assign") {
		t.Errorf("accepting twice: %q, want the allowed actions", got[0].Text())
	}
	press(slSup, "t4", duban.VerbCAssign, "assign")
	opened := e.fake.WaitCalls(t, "views.open", 1, 5*time.Second)
	if !strings.Contains(string(opened[0].Body), "duban_c_assign") || !strings.Contains(string(opened[0].Body), "GA") {
		t.Fatalf("assign modal %s", opened[0].Body)
	}
	meta := strconv.FormatInt(c.ID, 10)
	e.submit(t, submission(slSup, "duban_c_assign", "VA", meta, map[string]string{"working_days": "5"},
		map[string]string{"agency": "GA", "handler": strconv.FormatInt(e.other.ID, 10)}))
	got, _ := e.store.ComplaintByID(e.ctx, c.ID)
	if got.Status != duban.ComplaintAssigned || got.DueAt == nil || !got.DueAt.Equal(time.Date(2026, 12, 8, 23, 59, 59, 0, sh)) {
		t.Fatalf("after assign: %s due %v", got.Status, got.DueAt)
	}
	// The handler sees the complaint, never who reported it.
	show := e.post(e.app.CommandsHandler(), commandBody(slOther, "show "+duban.FormatTrackingCode(c.TrackingCode), "t5"), time.Now())
	if body := show.Body.String(); !strings.Contains(body, "无依据罚款") || strings.Contains(body, "13900000000") || strings.Contains(body, "李某") {
		t.Errorf("handler's show: %s", body)
	}
	show = e.post(e.app.CommandsHandler(), commandBody(slSup, fmt.Sprintf("show %d", c.ID), "t6"), time.Now())
	if !strings.Contains(show.Body.String(), "13900000000") {
		t.Errorf("supervisor's show lacks the phone: %s", show.Body.String())
	}
	if e.auditCount("complaint.read_identity") != 1 {
		t.Errorf("identity reads audited %d times, want 1", e.auditCount("complaint.read_identity"))
	}
	if _, err := e.cs.Act(e.ctx, jobs.Actor{Person: e.other}, c.ID, duban.ActionRequest{Action: duban.ActionReply, Text: "已撤销"}); err != nil {
		t.Fatal(err)
	}
	e.submit(t, submission(slSup, "duban_c_close", "VC", meta, map[string]string{"text": "已撤销罚单"}, nil))
	if status() != duban.ComplaintClosed {
		t.Fatalf("status %s after the close modal", status())
	}
	// Reject on a closed complaint: the modal shows why.
	rec := e.post(e.app.InteractionsHandler(), payloadBody(t, submission(slSup, "duban_c_reject", "VR", meta, map[string]string{"reason": "重复"}, nil)), time.Now())
	if got := decode(t, rec); got["response_action"] != "errors" {
		t.Errorf("reject of a closed complaint answered %v", got)
	}
}

func TestSlackQueue_OverdueAndAgencyScoped(t *testing.T) {
	e := newSlackQueue(t)
	mk := func(desc string) *duban.Complaint {
		c, _, err := e.cs.Create(e.ctx, jobs.Actor{Name: "test"}, jobs.Intake{Source: duban.SourceOther, Category: "inaction", Description: desc})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	late, fresh := mk("逾期事项"), mk("新事项")
	for _, a := range []duban.ActionRequest{{Action: duban.ActionAccept}, {Action: duban.ActionAssign, Agency: "GA", WorkingDays: 1}} {
		if _, err := e.cs.Act(e.ctx, jobs.Actor{Person: e.sup}, late.ID, a); err != nil {
			t.Fatal(err)
		}
	}
	e.clock.Advance(5 * 24 * time.Hour)
	body := e.post(e.app.CommandsHandler(), commandBody(slSup, "queue overdue", "q1"), time.Now()).Body.String()
	if !strings.Contains(body, duban.FormatTrackingCode(late.TrackingCode)) || strings.Contains(body, duban.FormatTrackingCode(fresh.TrackingCode)) {
		t.Errorf("overdue queue: %s", body)
	}
	// The other agency's head sees nothing of GA's.
	body = e.post(e.app.CommandsHandler(), commandBody("UOTHERHEAD", "queue", "q2"), time.Now()).Body.String()
	if strings.Contains(body, duban.FormatTrackingCode(late.TrackingCode)) {
		t.Errorf("another agency's head sees GA's complaint: %s", body)
	}
}
