package notifier

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/slack-go/slack"
	"golang.org/x/time/rate"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/internal/fakes/slackfake"
	"github.com/cityhall/duban/redact"
)

const slackToken = "xoxb-1111-2222-secretslacktoken"

// newFakeSlack is the shared fake Slack, taking calls with slackToken
// only.
func newFakeSlack(t *testing.T) *slackfake.Server {
	f := slackfake.New(t)
	f.RequireToken(slackToken)
	return f
}

func newTestSlack(f *slackfake.Server) *Slack {
	return NewSlack(slack.New(slackToken, slack.OptionAPIURL(f.APIURL())), WithSlackSecrets(slackToken))
}

// The parts of Block Kit JSON the tests check.
type kitText struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

type kitElement struct {
	Type     string  `json:"type"`
	ActionID string  `json:"action_id"`
	Value    string  `json:"value"`
	Style    string  `json:"style,omitempty"`
	Text     kitText `json:"text"`
}

type kitBlock struct {
	Type     string       `json:"type"`
	Text     *kitText     `json:"text,omitempty"`
	Elements []kitElement `json:"elements,omitempty"`
}

func TestSlackSend_PostsBlocksWithButtons(t *testing.T) {
	f := newFakeSlack(t)
	// A post to a user lands in the direct messages with them.
	f.Answer(func(_ string, form url.Values, w http.ResponseWriter) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"ok":true,"channel":"D0DM%s","ts":"1748912400.000100","message":{"type":"message","text":"x"}}`, form.Get("channel"))
	})
	s := newTestSlack(f)
	msg := reminder
	msg.Text = "提醒 <!channel> & 王五"

	id, err := s.Send(context.Background(), duban.Address{Name: "王五", SlackUserID: "U123"}, msg)
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	if id != "D0DMU123:1748912400.000100" {
		t.Errorf("provider id = %q, want the DM channel and ts", id)
	}
	call := lastCall(t, f.AllCalls())
	if call.Method != "chat.postMessage" || call.Form.Get("channel") != "U123" {
		t.Errorf("called %s for channel %q", call.Method, call.Form.Get("channel"))
	}
	escaped := "提醒 &lt;!channel&gt; &amp; 王五"
	if got := call.Form.Get("text"); got != escaped {
		t.Errorf("fallback text = %q, want %q", got, escaped)
	}
	var blocks []kitBlock
	if err := json.Unmarshal([]byte(call.Form.Get("blocks")), &blocks); err != nil {
		t.Fatalf("blocks %q: %v", call.Form.Get("blocks"), err)
	}
	text := func(s string) kitText { return kitText{Type: "plain_text", Text: s} }
	want := []kitBlock{
		{Type: "section", Text: &kitText{Type: "mrkdwn", Text: escaped}},
		{Type: "actions", Elements: []kitElement{
			{Type: "button", ActionID: "h:1:a:2:confirm", Value: "h:1:a:2:confirm", Style: "primary", Text: text("确认出庭")},
			{Type: "button", ActionID: "h:1:a:2:delegate", Value: "h:1:a:2:delegate", Text: text("委托出庭…")},
		}},
		{Type: "actions", Elements: []kitElement{
			{Type: "button", ActionID: "h:1:a:2:details", Value: "h:1:a:2:details", Text: text("详情")},
		}},
	}
	if diff := cmp.Diff(want, blocks); diff != "" {
		t.Errorf("blocks (-want +got):\n%s", diff)
	}
}

func TestSlackSend_ClassifiesErrors(t *testing.T) {
	jsonReply := func(body string) func(string, url.Values, http.ResponseWriter) {
		return func(_ string, _ url.Values, w http.ResponseWriter) { fmt.Fprint(w, body) }
	}
	statusReply := func(status int, retryAfter string) func(string, url.Values, http.ResponseWriter) {
		return func(_ string, _ url.Values, w http.ResponseWriter) {
			if retryAfter != "" {
				w.Header().Set("Retry-After", retryAfter)
			}
			w.WriteHeader(status)
			fmt.Fprint(w, "<html>error</html>")
		}
	}
	tests := []struct {
		name       string
		reply      func(string, url.Values, http.ResponseWriter)
		retryAfter time.Duration
		permanent  bool
	}{
		{"429 with Retry-After is a rate limit", statusReply(429, "12"), 12 * time.Second, false},
		{"429 without Retry-After waits a default", statusReply(429, ""), defaultRetryAfter, false},
		{"channel_not_found is permanent", jsonReply(`{"ok":false,"error":"channel_not_found"}`), 0, true},
		{"user_not_found is permanent", jsonReply(`{"ok":false,"error":"user_not_found"}`), 0, true},
		{"invalid_auth is permanent", jsonReply(`{"ok":false,"error":"invalid_auth"}`), 0, true},
		{"invalid_blocks is permanent", jsonReply(`{"ok":false,"error":"invalid_blocks"}`), 0, true},
		{"internal_error is transient", jsonReply(`{"ok":false,"error":"internal_error"}`), 0, false},
		{"500 is transient", statusReply(500, ""), 0, false},
		{"503 is transient", statusReply(503, ""), 0, false},
		{"404, a wrong API URL, is permanent", statusReply(404, ""), 0, true},
	}
	f := newFakeSlack(t)
	s := newTestSlack(f)
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.Answer(tt.reply)
			_, err := s.Send(context.Background(), duban.Address{SlackUserID: fmt.Sprintf("U%d", i)}, reminder)
			if err == nil {
				t.Fatal("Send succeeded")
			}
			after, limited := RetryAfter(err)
			if limited != (tt.retryAfter > 0) || after != tt.retryAfter {
				t.Errorf("RetryAfter = %v, %v; want %v (err: %v)", after, limited, tt.retryAfter, err)
			}
			if IsPermanent(err) != tt.permanent {
				t.Errorf("IsPermanent = %v, want %v (err: %v)", IsPermanent(err), tt.permanent, err)
			}
		})
	}
}

func TestSlackSend_NetworkErrorIsTransientAndHidesToken(t *testing.T) {
	f := newFakeSlack(t)
	s := newTestSlack(f)
	f.Close()
	_, err := s.Send(context.Background(), duban.Address{SlackUserID: "U9"}, reminder)
	if err == nil || IsPermanent(err) {
		t.Fatalf("Send to a closed server = %v, want a transient error", err)
	}
	if redact.Leaks(err, slackToken) {
		t.Errorf("error carries the token: %v", err)
	}
}

func TestSlackSend_NeedsAUserID(t *testing.T) {
	s := newTestSlack(newFakeSlack(t))
	if _, err := s.Send(context.Background(), duban.Address{Name: "王五", TelegramChatID: 1}, reminder); !IsPermanent(err) {
		t.Errorf("Send without a Slack user = %v, want a PermanentError", err)
	}
}

func TestSlackPostChannelAndUpdate_UseTheChannel(t *testing.T) {
	f := newFakeSlack(t)
	f.Answer(func(method string, form url.Values, w http.ResponseWriter) {
		fmt.Fprintf(w, `{"ok":true,"channel":%q,"ts":"1748912400.000200","text":"x"}`, form.Get("channel"))
	})
	s := newTestSlack(f)
	s.limiter = NewKeyedLimiter(rate.Inf, 1) // three calls to one channel; the limit is tested in limit_test.go
	msg := duban.Message{Kind: duban.MsgEscalation, Ref: "7", Text: "督办",
		Buttons: [][]duban.Button{{{Label: "受理", Data: "c:7:accept", Style: "primary"}, {Label: "不予受理", Data: "c:7:reject", Style: "danger"}}}}

	ts, err := s.PostChannel(context.Background(), "C0SUPER", msg)
	if err != nil || ts != "1748912400.000200" {
		t.Fatalf("PostChannel = %q, %v", ts, err)
	}
	if call := lastCall(t, f.AllCalls()); call.Method != "chat.postMessage" || call.Form.Get("channel") != "C0SUPER" {
		t.Errorf("PostChannel called %s for %q", call.Method, call.Form.Get("channel"))
	}

	msg.Text, msg.Buttons = "已受理", nil
	if err := s.Update(context.Background(), "C0SUPER", ts, msg); err != nil {
		t.Fatalf("Update: %v", err)
	}
	call := lastCall(t, f.AllCalls())
	if call.Method != "chat.update" || call.Form.Get("channel") != "C0SUPER" || call.Form.Get("ts") != ts {
		t.Errorf("Update called %s with %v", call.Method, call.Form)
	}
	var blocks []kitBlock
	if err := json.Unmarshal([]byte(call.Form.Get("blocks")), &blocks); err != nil {
		t.Fatal(err)
	}
	if len(blocks) != 1 || blocks[0].Text == nil || blocks[0].Text.Text != "已受理" {
		t.Errorf("updated blocks = %+v, want the one section without buttons", blocks)
	}

	f.Answer(func(_ string, _ url.Values, w http.ResponseWriter) {
		fmt.Fprint(w, `{"ok":false,"error":"message_not_found"}`)
	})
	if err := s.Update(context.Background(), "C0SUPER", ts, msg); !IsPermanent(err) {
		t.Errorf("Update of a deleted message = %v, want a PermanentError", err)
	}
}

func TestSlackMessage_StylesAndTruncates(t *testing.T) {
	long := strings.Repeat("&", slackMaxSectionText) // each escapes to 5 characters
	got := escapeTruncate(long, slackMaxSectionText)
	if n := len([]rune(got)); n > slackMaxSectionText {
		t.Errorf("%d characters, over %d", n, slackMaxSectionText)
	}
	if !strings.HasSuffix(got, "&amp;"+ellipsis) {
		t.Errorf("cut inside an escape: ends %q", got[len(got)-12:])
	}
	if got := duban.Truncate(strings.Repeat("长", 100), slackMaxButtonLabel); len([]rune(got)) != slackMaxButtonLabel {
		t.Errorf("label of %d characters", len([]rune(got)))
	}
}
