package slack_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/cityhall/duban"
)

func TestSlackSocketMode_RoutesLikeHTTPAndAcknowledges(t *testing.T) {
	e := newSlack(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.app.RunSocketMode(ctx, "xapp-1-A0DUBAN-test") }()
	e.fake.WaitConnected(t, 1, 5*time.Second)

	ack := func(typ string, payload any) map[string]any {
		t.Helper()
		raw := e.fake.WaitAck(t, e.fake.SocketSend(typ, payload), 5*time.Second)
		if len(raw) == 0 {
			return nil
		}
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatalf("ack payload %s: %v", raw, err)
		}
		return m
	}

	help := ack("slash_commands", map[string]any{"command": "/duban", "text": "help", "user_id": slHead, "trigger_id": "t1"})
	if help["response_type"] != "ephemeral" || help["text"] != tr("zh-CN", "slack.help", nil) {
		t.Errorf("slash command acknowledged with %v, want the help", help)
	}

	fields := goodNotice()
	fields["starts_at"] = "tomorrow"
	bad := ack("interactive", viewSubmission(slStaff, "duban_hearing", "VS", "", fields))
	if errs, _ := bad["errors"].(map[string]any); bad["response_action"] != "errors" || errs["starts_at"] == nil {
		t.Errorf("bad submission acknowledged with %v, want errors under starts_at", bad)
	}

	if got := ack("interactive", blockAction(slHead, "trig-s", fmt.Sprintf("hc:%d", e.HA), e.fake.ResponseURL("s"))); got != nil {
		t.Errorf("button acknowledged with %v, want nothing", got)
	}
	if ha := e.HANow(); ha.Answer != duban.AnswerConfirmed {
		t.Errorf("answer %s, want confirmed", ha.Answer)
	}
	if r := e.fake.WaitResponses(t, "s", 1, 5*time.Second)[0]; r.Text() != tr("zh-CN", "bot.answer.confirmed", nil) {
		t.Errorf("response_url got %v", r.Body)
	}

	event := map[string]any{"type": "event_callback", "team_id": "T0DUBAN", "api_app_id": "A0DUBAN", "event_id": "Ev1", "event_time": 1,
		"event": map[string]any{"type": "app_mention", "user": slHead, "text": "hi", "ts": "1.1", "channel": "C1", "event_ts": "1.1"}}
	if got := ack("events_api", event); got != nil {
		t.Errorf("event acknowledged with %v", got)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("RunSocketMode returned %v, want nil when its context ends", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("RunSocketMode did not return after its context ended")
	}
	open := e.fake.Calls("apps.connections.open")
	if len(open) == 0 || open[0].Header.Get("Authorization") != "Bearer xapp-1-A0DUBAN-test" {
		t.Errorf("apps.connections.open not called with the app-level token: %v", open)
	}
}
