package jobs_test

import (
	"testing"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/storage/storagetest"
)

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
