package slack_test

import (
	"io"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/internal/fakes/slackfake"
	"github.com/cityhall/duban/jobs"
	"github.com/cityhall/duban/storage"
)

// callModal is a filled-in modal of `/duban log call`.
func callModal(viewID, hash string) map[string]any {
	return modalSubmit(slStaff, "duban_c_call", viewID, hash, "", map[string]map[string]any{"category": choice("illegal_fee"),
		"description": text("来电反映乱收费"), "reporter_name": text("王先生"), "reporter_phone": text("13800000000")})
}

// directTo lists the posts Slack accepted for user's direct messages.
func (e *slackEnv) directTo(user string) []slackfake.Call {
	var out []slackfake.Call
	for _, c := range e.fake.Posts() {
		if c.Param("channel") == user {
			out = append(out, c)
		}
	}
	return out
}

// replies lists the Slack replies in the delivery log.
func (e *slackEnv) replies(t *testing.T) []duban.Delivery {
	t.Helper()
	ds, err := e.Store.Deliveries(e.Ctx, storage.DeliveryFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var out []duban.Delivery
	for _, d := range ds {
		if d.Kind == duban.MsgReply && d.Channel == duban.ChannelSlack {
			out = append(out, d)
		}
	}
	return out
}

// loggedText is the direct message telling the tracking code of the one
// complaint there is.
func (e *slackEnv) loggedText(t *testing.T) string {
	t.Helper()
	all := e.all()
	if len(all) != 1 {
		t.Fatalf("%d complaints, want 1", len(all))
	}
	return tr("zh-CN", "slack.c.logged", map[string]any{"Code": duban.FormatTrackingCode(all[0].TrackingCode)})
}

// TestSlackLogged_TrackingCodeTakesTheDeliveryLogOnce: the direct message
// carrying the tracking code of a call logged in the Slack modal is a row
// of the delivery log, planned with the complaint and sent through the
// outbox, and the user gets it once however often Slack delivers the
// submission (again as it was, or with another hash).
func TestSlackLogged_TrackingCodeTakesTheDeliveryLogOnce(t *testing.T) {
	e := newSlackQueue(t)
	for i, hash := range []string{"h1", "h1", "h2"} {
		if got := e.submit(t, callModal("VL", hash)); got != nil {
			t.Fatalf("submission %d answered %v, want the modal closed", i+1, got)
		}
	}
	want := e.loggedText(t)
	dms := e.directTo(slStaff)
	if len(dms) != 1 || dms[0].Param("text") != want {
		var texts []string
		for _, c := range dms {
			texts = append(texts, c.Param("text"))
		}
		t.Fatalf("direct messages to %s: %q, want one: %q", slStaff, texts, want)
	}
	if n := len(e.fake.Calls("chat.postMessage")); n != 1 {
		t.Errorf("chat.postMessage called %d times, want 1", n)
	}
	rows := e.replies(t)
	if len(rows) != 1 {
		t.Fatalf("%d Slack replies in the delivery log, want 1: %+v", len(rows), rows)
	}
	if d := rows[0]; d.Status != duban.DeliverySent || d.Attempts != 1 || d.DedupeKey != "slack:view:VL:dm" || d.SentAt == nil {
		t.Errorf("delivery %+v, want sent at the first attempt under slack:view:VL:dm", d)
	}
}

// TestSlackDirect_SurvivesAProviderError: when Slack answers the direct
// message 429 with Retry-After or a 5xx, the row stays queued, its task
// is told when to come back (the Retry-After; a reply's short backoff),
// and the retry delivers it: once, not lost.
func TestSlackDirect_SurvivesAProviderError(t *testing.T) {
	tests := []struct {
		name     string
		answer   func(w http.ResponseWriter)
		failure  bool // counts as a failed attempt for asynq
		min, max time.Duration
	}{
		{"429 with Retry-After", func(w http.ResponseWriter) {
			w.Header().Set("Retry-After", "3")
			w.WriteHeader(http.StatusTooManyRequests)
			_, _ = io.WriteString(w, `{"ok":false,"error":"ratelimited"}`)
		}, false, 3 * time.Second, 3 * time.Second},
		{"503", func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = io.WriteString(w, "<html><body>Service Unavailable</body></html>")
		}, true, time.Second, 2 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newSlackQueue(t)
			// Slack fails the app's own attempt and the task's first.
			e.fake.Answer(func(_ string, _ url.Values, w http.ResponseWriter) { tt.answer(w) })
			if got := e.submit(t, callModal("VE", "h1")); got != nil {
				t.Fatalf("submission answered %v, want the modal closed", got)
			}
			want := e.loggedText(t)
			if n := len(e.directTo(slStaff)); n != 0 {
				t.Fatalf("%d direct messages accepted while Slack failed", n)
			}
			rows := e.replies(t)
			if len(rows) != 1 || rows[0].Status != duban.DeliveryQueued {
				t.Fatalf("Slack replies %+v, want one queued after the failure", rows)
			}
			reply := rows[0]
			// The reply's task: the error tells asynq when to come back.
			err := e.Outbox.Deliver(e.Ctx, reply.ID)
			if err == nil {
				t.Fatal("no error from a failing Slack")
			}
			if got := jobs.IsFailure(err); got != tt.failure {
				t.Errorf("IsFailure = %v, want %v", got, tt.failure)
			}
			if d := jobs.RetryDelay(0, err, jobs.NewReplySendTask(reply)); d < tt.min || d > tt.max {
				t.Errorf("retried after %s, want %s to %s", d, tt.min, tt.max)
			}
			// Slack is back; the retry.
			e.fake.Answer(nil)
			if err := e.Outbox.Deliver(e.Ctx, reply.ID); err != nil {
				t.Fatalf("retry: %v", err)
			}
			// A submission delivered again now changes nothing.
			if got := e.submit(t, callModal("VE", "h1")); got != nil {
				t.Fatalf("second submission answered %v", got)
			}
			if dms := e.directTo(slStaff); len(dms) != 1 || dms[0].Param("text") != want {
				t.Fatalf("direct messages to %s after the retry: %v, want one: %q", slStaff, dms, want)
			}
			got, err := e.Store.DeliveryByID(e.Ctx, reply.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.Status != duban.DeliverySent || got.Attempts != 3 {
				t.Errorf("reply row %s after %d attempts, want sent after 3", got.Status, got.Attempts)
			}
			if n := len(e.fake.Calls("chat.postMessage")); n != 3 {
				t.Errorf("chat.postMessage called %d times, want 3 (two refused, one accepted)", n)
			}
		})
	}
}
