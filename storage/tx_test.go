package storage_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/storage"
	"github.com/cityhall/duban/storage/storagetest"
)

var errRollback = errors.New("test: roll back")

// writeAll writes one row of every kind through tx.
func writeAll(t *testing.T, tx *storage.Store) error {
	ctx := t.Context()
	a := &duban.Agency{Code: "TX", Name: "事务局"}
	if err := tx.CreateAgency(ctx, a); err != nil {
		return err
	}
	p := &duban.Person{Name: "事务员", AgencyID: &a.ID, Roles: duban.Roles{duban.RoleAgencyHead}, Locale: duban.LocaleZH}
	if err := tx.CreatePerson(ctx, p); err != nil {
		return err
	}
	h := &duban.Hearing{CaseNumber: "TX-1", Court: "c", StartsAt: t0, Plaintiff: "p", Cause: "c",
		Agencies: []duban.HearingAgency{{AgencyID: a.ID}}}
	if err := tx.CreateHearing(ctx, h); err != nil {
		return err
	}
	r := &duban.Reminder{HearingAgencyID: h.Agencies[0].ID, HearingID: h.ID, Kind: duban.KindReminder, DueAt: t0.Add(-time.Hour)}
	if err := tx.CreateReminder(ctx, r); err != nil {
		return err
	}
	d := &duban.Delivery{DedupeKey: "TX", PersonID: p.ID, Channel: duban.ChannelConsole, Kind: duban.MsgNotice, Payload: "{}"}
	if _, err := tx.CreateDelivery(ctx, d); err != nil {
		return err
	}
	return tx.Audit(ctx, "test", "tx.write", "all", "")
}

// visible reports what of writeAll's rows s sees.
func visible(t *testing.T, s *storage.Store) map[string]bool {
	t.Helper()
	ctx := t.Context()
	seen := map[string]bool{}
	_, err := s.AgencyByCode(ctx, "TX")
	seen["agency"] = err == nil
	people, err := s.People(ctx, storage.PeopleFilter{})
	must(t, err)
	seen["person"] = len(people) > 0
	hs, err := s.Hearings(ctx, storage.HearingFilter{})
	must(t, err)
	seen["hearing"] = len(hs) > 0
	rs, err := s.PendingRemindersDueBefore(ctx, t0.Add(24*time.Hour), 10)
	must(t, err)
	seen["reminder"] = len(rs) > 0
	n, err := s.CountDeliveries(ctx)
	must(t, err)
	seen["delivery"] = n[duban.DeliveryQueued] > 0
	log, err := s.AuditLog(ctx, 10)
	must(t, err)
	seen["audit"] = len(log) > 0
	return seen
}

var (
	everything = map[string]bool{"agency": true, "person": true, "hearing": true, "reminder": true, "delivery": true, "audit": true}
	nothing    = map[string]bool{"agency": false, "person": false, "hearing": false, "reminder": false, "delivery": false, "audit": false}
)

func TestInTx_ErrorRollsBackEveryWrite(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ran := false
		err := s.InTx(t.Context(), func(tx *storage.Store) error {
			if err := writeAll(t, tx); err != nil {
				return err
			}
			tx.AfterCommit(func() { ran = true })
			diff(t, "inside the transaction", everything, visible(t, tx))
			return errRollback
		})
		if !errors.Is(err, errRollback) {
			t.Fatalf("InTx = %v, want fn's error", err)
		}
		diff(t, "after rollback", nothing, visible(t, s))
		if ran {
			t.Error("AfterCommit callback ran on rollback")
		}
	})
}

func TestInTx_CommitThenRunsAfterCommitCallbacksInOrder(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		var calls []string
		err := s.InTx(t.Context(), func(tx *storage.Store) error {
			tx.AfterCommit(func() {
				calls = append(calls, "first")
				// A task enqueued here must find its rows committed.
				diff(t, "seen from a callback", everything, visible(t, s))
			})
			if err := writeAll(t, tx); err != nil {
				return err
			}
			tx.AfterCommit(func() { calls = append(calls, "second") })
			if len(calls) != 0 {
				t.Errorf("callbacks ran before commit: %v", calls)
			}
			return nil
		})
		must(t, err)
		diff(t, "callbacks", []string{"first", "second"}, calls)
		diff(t, "after commit", everything, visible(t, s))

		outside := false
		s.AfterCommit(func() { outside = true })
		if !outside {
			t.Error("AfterCommit outside a transaction did not run at once")
		}
	})
}

func TestInTx_NestedJoinsTheOuterTransaction(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := t.Context()
		var calls []string
		err := s.InTx(ctx, func(outer *storage.Store) error {
			if err := outer.Audit(ctx, "test", "outer", "x", ""); err != nil {
				return err
			}
			if err := outer.InTx(ctx, func(inner *storage.Store) error {
				inner.AfterCommit(func() { calls = append(calls, "inner") })
				return writeAll(t, inner)
			}); err != nil {
				return err
			}
			if len(calls) != 0 {
				t.Error("the inner callback ran when the inner InTx returned")
			}
			return errRollback // the outer fails after the inner succeeded
		})
		mustIs(t, err, errRollback, "outer")
		diff(t, "inner writes after the outer rolled back", nothing, visible(t, s))
		if len(calls) != 0 {
			t.Errorf("callbacks ran on rollback: %v", calls)
		}

		err = s.InTx(ctx, func(outer *storage.Store) error {
			return outer.InTx(ctx, func(inner *storage.Store) error {
				inner.AfterCommit(func() { calls = append(calls, "inner") })
				return writeAll(t, inner)
			})
		})
		must(t, err)
		diff(t, "both committed", everything, visible(t, s))
		diff(t, "callbacks after the outer commit", []string{"inner"}, calls)
	})
}

func TestInTx_PanicRollsBackAndReleasesTheDatabase(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		func() {
			defer func() {
				if recover() == nil {
					t.Error("InTx swallowed the panic")
				}
			}()
			_ = s.InTx(t.Context(), func(tx *storage.Store) error {
				if err := writeAll(t, tx); err != nil {
					return err
				}
				panic("handler bug")
			})
		}()
		diff(t, "after the panic", nothing, visible(t, s))

		// The panicking transaction must not keep holding the database: on
		// SQLite it would keep the write lock, on PostgreSQL the lock on the
		// agency code TX, until the process ends.
		ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
		defer cancel()
		if err := s.CreateAgency(ctx, &duban.Agency{Code: "TX", Name: "之后"}); err != nil {
			t.Fatalf("write after a panicking transaction: %v", err)
		}
	})
}
