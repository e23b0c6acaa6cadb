package slack_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/jobs"
	"github.com/cityhall/duban/storage/storagetest"
)

var (
	accept = duban.ActionRequest{Action: duban.ActionAccept}
	assign = duban.ActionRequest{Action: duban.ActionAssign, Agency: "GA"}
	reply  = duban.ActionRequest{Action: duban.ActionReply, Text: "已撤销罚单"}
)

func TestSlackSupervision_ButtonsActAtOnceForASupervisor(t *testing.T) {
	tests := []struct {
		name   string
		before []duban.ActionRequest
		verb   string
		want   duban.ComplaintStatus
	}{
		{name: "accept", verb: duban.VerbCAccept, want: duban.ComplaintAccepted},
		{name: "urge", before: []duban.ActionRequest{accept, assign}, verb: duban.VerbCUrge, want: duban.ComplaintAssigned},
		{name: "reopen", before: []duban.ActionRequest{accept, assign, reply, {Action: duban.ActionClose}}, verb: duban.VerbCReopen,
			want: duban.ComplaintAccepted},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newSlackQueue(t)
			c := e.complaint(t, tt.before...)
			_, before := e.state(t, c.ID)
			// The same press delivered twice acts once.
			e.press(t, slSup, "t1", tt.verb, c.ID, "r")
			e.press(t, slSup, "t1", tt.verb, c.ID, "r")
			got := e.fake.WaitResponses(t, "r", 1, 5*time.Second)
			st, n := e.state(t, c.ID)
			if st != tt.want || n != before+1 {
				t.Errorf("status %s with %d events, want %s with %d", st, n, tt.want, before+1)
			}
			done := tr("zh-CN", "slack.c.done", map[string]any{"Code": duban.FormatTrackingCode(c.TrackingCode),
				"Action": tr("zh-CN", "slack.c.action."+string(map[string]duban.Action{duban.VerbCAccept: duban.ActionAccept,
					duban.VerbCUrge: duban.ActionUrge, duban.VerbCReopen: duban.ActionReopen}[tt.verb]), nil),
				"Status": tr("zh-CN", "complaint.status."+string(tt.want), nil)})
			if got[0].Text() != done {
				t.Errorf("answer %q, want %q", got[0].Text(), done)
			}
			time.Sleep(50 * time.Millisecond)
			if n := len(e.fake.Responses("r")); n != 1 {
				t.Errorf("%d answers to one press delivered twice", n)
			}
		})
	}
}

func TestSlackSupervision_PressedAfterSomeoneElseMovedItSaysWhatIsAllowed(t *testing.T) {
	tests := []struct {
		name, verb string
		before     []duban.ActionRequest
	}{
		{name: "accept an accepted one", verb: duban.VerbCAccept, before: []duban.ActionRequest{accept}},
		{name: "reject an accepted one", verb: duban.VerbCReject, before: []duban.ActionRequest{accept}},
		{name: "close an assigned one", verb: duban.VerbCClose, before: []duban.ActionRequest{accept, assign}},
		{name: "assign a received one", verb: duban.VerbCAssign},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newSlackQueue(t)
			c := e.complaint(t, tt.before...)
			st0, n0 := e.state(t, c.ID)
			e.press(t, slSup, "t1", tt.verb, c.ID, "r")
			got := e.fake.WaitResponses(t, "r", 1, 5*time.Second)[0].Text()
			var allowed []string
			for _, a := range duban.AllowedActions(st0) {
				allowed = append(allowed, tr("zh-CN", "slack.c.action."+a, nil))
			}
			want := tr("zh-CN", "slack.c.not_allowed", map[string]any{"Action": tr("zh-CN", "slack.c.action."+map[string]string{
				duban.VerbCAccept: "accept", duban.VerbCReject: "reject", duban.VerbCClose: "close", duban.VerbCAssign: "assign"}[tt.verb], nil),
				"Status": tr("zh-CN", "complaint.status."+string(st0), nil), "Allowed": strings.Join(allowed, "、")})
			if got != want {
				t.Errorf("answer %q, want %q", got, want)
			}
			if st, n := e.state(t, c.ID); st != st0 || n != n0 || len(e.fake.Calls("views.open")) != 0 {
				t.Errorf("status %s with %d events, a modal %d: something changed", st, n, len(e.fake.Calls("views.open")))
			}
		})
	}
}

func TestSlackSupervision_RejectThroughItsModal(t *testing.T) {
	e := newSlackQueue(t)
	c := e.complaint(t)
	meta := strconv.FormatInt(c.ID, 10)
	e.press(t, slSup, "t1", duban.VerbCReject, c.ID, "r")
	opened := e.fake.WaitCalls(t, "views.open", 1, 5*time.Second)
	view, _ := opened[0].JSON()["view"].(map[string]any)
	if view["callback_id"] != "duban_c_reject" || view["private_metadata"] != meta || !strings.Contains(string(opened[0].Body), `"block_id":"reason"`) {
		t.Fatalf("reject modal %s", opened[0].Body)
	}
	// A head's submission (a forged one: heads get no modal) changes nothing.
	if errs := viewErrors(t, e.submit(t, modalSubmit(slHead, "duban_c_reject", "VH", "h", meta, map[string]map[string]any{"reason": text("不属于受理范围")}))); errs["reason"] != tr("zh-CN", "bot.not_yours", nil) {
		t.Errorf("head's reject answered %v", errs)
	}
	for range 2 {
		if got := e.submit(t, modalSubmit(slSup, "duban_c_reject", "VR", "h", meta, map[string]map[string]any{"reason": text("不属于受理范围")})); got != nil {
			t.Fatalf("reject answered %v", got)
		}
	}
	evs, _ := e.Store.Events(e.Ctx, c.ID)
	if st, n := e.state(t, c.ID); st != duban.ComplaintRejected || n != 2 || evs[1].Text != "不属于受理范围" {
		t.Errorf("status %s with %d events (%+v), want rejected once with the reason", st, n, evs)
	}
	// The same modal left open past someone else's move: the modal says so.
	c2 := e.complaint(t)
	if _, err := e.Complaints.Act(e.Ctx, jobs.Actor{Person: e.Sup}, c2.ID, accept); err != nil {
		t.Fatal(err)
	}
	errs := viewErrors(t, e.submit(t, modalSubmit(slSup, "duban_c_reject", "VR2", "h", strconv.FormatInt(c2.ID, 10),
		map[string]map[string]any{"reason": text("重复")})))
	if !strings.Contains(errs["reason"].(string), tr("zh-CN", "slack.c.action.assign", nil)) {
		t.Errorf("stale reject answered %v, want the allowed actions", errs)
	}
	if st, _ := e.state(t, c2.ID); st != duban.ComplaintAccepted {
		t.Errorf("status %s after a stale reject", st)
	}
}

func TestSlackSupervision_AssignThroughItsModalSetsTheDeadline(t *testing.T) {
	e := newSlackQueue(t)
	c := e.complaint(t, accept)
	meta := strconv.FormatInt(c.ID, 10)
	e.press(t, slSup, "t1", duban.VerbCAssign, c.ID, "r")
	opened := e.fake.WaitCalls(t, "views.open", 1, 5*time.Second)
	body := string(opened[0].Body)
	for _, want := range []string{`"callback_id":"duban_c_assign"`, `"private_metadata":"` + meta + `"`, `"value":"GA"`, `"value":"SJ"`,
		`"value":"` + strconv.FormatInt(e.Other.ID, 10) + `"`, "路人 (GA)", `"type":"number_input"`, `"initial_value":"5"`} {
		if !strings.Contains(body, want) {
			t.Errorf("assign modal lacks %s: %s", want, body)
		}
	}
	handler := strconv.FormatInt(e.Other.ID, 10)
	tests := []struct {
		name   string
		inputs map[string]map[string]any
		block  string // where the error shows
	}{
		{name: "a handler of another agency", inputs: map[string]map[string]any{"agency": choice("SJ"), "handler": choice(handler), "working_days": number("5")}, block: "handler"},
		{name: "too many days", inputs: map[string]map[string]any{"agency": choice("GA"), "working_days": number("61")}, block: "working_days"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if errs := viewErrors(t, e.submit(t, modalSubmit(slSup, "duban_c_assign", "V-"+tt.name, "h", meta, tt.inputs))); errs[tt.block] == nil {
				t.Errorf("errors %v, want one under %s", errs, tt.block)
			}
			if st, _ := e.state(t, c.ID); st != duban.ComplaintAccepted {
				t.Errorf("status %s after a refused assignment", st)
			}
		})
	}
	got := e.submit(t, modalSubmit(slSup, "duban_c_assign", "VA", "h", meta, map[string]map[string]any{"agency": choice("GA"),
		"handler": choice(handler), "working_days": number("5")}))
	a, _ := e.Store.ComplaintByID(e.Ctx, c.ID)
	due := e.Complaints.Calendar.Deadline(e.Clock.Now(), 5)
	if got != nil || a.Status != duban.ComplaintAssigned || a.DueAt == nil || !a.DueAt.Equal(due) || a.HandlerID == nil || *a.HandlerID != e.Other.ID {
		t.Errorf("answer %v; %s due %v handler %v, want assigned to 路人 due %v", got, a.Status, a.DueAt, a.HandlerID, due)
	}
}

func TestSlackSupervision_CloseThroughItsModalAfterTheReply(t *testing.T) {
	e := newSlackQueue(t)
	c := e.complaint(t, accept, duban.ActionRequest{Action: duban.ActionAssign, Agency: "GA", HandlerID: &e.Other.ID})
	// The handler replies, as the agency does outside Slack.
	if _, err := e.Complaints.Act(e.Ctx, jobs.Actor{Person: e.Other}, c.ID, duban.ActionRequest{Action: duban.ActionReply, Text: "已撤销"}); err != nil {
		t.Fatal(err)
	}
	e.press(t, slSup, "t1", duban.VerbCClose, c.ID, "r")
	opened := e.fake.WaitCalls(t, "views.open", 1, 5*time.Second)
	if !strings.Contains(string(opened[0].Body), `"callback_id":"duban_c_close"`) {
		t.Fatalf("close modal %s", opened[0].Body)
	}
	meta := strconv.FormatInt(c.ID, 10)
	if got := e.submit(t, modalSubmit(slSup, "duban_c_close", "VC", "h", meta, map[string]map[string]any{"text": text("已撤销罚单并退款")})); got != nil {
		t.Fatalf("close answered %v", got)
	}
	evs, _ := e.Store.Events(e.Ctx, c.ID)
	if st, _ := e.state(t, c.ID); st != duban.ComplaintClosed || evs[len(evs)-1].Text != "已撤销罚单并退款" {
		t.Errorf("status %s, last event %+v", st, evs[len(evs)-1])
	}
}

func TestSlackSupervision_AnswersInTheSupervisorsLanguage(t *testing.T) {
	e := newSlackQueue(t)
	storagetest.Person(t, e.Store, duban.Person{Name: "Ann", Roles: duban.Roles{duban.RoleSupervisor}, SlackUserID: "USUPEN", Locale: "en"})
	c := e.complaint(t, accept)
	e.press(t, "USUPEN", "t1", duban.VerbCAccept, c.ID, "r")
	got := e.fake.WaitResponses(t, "r", 1, 5*time.Second)[0].Text()
	if !strings.Contains(got, "no longer allowed") || !strings.Contains(got, "assign, merge, note") {
		t.Errorf("answer %q, want English with the allowed actions", got)
	}
}
