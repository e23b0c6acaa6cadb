package storage_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/storage"
	"github.com/cityhall/duban/storage/storagetest"
)

// racers is how many workers race for the same row: more than SQLite's
// connection pool, so some wait on the pool and all on the write lock.
const racers = 8

// race runs fn in racers goroutines released together and counts how many
// won; any error fails the test.
func race(t *testing.T, fn func(i int) (bool, error)) int {
	t.Helper()
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		wins  int
		start = make(chan struct{})
		errs  []error
	)
	for i := range racers {
		wg.Go(func() {
			<-start
			won, err := fn(i)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
			}
			if won {
				wins++
			}
		})
	}
	close(start)
	wg.Wait()
	for _, err := range errs {
		t.Errorf("racer: %v", err)
	}
	return wins
}

func TestDeliveries_ConcurrentClaimsHaveOneWinner(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := t.Context()
		p := newPerson(t, s, "李局长", newAgency(t, s, "GA"), duban.RoleAgencyHead)
		for round := range 5 {
			d := newDelivery(t, s, fmt.Sprintf("claim-%d", round), p)
			inTx := round%2 == 1 // the outbox may claim inside a transaction too
			wins := race(t, func(int) (bool, error) {
				if !inTx {
					return s.ClaimDelivery(ctx, d.ID)
				}
				var won bool
				err := s.InTx(ctx, func(tx *storage.Store) (err error) {
					won, err = tx.ClaimDelivery(ctx, d.ID)
					return err
				})
				return won, err
			})
			if wins != 1 {
				t.Errorf("round %d (in tx %v): %d claims won, want exactly 1", round, inTx, wins)
			}
			got, err := s.DeliveryByID(ctx, d.ID)
			must(t, err)
			if got.Status != duban.DeliverySending || got.Attempts != 1 {
				t.Errorf("round %d: %s with %d attempts, want sending with 1", round, got.Status, got.Attempts)
			}
		}
	})
}

func TestDeliveries_ConcurrentSameDedupeKeyCreatesOne(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := t.Context()
		p := newPerson(t, s, "李局长", newAgency(t, s, "GA"), duban.RoleAgencyHead)
		var mu sync.Mutex
		seen := map[int64]bool{}
		created := race(t, func(i int) (bool, error) {
			d := &duban.Delivery{DedupeKey: "same", PersonID: p.ID, Channel: duban.ChannelTelegram, Kind: duban.MsgNotice,
				Payload: fmt.Sprintf(`{"racer":%d}`, i)}
			ok, err := s.CreateDelivery(ctx, d)
			mu.Lock()
			seen[d.ID] = true
			mu.Unlock()
			return ok, err
		})
		if created != 1 || len(seen) != 1 {
			t.Errorf("%d created, ids %v; want one row that every racer gets", created, seen)
		}
	})
}

func TestMarkProcessed_ConcurrentRedeliveryProcessedOnce(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		wins := race(t, func(int) (bool, error) {
			var first bool
			err := s.InTx(t.Context(), func(tx *storage.Store) (err error) {
				first, err = tx.MarkProcessed(t.Context(), "telegram", "424242")
				return err
			})
			return first, err
		})
		if wins != 1 {
			t.Errorf("%d racers processed the same update, want 1", wins)
		}
	})
}

func TestPeople_ConcurrentBindCodeUsedOnce(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := t.Context()
		p := newPerson(t, s, "李局长", newAgency(t, s, "GA"), duban.RoleAgencyHead)
		must(t, s.CreateBindCode(ctx, p.ID, "RACE", t0.Add(time.Hour)))
		wins := race(t, func(int) (bool, error) {
			id, err := s.UseBindCode(ctx, "RACE", t0)
			if err != nil {
				if errors.Is(err, duban.ErrNotFound) {
					return false, nil
				}
				return false, err
			}
			return id == p.ID, nil
		})
		if wins != 1 {
			t.Errorf("the bind code was used %d times, want 1", wins)
		}
	})
}
