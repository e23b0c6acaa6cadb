package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/app"
	"github.com/cityhall/duban/configs"
	"github.com/cityhall/duban/internal/fakes/slackfake"
	"github.com/cityhall/duban/internal/fakes/tgfake"
	"github.com/cityhall/duban/internal/testenv"
)

const signingSecret = "e2e-signing-secret"

// call makes an API request as the admin and decodes the JSON answer.
func call(t *testing.T, r *running, method, path string, body any) (int, map[string]any) {
	t.Helper()
	return callWith(t, r, "test-admin-token-0123456789abcdef", method, path, body)
}

// callWith makes an API request with a bearer token.
func callWith(t *testing.T, r *running, token, method, path string, body any) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, "http://"+r.Addr()+path, rd)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	var out map[string]any
	raw, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(raw, &out)
	if out == nil {
		out = map[string]any{"raw": string(raw)}
	}
	return resp.StatusCode, out
}

func mustCall(t *testing.T, r *running, method, path string, body any, want int) map[string]any {
	t.Helper()
	code, out := call(t, r, method, path, body)
	if code != want {
		t.Fatalf("%s %s = %d %v, want %d", method, path, code, out, want)
	}
	return out
}

// world is an office: two agencies whose heads use Telegram and Slack, a
// clerk on Telegram and a supervisor on Slack.
type world struct {
	r  *running
	tg *tgfake.Server
	sl *slackfake.Server
}

const (
	chatHeadA  = 1101
	chatClerk  = 1303
	slackHeadB = "UHEADB"
	slackSup   = "USUPER"
)

func newWorld(t *testing.T, b backend, set func(*configs.Config)) *world {
	return newWorldWith(t, b, set, app.Options{})
}

func newWorldWith(t *testing.T, b backend, set func(*configs.Config), opts app.Options) *world {
	tg := tgfake.New(t)
	sl := slackfake.New(t)
	cfg := testConfig(t, b, func(c *configs.Config) {
		c.TelegramToken = "4242:e2e-token"
		c.TelegramAPIEndpoint = tg.Endpoint()
		c.SlackBotToken = "xoxb-e2e"
		c.SlackSigningSecret = signingSecret
		c.SlackAPIURL = sl.APIURL()
		c.ReconcileInterval = 10 * time.Second
		if set != nil {
			set(c)
		}
	})
	w := &world{r: boot(t, cfg, opts), tg: tg, sl: sl}
	mustCall(t, w.r, "POST", "/api/v1/agencies", map[string]any{"code": "GA", "name": "市公安局"}, 201)
	mustCall(t, w.r, "POST", "/api/v1/agencies", map[string]any{"code": "GOV", "name": "市人民政府"}, 201)
	mustCall(t, w.r, "POST", "/api/v1/people", map[string]any{"name": "张局长", "agency": "GA", "roles": []string{"agency_head"}, "telegram_chat_id": chatHeadA}, 201)
	mustCall(t, w.r, "POST", "/api/v1/people", map[string]any{"name": "Mayor Chen", "agency": "GOV", "roles": []string{"agency_head"}, "slack_user_id": slackHeadB, "locale": "en"}, 201)
	mustCall(t, w.r, "POST", "/api/v1/people", map[string]any{"name": "小刘", "roles": []string{"staff"}, "telegram_chat_id": chatClerk}, 201)
	mustCall(t, w.r, "POST", "/api/v1/people", map[string]any{"name": "赵监督", "roles": []string{"supervisor"}, "slack_user_id": slackSup}, 201)
	return w
}

// telegramTo lists the texts sent to a chat.
func (w *world) telegramTo(chat int64) []tgfake.Message {
	var out []tgfake.Message
	for _, m := range w.tg.Sent() {
		if m.ChatID == chat {
			out = append(out, m)
		}
	}
	return out
}

// slackTo lists the texts posted to a Slack user.
func (w *world) slackTo(user string) []string {
	var out []string
	for _, c := range w.sl.Calls("chat.postMessage") {
		if c.Param("channel") == user {
			out = append(out, c.Param("text"))
		}
	}
	return out
}

func countContaining(msgs []string, sub string) int {
	n := 0
	for _, m := range msgs {
		if strings.Contains(m, sub) {
			n++
		}
	}
	return n
}

func texts(ms []tgfake.Message) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.Text
	}
	return out
}

// buttonData finds the callback_data of the first button in a message
// whose data starts with prefix.
func buttonData(t *testing.T, m tgfake.Message, prefix string) string {
	t.Helper()
	var kb struct {
		InlineKeyboard [][]struct {
			CallbackData string `json:"callback_data"`
		} `json:"inline_keyboard"`
	}
	if err := json.Unmarshal([]byte(m.ReplyMarkup), &kb); err != nil {
		t.Fatalf("reply markup %q: %v", m.ReplyMarkup, err)
	}
	for _, row := range kb.InlineKeyboard {
		for _, b := range row {
			if strings.HasPrefix(b.CallbackData, prefix) {
				return b.CallbackData
			}
		}
	}
	t.Fatalf("no button %s… in %s", prefix, m.ReplyMarkup)
	return ""
}

// TestEndToEnd_HearingFromNoticeToAppearanceRate walks one hearing with
// co-defendants through notice, a button answer, reminders, escalation,
// the outcome request and the report, on the wall clock with offsets of
// seconds.
func TestEndToEnd_HearingFromNoticeToAppearanceRate(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			// Thursday 31 December: the hearing, its reminders and its
			// outcome fall on the year's last day, and the report is the year's.
			clock := duban.NewRunningClock(time.Date(2026, 12, 31, 16, 0, 0, 0, testenv.Shanghai()))
			w := newWorldWith(t, b, func(c *configs.Config) {
				c.ReminderOffsets = []time.Duration{9 * time.Second}
				c.EscalateBefore = 6 * time.Second
				c.OutcomeAfter = 2 * time.Second
				c.SlackSupervisionChannel = "CSUPER"
			}, app.Options{Clock: clock})
			start := clock.Now().Add(14 * time.Second).Truncate(time.Second)
			h := mustCall(t, w.r, "POST", "/api/v1/hearings", map[string]any{"case_number": "(2026)沪01行初88号", "court": "市中级人民法院",
				"courtroom": "第三法庭", "agencies": []string{"GA", "GOV"}, "starts_at": start.Format(time.RFC3339), "plaintiff": "王某", "cause": "行政处罚"}, 201)
			id := int(h["id"].(float64))

			// The notices: head A on Telegram, head B on Slack, at once.
			notice := w.tg.WaitSent(t, 1, 10*time.Second)[0]
			if notice.ChatID != chatHeadA || !strings.Contains(notice.Text, "(2026)沪01行初88号") || !strings.Contains(notice.ReplyMarkup, "确认") {
				t.Fatalf("head A's notice: %+v", notice)
			}
			w.sl.WaitCalls(t, "chat.postMessage", 1, 10*time.Second)
			if got := w.slackTo(slackHeadB); len(got) != 1 || !strings.Contains(got[0], "(2026)沪01行初88号") {
				t.Fatalf("head B's notice on Slack: %v", got)
			}

			// Head A confirms with the button; the bot answers the press.
			w.tg.Queue(tgfake.CallbackUpdate(5001, chatHeadA, chatHeadA, 100, buttonData(t, notice, duban.VerbConfirm+":")))
			w.tg.WaitCalls(t, "answerCallbackQuery", 1, 10*time.Second)
			eventually(t, 5*time.Second, "answer recorded", func() bool {
				_, got := call(t, w.r, "GET", fmt.Sprintf("/api/v1/hearings/%d", id), nil)
				ags, _ := got["agencies"].([]any)
				return len(ags) == 2 && ags[0].(map[string]any)["answer"] == "confirmed"
			})

			// The reminder at 9 s says what was answered; the escalation at 6 s
			// goes to the clerk and the supervisor about head B only.
			eventually(t, 20*time.Second, "escalation to the clerk and the supervisor", func() bool {
				return countContaining(texts(w.telegramTo(chatClerk)), "Mayor Chen") == 1 && len(w.slackTo(slackSup)) == 1
			})
			headA := texts(w.telegramTo(chatHeadA))
			if countContaining(headA, "已确认") < 1 {
				t.Errorf("head A's reminder does not say they confirmed: %q", headA)
			}
			if countContaining(texts(w.telegramTo(chatClerk)), "张局长") != 0 {
				t.Errorf("head A was escalated although they answered")
			}
			eventually(t, 10*time.Second, "the escalation in the supervision channel", func() bool {
				return countContaining(w.slackTo("CSUPER"), "Mayor Chen") == 1
			})
			if got := w.slackTo(slackHeadB); len(got) != 2 {
				t.Errorf("head B got %d Slack messages, want notice and reminder", len(got))
			}

			// After the start the clerk is asked for each agency's outcome.
			eventually(t, 20*time.Second, "outcome requests", func() bool {
				n := 0
				for _, m := range w.telegramTo(chatClerk) {
					if strings.Contains(m.ReplyMarkup, duban.VerbOutcome+":") {
						n++
					}
				}
				return n == 2
			})
			for _, m := range w.telegramTo(chatClerk) {
				if strings.Contains(m.ReplyMarkup, duban.VerbOutcome+":") && strings.Contains(m.Text, "市公安局") {
					w.tg.Queue(tgfake.CallbackUpdate(5002, chatClerk, chatClerk, 200, buttonData(t, m, duban.VerbOutcome+":")))
				}
			}
			w.tg.WaitCalls(t, "answerCallbackQuery", 2, 10*time.Second)
			mustCall(t, w.r, "POST", fmt.Sprintf("/api/v1/hearings/%d/outcome", id), map[string]any{"agency": "GOV", "attendance": "none"}, 200)

			rep := mustCall(t, w.r, "GET", "/api/v1/reports/appearance?from=2026-01-01&to=2026-12-31", nil, 200)
			rates := map[string]float64{}
			for _, a := range rep["agencies"].([]any) {
				m := a.(map[string]any)
				rates[m["agency"].(string)] = m["rate"].(float64)
			}
			if rates["GA"] != 1 || rates["GOV"] != 0 {
				t.Errorf("appearance rates %v, want GA 1 and GOV 0", rates)
			}
		})
	}
}

// TestEndToEnd_RescheduleAndCancelNeverSendAStaleReminder moves a hearing
// and then cancels it; no reminder of the old time, or of the cancelled
// hearing, is sent.
func TestEndToEnd_RescheduleAndCancelNeverSendAStaleReminder(t *testing.T) {
	// A Friday afternoon; the hearing moves, then is cancelled, within it.
	clock := duban.NewRunningClock(time.Date(2026, 12, 4, 15, 0, 0, 0, testenv.Shanghai()))
	w := newWorldWith(t, backends[0], func(c *configs.Config) {
		c.ReminderOffsets = []time.Duration{4 * time.Second}
		c.EscalateBefore = time.Second
	}, app.Options{Clock: clock})
	start := clock.Now().Add(8 * time.Second).Truncate(time.Second)
	h := mustCall(t, w.r, "POST", "/api/v1/hearings", map[string]any{"case_number": "R-1", "court": "c", "agency": "GA",
		"starts_at": start.Format(time.RFC3339), "plaintiff": "p", "cause": "c"}, 201)
	id := int(h["id"].(float64))
	w.tg.WaitSent(t, 1, 10*time.Second)
	later := start.Add(30 * time.Second)
	mustCall(t, w.r, "PATCH", fmt.Sprintf("/api/v1/hearings/%d", id), map[string]any{"starts_at": later.Format(time.RFC3339)}, 200)
	w.tg.WaitSent(t, 2, 10*time.Second) // the new time, told at once
	time.Sleep(start.Sub(clock.Now()) + time.Second)
	if got := w.telegramTo(chatHeadA); len(got) != 2 {
		t.Fatalf("head got %d messages by the old start, want notice and reschedule: %q", len(got), texts(got))
	}
	mustCall(t, w.r, "PATCH", fmt.Sprintf("/api/v1/hearings/%d", id), map[string]any{"status": "cancelled"}, 200)
	w.tg.WaitSent(t, 3, 10*time.Second)
	// Past the new reminder's due time (26 s from the start of the test
	// would be too long to wait; the reminder rows must be cancelled).
	got := mustCall(t, w.r, "GET", fmt.Sprintf("/api/v1/hearings/%d", id), nil, 200)
	for _, rm := range got["reminders"].([]any) {
		m := rm.(map[string]any)
		if m["status"] == "pending" {
			t.Errorf("reminder still pending after cancel: %v", m)
		}
	}
	if code, _ := call(t, w.r, "PATCH", fmt.Sprintf("/api/v1/hearings/%d", id), map[string]any{"starts_at": later.Add(time.Hour).Format(time.RFC3339)}); code != 409 {
		t.Errorf("reschedule after cancel = %d, want 409", code)
	}
	msgs := texts(w.telegramTo(chatHeadA))
	if !strings.Contains(msgs[1], later.In(time.FixedZone("CST", 8*3600)).Format("15:04")) {
		t.Errorf("reschedule message lacks the new time: %s", msgs[1])
	}
}

// TestEndToEnd_FlushedRedisStillFiresEachReminderOnce flushes Redis with
// a reminder pending; the reconcile pass rebuilds it and it fires once.
func TestEndToEnd_FlushedRedisStillFiresEachReminderOnce(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			// A Saturday morning: reminders do not wait for working days.
			clock := duban.NewRunningClock(time.Date(2026, 12, 5, 10, 0, 0, 0, testenv.Shanghai()))
			w := newWorldWith(t, b, func(c *configs.Config) {
				c.ReminderOffsets = []time.Duration{10 * time.Second}
				c.EscalateBefore = time.Second
			}, app.Options{Clock: clock})
			start := clock.Now().Add(15 * time.Second).Truncate(time.Second)
			mustCall(t, w.r, "POST", "/api/v1/hearings", map[string]any{"case_number": "F-1", "court": "c", "agency": "GA",
				"starts_at": start.Format(time.RFC3339), "plaintiff": "p", "cause": "c"}, 201)
			w.tg.WaitSent(t, 1, 10*time.Second)
			if err := w.r.Redis().FlushDB(context.Background()).Err(); err != nil {
				t.Fatal(err)
			}
			eventually(t, 25*time.Second, "the reminder after the flush", func() bool { return len(w.telegramTo(chatHeadA)) >= 2 })
			time.Sleep(3 * time.Second) // a second copy would come now
			if got := w.telegramTo(chatHeadA); len(got) != 2 {
				t.Fatalf("head got %d messages, want the notice and one reminder: %q", len(got), texts(got))
			}
		})
	}
}

// TestEndToEnd_SlackCommandsAreVerified: a request without a valid
// signature is refused and changes nothing.
func TestEndToEnd_SlackCommandsAreVerified(t *testing.T) {
	w := newWorld(t, backends[0], nil)
	form := url.Values{"command": {"/duban"}, "text": {"log call"}, "user_id": {slackSup}, "trigger_id": {"T1"}}.Encode()
	req, _ := http.NewRequest("POST", "http://"+w.r.Addr()+"/slack/commands", strings.NewReader(form))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range slackfake.Sign("wrong-secret", []byte(form), time.Now()) {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 || len(w.sl.Calls("views.open")) != 0 {
		t.Fatalf("forged command: %d, views.open %d", resp.StatusCode, len(w.sl.Calls("views.open")))
	}
	req, _ = http.NewRequest("POST", "http://"+w.r.Addr()+"/slack/commands", strings.NewReader(form))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range slackfake.Sign(signingSecret, []byte(form), time.Now()) {
		req.Header[k] = v
	}
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("signed command: %d", resp.StatusCode)
	}
	w.sl.WaitCalls(t, "views.open", 1, 5*time.Second)
}
