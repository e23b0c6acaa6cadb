package telegram_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/jobs"
	"github.com/cityhall/duban/storage"
)

// TestReport_TrackingCodeSurvivesAProviderError: the message carrying the
// tracking code is a delivery like any other; when Telegram answers it
// 429 or 502 it stays queued, its task waits (retry_after, or a reply's
// short backoff) and tries again, and the retry brings the code.
func TestReport_TrackingCodeSurvivesAProviderError(t *testing.T) {
	tests := []struct {
		name     string
		status   int
		body     string
		failure  bool // counts as a failed attempt for asynq
		min, max time.Duration
	}{
		{"429 then 200", http.StatusTooManyRequests,
			`{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 3","parameters":{"retry_after":3}}`,
			false, 3 * time.Second, 3 * time.Second},
		{"502 then 200", http.StatusBadGateway, `<html>502 Bad Gateway</html>`, true, time.Second, 2 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTelegram(t)
			r := e.reporter(tgStranger)
			r.upTo(toConfirm)
			before := len(e.fake.Sent())
			// The bot's own attempt fails, and so does the task's first.
			e.fake.FailRaw("sendMessage", tt.status, tt.body)
			e.fake.FailRaw("sendMessage", tt.status, tt.body)
			r.press("r:ok")
			if n := len(e.complaints()); n != 1 {
				t.Fatalf("%d complaints, want 1", n)
			}
			if n := len(e.fake.Sent()) - before; n != 0 {
				t.Fatalf("%d messages accepted while Telegram failed", n)
			}
			queued, err := e.Store.Deliveries(e.Ctx, storage.DeliveryFilter{Status: duban.DeliveryQueued})
			if err != nil {
				t.Fatal(err)
			}
			var reply *duban.Delivery
			for i := range queued {
				if queued[i].Kind == duban.MsgReply {
					reply = &queued[i]
				}
			}
			if reply == nil {
				t.Fatalf("no reply queued after the failure: %+v", queued)
			}
			// The reply's task: the error tells asynq when to come back.
			err = e.Outbox.Deliver(e.Ctx, reply.ID)
			if err == nil {
				t.Fatal("no error from a failing Telegram")
			}
			if got := jobs.IsFailure(err); got != tt.failure {
				t.Errorf("IsFailure = %v, want %v", got, tt.failure)
			}
			if d := jobs.RetryDelay(0, err, jobs.NewReplySendTask(*reply)); d < tt.min || d > tt.max {
				t.Errorf("retried after %s, want %s to %s", d, tt.min, tt.max)
			}
			// The retry.
			if err := e.Outbox.Deliver(e.Ctx, reply.ID); err != nil {
				t.Fatalf("retry: %v", err)
			}
			code := trackingCodeRE.FindString(r.last().Text)
			if want := duban.FormatTrackingCode(e.complaints()[0].TrackingCode); code != want {
				t.Fatalf("after the retry the last message %q holds code %q, want %s", r.last().Text, code, want)
			}
			got, _ := e.Store.DeliveryByID(e.Ctx, reply.ID)
			if got.Status != duban.DeliverySent || got.Attempts != 3 {
				t.Errorf("reply row %s after %d attempts, want sent after 3", got.Status, got.Attempts)
			}
		})
	}
}
