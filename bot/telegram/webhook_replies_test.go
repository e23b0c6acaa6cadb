package telegram_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/bot/bottest"
	"github.com/cityhall/duban/internal/fakes/tgfake"
	"github.com/cityhall/duban/jobs"
	"github.com/cityhall/duban/storage"
)

// conversationTasks lists the reply tasks waiting on the conversation
// queue, due or scheduled.
func conversationTasks(t *testing.T, e *tgEnv) []*asynq.TaskInfo {
	t.Helper()
	var out []*asynq.TaskInfo
	for _, list := range []func(string, ...asynq.ListOption) ([]*asynq.TaskInfo, error){e.Tasks.ListPendingTasks, e.Tasks.ListScheduledTasks} {
		ts, err := list(jobs.QueueConversation)
		if err != nil && !errors.Is(err, asynq.ErrQueueNotFound) {
			t.Fatal(err)
		}
		out = append(out, ts...)
	}
	return out
}

// TestTelegramWebhook_RepliesLeaveBeforeTheAnswer: through the webhook, a
// reporter's replies are sent by the request that carries the update,
// through the delivery log, before Telegram is answered — no worker has to
// pick them up (none runs here). Polling hands them to a task instead, so
// that its loop goes on to the next update.
func TestTelegramWebhook_RepliesLeaveBeforeTheAnswer(t *testing.T) {
	e := newTelegramOn(t, bottest.NewQueued(t))
	h := e.bot.WebhookHandler(webhookSecret)
	post := func(u any) {
		t.Helper()
		if got := postUpdate(t, e.fake, h, http.MethodPost, webhookSecret, bottest.MustJSON(t, u)); got != http.StatusOK {
			t.Fatalf("status %d, want 200", got)
		}
	}
	post(tgfake.TextUpdate(1, tgStranger, tgStranger, "/report"))
	if n := len(e.fake.Sent()); n != 1 {
		t.Fatalf("%d messages sent when the webhook answered /report, want its prompt", n)
	}
	post(tgfake.CallbackUpdate(2, tgStranger, tgStranger, 500, "r:cat:illegal_fee"))
	if n := len(e.fake.Calls("editMessageReplyMarkup")); n != 1 {
		t.Errorf("%d edits when the webhook answered the press, want the pressed buttons taken away", n)
	}
	if n := len(e.fake.Sent()); n != 2 {
		t.Errorf("%d messages sent when the webhook answered the press, want the next prompt too", n)
	}
	if ts := conversationTasks(t, e); len(ts) != 0 {
		t.Errorf("%d reply tasks left for workers, want none", len(ts))
	}
	rows, err := e.Store.Deliveries(e.Ctx, storage.DeliveryFilter{})
	if err != nil {
		t.Fatal(err)
	}
	replies := 0
	for _, d := range rows {
		if d.Kind != duban.MsgReply {
			continue // the hearing's notice, planned for its head
		}
		replies++
		if d.Status != duban.DeliverySent {
			t.Errorf("reply %s is %s, want sent and recorded", d.DedupeKey, d.Status)
		}
	}
	if replies != 3 {
		t.Errorf("%d replies in the delivery log, want 3", replies)
	}

	// Polling: the loop goes on, the replies wait for a worker.
	const polled = tgStranger + 1
	e.handle(tgfake.TextUpdate(3, polled, polled, "/report"))
	if n := len(e.fake.Sent()); n != 2 {
		t.Errorf("%d messages sent, want the polled update's prompt left to a worker", n)
	}
	if ts := conversationTasks(t, e); len(ts) != 1 {
		t.Errorf("%d reply tasks after a polled update, want 1", len(ts))
	}
}

// TestTelegramWebhook_ThePressIsAnsweredInTheWebhooksAnswer: the answer
// to a button press (answerCallbackQuery) rides in the webhook's 200, for
// Telegram to make, rather than as a request of its own; the press's
// replies have left by then. A re-delivered press carries no second
// answer, and a message, which has no press to answer, an empty 200.
func TestTelegramWebhook_ThePressIsAnsweredInTheWebhooksAnswer(t *testing.T) {
	e := newTelegramOn(t, bottest.NewQueued(t))
	h := e.bot.WebhookHandler(webhookSecret)
	rec := webhookPost(h, http.MethodPost, webhookSecret, bottest.MustJSON(t, tgfake.TextUpdate(1, tgStranger, tgStranger, "/report")))
	if rec.Code != http.StatusOK || rec.Body.Len() != 0 {
		t.Fatalf("a message answered %d %q, want an empty 200", rec.Code, rec.Body)
	}
	press := bottest.MustJSON(t, tgfake.CallbackUpdate(2, tgStranger, tgStranger, 500, "r:cat:illegal_fee"))
	rec = webhookPost(h, http.MethodPost, webhookSecret, press)
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d, want 200", rec.Code)
	}
	form, err := url.ParseQuery(rec.Body.String())
	if err != nil || !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/x-www-form-urlencoded") {
		t.Fatalf("answer %q (%s): not a form (%v)", rec.Body, rec.Header().Get("Content-Type"), err)
	}
	if form.Get("method") != "answerCallbackQuery" || form.Get("callback_query_id") != "cq2" {
		t.Errorf("the answer carries %v, want answerCallbackQuery for cq2", form)
	}
	if n := len(e.fake.Calls("answerCallbackQuery")); n != 0 {
		t.Errorf("answerCallbackQuery requested %d times besides the answer, want 0", n)
	}
	if n, m := len(e.fake.Calls("editMessageReplyMarkup")), len(e.fake.Sent()); n != 1 || m != 2 {
		t.Errorf("%d edits and %d messages when the press was answered, want its replies out (1 and 2)", n, m)
	}
	if rec := webhookPost(h, http.MethodPost, webhookSecret, press); rec.Code != http.StatusOK || rec.Body.Len() != 0 {
		t.Errorf("the press re-delivered answered %d %q, want an empty 200", rec.Code, rec.Body)
	}
}

// TestTelegramWebhook_ARefusedReplyIsHandedToItsTaskWithTheRest: when
// Telegram refuses a reply sent in the webhook's request (429), the update
// is still answered 200 (it is kept), and that reply and the ones after it
// go, in order, to one task on the conversation queue, due after
// Telegram's retry_after; the task sends them.
func TestTelegramWebhook_ARefusedReplyIsHandedToItsTaskWithTheRest(t *testing.T) {
	e := newTelegramOn(t, bottest.NewQueued(t))
	h := e.bot.WebhookHandler(webhookSecret)
	if got := postUpdate(t, e.fake, h, http.MethodPost, webhookSecret, bottest.MustJSON(t, tgfake.TextUpdate(1, tgStranger, tgStranger, "/report"))); got != http.StatusOK {
		t.Fatalf("status %d, want 200", got)
	}
	e.fake.FailRaw("editMessageReplyMarkup", http.StatusTooManyRequests,
		`{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 3","parameters":{"retry_after":3}}`)
	posted := time.Now()
	if got := postUpdate(t, e.fake, h, http.MethodPost, webhookSecret, bottest.MustJSON(t, tgfake.CallbackUpdate(2, tgStranger, tgStranger, 500, "r:cat:illegal_fee"))); got != http.StatusOK {
		t.Fatalf("status %d after a refused reply, want 200 (the update is kept)", got)
	}
	if n := len(e.fake.Calls("answerCallbackQuery")); n != 1 {
		t.Errorf("press answered %d times, want 1", n)
	}
	if n := len(e.fake.Sent()); n != 1 {
		t.Fatalf("%d messages sent, want the next prompt held behind the refused edit", n)
	}
	ts := conversationTasks(t, e)
	if len(ts) != 1 {
		t.Fatalf("%d reply tasks, want 1", len(ts))
	}
	if wait := ts[0].NextProcessAt.Sub(posted); wait < 2*time.Second || wait > 5*time.Second {
		t.Errorf("task due %s after the post, want Telegram's retry_after (3s)", wait)
	}
	var p jobs.DeliveryPayload
	if err := json.Unmarshal(ts[0].Payload, &p); err != nil {
		t.Fatal(err)
	}
	if len(p.Then) != 1 {
		t.Fatalf("task carries %d replies after the first, want the prompt (1)", len(p.Then))
	}

	// The worker's turn.
	if err := e.Outbox.HandleDelivery(e.Ctx, asynq.NewTask(ts[0].Type, ts[0].Payload)); err != nil {
		t.Fatalf("task: %v", err)
	}
	if n := len(e.fake.Calls("editMessageReplyMarkup")); n != 2 {
		t.Errorf("%d edit calls after the task, want 2: the refused one and the task's", n)
	}
	sent := e.fake.Sent()
	if len(sent) != 2 {
		t.Fatalf("%d messages after the task, want 2", len(sent))
	}
	for _, id := range append([]int64{p.DeliveryID}, p.Then...) {
		d, err := e.Store.DeliveryByID(e.Ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if d.Status != duban.DeliverySent {
			t.Errorf("reply %d is %s after the task, want sent", id, d.Status)
		}
	}
}
