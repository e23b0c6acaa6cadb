package telegram_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/bot/bottest"
	"github.com/cityhall/duban/internal/fakes/tgfake"
	"github.com/cityhall/duban/internal/testenv"
	"github.com/cityhall/duban/redact"
	"github.com/cityhall/duban/storage"
	"github.com/cityhall/duban/storage/storagetest"
)

const webhookSecret = "wh_S3cret-token"

// postUpdate posts body to h as Telegram does and, as Telegram does with
// a 200, makes on fake the call the answer carries (answerCallbackQuery).
func postUpdate(t testing.TB, fake *tgfake.Server, h http.Handler, method, secret string, body []byte) int {
	rec := webhookPost(h, method, secret, body)
	if rec.Code == http.StatusOK {
		if err := fake.Carry(rec.Header(), rec.Body.Bytes()); err != nil {
			t.Fatal(err)
		}
	}
	return rec.Code
}

// webhookPost posts body to h and returns its answer as it is.
func webhookPost(h http.Handler, method, secret string, body []byte) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, "/telegram/webhook", bytes.NewReader(body))
	if secret != "" {
		req.Header.Set("X-Telegram-Bot-Api-Secret-Token", secret)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestTelegramWebhook_RefusesWhatIsNotTelegrams(t *testing.T) {
	e := newTelegram(t)
	h := e.bot.WebhookHandler(webhookSecret)
	confirm := bottest.MustJSON(t, tgfake.CallbackUpdate(5, tgHead, tgHead, 55, fmt.Sprintf("hc:%d", e.HA)))
	tests := []struct {
		name   string
		method string
		secret string
		body   []byte
		want   int
	}{
		{"no secret", http.MethodPost, "", confirm, http.StatusUnauthorized},
		{"wrong secret", http.MethodPost, "wh_S3cret-tokeN", confirm, http.StatusUnauthorized},
		{"secret's prefix", http.MethodPost, "wh_S3cret", confirm, http.StatusUnauthorized},
		{"not a post", http.MethodGet, webhookSecret, nil, http.StatusMethodNotAllowed},
		{"body over a megabyte", http.MethodPost, webhookSecret, bytes.Repeat([]byte(" "), 1<<20+1), http.StatusRequestEntityTooLarge},
		{"not JSON", http.MethodPost, webhookSecret, []byte("update_id=5"), http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := postUpdate(t, e.fake, h, tt.method, tt.secret, tt.body); got != tt.want {
				t.Errorf("status %d, want %d", got, tt.want)
			}
		})
	}
	if ha := e.HANow(); ha.Answer != duban.AnswerNone {
		t.Fatalf("a refused post answered %s", ha.Answer)
	}
	if calls := e.fake.Calls("answerCallbackQuery"); len(calls) != 0 {
		t.Fatalf("a refused post was answered: %v", calls)
	}
	// Nothing refused was recorded as processed: the real post goes through.
	if got := postUpdate(t, e.fake, h, http.MethodPost, webhookSecret, confirm); got != http.StatusOK {
		t.Fatalf("status %d, want 200", got)
	}
	if ha := e.HANow(); ha.Answer != duban.AnswerConfirmed {
		t.Errorf("answer %s, want confirmed", ha.Answer)
	}
}

func TestTelegramWebhook_RedeliveredPostChangesNothing(t *testing.T) {
	e := newTelegram(t)
	h := e.bot.WebhookHandler(webhookSecret)
	body := bottest.MustJSON(t, tgfake.CallbackUpdate(5, tgHead, tgHead, 55, fmt.Sprintf("hc:%d", e.HA)))
	for i := range 2 {
		if got := postUpdate(t, e.fake, h, http.MethodPost, webhookSecret, body); got != http.StatusOK {
			t.Fatalf("post %d: status %d", i+1, got)
		}
	}
	if n := len(e.fake.Calls("answerCallbackQuery")); n != 1 {
		t.Errorf("answerCallbackQuery %d times, want 1", n)
	}
	if n := len(e.fake.Sent()); n != 1 {
		t.Errorf("%d messages sent, want 1", n)
	}
	if n := e.AuditCount("hearing.answer"); n != 1 {
		t.Errorf("%d answers recorded, want 1", n)
	}
}

func TestTelegramWebhook_FailureIs500SoTelegramRetries(t *testing.T) {
	e := newTelegram(t)
	h := e.bot.WebhookHandler(webhookSecret)
	e.Store.Close()
	body := bottest.MustJSON(t, tgfake.TextUpdate(5, tgStranger, tgStranger, "/help"))
	if got := postUpdate(t, e.fake, h, http.MethodPost, webhookSecret, body); got != http.StatusInternalServerError {
		t.Errorf("status %d, want 500", got)
	}
	if sent := e.fake.Sent(); len(sent) != 0 {
		t.Errorf("sent %v for an update not committed", sent)
	}
}

// runPoll runs Poll until the returned stop is called, which waits for it.
func runPoll(t *testing.T, e *tgEnv) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	b := e.bot
	go func() { done <- b.Poll(ctx) }()
	return func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Poll returned %v, want nil when its context ends", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("Poll did not return after its context ended")
		}
	}
}

func TestTelegramPoll_HandlesInOrderAndConfirmsAfterwards(t *testing.T) {
	e := newTelegram(t)
	e.fake.Queue(
		tgfake.TextUpdate(41, tgStranger, tgStranger, "/help"),
		tgfake.CallbackUpdate(42, tgHead, tgHead, 55, fmt.Sprintf("hd:%d", e.HA)),
		tgfake.TextUpdate(43, tgHead, tgHead, "李四，出差"),
	)
	stop := runPoll(t, e)
	sent := e.fake.WaitSent(t, 3, 5*time.Second)
	calls := e.fake.WaitCalls(t, "getUpdates", 2, 5*time.Second)
	stop()

	if sent[0].ChatID != tgStranger || sent[1].Text != tr("zh-CN", "bot.answer.delegate_prompt", nil) ||
		sent[2].Text != tr("zh-CN", "bot.answer.delegated", map[string]any{"Delegate": "李四", "Reason": "出差"}) {
		t.Errorf("replies out of order: %+v", sent)
	}
	if ha := e.HANow(); ha.Answer != duban.AnswerDelegated {
		t.Errorf("answer %s, want delegated", ha.Answer)
	}
	if calls[0].Get("offset") != "" || calls[1].Get("offset") != "44" {
		t.Errorf("getUpdates offsets %q then %q, want none then 44", calls[0].Get("offset"), calls[1].Get("offset"))
	}
	if got := calls[0].Get("allowed_updates"); got != `["message","callback_query"]` {
		t.Errorf("allowed_updates %s", got)
	}
	all := e.fake.AllCalls()
	if all[1].Method != "deleteWebhook" { // after getMe
		t.Errorf("first call after getMe is %s, want deleteWebhook", all[1].Method)
	}
}

func TestTelegramPoll_RetriesAFailedUpdateAndSkipsNothing(t *testing.T) {
	e := newTelegram(t)
	e.fake.Queue(tgfake.TextUpdate(7, tgStranger, tgStranger, "/help"), tgfake.TextUpdate(8, tgStranger, tgStranger, "/help"))
	e.Store.Close() // the database is down

	stop := runPoll(t, e)
	e.fake.WaitCalls(t, "getUpdates", 1, 5*time.Second)
	time.Sleep(1500 * time.Millisecond) // two attempts at update 7
	stop()
	if calls := e.fake.Calls("getUpdates"); len(calls) != 1 {
		t.Errorf("getUpdates called %d times while update 7 failed, want 1 (the update retried, not skipped)", len(calls))
	}
	if sent := e.fake.Sent(); len(sent) != 0 {
		t.Errorf("sent %v while the database was down", sent)
	}
	if !strings.Contains(e.logs.String(), "retrying") {
		t.Errorf("no retry logged:\n%s", e.logs.String())
	}

	// The database is back: a new process gets the same, unconfirmed updates.
	e.Store = storagetest.Open(t, e.URL, storage.WithClock(e.Clock))
	e.Hearings = e.Hearings.With(e.Store)
	e.Hearings.Outbox = e.Hearings.Outbox.With(e.Store) // the replies' road, on the new store too
	e.bot = e.newBot()
	stop = runPoll(t, e)
	e.fake.WaitSent(t, 2, 5*time.Second)
	calls := e.fake.WaitCalls(t, "getUpdates", 3, 5*time.Second)
	stop()
	if got := calls[2].Get("offset"); got != "9" {
		t.Errorf("getUpdates offset %q after updates 7 and 8, want 9", got)
	}
}

func TestTelegramSetWebhook_SendsTheSecretToken(t *testing.T) {
	e := newTelegram(t)
	if err := e.bot.SetWebhook(e.Ctx, "https://duban.example.gov.cn/telegram/webhook", webhookSecret); err != nil {
		t.Fatal(err)
	}
	calls := e.fake.Calls("setWebhook")
	if len(calls) != 1 {
		t.Fatalf("setWebhook called %d times", len(calls))
	}
	want := map[string]string{"url": "https://duban.example.gov.cn/telegram/webhook", "secret_token": webhookSecret,
		"allowed_updates": `["message","callback_query"]`, "drop_pending_updates": "false"}
	for k, v := range want {
		if got := calls[0].Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
}

func TestTelegram_NoErrorOrLogCarriesTheToken(t *testing.T) {
	e := newTelegram(t)
	e.fake.Close() // every call now fails, quoting its URL, which holds the token

	err := e.bot.SetWebhook(e.Ctx, "https://duban.example.gov.cn/telegram/webhook", webhookSecret)
	if err == nil || redact.Leaks(err, token) || redact.Leaks(err, webhookSecret) {
		t.Errorf("SetWebhook error %v: want an error without the token or secret", err)
	}
	e.handle(tgfake.CallbackUpdate(1, tgHead, tgHead, 55, fmt.Sprintf("hc:%d", e.HA))) // replies fail, are logged
	stop := runPoll(t, e)
	time.Sleep(200 * time.Millisecond) // deleteWebhook fails and is logged
	stop()
	e.Store.Close()
	if err := e.bot.HandleUpdate(e.Ctx, tgbotapi.Update{UpdateID: 2}); err == nil || redact.Leaks(err, token) {
		t.Errorf("HandleUpdate error %v: want an error without the token", err)
	}
	logs := e.logs.String()
	if !strings.Contains(logs, "<redacted>") {
		t.Errorf("no failed call logged:\n%s", logs)
	}
	if strings.Contains(logs, token) {
		t.Errorf("the token is in the logs:\n%s", logs)
	}
}

// TestTelegramWebhook_DatabaseDownIs503: with PostgreSQL unreachable the
// webhook answers 503 with Retry-After, so Telegram posts the update again
// and it is handled once the database is back.
func TestTelegramWebhook_DatabaseDownIs503(t *testing.T) {
	e := newTelegram(t)
	base, err := url.Parse(storagetest.PostgresURL(t))
	if err != nil {
		t.Fatal(err)
	}
	proxy := testenv.NewProxy(t, base.Host)
	base.Host = proxy.Addr
	e.Store = storagetest.Open(t, base.String(), storage.WithClock(e.Clock))
	e.Hearings, e.Complaints = e.Hearings.With(e.Store), e.Complaints.With(e.Store)
	e.bot = e.newBot()
	h := e.bot.WebhookHandler(webhookSecret)
	body := bottest.MustJSON(t, tgfake.TextUpdate(5, tgStranger, tgStranger, "/help"))

	proxy.Cut()
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodPost, "/telegram/webhook", bytes.NewReader(body))
	req.Header.Set("X-Telegram-Bot-Api-Secret-Token", webhookSecret)
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" {
		t.Errorf("with the database down: %d Retry-After %q; want 503 with Retry-After", rec.Code, rec.Header().Get("Retry-After"))
	}
	if err := proxy.Restore(); err != nil {
		t.Fatal(err)
	}
	if got := postUpdate(t, e.fake, h, http.MethodPost, webhookSecret, body); got != http.StatusOK {
		t.Errorf("the same post once the database is back: %d, want 200", got)
	}
}
