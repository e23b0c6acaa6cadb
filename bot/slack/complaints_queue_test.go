package slack_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/internal/fakes/slackfake"
	"github.com/cityhall/duban/jobs"
	"github.com/cityhall/duban/storage"
)

// command runs /duban text as user and returns the ephemeral answer.
func (e *slackEnv) command(t *testing.T, user, text string) string {
	t.Helper()
	rec := e.post(e.app.CommandsHandler(), commandBody(user, text, "trig-c"), time.Now())
	if rec.Code != http.StatusOK {
		t.Fatalf("/duban %s: status %d", text, rec.Code)
	}
	m := decode(t, rec)
	if m["response_type"] != "ephemeral" {
		t.Errorf("/duban %s answered %v, want ephemeral", text, m)
	}
	s, _ := m["text"].(string)
	return s
}

func TestSlackShow_TheReporterOnlyForTheOfficeAndAudited(t *testing.T) {
	e := newSlackQueue(t)
	c := e.complaint(t, accept, assign)
	if _, err := e.Complaints.Act(e.Ctx, jobs.Actor{Person: e.Sup}, c.ID, duban.ActionRequest{Action: duban.ActionNote, Text: "内部备注：来电人情绪激动"}); err != nil {
		t.Fatal(err)
	}
	if err := e.Store.AddAttachment(e.Ctx, &storage.Attachment{ComplaintID: c.ID, FileID: "f1", Kind: "photo", Size: 10}); err != nil {
		t.Fatal(err)
	}
	code := duban.FormatTrackingCode(c.TrackingCode)
	tests := []struct {
		name, user, ref string
		want            []string
		never           []string
		audited         int // identity reads in the audit log after
	}{
		{name: "a supervisor by id", user: slSup, ref: fmt.Sprint(c.ID), want: []string{code, "无依据罚款", "李某", "13900000000", "内部备注", "附件：1 个", "赵监督"}, audited: 1},
		{name: "staff by code", user: slStaff, ref: strings.ToLower(c.TrackingCode), want: []string{"13900000000"}, audited: 1},
		{name: "the agency's handler", user: slOther, ref: code, want: []string{code, "无依据罚款", "附件：1 个"}, never: []string{"李某", "13900000000", "内部备注"}},
		{name: "the agency's head", user: slHead, ref: code, want: []string{"无依据罚款"}, never: []string{"李某", "13900000000", "内部备注"}},
		{name: "another agency's head", user: "UOTHERHEAD", ref: code, want: []string{tr("zh-CN", "bot.not_yours", nil)}, never: []string{"无依据罚款"}},
		{name: "a stranger", user: slStranger, ref: code, want: []string{tr("zh-CN", "bot.not_yours", nil)}, never: []string{"无依据罚款"}},
		{name: "an unknown code", user: slSup, ref: "ZZZZ-ZZZZ-ZZZZ", want: []string{tr("zh-CN", "slack.c.not_found", nil)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := e.AuditCount("complaint.read_identity")
			got := e.command(t, tt.user, "show "+tt.ref)
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("answer lacks %q: %s", w, got)
				}
			}
			for _, n := range tt.never {
				if strings.Contains(got, n) {
					t.Errorf("answer holds %q: %s", n, got)
				}
			}
			if n := e.AuditCount("complaint.read_identity") - before; n != tt.audited {
				t.Errorf("%d identity reads audited, want %d", n, tt.audited)
			}
		})
	}
}

func TestSlackQueue_ListsWhatWasAskedForAndOnlyTheAgencysOwn(t *testing.T) {
	e := newSlackQueue(t)
	late := e.complaint(t, accept, duban.ActionRequest{Action: duban.ActionAssign, Agency: "GA", WorkingDays: 1})
	e.Clock.Advance(5 * 24 * time.Hour)
	onTime := e.complaint(t, accept, duban.ActionRequest{Action: duban.ActionAssign, Agency: "GA", HandlerID: &e.Other.ID})
	sj := e.complaint(t, accept, duban.ActionRequest{Action: duban.ActionAssign, Agency: "SJ"})
	fresh := e.complaint(t)
	closed := e.complaint(t, accept, assign, reply, duban.ActionRequest{Action: duban.ActionClose})
	all := map[string]*duban.Complaint{"late": late, "onTime": onTime, "sj": sj, "fresh": fresh, "closed": closed}
	tests := []struct {
		name, user, text string
		want             []string // complaints listed
		answer           string   // or the message id answered
	}{
		{name: "everything open", user: slSup, text: "queue", want: []string{"late", "onTime", "sj", "fresh"}},
		{name: "overdue only", user: slSup, text: "queue overdue", want: []string{"late"}},
		{name: "a supervisor's own: to accept or assign", user: slSup, text: "queue mine", want: []string{"fresh"}},
		{name: "a handler's own", user: slOther, text: "queue mine", want: []string{"onTime"}},
		{name: "one agency", user: slStaff, text: "queue agency sj", want: []string{"sj"}},
		{name: "a head sees the agency's", user: slHead, text: "queue", want: []string{"late", "onTime"}},
		{name: "and its overdue", user: slHead, text: "queue overdue", want: []string{"late"}},
		{name: "another agency's head sees its own", user: "UOTHERHEAD", text: "queue", want: []string{"sj"}},
		{name: "but none of another's never assigned to it", user: "UOTHERHEAD", text: "queue agency GA", answer: "slack.c.queue_empty"},
		{name: "a stranger", user: slStranger, text: "queue", answer: "bot.not_yours"},
		{name: "an unknown agency", user: slSup, text: "queue agency XX", answer: "slack.c.no_agency"},
		{name: "an unknown filter", user: slSup, text: "queue later", answer: "slack.help"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := e.command(t, tt.user, tt.text)
			if tt.answer != "" {
				if got != tr("zh-CN", tt.answer, map[string]any{"Code": "XX"}) {
					t.Errorf("answer %q, want %s", got, tt.answer)
				}
				return
			}
			for name, c := range all {
				listed := strings.Contains(got, duban.FormatTrackingCode(c.TrackingCode))
				if want := slices.Contains(tt.want, name); listed != want {
					t.Errorf("%s listed %v, want %v: %s", name, listed, want, got)
				}
			}
		})
	}
}

func TestSlackQueue_ListsAtMostTwenty(t *testing.T) {
	e := newSlackQueue(t)
	for range 22 {
		e.complaint(t)
	}
	got := e.command(t, slSup, "queue")
	if n := strings.Count(got, "#"); n != 20 || !strings.Contains(got, tr("zh-CN", "slack.c.queue_more", map[string]any{"Max": 20})) {
		t.Errorf("%d listed: %s", n, got)
	}
}

func TestSlackComplaints_RefuseUnsignedRequests(t *testing.T) {
	e := newSlackQueue(t)
	c := e.complaint(t)
	for name, body := range map[string][]byte{
		"button":     payloadBody(t, blockAction(slSup, "t1", duban.ComplaintCallback{Verb: duban.VerbCAccept, ComplaintID: c.ID}.Encode(), e.fake.ResponseURL("r"))),
		"submission": payloadBody(t, modalSubmit(slStaff, "duban_c_call", "V1", "h", "", map[string]map[string]any{"description": text("x"), "anonymous": checked("anonymous"), "category": choice("other")})),
	} {
		t.Run(name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodPost, "/slack/interactions", bytes.NewReader(body))
			for k, v := range slackfake.Sign(signingSecret, body, time.Now()) {
				req.Header[k] = v
			}
			req.Header.Set("X-Slack-Signature", "v0="+strings.Repeat("0f", 32))
			rec := httptest.NewRecorder()
			e.app.InteractionsHandler().ServeHTTP(rec, req)
			if rec.Code != http.StatusUnauthorized {
				t.Errorf("status %d, want 401", rec.Code)
			}
		})
	}
	if st, n := e.state(t, c.ID); st != duban.ComplaintReceived || n != 1 || len(e.all()) != 1 {
		t.Errorf("an unsigned request changed something: %s, %d events, %d complaints", st, n, len(e.all()))
	}
}

func TestSlackSocketMode_RoutesTheComplaintQueueLikeHTTP(t *testing.T) {
	e := newSlackQueue(t)
	c := e.complaint(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.app.RunSocketMode(ctx, "xapp-1-A0DUBAN-test") }()
	defer func() { cancel(); <-done }()
	e.fake.WaitConnected(t, 1, 5*time.Second)
	ack := func(typ string, payload any) map[string]any {
		t.Helper()
		raw := e.fake.WaitAck(t, e.fake.SocketSend(typ, payload), 5*time.Second)
		var m map[string]any
		if len(raw) > 0 {
			if err := json.Unmarshal(raw, &m); err != nil {
				t.Fatalf("ack %s: %v", raw, err)
			}
		}
		return m
	}
	q := ack("slash_commands", map[string]any{"command": "/duban", "text": "queue", "user_id": slSup, "trigger_id": "t1"})
	if text, _ := q["text"].(string); !strings.Contains(text, duban.FormatTrackingCode(c.TrackingCode)) {
		t.Errorf("queue acknowledged with %v", q)
	}
	bad := ack("interactive", modalSubmit(slStaff, "duban_c_media", "VS", "h", "", map[string]map[string]any{"description": text("x"), "category": choice("other")}))
	if errs, _ := bad["errors"].(map[string]any); bad["response_action"] != "errors" || errs["outlet"] == nil {
		t.Errorf("media without outlet acknowledged with %v", bad)
	}
	if got := ack("interactive", blockAction(slSup, "t2", duban.ComplaintCallback{Verb: duban.VerbCAccept, ComplaintID: c.ID}.Encode(), e.fake.ResponseURL("s"))); got != nil {
		t.Errorf("button acknowledged with %v", got)
	}
	e.fake.WaitResponses(t, "s", 1, 5*time.Second)
	if st, _ := e.state(t, c.ID); st != duban.ComplaintAccepted {
		t.Errorf("status %s after accept over Socket Mode", st)
	}
}

func TestSlackShow_AReplyOnPaperNamesWhoRecordedIt(t *testing.T) {
	e := newSlackQueue(t)
	for _, tt := range []struct {
		name  string
		by    *duban.Person
		want  string
		never string
	}{
		{"the agency replies itself", e.Other, "答复（路人）已退还", "书面答复"},
		{"the office records the agency's letter", e.Staff, "书面答复（纸质来函），录入人（小刘）已退还", "答复（小刘）"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := e.complaint(t, accept, assign)
			if _, err := e.Complaints.Act(e.Ctx, jobs.Actor{Person: tt.by}, c.ID, duban.ActionRequest{Action: duban.ActionReply, Text: "已退还"}); err != nil {
				t.Fatal(err)
			}
			for _, user := range []string{slSup, slOther} {
				got := e.command(t, user, "show "+c.TrackingCode)
				if !strings.Contains(got, tt.want) || strings.Contains(got, tt.never) {
					t.Errorf("%s reads %s, want %q and never %q", user, got, tt.want, tt.never)
				}
			}
		})
	}
}
