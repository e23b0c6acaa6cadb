package slack_test

import (
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/bot/bottest"
	slackbot "github.com/cityhall/duban/bot/slack"
	"github.com/cityhall/duban/jobs"
	"github.com/cityhall/duban/storage"
)

// newSlackQueue is the Slack app with the complaint queue on.
func newSlackQueue(t *testing.T) *slackEnv {
	t.Helper()
	e := newSlack(t)
	client := slack.New("xoxb-test-token", slack.OptionAPIURL(e.fake.APIURL()))
	e.app = slackbot.New(slackbot.Deps{Client: client, APIURL: e.fake.APIURL(), SigningSecret: signingSecret,
		Store: e.Store, Hearings: e.Hearings, Complaints: e.Complaints, T: bottest.Bundle, Clock: e.Clock, Loc: bottest.Shanghai, Log: slog.New(slog.NewTextHandler(e.logs, nil))})
	return e
}

// Element states of a submitted view, as Slack sends them.
func text(v string) map[string]any { return map[string]any{"type": "plain_text_input", "value": v} }
func choice(v string) map[string]any {
	return map[string]any{"type": "static_select", "selected_option": map[string]any{"value": v}}
}
func date(v string) map[string]any   { return map[string]any{"type": "datepicker", "selected_date": v} }
func number(v string) map[string]any { return map[string]any{"type": "number_input", "value": v} }
func checked(vals ...string) map[string]any {
	opts := []any{}
	for _, v := range vals {
		opts = append(opts, map[string]any{"value": v})
	}
	return map[string]any{"type": "checkboxes", "selected_options": opts}
}

// modalSubmit is a view_submission of a modal holding inputs by block id.
func modalSubmit(user, callbackID, viewID, hash, metadata string, inputs map[string]map[string]any) map[string]any {
	vals := map[string]any{}
	for block, el := range inputs {
		vals[block] = map[string]any{"value": el}
	}
	return map[string]any{"type": "view_submission", "trigger_id": "tv-" + viewID, "user": map[string]any{"id": user},
		"view": map[string]any{"id": viewID, "hash": hash, "type": "modal", "callback_id": callbackID,
			"private_metadata": metadata, "state": map[string]any{"values": vals}}}
}

// submit posts a view submission and returns the decoded answer, nil for
// an empty one (the modal closes).
func (e *slackEnv) submit(t *testing.T, p map[string]any) map[string]any {
	t.Helper()
	rec := e.post(e.app.InteractionsHandler(), payloadBody(t, p), time.Now())
	if rec.Code != http.StatusOK {
		t.Fatalf("submission: status %d", rec.Code)
	}
	if rec.Body.Len() == 0 {
		return nil
	}
	return decode(t, rec)
}

// viewErrors are the errors a submission was answered with, by block.
func viewErrors(t *testing.T, answer map[string]any) map[string]any {
	t.Helper()
	if answer["response_action"] != "errors" {
		t.Fatalf("answer %v, want errors", answer)
	}
	return answer["errors"].(map[string]any)
}

func (e *slackEnv) all() []duban.Complaint {
	e.T.Helper()
	cs, err := e.Store.Complaints(e.Ctx, storage.ComplaintFilter{})
	if err != nil {
		e.T.Fatal(err)
	}
	return cs
}

func TestSlackLog_OpensTheModalOnlyForTheOffice(t *testing.T) {
	tests := []struct {
		name, user, text string
		callback         string   // the modal opened, or "" for an answer
		blocks           []string // block ids the modal has
		want             string   // message id of the answer
	}{
		{name: "staff log a call", user: slStaff, text: "log call", callback: "duban_c_call",
			blocks: []string{"reporter_name", "reporter_phone", "anonymous", "category", "agency", "description", "location"}},
		{name: "supervisors log media", user: slSup, text: "log Media", callback: "duban_c_media",
			blocks: []string{"outlet", "published", "link", "headline", "category", "agency", "description"}},
		{name: "a head may not", user: slHead, text: "log call", want: "bot.not_yours"},
		{name: "a handler may not", user: slOther, text: "log media", want: "bot.not_yours"},
		{name: "a stranger may not", user: slStranger, text: "log media", want: "bot.not_yours"},
		{name: "log what is help", user: slStaff, text: "log fax", want: "slack.help"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newSlackQueue(t)
			rec := e.post(e.app.CommandsHandler(), commandBody(tt.user, tt.text, "trig-1"), time.Now())
			if tt.callback == "" {
				if m := decode(t, rec); m["text"] != tr("zh-CN", tt.want, nil) || len(e.fake.Calls("views.open")) != 0 {
					t.Errorf("answer %v, want %s and no modal", m, tt.want)
				}
				return
			}
			opened := e.fake.WaitCalls(t, "views.open", 1, 5*time.Second)
			body := opened[0].JSON()
			view, _ := body["view"].(map[string]any)
			if rec.Body.Len() != 0 || body["trigger_id"] != "trig-1" || view["callback_id"] != tt.callback {
				t.Fatalf("answer %q, views.open %s", rec.Body, opened[0].Body)
			}
			for _, b := range tt.blocks {
				if !strings.Contains(string(opened[0].Body), `"block_id":"`+b+`"`) {
					t.Errorf("modal has no block %s", b)
				}
			}
			if n := strings.Count(string(opened[0].Body), `"value":"illegal_`); n != 3 {
				t.Errorf("category select has %d illegal_* options, want 3 of the 7 categories", n)
			}
		})
	}
}

func TestSlackLog_MediaReportCreatedOnceOrRefusedUnderItsField(t *testing.T) {
	e := newSlackQueue(t)
	media := func(outlet string) map[string]map[string]any {
		return map[string]map[string]any{"outlet": text(outlet), "published": date("2026-11-30"), "link": text("https://example.org/1"),
			"headline": text("排队三小时"), "category": choice("efficiency"), "agency": text(""), "description": text("晚报报道办事窗口排长队")}
	}
	errs := viewErrors(t, e.submit(t, modalSubmit(slStaff, "duban_c_media", "V1", "h1", "", media(" "))))
	if errs["outlet"] != tr("zh-CN", "slack.c.invalid.outlet", nil) || len(errs) != 1 {
		t.Errorf("missing outlet answered %v, want an error under the outlet block", errs)
	}
	if n := len(e.all()); n != 0 {
		t.Fatalf("%d complaints after a refused submission", n)
	}
	// Slack may deliver a submission twice, even with another hash: one
	// modal is one complaint.
	for _, hash := range []string{"h2", "h2", "h3"} {
		if got := e.submit(t, modalSubmit(slStaff, "duban_c_media", "V1", hash, "", media("城市晚报"))); got != nil {
			t.Fatalf("submission answered %v, want the modal closed", got)
		}
	}
	all := e.all()
	if len(all) != 1 {
		t.Fatalf("%d complaints, want 1", len(all))
	}
	c := all[0]
	if c.Source != duban.SourceMedia || c.Outlet != "城市晚报" || c.Link != "https://example.org/1" || c.Headline != "排队三小时" ||
		c.Category != duban.CategoryEfficiency || c.OccurredAt == nil || !c.OccurredAt.Equal(time.Date(2026, 11, 30, 0, 0, 0, 0, bottest.Shanghai)) {
		t.Errorf("complaint %+v", c)
	}
	dm := e.fake.WaitCalls(t, "chat.postMessage", 1, 5*time.Second)
	want := tr("zh-CN", "slack.c.logged", map[string]any{"Code": duban.FormatTrackingCode(c.TrackingCode)})
	if dm[0].Param("channel") != slStaff || dm[0].Param("text") != want {
		t.Errorf("direct message to %s: %q, want %q", dm[0].Param("channel"), dm[0].Param("text"), want)
	}
}

func TestSlackLog_CallKeepsTheCallerUnlessAnonymous(t *testing.T) {
	tests := []struct {
		name      string
		inputs    map[string]map[string]any
		wantError string // block with an error, "" when created
		wantName  string
		wantPhone string
		wantAnon  bool
	}{
		{name: "with a phone", inputs: map[string]map[string]any{"reporter_name": text("王先生"), "reporter_phone": text("13800000000")},
			wantName: "王先生", wantPhone: "13800000000"},
		{name: "anonymous keeps no name or phone", inputs: map[string]map[string]any{"reporter_name": text("王先生"),
			"reporter_phone": text("13800000000"), "anonymous": checked("anonymous")}, wantAnon: true},
		{name: "anonymous without anything", inputs: map[string]map[string]any{"anonymous": checked("anonymous")}, wantAnon: true},
		{name: "no phone and not anonymous", inputs: map[string]map[string]any{"reporter_name": text("王先生")}, wantError: "reporter_phone"},
		{name: "an unknown agency", inputs: map[string]map[string]any{"reporter_phone": text("13800000000"), "agency": text("NOPE")},
			wantError: "agency"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newSlackQueue(t)
			in := map[string]map[string]any{"category": choice("illegal_fee"), "description": text("来电反映乱收费"), "location": text("昨天，人民广场")}
			for k, v := range tt.inputs {
				in[k] = v
			}
			got := e.submit(t, modalSubmit(slStaff, "duban_c_call", "V1", "h1", "", in))
			all := e.all()
			if tt.wantError != "" {
				if errs := viewErrors(t, got); errs[tt.wantError] == nil || len(all) != 0 {
					t.Errorf("errors %v and %d complaints, want an error under %s and none", errs, len(all), tt.wantError)
				}
				return
			}
			if got != nil || len(all) != 1 {
				t.Fatalf("answer %v, %d complaints", got, len(all))
			}
			c := all[0]
			if c.Source != duban.SourceHotlineCall || c.ReporterName != tt.wantName || c.ReporterPhone != tt.wantPhone ||
				c.Anonymous != tt.wantAnon || c.Location != "昨天，人民广场" {
				t.Errorf("complaint %+v", c)
			}
		})
	}
}

// press sends a supervision button of complaint id, answered at the
// response_url named resp.
func (e *slackEnv) press(t *testing.T, user, trigger, verb string, id int64, resp string) {
	t.Helper()
	data := duban.ComplaintCallback{Verb: verb, ComplaintID: id}.Encode()
	if rec := e.post(e.app.InteractionsHandler(), payloadBody(t, blockAction(user, trigger, data, e.fake.ResponseURL(resp))), time.Now()); rec.Code != 200 {
		t.Fatalf("press %s: %d", verb, rec.Code)
	}
}

// complaint takes a hotline call in, and moves it by actions.
func (e *slackEnv) complaint(t *testing.T, actions ...duban.ActionRequest) *duban.Complaint {
	t.Helper()
	c, _, err := e.Complaints.Create(e.Ctx, jobs.Actor{Name: "test"}, jobs.Intake{Source: duban.SourceHotlineCall, Category: "illegal_fine",
		Description: "无依据罚款", ReporterName: "李某", ReporterPhone: "13900000000"})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range actions {
		// Set-up as the bootstrap admin: replies are the agency's, the
		// rest the supervisors'.
		if c, err = e.Complaints.Act(e.Ctx, jobs.Actor{Name: "test"}, c.ID, a); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

// state is a complaint's status and how many events it has.
func (e *slackEnv) state(t *testing.T, id int64) (duban.ComplaintStatus, int) {
	t.Helper()
	c, err := e.Store.ComplaintByID(e.Ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	evs, err := e.Store.Events(e.Ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	return c.Status, len(evs)
}

func TestSlackSupervision_ButtonsAreNotYoursButForSupervisors(t *testing.T) {
	for _, user := range []string{slOther, slHead, slStaff, slStranger} {
		for _, verb := range []string{duban.VerbCAccept, duban.VerbCReject, duban.VerbCAssign, duban.VerbCUrge} {
			t.Run(user+"/"+verb, func(t *testing.T) {
				e := newSlackQueue(t)
				c := e.complaint(t)
				e.press(t, user, "t1", verb, c.ID, "r")
				got := e.fake.WaitResponses(t, "r", 1, 5*time.Second)
				if got[0].Text() != tr("zh-CN", "bot.not_yours", nil) {
					t.Errorf("answer %q, want not_yours", got[0].Text())
				}
				if st, n := e.state(t, c.ID); st != duban.ComplaintReceived || n != 1 || len(e.fake.Calls("views.open")) != 0 {
					t.Errorf("status %s with %d events and a modal %v: something changed", st, n, e.fake.Calls("views.open"))
				}
			})
		}
	}
}
