package slack_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/bot/bottest"
	slackbot "github.com/cityhall/duban/bot/slack"
	"github.com/cityhall/duban/internal/fakes/slackfake"
	"github.com/cityhall/duban/notifier"
)

const signingSecret = "8f14e45fceea167a5a36dedd4bea2543"

// Slack user ids of the people every test has, and of someone duban does
// not know.
const (
	slHead, slOther, slStaff, slSup = bottest.SlHead, bottest.SlOther, bottest.SlStaff, bottest.SlSup
	slStranger                      = "USTRANGER"
)

// tr renders a message as the app would.
var tr = bottest.Tr

type slackEnv struct {
	*bottest.Env
	fake *slackfake.Server
	app  *slackbot.App
	logs *bottest.SyncBuffer
}

func newSlack(t *testing.T) *slackEnv {
	t.Helper()
	e := &slackEnv{Env: bottest.New(t), fake: slackfake.New(t), logs: &bottest.SyncBuffer{}}
	client := slack.New("xoxb-test-token", slack.OptionAPIURL(e.fake.APIURL()))
	// The app's direct messages go through the outbox, sent at once in a
	// test; without the limit of a post a second to one user, which would
	// hold a retry a second.
	e.Senders[duban.ChannelSlack] = notifier.NewSlack(client, notifier.WithSlackChannelInterval(0))
	e.app = slackbot.New(slackbot.Deps{Client: client, APIURL: e.fake.APIURL(), SigningSecret: signingSecret,
		Store: e.Store, Hearings: e.Hearings, T: bottest.Bundle, Clock: e.Clock, Loc: bottest.Shanghai, Log: slog.New(slog.NewTextHandler(e.logs, nil))})
	return e
}

// post sends body to h signed at ts, as Slack would.
func (e *slackEnv) post(h http.Handler, body []byte, ts time.Time) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, "/slack", bytes.NewReader(body))
	for k, v := range slackfake.Sign(signingSecret, body, ts) {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func commandBody(user, text, trigger string) []byte {
	return []byte(url.Values{"command": {"/duban"}, "text": {text}, "user_id": {user}, "trigger_id": {trigger},
		"team_id": {"T0DUBAN"}, "channel_id": {"C1"}, "response_url": {"https://hooks.slack.invalid/commands/1"}}.Encode())
}

func payloadBody(t *testing.T, payload any) []byte {
	return []byte(url.Values{"payload": {string(bottest.MustJSON(t, payload))}}.Encode())
}

// blockAction is a button press in the wire format of block_actions.
func blockAction(user, trigger, value, responseURL string) map[string]any {
	return map[string]any{"type": "block_actions", "trigger_id": trigger, "user": map[string]any{"id": user},
		"response_url": responseURL, "container": map[string]any{"type": "message", "channel_id": "D1", "message_ts": "1.1"},
		"message": map[string]any{"type": "message", "text": "【出庭情况登记】", "ts": "1.1"},
		"actions": []any{map[string]any{"type": "button", "action_id": value, "block_id": "b1", "value": value, "action_ts": "2.2"}}}
}

// viewSubmission is a modal's submission in the wire format of
// view_submission.
func viewSubmission(user, callbackID, viewID, metadata string, fields map[string]string) map[string]any {
	vals := map[string]any{}
	for block, v := range fields {
		vals[block] = map[string]any{"value": map[string]any{"type": "plain_text_input", "value": v}}
	}
	return map[string]any{"type": "view_submission", "trigger_id": "tv-" + viewID, "user": map[string]any{"id": user},
		"view": map[string]any{"id": viewID, "hash": "hash-" + viewID, "type": "modal", "callback_id": callbackID,
			"private_metadata": metadata, "state": map[string]any{"values": vals}}}
}

func goodNotice() map[string]string {
	return map[string]string{"case_number": "（2026）沪0101行初88号", "court": "市中级人民法院", "courtroom": "第五法庭",
		"agencies": "GA；SJ", "starts_at": "2026-12-20 14:30", "plaintiff": "李某", "cause": "行政许可"}
}

func decode(t *testing.T, rec *httptest.ResponseRecorder) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil {
		t.Fatalf("answer %q is not JSON: %v", rec.Body.String(), err)
	}
	return m
}

func TestSlackHandlers_RefuseUnsignedOrStaleRequests(t *testing.T) {
	e := newSlack(t)
	now := time.Now()
	body := commandBody(slStaff, "hearing", "trig-1")
	handlers := map[string]http.Handler{"commands": e.app.CommandsHandler(), "interactions": e.app.InteractionsHandler(), "events": e.app.EventsHandler()}
	tests := []struct {
		name   string
		header func(h http.Header)
	}{
		{"no signature", func(h http.Header) { h.Del("X-Slack-Signature"); h.Del("X-Slack-Request-Timestamp") }},
		{"bad signature", func(h http.Header) { h.Set("X-Slack-Signature", "v0="+strings.Repeat("ab", 32)) }},
		{"signed with another secret", func(h http.Header) {
			h.Set("X-Slack-Signature", slackfake.Sign("another-secret", body, now).Get("X-Slack-Signature"))
		}},
		{"stale timestamp", func(h http.Header) {
			for k, v := range slackfake.Sign(signingSecret, body, now.Add(-6*time.Minute)) {
				h[k] = v
			}
		}},
		{"future timestamp", func(h http.Header) {
			for k, v := range slackfake.Sign(signingSecret, body, now.Add(6*time.Minute)) {
				h[k] = v
			}
		}},
	}
	for hname, h := range handlers {
		for _, tt := range tests {
			t.Run(hname+"/"+tt.name, func(t *testing.T) {
				req := httptest.NewRequest(http.MethodPost, "/slack", bytes.NewReader(body))
				for k, v := range slackfake.Sign(signingSecret, body, now) {
					req.Header[k] = v
				}
				tt.header(req.Header)
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != http.StatusUnauthorized {
					t.Errorf("status %d, want 401", rec.Code)
				}
			})
		}
	}
	if calls := e.fake.Calls("views.open"); len(calls) != 0 {
		t.Errorf("an unsigned command opened a modal")
	}
}

func TestSlackCommand_AnswersBySubcommandAndRole(t *testing.T) {
	tests := []struct {
		name      string
		user      string
		text      string
		wantModal bool
		want      string // message id of the ephemeral answer
	}{
		{name: "staff open the hearing modal", user: slStaff, text: "hearing", wantModal: true},
		{name: "supervisors do not register hearings", user: slSup, text: " Hearing ", want: "bot.not_yours"},
		{name: "a head may not", user: slHead, text: "hearing", want: "bot.not_yours"},
		{name: "a stranger may not", user: slStranger, text: "hearing", want: "bot.not_yours"},
		{name: "help", user: slHead, text: "help", want: "slack.help"},
		{name: "nothing is help", user: slStranger, text: "", want: "slack.help"},
		{name: "unknown is help", user: slStaff, text: "frobnicate", want: "slack.help"},
		{name: "queue off without the complaint queue", user: slSup, text: "queue overdue", want: "slack.not_yet"},
		{name: "show comes later", user: slSup, text: "show 12", want: "slack.not_yet"},
		{name: "log comes later", user: slStaff, text: "log call", want: "slack.not_yet"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newSlack(t)
			rec := e.post(e.app.CommandsHandler(), commandBody(tt.user, tt.text, "trig-42"), time.Now())
			if rec.Code != http.StatusOK {
				t.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
			opened := e.fake.Calls("views.open")
			if !tt.wantModal {
				if len(opened) != 0 {
					t.Errorf("a modal opened")
				}
				m := decode(t, rec)
				if m["response_type"] != "ephemeral" || m["text"] != tr("zh-CN", tt.want, nil) {
					t.Errorf("answer %v, want ephemeral %s", m, tt.want)
				}
				return
			}
			if rec.Body.Len() != 0 {
				t.Errorf("answer %q, want empty", rec.Body)
			}
			if len(opened) != 1 {
				t.Fatalf("views.open called %d times", len(opened))
			}
			body := opened[0].JSON()
			view, _ := body["view"].(map[string]any)
			if body["trigger_id"] != "trig-42" || view["callback_id"] != "duban_hearing" {
				t.Errorf("views.open %s, want the hearing modal on trig-42", opened[0].Body)
			}
			for _, block := range []string{"case_number", "court", "courtroom", "agencies", "starts_at", "plaintiff", "cause"} {
				if !strings.Contains(string(opened[0].Body), `"block_id":"`+block+`"`) {
					t.Errorf("modal has no block %s", block)
				}
			}
		})
	}
}

func TestSlackHearingModal_ShowsBadInputUnderItsField(t *testing.T) {
	tests := []struct {
		name   string
		change map[string]string
		block  string
	}{
		{"a time that is not one", map[string]string{"starts_at": "next Tuesday"}, "starts_at"},
		{"a time in the past", map[string]string{"starts_at": "2026-11-30 09:00"}, "starts_at"},
		{"an unknown agency", map[string]string{"agencies": "GA, NOPE"}, "agencies"},
		{"no plaintiff", map[string]string{"plaintiff": " "}, "plaintiff"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newSlack(t)
			fields := goodNotice()
			for k, v := range tt.change {
				fields[k] = v
			}
			rec := e.post(e.app.InteractionsHandler(), payloadBody(t, viewSubmission(slStaff, "duban_hearing", "V1", "", fields)), time.Now())
			m := decode(t, rec)
			errs, _ := m["errors"].(map[string]any)
			if m["response_action"] != "errors" || errs[tt.block] == nil {
				t.Errorf("answer %v, want errors naming %s", m, tt.block)
			}
			if _, err := e.Store.HearingByCaseStart(e.Ctx, fields["case_number"], time.Date(2026, 12, 20, 14, 30, 0, 0, bottest.Shanghai)); err == nil {
				t.Errorf("a bad notice was registered")
			}
		})
	}
}

func TestSlackHearingModal_RegistersOnceAndTellsTheUser(t *testing.T) {
	e := newSlack(t)
	body := payloadBody(t, viewSubmission(slStaff, "duban_hearing", "V7", "", goodNotice()))
	for i := range 2 { // Slack delivers the submission twice
		rec := e.post(e.app.InteractionsHandler(), body, time.Now())
		if rec.Code != http.StatusOK || rec.Body.Len() != 0 {
			t.Fatalf("submission %d: %d %q, want an empty 200 closing the modal", i+1, rec.Code, rec.Body)
		}
	}
	h, err := e.Store.HearingByCaseStart(e.Ctx, "（2026）沪0101行初88号", time.Date(2026, 12, 20, 14, 30, 0, 0, bottest.Shanghai))
	if err != nil {
		t.Fatalf("hearing not registered: %v", err)
	}
	if len(h.Agencies) != 2 || h.Courtroom != "第五法庭" || h.Cause != "行政许可" {
		t.Errorf("hearing %+v", h)
	}
	if n := e.AuditCount("hearing.register"); n != 2 { // the env's hearing and this one
		t.Errorf("%d registrations, want 2", n)
	}
	// The direct message is sent before the submission is answered (the
	// harness's outbox sends at once), so nothing is left to wait for.
	posts := e.fake.Calls("chat.postMessage")
	if len(posts) != 1 {
		t.Fatalf("%d direct messages, want 1", len(posts))
	}
	if posts[0].Param("channel") != slStaff || !strings.Contains(posts[0].Param("text"), "（2026）沪0101行初88号") ||
		!strings.Contains(posts[0].Param("text"), "2026-12-20 14:30") {
		t.Errorf("direct message %v, want the case number and local time to %s", posts[0].Form, slStaff)
	}
}

func TestSlackButtons_ActOnlyForWhoMay(t *testing.T) {
	tests := []struct {
		name       string
		user       string
		value      string
		afterStart bool
		wantAnswer duban.Answer
		want       string // message id posted to response_url
	}{
		{name: "the head confirms", user: slHead, value: "hc:%d", wantAnswer: duban.AnswerConfirmed, want: "bot.answer.confirmed"},
		{name: "someone else may not", user: slOther, value: "hc:%d", wantAnswer: duban.AnswerNone, want: "bot.not_yours"},
		{name: "a supervisor does not answer for the head", user: slSup, value: "hc:%d", wantAnswer: duban.AnswerNone, want: "bot.not_yours"},
		{name: "a stranger may not", user: slStranger, value: "hc:%d", wantAnswer: duban.AnswerNone, want: "bot.not_yours"},
		{name: "too late once started", user: slHead, value: "hc:%d", afterStart: true, wantAnswer: duban.AnswerNone, want: "bot.too_late"},
		{name: "garbage", user: slHead, value: "nope", wantAnswer: duban.AnswerNone, want: "bot.error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newSlack(t)
			if tt.afterStart {
				e.AfterStart()
			}
			value := tt.value
			if strings.Contains(value, "%d") {
				value = fmt.Sprintf(value, e.HA)
			}
			rec := e.post(e.app.InteractionsHandler(), payloadBody(t, blockAction(tt.user, "trig-9", value, e.fake.ResponseURL("r"))), time.Now())
			if rec.Code != http.StatusOK {
				t.Fatalf("status %d", rec.Code)
			}
			if got := e.HANow().Answer; got != tt.wantAnswer {
				t.Errorf("answer %s, want %s", got, tt.wantAnswer)
			}
			resp := e.fake.WaitResponses(t, "r", 1, 5*time.Second)[0]
			if resp.Text() != tr("zh-CN", tt.want, nil) || resp.Body["replace_original"] != false {
				t.Errorf("response_url got %v, want %s without replacing the reminder", resp.Body, tt.want)
			}
		})
	}
}

func TestSlackButtons_PressedTwiceActsOnce(t *testing.T) {
	e := newSlack(t)
	body := payloadBody(t, blockAction(slHead, "trig-9", fmt.Sprintf("hc:%d", e.HA), e.fake.ResponseURL("r")))
	e.post(e.app.InteractionsHandler(), body, time.Now())
	e.post(e.app.InteractionsHandler(), body, time.Now())
	e.fake.WaitResponses(t, "r", 1, 5*time.Second)
	time.Sleep(50 * time.Millisecond)
	if n := len(e.fake.Responses("r")); n != 1 {
		t.Errorf("%d replies, want 1", n)
	}
	if n := e.AuditCount("hearing.answer"); n != 1 {
		t.Errorf("%d answers, want 1", n)
	}
}

func TestSlackDelegate_ModalRecordsWhoGoesAndWhy(t *testing.T) {
	e := newSlack(t)
	e.post(e.app.InteractionsHandler(), payloadBody(t, blockAction(slHead, "trig-d", fmt.Sprintf("hd:%d", e.HA), e.fake.ResponseURL("r"))), time.Now())
	opened := e.fake.WaitCalls(t, "views.open", 1, 5*time.Second)
	view, _ := opened[0].JSON()["view"].(map[string]any)
	if opened[0].Param("trigger_id") != "trig-d" || view["callback_id"] != "duban_delegate" || view["private_metadata"] != fmt.Sprint(e.HA) {
		t.Fatalf("views.open %s, want the delegate modal for %d", opened[0].Body, e.HA)
	}

	empty := viewSubmission(slHead, "duban_delegate", "VD", fmt.Sprint(e.HA), map[string]string{"name": "李四", "reason": " "})
	m := decode(t, e.post(e.app.InteractionsHandler(), payloadBody(t, empty), time.Now()))
	if errs, _ := m["errors"].(map[string]any); m["response_action"] != "errors" || errs["reason"] == nil {
		t.Errorf("answer %v, want an error under reason", m)
	}

	good := viewSubmission(slHead, "duban_delegate", "VD", fmt.Sprint(e.HA), map[string]string{"name": "李四", "reason": "出差"})
	if rec := e.post(e.app.InteractionsHandler(), payloadBody(t, good), time.Now()); rec.Body.Len() != 0 {
		t.Fatalf("answer %q, want the modal closed", rec.Body)
	}
	if ha := e.HANow(); ha.Answer != duban.AnswerDelegated || ha.DelegateName != "李四" || ha.DelegateReason != "出差" {
		t.Errorf("answer %s %q %q, want delegated 李四 出差", ha.Answer, ha.DelegateName, ha.DelegateReason)
	}
	dm := e.fake.WaitCalls(t, "chat.postMessage", 1, 5*time.Second)[0]
	if dm.Param("channel") != slHead || dm.Param("text") != tr("zh-CN", "bot.answer.delegated", map[string]any{"Delegate": "李四", "Reason": "出差"}) {
		t.Errorf("direct message %v", dm.Form)
	}
}

func TestSlackOutcome_StaffRecordAndTheButtonsGo(t *testing.T) {
	e := newSlack(t)
	e.AfterStart()
	e.post(e.app.InteractionsHandler(), payloadBody(t, blockAction(slStaff, "trig-o", fmt.Sprintf("ho:%d:deputy", e.HA), e.fake.ResponseURL("r"))), time.Now())
	if got := e.HANow().Outcome; got == nil || *got != duban.AttendanceDeputy {
		t.Errorf("outcome %v, want deputy", got)
	}
	resp := e.fake.WaitResponses(t, "r", 1, 5*time.Second)[0]
	want := tr("zh-CN", "bot.outcome.recorded", map[string]any{"Agency": "市公安局", "Attendance": tr("zh-CN", "attendance.deputy", nil)})
	if resp.Body["replace_original"] != true || !strings.HasSuffix(resp.Text(), want) {
		t.Errorf("response_url got %v, want the request replaced, ending %q", resp.Body, want)
	}
}

func TestSlackDetails_ForTheAgencyOnly(t *testing.T) {
	e := newSlack(t)
	e.post(e.app.InteractionsHandler(), payloadBody(t, blockAction(slOther, "trig-i", fmt.Sprintf("hi:%d", e.HA), e.fake.ResponseURL("mine"))), time.Now())
	e.post(e.app.InteractionsHandler(), payloadBody(t, blockAction("UOTHERHEAD", "trig-j", fmt.Sprintf("hi:%d", e.HA), e.fake.ResponseURL("theirs"))), time.Now())
	if got := e.fake.WaitResponses(t, "mine", 1, 5*time.Second)[0]; !strings.Contains(got.Text(), e.Hearing.CaseNumber) || got.Body["response_type"] != "ephemeral" {
		t.Errorf("details %v", got.Body)
	}
	if got := e.fake.WaitResponses(t, "theirs", 1, 5*time.Second)[0]; got.Text() != tr("zh-CN", "bot.not_yours", nil) {
		t.Errorf("another agency's head got %v", got.Body)
	}
}

func TestSlackEvents_EchoesTheChallenge(t *testing.T) {
	e := newSlack(t)
	body := []byte(`{"token":"x","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}`)
	rec := e.post(e.app.EventsHandler(), body, time.Now())
	if m := decode(t, rec); rec.Code != http.StatusOK || m["challenge"] != "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P" {
		t.Errorf("%d %v, want the challenge", rec.Code, m)
	}
	other := []byte(`{"type":"event_callback","event_id":"Ev1","event":{"type":"app_mention","text":"hi"}}`)
	if rec := e.post(e.app.EventsHandler(), other, time.Now()); rec.Code != http.StatusOK {
		t.Errorf("event answered %d, want 200", rec.Code)
	}
}
