package storage_test

import (
	"testing"
	"time"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/storage"
	"github.com/cityhall/duban/storage/storagetest"
)

func TestMarkProcessed_OncePerSourceAndID(t *testing.T) {
	steps := []struct {
		source, id string
		want       bool
	}{
		{"telegram", "1001", true},
		{"telegram", "1001", false}, // Telegram delivered the update again
		{"slack", "1001", true},     // same id, another source
		{"telegram", "1002", true},
		{"slack", "1001", false},
	}
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		for i, st := range steps {
			got, err := s.MarkProcessed(t.Context(), st.source, st.id)
			must(t, err)
			if got != st.want {
				t.Errorf("step %d: MarkProcessed(%s, %s) = %v, want %v", i, st.source, st.id, got, st.want)
			}
		}
	})
}

func TestMarkProcessed_RolledBackWithItsTransaction(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := t.Context()
		_ = s.InTx(ctx, func(tx *storage.Store) error {
			if _, err := tx.MarkProcessed(ctx, "telegram", "7"); err != nil {
				return err
			}
			return errRollback
		})
		got, err := s.MarkProcessed(ctx, "telegram", "7")
		must(t, err)
		if !got {
			t.Error("an update whose handling rolled back counts as processed")
		}
	})
}

func TestChatStates_SetReplaceGetClear(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := t.Context()
		p := newPerson(t, s, "李局长", newAgency(t, s, "GA"), duban.RoleAgencyHead)
		_, err := s.ChatStateOf(ctx, "telegram:42")
		mustIs(t, err, duban.ErrNotFound, "no state yet")

		first := &storage.ChatState{ChatKey: "telegram:42", PersonID: &p.ID, Kind: "delegate_name", Data: `{"ha":1}`}
		must(t, s.SetChatState(ctx, first))
		got, err := s.ChatStateOf(ctx, "telegram:42")
		must(t, err)
		diff(t, "set", first, got)

		second := &storage.ChatState{ChatKey: "telegram:42", Kind: "delegate_reason", Data: `{"ha":1,"name":"陈"}`}
		must(t, s.SetChatState(ctx, second))
		got, err = s.ChatStateOf(ctx, "telegram:42")
		must(t, err)
		diff(t, "replaced", second, got)

		other := &storage.ChatState{ChatKey: "slack:U1", Kind: "k"}
		must(t, s.SetChatState(ctx, other))
		must(t, s.ClearChatState(ctx, "telegram:42"))
		_, err = s.ChatStateOf(ctx, "telegram:42")
		mustIs(t, err, duban.ErrNotFound, "after clear")
		must(t, s.ClearChatState(ctx, "telegram:42")) // clearing nothing is fine
		got, err = s.ChatStateOf(ctx, "slack:U1")
		must(t, err)
		diff(t, "another chat kept its state", other, got)
	})
}

func TestAudit_NewestFirst(t *testing.T) {
	clock := duban.NewManualClock(t0)
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := t.Context()
		clock.Set(t0.Add(123456789 * time.Nanosecond))
		empty, err := s.AuditLog(ctx, 10)
		must(t, err)
		if empty == nil || len(empty) != 0 {
			t.Fatalf("empty audit log = %#v, want an empty list", empty)
		}
		for _, e := range []struct{ actor, action, target string }{
			{"person:1", "agency.create", "agency:GA"},
			{"person:1", "person.create", "person:2"},
			{"cli", "delivery.resend", "delivery:9"},
		} {
			must(t, s.Audit(ctx, e.actor, e.action, e.target, "detail of "+e.action))
			clock.Advance(time.Second)
		}

		got, err := s.AuditLog(ctx, 2)
		must(t, err)
		if len(got) != 2 {
			t.Fatalf("limit 2: %d entries", len(got))
		}
		want := storage.AuditEntry{ID: got[0].ID, Actor: "cli", Action: "delivery.resend", Target: "delivery:9",
			Detail: "detail of delivery.resend", At: t0.Add(2*time.Second + 123456*time.Microsecond)}
		diff(t, "newest entry", want, got[0])
		if got[1].Action != "person.create" {
			t.Errorf("second entry = %+v, want person.create", got[1])
		}
		all, err := s.AuditLog(ctx, 0) // no limit given: the default
		must(t, err)
		if len(all) != 3 || all[2].Action != "agency.create" {
			t.Errorf("whole log = %+v", all)
		}
	}, storage.WithClock(clock))
}
