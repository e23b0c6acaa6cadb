package storage_test

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/storage"
	"github.com/cityhall/duban/storage/storagetest"
)

func TestDeliveries_SameDedupeKeyPlansOnce(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := t.Context()
		p := newPerson(t, s, "李局长", newAgency(t, s, "GA"), duban.RoleAgencyHead)
		first := newDelivery(t, s, "remind:1:1765330200:telegram", p)
		stored, err := s.DeliveryByID(ctx, first.ID)
		must(t, err)
		diff(t, "created delivery as stored", first, stored)
		if _, err := s.ClaimDelivery(ctx, first.ID); err != nil {
			t.Fatal(err)
		}

		again := &duban.Delivery{DedupeKey: first.DedupeKey, PersonID: p.ID, Channel: duban.ChannelSlack,
			Kind: duban.MsgNotice, Payload: `{"text":"another rendering"}`}
		created, err := s.CreateDelivery(ctx, again)
		must(t, err)
		if created {
			t.Fatal("second delivery with the same key: created = true")
		}
		if again.ID != first.ID || again.Payload != first.Payload || again.Channel != duban.ChannelTelegram ||
			again.Status != duban.DeliverySending || again.Attempts != 1 {
			t.Errorf("second create returned %+v, want the first row as it stands now", again)
		}
		n, err := s.CountDeliveries(ctx)
		must(t, err)
		diff(t, "count", map[duban.DeliveryStatus]int{duban.DeliverySending: 1}, n)
	})
}

func TestDeliveries_ClaimOnlyFromQueued(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := t.Context()
		p := newPerson(t, s, "李局长", newAgency(t, s, "GA"), duban.RoleAgencyHead)
		d := newDelivery(t, s, "k1", p)
		ok, err := s.ClaimDelivery(ctx, d.ID)
		must(t, err)
		if !ok {
			t.Fatal("first claim = false")
		}
		got, err := s.DeliveryByID(ctx, d.ID)
		must(t, err)
		if got.Status != duban.DeliverySending || got.Attempts != 1 {
			t.Errorf("after claim: %s, %d attempts; want sending, 1", got.Status, got.Attempts)
		}

		for _, tt := range []struct {
			name string
			id   int64
		}{
			{"sending (claimed twice)", d.ID},
			{"sent", deliveryIn(t, s, "k2", p, duban.DeliverySent).ID},
			{"failed", deliveryIn(t, s, "k3", p, duban.DeliveryFailed).ID},
			{"unknown", 9999},
		} {
			ok, err := s.ClaimDelivery(ctx, tt.id)
			if err != nil || ok {
				t.Errorf("claim %s = %v, %v; want false, nil", tt.name, ok, err)
			}
		}
		got, err = s.DeliveryByID(ctx, d.ID)
		must(t, err)
		if got.Attempts != 1 {
			t.Errorf("a refused claim counted an attempt: %d", got.Attempts)
		}
	})
}

func TestDeliveries_SentRequeueAndFailedAreRecorded(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := t.Context()
		p := newPerson(t, s, "李局长", newAgency(t, s, "GA"), duban.RoleAgencyHead)
		d := deliveryIn(t, s, "k1", p, duban.DeliverySending)

		long := strings.Repeat("错", 600) // over the 500-character limit, in runes
		must(t, s.DeliveryRequeue(ctx, d.ID, long))
		got, err := s.DeliveryByID(ctx, d.ID)
		must(t, err)
		if got.Status != duban.DeliveryQueued || utf8.RuneCountInString(got.Error) != 500 || !utf8.ValidString(got.Error) {
			t.Errorf("after requeue: %s with a %d-rune error", got.Status, utf8.RuneCountInString(got.Error))
		}

		if ok, err := s.ClaimDelivery(ctx, d.ID); err != nil || !ok {
			t.Fatalf("claim after requeue = %v, %v", ok, err)
		}
		must(t, s.DeliverySent(ctx, d.ID, "tg:4711"))
		got, err = s.DeliveryByID(ctx, d.ID)
		must(t, err)
		if got.Status != duban.DeliverySent || got.ProviderMessageID != "tg:4711" || got.Error != "" ||
			got.SentAt == nil || got.Attempts != 2 {
			t.Errorf("after sent: %+v", got)
		}

		f := deliveryIn(t, s, "k2", p, duban.DeliverySending)
		must(t, s.DeliveryFailed(ctx, f.ID, "Forbidden: bot was blocked by the user"))
		got, err = s.DeliveryByID(ctx, f.ID)
		must(t, err)
		if got.Status != duban.DeliveryFailed || got.Error != "Forbidden: bot was blocked by the user" || got.SentAt != nil {
			t.Errorf("after failed: %+v", got)
		}
	})
}

func TestDeliveries_ResendOnlyFromFailedOrSending(t *testing.T) {
	tests := []struct {
		from duban.DeliveryStatus
		want error
	}{
		{duban.DeliveryFailed, nil},
		{duban.DeliverySending, nil},
		{duban.DeliverySent, duban.ErrConflict},
		{duban.DeliveryQueued, duban.ErrConflict},
	}
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := t.Context()
		p := newPerson(t, s, "李局长", newAgency(t, s, "GA"), duban.RoleAgencyHead)
		for _, tt := range tests {
			d := deliveryIn(t, s, "resend-"+string(tt.from), p, tt.from)
			err := s.ResendDelivery(ctx, d.ID)
			mustIs(t, err, tt.want, "resend from "+string(tt.from))
			got, gerr := s.DeliveryByID(ctx, d.ID)
			must(t, gerr)
			switch {
			case tt.want == nil && (got.Status != duban.DeliveryQueued || got.Resends != 1):
				t.Errorf("resend from %s: %s with %d resends, want queued with 1", tt.from, got.Status, got.Resends)
			case tt.want != nil && (got.Status != tt.from || got.Resends != 0):
				t.Errorf("refused resend from %s changed the row: %s with %d resends", tt.from, got.Status, got.Resends)
			}
		}
		mustIs(t, s.ResendDelivery(ctx, 9999), duban.ErrNotFound, "resend unknown")

		// A resent delivery can be claimed and resent again.
		d := deliveryIn(t, s, "twice", p, duban.DeliveryFailed)
		must(t, s.ResendDelivery(ctx, d.ID))
		if ok, err := s.ClaimDelivery(ctx, d.ID); err != nil || !ok {
			t.Fatalf("claim after resend = %v, %v", ok, err)
		}
		must(t, s.ResendDelivery(ctx, d.ID))
		got, err := s.DeliveryByID(ctx, d.ID)
		must(t, err)
		if got.Resends != 2 || got.Attempts != 2 {
			t.Errorf("resent twice: %d resends, %d attempts; want 2, 2", got.Resends, got.Attempts)
		}
	})
}

func TestDeliveries_ListFilterQueueAndCount(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := t.Context()
		p := newPerson(t, s, "李局长", newAgency(t, s, "GA"), duban.RoleAgencyHead)
		h := newHearing(t, s, "(2026)沪0101行初30号", t0, newAgency(t, s, "GOV"))
		r := newReminder(t, s, h, t0.Add(-time.Hour))
		q1 := deliveryIn(t, s, "q1", p, duban.DeliveryQueued)
		sent := deliveryIn(t, s, "s1", p, duban.DeliverySent)
		q2 := &duban.Delivery{DedupeKey: "q2", PersonID: p.ID, Channel: duban.ChannelSlack, Kind: duban.MsgNotice,
			Ref: "C-42", Payload: "{}", ReminderID: &r.ID, HearingAgencyID: &h.Agencies[0].ID}
		if _, err := s.CreateDelivery(ctx, q2); err != nil {
			t.Fatal(err)
		}
		failed := deliveryIn(t, s, "f1", p, duban.DeliveryFailed)
		q3 := deliveryIn(t, s, "q3", p, duban.DeliveryQueued)

		tests := []struct {
			name string
			f    storage.DeliveryFilter
			want []int64
		}{
			{"all, newest first", storage.DeliveryFilter{}, []int64{q3.ID, failed.ID, q2.ID, sent.ID, q1.ID}},
			{"queued", storage.DeliveryFilter{Status: duban.DeliveryQueued}, []int64{q3.ID, q2.ID, q1.ID}},
			{"by reminder", storage.DeliveryFilter{ReminderID: &r.ID}, []int64{q2.ID}},
			{"by ref", storage.DeliveryFilter{Ref: "C-42"}, []int64{q2.ID}},
			{"by ref and status", storage.DeliveryFilter{Ref: "C-42", Status: duban.DeliverySent}, []int64{}},
			{"limit", storage.DeliveryFilter{Limit: 2}, []int64{q3.ID, failed.ID}},
		}
		for _, tt := range tests {
			got, err := s.Deliveries(ctx, tt.f)
			must(t, err)
			diff(t, tt.name, tt.want, ids(got, deliveryID))
		}

		got, err := s.DeliveryByID(ctx, q2.ID)
		must(t, err)
		diff(t, "delivery with its links", q2, got)

		queued, err := s.QueuedDeliveries(ctx, 2)
		must(t, err)
		diff(t, "queued, oldest first", []int64{q1.ID, q2.ID}, ids(queued, deliveryID))

		n, err := s.CountDeliveries(ctx)
		must(t, err)
		diff(t, "count by status", map[duban.DeliveryStatus]int{duban.DeliveryQueued: 3, duban.DeliverySent: 1, duban.DeliveryFailed: 1}, n)
	})
}

func TestDeliveries_QueuedAfterPagesByID(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := t.Context()
		p := newPerson(t, s, "李局长", newAgency(t, s, "GA"), duban.RoleAgencyHead)
		q1 := deliveryIn(t, s, "q1", p, duban.DeliveryQueued)
		q2 := deliveryIn(t, s, "q2", p, duban.DeliveryQueued)
		deliveryIn(t, s, "s1", p, duban.DeliverySent)
		deliveryIn(t, s, "w1", p, duban.DeliverySending)
		q3 := deliveryIn(t, s, "q3", p, duban.DeliveryQueued)

		tests := []struct {
			name    string
			afterID int64
			limit   int
			want    []int64
		}{
			{"first page", 0, 2, []int64{q1.ID, q2.ID}},
			{"next page skips the sent and the sending", q2.ID, 2, []int64{q3.ID}},
			{"last page", q3.ID, 2, []int64{}},
		}
		for _, tt := range tests {
			got, err := s.QueuedDeliveriesAfter(ctx, tt.afterID, tt.limit)
			must(t, err)
			diff(t, tt.name, tt.want, ids(got, deliveryID))
		}
	})
}

func TestDeliveries_StaleSendingCountsOldSendingRows(t *testing.T) {
	clock := duban.NewManualClock(t0)
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := t.Context()
		clock.Set(t0.Add(250 * time.Millisecond))
		p := newPerson(t, s, "李局长", newAgency(t, s, "GA"), duban.RoleAgencyHead)
		deliveryIn(t, s, "old", p, duban.DeliverySending) // claimed at t0+250ms
		deliveryIn(t, s, "queued", p, duban.DeliveryQueued)
		deliveryIn(t, s, "sent", p, duban.DeliverySent)
		deliveryIn(t, s, "failed", p, duban.DeliveryFailed)
		clock.Advance(2 * time.Minute)
		deliveryIn(t, s, "recent", p, duban.DeliverySending) // claimed at t0+2m250ms

		tests := []struct {
			before time.Time
			want   int
		}{
			{t0, 0},
			{t0.Add(250 * time.Millisecond), 0}, // updated at exactly the cut-off: not older
			{t0.Add(250*time.Millisecond + time.Microsecond), 1},
			{t0.Add(time.Minute), 1},
			{t0.Add(3 * time.Minute), 2},
		}
		for _, tt := range tests {
			n, err := s.StaleSending(ctx, tt.before)
			must(t, err)
			if n != tt.want {
				t.Errorf("StaleSending(%v) = %d, want %d", tt.before, n, tt.want)
			}
		}
	}, storage.WithClock(clock))
}
