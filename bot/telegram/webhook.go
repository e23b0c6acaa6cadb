package telegram

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/cityhall/duban/bot"
	"github.com/cityhall/duban/redact"
	"github.com/cityhall/duban/storage"
)

// secretHeader carries the secret_token given to setWebhook on every post.
// https://core.telegram.org/bots/api#setwebhook
const secretHeader = "X-Telegram-Bot-Api-Secret-Token"

// WebhookHandler receives updates Telegram posts. A post without the secret
// is refused (401) before anything is read; an update is answered 200 only
// after it is committed, and 500 when it could not be, so that Telegram
// delivers it again. The update's replies are sent before the answer
// (jobs.Outbox.SendReplies): Telegram posts over several connections at a
// time, so the wait holds one connection, not the bot. The answer to a
// press (answerCallbackQuery) rides in the 200's body, as the Bot API lets
// a webhook's answer carry one call: Telegram makes it then, and the
// press's spinner stops as its replies arrive, without a request of its
// own. An empty secret refuses every post.
func (t *Bot) WebhookHandler(secret string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got := r.Header.Get(secretHeader)
		if secret == "" || subtle.ConstantTimeCompare([]byte(got), []byte(secret)) != 1 {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		body, ok := bot.ReadPost(w, r)
		if !ok {
			return
		}
		var u tgbotapi.Update
		if err := json.Unmarshal(body, &u); err != nil {
			http.Error(w, "body is not a Telegram update", http.StatusBadRequest)
			return
		}
		// The update is handled to its end even if Telegram hangs up: it
		// posts the update again and finds it done. A context that cannot
		// be canceled also spares lib/pq and database/sql a goroutine
		// watching it for every statement, 2–3% of the intake's rate
		// (docs/PERFORMANCE.md). A database that stops answering fails
		// the statements when the connection's TCP keep-alive gives up, no
		// longer when Telegram does.
		answer, err := t.handle(context.WithoutCancel(r.Context()), u, t.hearings.Outbox.SendReplies, true)
		if err != nil {
			t.log.Error("telegram: webhook update not handled", slog.Int("update_id", u.UpdateID), slog.Any("error", err))
			if storage.Unreachable(err) {
				// Nothing of the update was kept: Telegram posts it again.
				w.Header().Set("Retry-After", "5")
				http.Error(w, "database unavailable", http.StatusServiceUnavailable)
				return
			}
			http.Error(w, "update not handled", http.StatusInternalServerError)
			return
		}
		if answer != nil {
			if err := tgbotapi.WriteToHTTPResponse(w, answer); err != nil {
				t.send(replies{answer}) // the answer did not carry it: made as a call
			}
			return
		}
		w.WriteHeader(http.StatusOK)
	})
}

// SetWebhook asks Telegram to post updates to url with secret as
// secret_token, keeping the updates still pending. tgbotapi's
// WebhookConfig has no secret_token, hence the call by hand.
func (t *Bot) SetWebhook(ctx context.Context, url, secret string) error {
	params := tgbotapi.Params{"url": url, "secret_token": secret, "drop_pending_updates": "false"}
	if err := params.AddInterface("allowed_updates", allowedUpdates); err != nil {
		return fmt.Errorf("telegram: set webhook: %w", err)
	}
	_, err := call(ctx, func() (*tgbotapi.APIResponse, error) { return t.api.MakeRequest("setWebhook", params) })
	if err != nil {
		return redact.Error(fmt.Errorf("telegram: set webhook: %w", err), t.token, secret)
	}
	return nil
}
