package jobs_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/i18n"
	"github.com/cityhall/duban/jobs"
	"github.com/cityhall/duban/notifier"
	"github.com/cityhall/duban/storage"
	"github.com/cityhall/duban/storage/storagetest"
)

// TestPlanReply_ToASlackUser: a reply addressed to a Slack user's direct
// messages (the Slack app's answer to a modal) is planned once per key in
// the caller's transaction and sent on Slack to that user; sent again
// after a connection dropped, it starts with the line of a possible
// repeat in the user's language.
func TestPlanReply_ToASlackUser(t *testing.T) {
	storagetest.EachURL(t, func(t *testing.T, url string) {
		h := newHarness(t, url)
		senders := notifier.Senders{duban.ChannelSlack: h.rec.sender(duban.ChannelSlack, func(a duban.Address) bool { return a.SlackUserID != "" })}
		for ch, s := range h.senders {
			senders[ch] = s
		}
		h.build(senders)
		attempts := 0
		h.rec.fail = func(duban.Channel, duban.Address) error {
			if attempts++; attempts == 1 {
				return fmt.Errorf("slack: post message: %w", notifier.ErrInDoubt)
			}
			return nil
		}

		to := duban.Address{SlackUserID: "U024BE7LH", Locale: duban.LocaleEN}
		var planned []*duban.Delivery
		for range 2 { // the same answer planned again (a retried request)
			err := h.store.InTx(h.ctx, func(tx *storage.Store) error {
				d, err := h.outbox.PlanReply(h.ctx, tx, "slack:view:V1:dm", duban.ChannelSlack, to, duban.Message{Text: "Logged."})
				planned = append(planned, d)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		if planned[0].ID != planned[1].ID {
			t.Fatalf("planned twice: deliveries %d and %d", planned[0].ID, planned[1].ID)
		}
		if err := h.outbox.Deliver(h.ctx, planned[0].ID); !notifier.InDoubt(err) {
			t.Fatalf("first attempt: %v, want the dropped connection", err)
		}
		if err := h.outbox.Deliver(h.ctx, planned[0].ID); err != nil {
			t.Fatalf("second attempt: %v", err)
		}

		got := h.rec.all()
		want := i18n.MustNew().T(duban.LocaleEN, "delivery.possible_repeat", nil) + "\nLogged."
		if len(got) != 1 || got[0].Channel != duban.ChannelSlack || got[0].Addr.SlackUserID != to.SlackUserID || got[0].Msg.Text != want {
			t.Fatalf("sent %+v, want one Slack message to %s: %q", got, to.SlackUserID, want)
		}
		d, err := h.store.DeliveryByID(h.ctx, planned[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		if d.Status != duban.DeliverySent || !d.PossibleRepeat || d.Attempts != 2 || d.PersonID != 0 || d.Kind != duban.MsgReply {
			t.Errorf("delivery %+v, want a reply with no person, sent at the second attempt as a possible repeat", d)
		}
	})
}

// TestPost_SupervisionPostTakesTheDeliveryLog: a post to the supervision
// channel is a delivery row like any message: a provider's 429 leaves it
// queued for the task's retry after retry_after, and a task that runs
// again once it is sent answers the recorded message id instead of
// posting twice.
func TestPost_SupervisionPostTakesTheDeliveryLog(t *testing.T) {
	storagetest.EachURL(t, func(t *testing.T, url string) {
		h := newHarness(t, url)
		senders := notifier.Senders{duban.ChannelSlack: h.rec.sender(duban.ChannelSlack, func(a duban.Address) bool { return a.SlackUserID != "" })}
		h.build(senders)
		calls := 0
		h.rec.fail = func(duban.Channel, duban.Address) error {
			if calls++; calls == 1 {
				return &notifier.RateLimitError{Channel: duban.ChannelSlack, RetryAfter: 3 * time.Second}
			}
			return nil
		}
		to := duban.Address{Name: "supervision", SlackUserID: "C0SUPERVISION"}
		msg := duban.Message{Text: "新投诉 1 件"}

		_, err := h.outbox.Post(h.ctx, "csync:1", duban.ChannelSlack, to, msg)
		if after, ok := notifier.RetryAfter(err); !ok || after != 3*time.Second || jobs.IsFailure(err) {
			t.Fatalf("first post = %v; want the provider's retry_after, not counted as a failure", err)
		}
		var ids []string
		for range 2 { // the task's retry, then the same task run again
			id, err := h.outbox.Post(h.ctx, "csync:1", duban.ChannelSlack, to, msg)
			if err != nil {
				t.Fatalf("post after retry_after: %v", err)
			}
			ids = append(ids, id)
		}
		if ids[0] == "" || ids[0] != ids[1] {
			t.Errorf("message ids %q: want the one recorded, twice", ids)
		}
		if sent := h.rec.all(); len(sent) != 1 || sent[0].Msg.Text != msg.Text || sent[0].Addr.SlackUserID != to.SlackUserID {
			t.Errorf("posted %+v; want the post once to %s", sent, to.SlackUserID)
		}
		var status string
		var attempts int
		if err := h.store.DB().QueryRow(`SELECT status, attempts FROM deliveries WHERE channel = 'slack'`).Scan(&status, &attempts); err != nil {
			t.Fatal(err)
		}
		if status != "sent" || attempts != 2 {
			t.Errorf("delivery log: %s after %d attempts; want sent after 2", status, attempts)
		}
	})
}

// A conversation reply is recorded sent with neither what it said nor the
// chat it went to: the chat may be an anonymous reporter's.
func TestReplies_SentReplyKeepsNeitherTextNorChat(t *testing.T) {
	storagetest.EachURL(t, func(t *testing.T, url string) {
		h := newHarness(t, url)
		d, err := h.outbox.PlanReply(h.ctx, h.store, "tg:7:0", duban.ChannelTelegram, duban.Address{TelegramChatID: 4242},
			duban.Message{Text: "您好"})
		if err != nil {
			t.Fatal(err)
		}
		if err := h.outbox.Deliver(h.ctx, d.ID); err != nil {
			t.Fatalf("Deliver = %v", err)
		}
		if sent := h.rec.all(); len(sent) != 1 || sent[0].Msg.Text != "您好" {
			t.Fatalf("sent %+v, want the reply", sent)
		}
		got, err := h.store.DeliveryByID(h.ctx, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != duban.DeliverySent || got.Payload != "{}" || got.ProviderMessageID != "" || got.SentAt == nil {
			t.Errorf("the reply's row after it was sent: %+v", got)
		}
	})
}

// busyChannel is a Slack sender whose channel is booked for busy seconds
// at its first wait: a yielding post is told to come back.
type busyChannel struct {
	notifier.Sender
	busy time.Duration
}

func (b *busyChannel) Wait(ctx context.Context, addr duban.Address, prepare func() error) error {
	if b.busy > 0 {
		busy := b.busy
		b.busy = 0
		return &notifier.RateLimitError{Channel: duban.ChannelSlack, RetryAfter: busy}
	}
	return prepare()
}

// A post told to come back (its channel booked ahead) keeps its row
// queued — should its task be lost, reconcile sends it — and each time
// the task comes back the row says what the task renders now, so that
// whoever sends it sends the latest, once.
func TestPost_ToldToComeBackKeepsTheLatestRenderForReconcile(t *testing.T) {
	storagetest.EachURL(t, func(t *testing.T, url string) {
		h := newHarness(t, url)
		slack := &busyChannel{Sender: h.rec.sender(duban.ChannelSlack, func(a duban.Address) bool { return a.SlackUserID != "" }), busy: 4 * time.Second}
		h.build(notifier.Senders{duban.ChannelSlack: slack})
		to := duban.Address{Name: "supervision", SlackUserID: "C0SUPERVISION"}
		queued := func() []duban.Delivery {
			t.Helper()
			ds, err := h.store.Deliveries(h.ctx, storage.DeliveryFilter{Status: duban.DeliveryQueued})
			if err != nil {
				t.Fatal(err)
			}
			return ds
		}

		_, err := h.outbox.Post(h.ctx, "csync:1:post", duban.ChannelSlack, to, duban.Message{Text: "已受理"})
		if after, ok := notifier.RetryAfter(err); !ok || after != 4*time.Second || jobs.IsFailure(err) {
			t.Fatalf("post to a busy channel = %v; want told to come back in 4s, not a failure", err)
		}
		if q := queued(); len(q) != 1 || !strings.Contains(q[0].Payload, "已受理") {
			t.Fatalf("queued after the first try: %+v; want the post's row, for reconcile", q)
		}
		// The task comes back after the complaint changed; busy again.
		slack.busy = 2 * time.Second
		if _, err := h.outbox.Post(h.ctx, "csync:1:post", duban.ChannelSlack, to, duban.Message{Text: "已交办"}); err == nil {
			t.Fatal("a busy channel took the post")
		}
		q := queued()
		if len(q) != 1 || !strings.Contains(q[0].Payload, "已交办") {
			t.Fatalf("queued after the second try: %+v; want one row saying 已交办", q)
		}
		// The task is lost (Redis flushed); reconcile's task sends the row.
		if err := h.outbox.Deliver(h.ctx, q[0].ID); err != nil {
			t.Fatalf("reconcile's send: %v", err)
		}
		// The task, back after all, finds it sent.
		if _, err := h.outbox.Post(h.ctx, "csync:1:post", duban.ChannelSlack, to, duban.Message{Text: "已交办"}); err != nil {
			t.Fatalf("the task's last try: %v", err)
		}
		if sent := h.rec.all(); len(sent) != 1 || sent[0].Msg.Text != "已交办" {
			t.Errorf("posted %+v; want the latest render once", sent)
		}
	})
}
