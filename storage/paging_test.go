package storage_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/storage"
	"github.com/cityhall/duban/storage/storagetest"
)

// pages walks every page of a list of size n and returns the ids in order.
func pages[T any](t *testing.T, n int, page func(after string) ([]T, string, error), id func(T) int64) []int64 {
	t.Helper()
	var got []int64
	after := ""
	for i := 0; ; i++ {
		rows, next, err := page(after)
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) > n {
			t.Fatalf("page %d holds %d rows, more than the limit %d", i, len(rows), n)
		}
		got = append(got, ids(rows, id)...)
		if next == "" {
			return got
		}
		if i > 50 {
			t.Fatal("paging does not end")
		}
		after = next
	}
}

func TestPages_WalkEveryRowOnceInOrder(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		var all []duban.Complaint
		for i := range 8 {
			c := &duban.Complaint{TrackingCode: fmt.Sprintf("PAGE%08d", i), Status: duban.ComplaintReceived, Source: duban.SourceHotlineCall,
				Category: duban.CategoryOther, Description: "x"}
			switch i % 3 { // due dates with ties, and some without one
			case 0:
				c.DueAt = ptr(t0.Add(time.Duration(i%2) * time.Hour))
			case 1:
				c.DueAt = ptr(t0.Add(-time.Hour))
			}
			must(t, s.CreateComplaint(ctx, c))
			must(t, s.UpdateComplaint(ctx, c))
			all = append(all, *c)
		}
		byDue := slices.Clone(all)
		slices.SortStableFunc(byDue, func(a, b duban.Complaint) int {
			switch {
			case a.DueAt == nil && b.DueAt == nil:
				return int(a.ID - b.ID)
			case a.DueAt == nil:
				return 1
			case b.DueAt == nil:
				return -1
			}
			if c := a.DueAt.Compare(*b.DueAt); c != 0 {
				return c
			}
			return int(a.ID - b.ID)
		})
		newest := slices.Clone(all)
		slices.Reverse(newest)
		cid := func(c duban.Complaint) int64 { return c.ID }
		for _, order := range []storage.ComplaintOrder{storage.NewestFirst, storage.ByTimeLimit} {
			want := ids(newest, cid)
			if order == storage.ByTimeLimit {
				want = ids(byDue, cid)
			}
			got := pages(t, 3, func(after string) ([]duban.Complaint, string, error) {
				return s.ComplaintsPage(ctx, storage.ComplaintFilter{Order: order, Limit: 3, After: after})
			}, cid)
			diff(t, "complaints in order "+string(order), want, got)
		}

		a := newAgency(t, s, "PG")
		var hs []duban.Hearing
		for i := range 5 {
			hs = append(hs, *newHearing(t, s, fmt.Sprintf("P-%d", i), t0.Add(time.Duration(i/2)*time.Hour), a))
		}
		diff(t, "hearings by start", ids(hs, hearingID), pages(t, 2, func(after string) ([]duban.Hearing, string, error) {
			return s.HearingsPage(ctx, storage.HearingFilter{Limit: 2, After: after})
		}, hearingID))

		p := newPerson(t, s, "甲", nil, duban.RoleStaff)
		var ds []duban.Delivery
		for i := range 5 {
			ds = append(ds, *newDelivery(t, s, fmt.Sprintf("page-%d", i), p))
		}
		slices.Reverse(ds)
		diff(t, "deliveries newest first", ids(ds, deliveryID), pages(t, 2, func(after string) ([]duban.Delivery, string, error) {
			return s.DeliveriesPage(ctx, storage.DeliveryFilter{Limit: 2, After: after})
		}, deliveryID))

		for i := range 5 {
			must(t, s.Audit(ctx, "test", "page", fmt.Sprint(i), ""))
		}
		audit := pages(t, 2, func(after string) ([]storage.AuditEntry, string, error) {
			return s.AuditPage(ctx, 2, after)
		}, func(e storage.AuditEntry) int64 { return e.ID })
		if len(audit) != 5 || !slices.IsSortedFunc(audit, func(a, b int64) int { return int(b - a) }) {
			t.Errorf("audit pages %v, want 5 ids newest first", audit)
		}
	})
}

func TestPages_RefuseACursorOfAnotherList(t *testing.T) {
	s := storagetest.Open(t, storagetest.SQLiteURL(t))
	ctx := context.Background()
	for i := range 3 {
		must(t, s.Audit(ctx, "test", "page", fmt.Sprint(i), ""))
	}
	_, next, err := s.AuditPage(ctx, 1, "")
	must(t, err)
	for _, bad := range []string{next, "not-a-cursor", "eyJpIjoxfQ"} {
		_, _, err := s.ComplaintsPage(ctx, storage.ComplaintFilter{After: bad})
		mustIs(t, err, duban.ErrInvalid, "complaints after "+bad)
	}
	_, _, err = s.HearingsPage(ctx, storage.HearingFilter{After: next})
	mustIs(t, err, duban.ErrInvalid, "hearings after an audit cursor")
}

func TestClampPage(t *testing.T) {
	for _, tt := range []struct{ limit, want int }{{0, 50}, {-3, 50}, {7, 7}, {1000, 1000}, {5000, 1000}} {
		if got := storage.ClampPage(tt.limit, 50); got != tt.want {
			t.Errorf("ClampPage(%d) = %d, want %d", tt.limit, got, tt.want)
		}
	}
}
