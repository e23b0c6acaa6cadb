package jobs_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/jobs"
	"github.com/cityhall/duban/notifier"
	"github.com/cityhall/duban/storage"
	"github.com/cityhall/duban/storage/storagetest"
)

// slotSender is a Telegram sender with a rate-limit slot (notifier.Waiter)
// that notes the delivery's status at each step of a send.
type slotSender struct {
	notifier.Sender
	store *storage.Store
	id    int64
	// before runs in Wait before prepare, as another replica might.
	before func()
	steps  []string
}

func (s *slotSender) status(step string) {
	d, _ := s.store.DeliveryByID(context.Background(), s.id)
	s.steps = append(s.steps, step+":"+string(d.Status))
}

func (s *slotSender) Wait(ctx context.Context, addr duban.Address, prepare func() error) error {
	if s.before != nil {
		s.before()
	}
	s.status("reserved")
	if err := prepare(); err != nil {
		return err
	}
	s.status("slot")
	return nil
}

func (s *slotSender) Send(ctx context.Context, addr duban.Address, msg duban.Message) (string, error) {
	s.status("send")
	return s.Sender.Send(ctx, addr, msg)
}

// The write-ahead mark is made while the sender waits for its slot, so
// that at the slot's moment nothing stands between it and the call; and a
// delivery another replica claimed in the meantime is left to it, the
// task to come back (ErrInFlight) until that replica is done with it.
func TestDeliver_MarksSendingInsideTheSlotsWait(t *testing.T) {
	for _, tc := range []struct {
		name      string
		other     bool // another sender claims the row during the wait
		wantSteps []string
		wantSent  int
		wantErr   error
	}{
		{"alone", false, []string{"reserved:queued", "slot:sending", "send:sending"}, 1, nil},
		{"claimed by another replica", true, []string{"reserved:sending"}, 0, jobs.ErrInFlight},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, storagetest.SQLiteURL(t))
			h.register("N-1", time.Date(2026, 12, 4, 9, 30, 0, 0, sh))
			ds, _ := h.store.QueuedDeliveries(h.ctx, 10)
			if len(ds) != 1 || ds[0].Channel != duban.ChannelTelegram {
				t.Fatalf("planned %+v, want one Telegram notice", ds)
			}
			s := &slotSender{Sender: h.senders[duban.ChannelTelegram], store: h.store, id: ds[0].ID}
			if tc.other {
				s.before = func() {
					if ok, err := h.store.ClaimDeliveryAs(h.ctx, ds[0].ID, "replica-b"); !ok || err != nil {
						t.Fatalf("claim as replica-b = %v, %v", ok, err)
					}
				}
			}
			h.build(notifier.Senders{duban.ChannelTelegram: s, duban.ChannelConsole: h.senders[duban.ChannelConsole]})
			if err := h.outbox.Deliver(h.ctx, ds[0].ID); !errors.Is(err, tc.wantErr) {
				t.Fatalf("Deliver = %v, want %v", err, tc.wantErr)
			}
			if got := s.steps; !slices.Equal(got, tc.wantSteps) {
				t.Errorf("the delivery's status at reservation, slot and call: %v, want %v", got, tc.wantSteps)
			}
			if n := len(h.rec.all()); n != tc.wantSent {
				t.Errorf("%d messages sent, want %d", n, tc.wantSent)
			}
		})
	}
}

// A message that left while the database went away is recorded sent once
// it is back, rather than left `sending` for good: nothing else touches a
// live sender's rows, so a given-up record would never be corrected.
func TestDeliver_OutcomeIsRecordedOnceTheDatabaseIsBack(t *testing.T) {
	storagetest.EachURL(t, func(t *testing.T, url string) {
		h := newHarness(t, url)
		h.register("N-1", time.Date(2026, 12, 4, 9, 30, 0, 0, sh))
		ds, _ := h.store.QueuedDeliveries(h.ctx, 10)
		if len(ds) != 1 {
			t.Fatalf("planned %d deliveries, want 1", len(ds))
		}
		db := h.store.DB()
		back := make(chan error, 1)
		h.rec.fail = func(duban.Channel, duban.Address) error {
			// The provider takes the message; meanwhile the delivery log
			// becomes unreachable, and comes back a moment later.
			if _, err := db.Exec(`ALTER TABLE deliveries RENAME TO deliveries_away`); err != nil {
				t.Errorf("take the table away: %v", err)
			}
			go func() {
				time.Sleep(300 * time.Millisecond)
				_, err := db.Exec(`ALTER TABLE deliveries_away RENAME TO deliveries`)
				back <- err
			}()
			return nil
		}
		if err := h.outbox.Deliver(h.ctx, ds[0].ID); err != nil {
			t.Fatalf("Deliver = %v, want the outcome recorded once the table is back", err)
		}
		if err := <-back; err != nil {
			t.Fatal(err)
		}
		got, err := h.store.DeliveryByID(h.ctx, ds[0].ID)
		if err != nil || got.Status != duban.DeliverySent {
			t.Fatalf("delivery after the database came back: %+v (%v), want sent", got, err)
		}
		if n := len(h.rec.all()); n != 1 {
			t.Errorf("%d messages sent, want 1", n)
		}
	})
}
