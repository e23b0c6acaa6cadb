package notifier

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
	"github.com/google/go-cmp/cmp"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/internal/fakes/tgfake"
	"github.com/cityhall/duban/redact"
)

const tgToken = "123456789:AAE-secret-bot-token_xyz"

// newFakeTelegram is the shared fake Bot API, taking calls with tgToken
// only.
func newFakeTelegram(t *testing.T) *tgfake.Server {
	f := tgfake.New(t)
	f.RequireToken(tgToken)
	return f
}

// lastCall is the last of the calls that reached a fake API.
func lastCall[C any](t *testing.T, calls []C) C {
	t.Helper()
	if len(calls) == 0 {
		t.Fatal("no call reached the fake API")
	}
	return calls[len(calls)-1]
}

// sends are the calls that reached the fake, getMe (tgbotapi's, at
// start) aside.
func sends(f *tgfake.Server) []tgfake.Call {
	var out []tgfake.Call
	for _, c := range f.AllCalls() {
		if c.Method != "getMe" {
			out = append(out, c)
		}
	}
	return out
}

func newTestTelegram(t *testing.T, f *tgfake.Server) *Telegram {
	t.Helper()
	api, err := tgbotapi.NewBotAPIWithAPIEndpoint(tgToken, f.Endpoint())
	if err != nil {
		t.Fatalf("NewBotAPIWithAPIEndpoint: %v", err)
	}
	// The per-chat limit holds, so each case uses its own chat.
	return NewTelegram(api, tgToken, WithGlobalRate(0))
}

func sentMessage(chatID int64, messageID int) string {
	return fmt.Sprintf(`{"ok":true,"result":{"message_id":%d,"date":1748912400,"chat":{"id":%d,"type":"private"},"text":"x"}}`, messageID, chatID)
}

func tgError(code int, description, parameters string) string {
	if parameters != "" {
		parameters = `,"parameters":` + parameters
	}
	return fmt.Sprintf(`{"ok":false,"error_code":%d,"description":%q%s}`, code, description, parameters)
}

var reminder = duban.Message{
	Kind: duban.MsgReminder,
	Ref:  "（2025）沪0101行初123号",
	Text: "【出庭应诉提醒】\n案号：（2025）沪0101行初123号",
	Buttons: [][]duban.Button{
		{{Label: "确认出庭", Data: "h:1:a:2:confirm", Style: "primary"}, {Label: "委托出庭…", Data: "h:1:a:2:delegate"}},
		{{Label: "详情", Data: "h:1:a:2:details"}},
	},
}

type tgButton struct {
	Text         string `json:"text"`
	CallbackData string `json:"callback_data"`
}

func TestTelegramSend_PostsTextAndInlineKeyboard(t *testing.T) {
	f := newFakeTelegram(t)
	f.Answer(func(method string, form url.Values) (int, string) { return http.StatusOK, sentMessage(1001, 77) })
	tg := newTestTelegram(t, f)

	id, err := tg.Send(context.Background(), duban.Address{Name: "王五", TelegramChatID: 1001}, reminder)
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	if id != "1001:77" {
		t.Errorf("provider id = %q, want 1001:77", id)
	}
	call := lastCall(t, sends(f))
	if want := "/bot" + tgToken + "/sendMessage"; call.Path != want {
		t.Errorf("path = %q, want %q", call.Path, want)
	}
	if got := call.Form.Get("chat_id"); got != "1001" {
		t.Errorf("chat_id = %q", got)
	}
	if got := call.Form.Get("text"); got != reminder.Text {
		t.Errorf("text = %q", got)
	}
	var markup struct {
		InlineKeyboard [][]tgButton `json:"inline_keyboard"`
	}
	if err := json.Unmarshal([]byte(call.Form.Get("reply_markup")), &markup); err != nil {
		t.Fatalf("reply_markup %q: %v", call.Form.Get("reply_markup"), err)
	}
	want := [][]tgButton{
		{{"确认出庭", "h:1:a:2:confirm"}, {"委托出庭…", "h:1:a:2:delegate"}},
		{{"详情", "h:1:a:2:details"}},
	}
	if diff := cmp.Diff(want, markup.InlineKeyboard); diff != "" {
		t.Errorf("inline keyboard (-want +got):\n%s", diff)
	}
}

func TestTelegramSend_ClassifiesErrors(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		body       string
		retryAfter time.Duration // > 0: a RateLimitError with this delay
		permanent  bool
	}{
		{"429 with retry_after is a rate limit", 429, tgError(429, "Too Many Requests: retry after 7", `{"retry_after":7}`), 7 * time.Second, false},
		{"retry_after alone is a rate limit", 400, tgError(400, "Flood control", `{"retry_after":3}`), 3 * time.Second, false},
		{"429 without retry_after waits a default", 429, tgError(429, "Too Many Requests", ""), defaultRetryAfter, false},
		{"blocked by the user is permanent", 403, tgError(403, "Forbidden: bot was blocked by the user", ""), 0, true},
		{"deactivated user is permanent", 403, tgError(403, "Forbidden: user is deactivated", ""), 0, true},
		{"chat not found is permanent", 400, tgError(400, "Bad Request: chat not found", ""), 0, true},
		{"wrong token is permanent", 401, tgError(401, "Unauthorized", ""), 0, true},
		{"502 is transient", 502, tgError(502, "Bad Gateway", ""), 0, false},
		{"502 from a proxy, not JSON, is transient", 502, "<html>502 Bad Gateway</html>", 0, false},
		{"500 is transient", 500, tgError(500, "Internal Server Error", ""), 0, false},
	}
	f := newFakeTelegram(t)
	tg := newTestTelegram(t, f)
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.Answer(func(string, url.Values) (int, string) { return tt.status, tt.body })
			_, err := tg.Send(context.Background(), duban.Address{TelegramChatID: int64(2000 + i)}, reminder)
			if err == nil {
				t.Fatal("Send succeeded")
			}
			after, limited := RetryAfter(err)
			if limited != (tt.retryAfter > 0) || after != tt.retryAfter {
				t.Errorf("RetryAfter = %v, %v; want %v, %v", after, limited, tt.retryAfter, tt.retryAfter > 0)
			}
			if IsPermanent(err) != tt.permanent {
				t.Errorf("IsPermanent = %v, want %v (err: %v)", IsPermanent(err), tt.permanent, err)
			}
			if redact.Leaks(err, tgToken) {
				t.Errorf("error carries the token: %v", err)
			}
		})
	}
}

func TestTelegramSend_NetworkErrorIsTransientAndHidesToken(t *testing.T) {
	f := newFakeTelegram(t)
	tg := newTestTelegram(t, f)
	f.Close() // the client now fails with an error quoting the URL

	_, err := tg.Send(context.Background(), duban.Address{TelegramChatID: 3001}, reminder)
	if err == nil {
		t.Fatal("Send to a closed server succeeded")
	}
	if redact.Leaks(err, tgToken) {
		t.Errorf("error carries the token: %v", err)
	}
	if !strings.Contains(err.Error(), "<redacted>") {
		t.Errorf("error %q does not show where the token was masked", err)
	}
	if IsPermanent(err) {
		t.Error("a network error must be transient")
	}
	if _, limited := RetryAfter(err); limited {
		t.Error("a network error is not a rate limit")
	}
	var pe *url.Error
	if !errors.As(err, &pe) {
		t.Error("errors.As no longer reaches the *url.Error")
	}
}

func TestTelegramSend_RefusesWhatTelegramWouldRefuse(t *testing.T) {
	long := strings.Repeat("x", telegramMaxCallbackData+1)
	tests := []struct {
		name string
		addr duban.Address
		msg  duban.Message
	}{
		{"no chat id", duban.Address{Name: "王五"}, reminder},
		{"callback data over 64 bytes", duban.Address{TelegramChatID: 4001},
			duban.Message{Text: "x", Buttons: [][]duban.Button{{{Label: "确认出庭", Data: long}}}}},
		{"empty callback data", duban.Address{TelegramChatID: 4002},
			duban.Message{Text: "x", Buttons: [][]duban.Button{{{Label: "确认出庭"}}}}},
	}
	f := newFakeTelegram(t)
	tg := newTestTelegram(t, f)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := tg.Send(context.Background(), tt.addr, tt.msg); !IsPermanent(err) {
				t.Errorf("Send = %v, want a PermanentError", err)
			}
		})
	}
	if n := len(sends(f)); n != 0 {
		t.Errorf("%d requests reached Telegram, want none", n)
	}
}

func TestTelegramSend_TruncatesLongText(t *testing.T) {
	f := newFakeTelegram(t)
	f.Answer(func(string, url.Values) (int, string) { return http.StatusOK, sentMessage(5001, 1) })
	tg := newTestTelegram(t, f)

	if _, err := tg.Send(context.Background(), duban.Address{TelegramChatID: 5001}, duban.Message{Text: strings.Repeat("字", 5000)}); err != nil {
		t.Fatal(err)
	}
	text := lastCall(t, sends(f)).Form.Get("text")
	if n := utf8.RuneCountInString(text); n != telegramMaxText {
		t.Errorf("sent %d characters, want %d", n, telegramMaxText)
	}
	if !strings.HasSuffix(text, ellipsis) {
		t.Error("truncated text does not end with an ellipsis")
	}
}

func TestTruncateUTF16_CountsCodeUnits(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		limit int
		want  string
	}{
		{"short ASCII untouched", "hello", 5, "hello"},
		{"short Chinese untouched", "出庭应诉", 4, "出庭应诉"},
		{"Chinese cut", "出庭应诉通知", 4, "出庭应…"},
		{"emoji are two units", "😀😀😀", 4, "😀…"},
		{"emoji exactly at the limit", "😀😀", 4, "😀😀"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := truncateUTF16(tt.in, tt.limit)
			if got != tt.want {
				t.Errorf("truncateUTF16(%q, %d) = %q, want %q", tt.in, tt.limit, got, tt.want)
			}
			if n := len(utf16.Encode([]rune(got))); n > tt.limit {
				t.Errorf("%d units, over %d", n, tt.limit)
			}
		})
	}
}

func TestTelegramEdit_EditsInPlace(t *testing.T) {
	tests := []struct {
		name      string
		status    int
		body      string
		buttons   [][]duban.Button
		wantErr   bool
		permanent bool
	}{
		{"edited", 200, sentMessage(6001, 9), reminder.Buttons, false, false},
		{"already says that", 400, tgError(400, "Bad Request: message is not modified: specified new message content and reply markup are exactly the same", ""), nil, false, false},
		{"message gone", 400, tgError(400, "Bad Request: message to edit not found", ""), nil, true, true},
	}
	f := newFakeTelegram(t)
	tg := newTestTelegram(t, f)
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.Answer(func(string, url.Values) (int, string) { return tt.status, tt.body })
			chat := int64(6001 + i)
			err := tg.Edit(context.Background(), chat, 9, "已记录", tt.buttons)
			if (err != nil) != tt.wantErr || IsPermanent(err) != tt.permanent {
				t.Fatalf("Edit = %v, want error %v, permanent %v", err, tt.wantErr, tt.permanent)
			}
			call := lastCall(t, sends(f))
			if !strings.HasSuffix(call.Path, "/editMessageText") {
				t.Errorf("path = %q", call.Path)
			}
			if call.Form.Get("chat_id") != fmt.Sprint(chat) || call.Form.Get("message_id") != "9" || call.Form.Get("text") != "已记录" {
				t.Errorf("form = %v", call.Form)
			}
			if hasMarkup := call.Form.Get("reply_markup") != ""; hasMarkup != (tt.buttons != nil) {
				t.Errorf("reply_markup = %q with %d button rows", call.Form.Get("reply_markup"), len(tt.buttons))
			}
		})
	}
}

func TestTelegramSend_AfterWaitTakesNoSecondSlot(t *testing.T) {
	f := newFakeTelegram(t)
	f.Answer(func(method string, form url.Values) (int, string) { return http.StatusOK, sentMessage(4242, 1) })
	tg := newTestTelegram(t, f)
	clock := duban.NewManualClock(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))
	tg.limiter = newTelegramLimiter(0, clock.Now)
	addr := duban.Address{TelegramChatID: 4242}
	if err := tg.Wait(context.Background(), addr, nil); err != nil {
		t.Fatal(err)
	}
	// The clock stands still: a second wait would never end, so the
	// deadline turns it into an error.
	ctx, cancel := context.WithTimeout(Reserved(context.Background()), 2*time.Second)
	defer cancel()
	if _, err := tg.Send(ctx, addr, duban.Message{Text: "hi"}); err != nil {
		t.Fatalf("send with a reserved slot waited again: %v", err)
	}
	// One slot was taken: the chat's next is one chat interval after the
	// first, not two.
	_, wait, ok := tg.limiter.reserve(4242)
	if ok || wait > telegramChatInterval {
		t.Errorf("next slot in %s (ok=%v), want within one chat interval", wait, ok)
	}
}
