package notifier

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/redact"
)

const webhookSecret = "whsec-shared-secret"

type webhookCall struct {
	Header http.Header
	Body   []byte
}

func newFakeRelay(t *testing.T, reply func(w http.ResponseWriter)) (*httptest.Server, func() webhookCall) {
	var (
		mu   sync.Mutex
		last webhookCall
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		last = webhookCall{Header: r.Header.Clone(), Body: body}
		mu.Unlock()
		if reply != nil {
			reply(w)
		}
	}))
	t.Cleanup(srv.Close)
	return srv, func() webhookCall { mu.Lock(); defer mu.Unlock(); return last }
}

func TestWebhookSend_PostsSignedBody(t *testing.T) {
	srv, last := newFakeRelay(t, nil)
	w := NewWebhook(srv.URL+"/relay?key=robot-key", webhookSecret, srv.Client())
	w.now = func() time.Time { return t0 }
	addr := duban.Address{PersonID: 7, Name: "王五", TelegramChatID: 1, Email: "wangwu@example.gov.cn", Phone: "13800000000"}

	id, err := w.Send(context.Background(), addr, reminder)
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	call := last()
	if !Verify(webhookSecret, call.Body, call.Header.Get(SignatureHeader)) {
		t.Errorf("signature %q does not verify", call.Header.Get(SignatureHeader))
	}
	if got := call.Header.Get(SignatureHeader); got != Sign(webhookSecret, call.Body) {
		t.Errorf("signature header = %q, want Sign(body)", got)
	}
	if got, want := call.Header.Get(TimestampHeader), strconv.FormatInt(t0.Unix(), 10); got != want {
		t.Errorf("timestamp header = %q, want %q", got, want)
	}
	if ct := call.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	var body map[string]any
	if err := json.Unmarshal(call.Body, &body); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"kind": "reminder",
		"ref":  reminder.Ref,
		"text": reminder.Text,
		"buttons": []any{
			[]any{
				map[string]any{"label": "确认出庭", "data": "h:1:a:2:confirm", "style": "primary"},
				map[string]any{"label": "委托出庭…", "data": "h:1:a:2:delegate"},
			},
			[]any{map[string]any{"label": "详情", "data": "h:1:a:2:details"}},
		},
		"to":        map[string]any{"person_id": float64(7), "name": "王五"},
		"timestamp": float64(t0.Unix()),
	}
	if diff := cmp.Diff(want, body); diff != "" {
		t.Errorf("body (-want +got):\n%s", diff)
	}
	for _, personal := range []string{addr.Email, addr.Phone} {
		if strings.Contains(string(call.Body), personal) {
			t.Errorf("body carries personal data %q", personal)
		}
	}
	if !strings.HasPrefix(id, "webhook:") {
		t.Errorf("provider id = %q", id)
	}
}

func TestWebhookSend_UsesTheRelaysID(t *testing.T) {
	srv, _ := newFakeRelay(t, func(w http.ResponseWriter) { io.WriteString(w, `{"id":"wecom-123"}`) })
	w := NewWebhook(srv.URL, webhookSecret, nil)
	if id, err := w.Send(context.Background(), duban.Address{Name: "王五"}, duban.Message{Text: "x"}); err != nil || id != "wecom-123" {
		t.Errorf("Send = %q, %v; want the relay's id", id, err)
	}
}

func TestWebhookSend_ClassifiesStatuses(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		retryAfter string
		wantAfter  time.Duration
		permanent  bool
	}{
		{"429 with Retry-After seconds", 429, "30", 30 * time.Second, false},
		{"429 with Retry-After date", 429, t0.Add(2 * time.Minute).Format(http.TimeFormat), 2 * time.Minute, false},
		{"429 without Retry-After", 429, "", defaultRetryAfter, false},
		{"400 is permanent", 400, "", 0, true},
		{"401 is permanent", 401, "", 0, true},
		{"404 is permanent", 404, "", 0, true},
		{"408 is transient", 408, "", 0, false},
		{"500 is transient", 500, "", 0, false},
		{"502 is transient", 502, "", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, _ := newFakeRelay(t, func(w http.ResponseWriter) {
				if tt.retryAfter != "" {
					w.Header().Set("Retry-After", tt.retryAfter)
				}
				w.WriteHeader(tt.status)
			})
			w := NewWebhook(srv.URL+"/hook/feishu-token", webhookSecret, srv.Client())
			w.now = func() time.Time { return t0 }
			_, err := w.Send(context.Background(), duban.Address{Name: "王五"}, reminder)
			if err == nil {
				t.Fatal("Send succeeded")
			}
			after, limited := RetryAfter(err)
			if limited != (tt.wantAfter > 0) || after != tt.wantAfter {
				t.Errorf("RetryAfter = %v, %v; want %v", after, limited, tt.wantAfter)
			}
			if IsPermanent(err) != tt.permanent {
				t.Errorf("IsPermanent = %v, want %v (err: %v)", IsPermanent(err), tt.permanent, err)
			}
			if redact.Leaks(err, "feishu-token", webhookSecret) {
				t.Errorf("error carries a secret: %v", err)
			}
		})
	}
}

func TestWebhookSend_NetworkErrorHidesTheURL(t *testing.T) {
	srv, _ := newFakeRelay(t, nil)
	u := srv.URL + "/robot/send?access_token=dingtalk-secret"
	srv.Close()
	_, err := NewWebhook(u, webhookSecret, nil).Send(context.Background(), duban.Address{}, reminder)
	if err == nil || IsPermanent(err) {
		t.Fatalf("Send to a closed server = %v, want a transient error", err)
	}
	if redact.Leaks(err, "dingtalk-secret", webhookSecret) {
		t.Errorf("error carries a secret: %v", err)
	}
}

func TestVerify_RejectsWhatWasNotSigned(t *testing.T) {
	body := []byte(`{"kind":"reminder"}`)
	good := Sign(webhookSecret, body)
	tests := []struct {
		name   string
		secret string
		body   []byte
		header string
		want   bool
	}{
		{"the signature", webhookSecret, body, good, true},
		{"another secret", "other", body, good, false},
		{"a changed body", webhookSecret, []byte(`{"kind":"cancel"}`), good, false},
		{"no prefix", webhookSecret, body, strings.TrimPrefix(good, "sha256="), false},
		{"not hex", webhookSecret, body, "sha256=zz", false},
		{"empty", webhookSecret, body, "", false},
	}
	for _, tt := range tests {
		if got := Verify(tt.secret, tt.body, tt.header); got != tt.want {
			t.Errorf("%s: Verify = %v, want %v", tt.name, got, tt.want)
		}
	}
}
