package telegram_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/bot/bottest"
	"github.com/cityhall/duban/internal/fakes/tgfake"
	"github.com/cityhall/duban/jobs"
	"github.com/cityhall/duban/storage/storagetest"
)

// supervisor is someone bound to the bot pressing buttons and answering
// in their private chat (user id = chat id).
type supervisor struct {
	e    *tgEnv
	chat int64
	next *int
}

func (e *tgEnv) as(chat int64) *supervisor {
	n := 0
	return &supervisor{e: e, chat: chat, next: &n}
}

func (s *supervisor) id() int { *s.next++; return int(s.chat)*1000 + *s.next }

// press presses a button with data under the bot's message 300.
func (s *supervisor) press(data string) {
	s.e.T.Helper()
	s.e.handle(tgfake.CallbackUpdate(s.id(), s.chat, s.chat, 300, data))
}

func (s *supervisor) say(text string) {
	s.e.T.Helper()
	s.e.handle(tgfake.TextUpdate(s.id(), s.chat, s.chat, text))
}

// last is the last message the bot sent to the chat.
func (s *supervisor) last() tgfake.Message {
	s.e.T.Helper()
	var out tgfake.Message
	for _, m := range s.e.fake.Sent() {
		if m.ChatID == s.chat {
			out = m
		}
	}
	return out
}

// complaint files a hotline call and takes actions on it as the
// supervisor would.
func (e *tgEnv) complaint(actions ...duban.ActionRequest) *duban.Complaint {
	e.T.Helper()
	c, _, err := e.Complaints.Create(e.Ctx, jobs.Actor{Name: "test"}, jobs.Intake{Source: duban.SourceHotlineCall, Category: "illegal_fine",
		Description: "无依据罚款", ReporterName: "李某", ReporterPhone: "13900000000"})
	if err != nil {
		e.T.Fatal(err)
	}
	for _, a := range actions {
		if c, err = e.Complaints.Act(e.Ctx, jobs.Actor{Person: e.Sup}, c.ID, a); err != nil {
			e.T.Fatal(err)
		}
	}
	return c
}

// now reloads a complaint.
func (e *tgEnv) now(id int64) *duban.Complaint {
	e.T.Helper()
	c, err := e.Store.ComplaintByID(e.Ctx, id)
	if err != nil {
		e.T.Fatal(err)
	}
	return c
}

// button is the callback data of the button labelled id under the
// supervision message jobs sends supervisors about c, as it is now: the
// test presses what supervisors are really sent.
func (e *tgEnv) button(c *duban.Complaint, label string) string {
	e.T.Helper()
	msg, err := e.Complaints.SupervisionMessage(context.Background(), e.now(c.ID), duban.LocaleZH)
	if err != nil {
		e.T.Fatal(err)
	}
	for _, row := range msg.Buttons {
		for _, b := range row {
			if b.Label == tr(duban.LocaleZH, label, nil) {
				if len(b.Data) > duban.MaxCallbackData {
					e.T.Fatalf("button %s carries %d bytes", label, len(b.Data))
				}
				return b.Data
			}
		}
	}
	e.T.Fatalf("no button %s under %+v", label, msg.Buttons)
	return ""
}

func done(c *duban.Complaint, action, status string) string {
	return tr(duban.LocaleZH, "tg.c.done", map[string]any{"Code": duban.FormatTrackingCode(c.TrackingCode),
		"Action": tr(duban.LocaleZH, "slack.c.action."+action, nil), "Status": tr(duban.LocaleZH, "complaint.status."+status, nil)})
}

func TestTelegramSupervision_AcceptAssignAndCloseFromTheButtons(t *testing.T) {
	e := newTelegram(t)
	sup := e.as(tgSup)
	c := e.complaint()

	sup.press(e.button(c, "button.complaint.accept"))
	if got := e.now(c.ID).Status; got != duban.ComplaintAccepted {
		t.Fatalf("status %s after accept, want accepted", got)
	}
	if text, alert := e.lastAnswer(); text != done(c, "accept", "accepted") || alert {
		t.Errorf("answer %q alert=%v, want done", text, alert)
	}
	edits := e.fake.Calls("editMessageReplyMarkup")
	if len(edits) != 1 || edits[0].Get("message_id") != "300" || !strings.Contains(edits[0].Get("reply_markup"), fmt.Sprintf(`"cs:%d"`, c.ID)) {
		t.Errorf("edits %v, want the message's buttons now those of an accepted complaint", edits)
	}

	sup.press(e.button(c, "button.complaint.assign"))
	prompt := sup.last()
	if prompt.Text != tr(duban.LocaleZH, "tg.c.assign_prompt", map[string]any{"Code": duban.FormatTrackingCode(c.TrackingCode),
		"Days": duban.DefaultWorkingDays, "MaxDays": duban.MaxAssignWorkingDays}) {
		t.Errorf("prompt %q", prompt.Text)
	}
	data := fmt.Sprintf("sa:%d:%d", c.ID, e.Agency.ID)
	if !strings.Contains(prompt.ReplyMarkup, `"`+data+`"`) || !strings.Contains(prompt.ReplyMarkup, "市司法局") {
		t.Fatalf("agency buttons %s, want every active agency", prompt.ReplyMarkup)
	}
	assignedAt := e.Clock.Now()
	sup.press(data)
	got := e.now(c.ID)
	want := duban.NewCalendar(bottest.Shanghai).Deadline(assignedAt, duban.DefaultWorkingDays)
	if got.Status != duban.ComplaintAssigned || got.AgencyID == nil || *got.AgencyID != e.Agency.ID || got.DueAt == nil || !got.DueAt.Equal(want) {
		t.Fatalf("after the agency button: %s to %v due %v, want assigned to GA due %v", got.Status, got.AgencyID, got.DueAt, want)
	}
	if sup.last().Text != done(c, "assign", "assigned") {
		t.Errorf("reply %q, want done", sup.last().Text)
	}
	if _, err := e.Complaints.Act(e.Ctx, jobs.Actor{Person: e.Head}, c.ID, duban.ActionRequest{Action: duban.ActionReply, Text: "已撤销罚单"}); err != nil {
		t.Fatal(err)
	}

	sup.press(e.button(c, "button.complaint.close"))
	if got := e.now(c.ID).Status; got != duban.ComplaintClosed {
		t.Errorf("status %s after close, want closed", got)
	}
	if n := e.AuditCount("complaint.close"); n != 1 {
		t.Errorf("%d closes audited, want 1", n)
	}
}

func TestTelegramSupervision_RejectAsksTheReasonAndSurvivesARestart(t *testing.T) {
	e := newTelegram(t)
	sup := e.as(tgSup)
	c := e.complaint()

	sup.press(e.button(c, "button.complaint.reject"))
	if got := sup.last().Text; got != tr(duban.LocaleZH, "tg.c.reason_prompt", map[string]any{"Code": duban.FormatTrackingCode(c.TrackingCode)}) {
		t.Fatalf("prompt %q", got)
	}
	if got := e.now(c.ID).Status; got != duban.ComplaintReceived {
		t.Fatalf("status %s before the reason, want received", got)
	}
	e.bot = e.newBot() // the question is in the database, not in memory
	sup.say("   ")
	if got := sup.last().Text; got != tr(duban.LocaleZH, "tg.c.reason_expected", nil) {
		t.Errorf("reply to a blank reason %q", got)
	}
	sup.say("不属于本热线受理范围")
	got := e.now(c.ID)
	if got.Status != duban.ComplaintRejected {
		t.Fatalf("status %s, want rejected", got.Status)
	}
	evs, err := e.Store.Events(e.Ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	last := evs[len(evs)-1]
	if last.Action != duban.ActionReject || last.Text != "不属于本热线受理范围" || last.Actor != fmt.Sprintf("person:%d", e.Sup.ID) {
		t.Errorf("last event %+v, want the reject with its reason by the supervisor", last)
	}
	if sup.last().Text != done(c, "reject", "rejected") {
		t.Errorf("reply %q, want done", sup.last().Text)
	}
	// The question is over: a later message is not a second reason.
	sup.say("再说一次")
	if n := e.AuditCount("complaint.reject"); n != 1 {
		t.Errorf("%d rejects, want 1", n)
	}
}

func TestTelegramSupervision_AssignByTypedCodeAndDays(t *testing.T) {
	e := newTelegram(t)
	sup := e.as(tgSup)
	c := e.complaint(duban.ActionRequest{Action: duban.ActionAccept})
	sup.press(e.button(c, "button.complaint.assign"))
	sup.say("XX 3")
	if got := sup.last().Text; got != tr(duban.LocaleZH, "tg.c.assign_unknown", map[string]any{"Code": "XX 3", "MaxDays": duban.MaxAssignWorkingDays}) {
		t.Errorf("reply to an unknown code %q", got)
	}
	at := e.Clock.Now()
	sup.say("sj 10")
	got := e.now(c.ID)
	if got.Status != duban.ComplaintAssigned || got.DueAt == nil || !got.DueAt.Equal(duban.NewCalendar(bottest.Shanghai).Deadline(at, 10)) {
		t.Fatalf("%s due %v, want assigned with 10 working days", got.Status, got.DueAt)
	}
	if a, err := e.Store.AgencyByID(e.Ctx, *got.AgencyID); err != nil || a.Code != "SJ" {
		t.Errorf("assigned to %v (%v), want SJ", a, err)
	}
}

func TestTelegramSupervision_OnlySupervisorsMayPress(t *testing.T) {
	handler := int64(6006)
	tests := []struct {
		name string
		from int64
	}{
		{"the head of another agency", tgOtherHead},
		{"the head of the agency", tgHead},
		{"a handler", handler},
		{"office staff", tgStaff},
		{"a stranger", tgStranger},
	}
	presses := []struct {
		label   string
		before  []duban.ActionRequest
		replied bool // the agency replied before the press
	}{
		{"button.complaint.accept", nil, false},
		{"button.complaint.reject", nil, false},
		{"button.complaint.assign", []duban.ActionRequest{{Action: duban.ActionAccept}}, false},
		{"button.complaint.close", []duban.ActionRequest{{Action: duban.ActionAccept}, {Action: duban.ActionAssign, Agency: "GA"}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTelegram(t)
			storagetest.Person(t, e.Store, duban.Person{Name: "王科员", AgencyID: &e.Agency.ID, Roles: duban.Roles{duban.RoleHandler},
				TelegramChatID: &handler, TelegramUserID: &handler})
			who := e.as(tt.from)
			for _, p := range presses {
				c := e.complaint(p.before...)
				if p.replied {
					if _, err := e.Complaints.Act(e.Ctx, jobs.Actor{Person: e.Head}, c.ID, duban.ActionRequest{Action: duban.ActionReply, Text: "已办"}); err != nil {
						t.Fatal(err)
					}
				}
				st0 := e.now(c.ID).Status
				who.press(e.button(c, p.label))
				if text, alert := e.lastAnswer(); text != tr(duban.LocaleZH, "bot.not_yours", nil) || !alert {
					t.Errorf("%s: answer %q alert=%v, want not_yours", p.label, text, alert)
				}
				if got := e.now(c.ID).Status; got != st0 {
					t.Errorf("%s: status %s, want %s", p.label, got, st0)
				}
			}
			// Nor the agency button of an assignment, nor a reason typed
			// without being asked.
			c := e.complaint(duban.ActionRequest{Action: duban.ActionAccept})
			who.press(fmt.Sprintf("sa:%d:%d", c.ID, e.Agency.ID))
			if text, _ := e.lastAnswer(); text != tr(duban.LocaleZH, "bot.not_yours", nil) {
				t.Errorf("agency button: answer %q, want not_yours", text)
			}
			if got := e.now(c.ID).Status; got != duban.ComplaintAccepted {
				t.Errorf("agency button: status %s, want accepted", got)
			}
			if n := len(e.fake.Calls("sendMessage")); n != 0 {
				t.Errorf("%d messages sent, want only alerts", n)
			}
		})
	}
}

func TestTelegramSupervision_WrongStateSaysWhatIsAllowed(t *testing.T) {
	e := newTelegram(t)
	sup := e.as(tgSup)
	c := e.complaint()
	accept := e.button(c, "button.complaint.accept")
	reject := e.button(c, "button.complaint.reject")
	// Someone else accepted it first (on Slack, say); the buttons are stale.
	if _, err := e.Complaints.Act(e.Ctx, jobs.Actor{Person: e.Sup}, c.ID, duban.ActionRequest{Action: duban.ActionAccept}); err != nil {
		t.Fatal(err)
	}
	var allowed []string
	for _, a := range duban.AllowedActions(duban.ComplaintAccepted) {
		allowed = append(allowed, tr(duban.LocaleZH, "slack.c.action."+a, nil))
	}
	for _, tt := range []struct{ data, action string }{{accept, "accept"}, {reject, "reject"}} {
		sup.press(tt.data)
		want := tr(duban.LocaleZH, "tg.c.not_allowed", map[string]any{"Code": duban.FormatTrackingCode(c.TrackingCode),
			"Action": tr(duban.LocaleZH, "slack.c.action."+tt.action, nil), "Status": tr(duban.LocaleZH, "complaint.status.accepted", nil),
			"Allowed": strings.Join(allowed, tr(duban.LocaleZH, "slack.c.list_sep", nil))})
		if text, alert := e.lastAnswer(); text != want || !alert {
			t.Errorf("%s: answer %q alert=%v, want %q", tt.action, text, alert, want)
		}
	}
	// The stale reject asked nothing: a message now is no reason.
	sup.say("理由")
	if got := e.now(c.ID).Status; got != duban.ComplaintAccepted {
		t.Errorf("status %s, want accepted", got)
	}
}

func TestTelegramSupervision_ReasonRefusedWhenTheStateMovedMeanwhile(t *testing.T) {
	e := newTelegram(t)
	sup := e.as(tgSup)
	c := e.complaint()
	sup.press(e.button(c, "button.complaint.reject"))
	if _, err := e.Complaints.Act(e.Ctx, jobs.Actor{Person: e.Sup}, c.ID, duban.ActionRequest{Action: duban.ActionAccept}); err != nil {
		t.Fatal(err)
	}
	sup.say("重复反映")
	if got := e.now(c.ID).Status; got != duban.ComplaintAccepted {
		t.Fatalf("status %s, want accepted", got)
	}
	if got := sup.last().Text; !strings.Contains(got, tr(duban.LocaleZH, "slack.c.action.assign", nil)) ||
		!strings.HasPrefix(got, duban.FormatTrackingCode(c.TrackingCode)) {
		t.Errorf("reply %q, want what is allowed now", got)
	}
}
