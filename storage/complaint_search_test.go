package storage_test

import (
	"context"
	"fmt"
	"io/fs"
	"slices"
	"testing"

	"github.com/pressly/goose/v3"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/storage"
	"github.com/cityhall/duban/storage/storagetest"
)

func TestComplaints_TextSearchFindsChineseThroughBigrams(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		mk := func(code, text string) int64 {
			c := &duban.Complaint{TrackingCode: code, Status: duban.ComplaintReceived, Source: duban.SourceHotlineCall,
				Category: duban.CategoryOther, Description: text}
			must(t, s.CreateComplaint(ctx, c))
			return c.ID
		}
		fine := mk("AAAAAAAAAAA1", "执法人员当场罚款500元，不开收据。")
		fee := mk("AAAAAAAAAAA2", "收费站多收了 50 元，没有票据")
		odd := mk("BBBBBBBBBBB3", "100% 乱收费_无依据 Road Toll")
		for _, tt := range []struct {
			q    string
			want []int64
		}{
			{"罚款", []int64{fine}},
			{"收据", []int64{fine}},
			{"收", []int64{fine, fee, odd}}, // one character: no bigram, LIKE alone
			{"多收了 50", []int64{fee}},
			{"罚款收据", nil}, // every bigram is there, but not together
			{"100%", []int64{odd}},
			{"费_无", []int64{odd}},
			{"_", []int64{odd}},
			{"aaaaaaa2", []int64{fee}},       // part of the tracking code, any case
			{"aaaa-aaaa-aaa2", []int64{fee}}, // the whole code, as shown
			{"road toll", nil},               // LIKE keeps PostgreSQL's case on text; see below
			{"Road Toll", []int64{odd}},
			{"没有的内容", nil},
		} {
			got, err := s.Complaints(ctx, storage.ComplaintFilter{Query: tt.q})
			must(t, err)
			ids := ids(got, func(c duban.Complaint) int64 { return c.ID })
			slices.Sort(ids)
			if tt.q == "road toll" && s.Dialect() == storage.SQLite {
				continue // SQLite's LIKE ignores ASCII case
			}
			if fmt.Sprint(ids) != fmt.Sprint(tt.want) && !(len(ids) == 0 && len(tt.want) == 0) {
				t.Errorf("q=%q: %v, want %v", tt.q, ids, tt.want)
			}
		}
	})
}

// TestMigrations_BackfillTheGramsOfComplaintsAlreadyThere runs the
// migrations up to 00007, files a complaint as the code before 00008 did
// (no grams), and checks that 00008 indexes it.
func TestMigrations_BackfillTheGramsOfComplaintsAlreadyThere(t *testing.T) {
	storagetest.EachURL(t, func(t *testing.T, url string) {
		ctx := context.Background()
		s, err := storage.Open(ctx, url)
		must(t, err)
		defer s.Close()
		dir, d := "migrations/postgres", goose.DialectPostgres
		if s.Dialect() == storage.SQLite {
			dir, d = "migrations/sqlite", goose.DialectSQLite3
		}
		sub, err := fs.Sub(storage.Migrations, dir)
		must(t, err)
		p, err := goose.NewProvider(d, s.DB().DB, sub)
		must(t, err)
		_, err = p.UpTo(ctx, 7)
		must(t, err)
		_, err = s.DB().ExecContext(ctx, s.DB().Rebind(`INSERT INTO complaints (tracking_code, status, source, category, description,
			reporter_locale, anonymous, created_at, updated_at) VALUES (?, 'received', 'other', 'other', ?, 'zh-CN', ?, ?, ?)`),
			"OLDC0DE00001", "旧的投诉：乱罚款", false, t0, t0)
		must(t, err)
		must(t, s.Migrate(ctx))
		got, err := s.Complaints(ctx, storage.ComplaintFilter{Query: "罚款"})
		must(t, err)
		if len(got) != 1 || got[0].TrackingCode != "OLDC0DE00001" {
			t.Errorf("after the backfill, 罚款 finds %v", got)
		}
		got, err = s.Complaints(ctx, storage.ComplaintFilter{Query: "c0de"})
		must(t, err)
		if len(got) != 1 {
			t.Errorf("after the backfill, the code finds %d complaints", len(got))
		}
	})
}

// A query whose bigrams narrow to more complaints than are worth reading
// one by one is read in the list's order with LIKE alone: the answer is
// the same either way.
func TestComplaints_ACommonQueryFindsTheSameWithoutItsBigrams(t *testing.T) {
	defer storage.SetMaxCandidates(2000)()
	s := storagetest.Open(t, storagetest.SQLiteURL(t))
	ctx := context.Background()
	must(t, s.InTx(ctx, func(tx *storage.Store) error {
		for i := range 2100 {
			text := fmt.Sprintf("第%d件：乱收费", i)
			if i%700 == 0 {
				text = fmt.Sprintf("第%d件：乱罚款", i)
			}
			c := &duban.Complaint{TrackingCode: fmt.Sprintf("C%011d", i), Status: duban.ComplaintReceived, Source: duban.SourceOther,
				Category: duban.CategoryOther, Description: text}
			if err := tx.CreateComplaint(ctx, c); err != nil {
				return err
			}
		}
		return nil
	}))
	for q, want := range map[string]int{"乱收费": 1000, "乱罚款": 3, "罚款乱": 0} { // 2,097 match 乱收费; a page holds 1,000
		got, err := s.Complaints(ctx, storage.ComplaintFilter{Query: q, Limit: 1000})
		must(t, err)
		if len(got) != want {
			t.Errorf("q=%q: %d complaints, want %d", q, len(got), want)
		}
	}
}

// An agency's scope is the same whichever form the count chooses.
func TestComplaints_AgencyScopeIsTheSameSortedOrInOrder(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		ga, sj := newAgency(t, s, "GA"), newAgency(t, s, "SJ")
		var want []int64
		for i := range 6 {
			c := &duban.Complaint{TrackingCode: fmt.Sprintf("S%011d", i), Status: duban.ComplaintReceived, Source: duban.SourceOther,
				Category: duban.CategoryOther, Description: "x"}
			must(t, s.CreateComplaint(ctx, c))
			to := ga
			switch i % 3 {
			case 0: // assigned to GA now
			case 1: // assigned to GA before, now to SJ
				must(t, s.AppendEvent(ctx, &duban.Event{ComplaintID: c.ID, Action: duban.ActionAssign, Actor: "t", At: t0, AgencyID: &ga.ID}))
				to = sj
			case 2: // never GA's
				to = sj
			}
			c.Status, c.AgencyID = duban.ComplaintAssigned, &to.ID
			must(t, s.UpdateComplaint(ctx, c))
			must(t, s.AppendEvent(ctx, &duban.Event{ComplaintID: c.ID, Action: duban.ActionAssign, Actor: "t", At: t0, AgencyID: &to.ID}))
			if i%3 != 2 {
				want = append(want, c.ID)
			}
		}
		slices.Reverse(want)
		for _, sorted := range []int{2000, 1} {
			restore := storage.SetScopeSorted(sorted)
			got, err := s.Complaints(ctx, storage.ComplaintFilter{Scope: &duban.Scope{Agency: &ga.ID}})
			restore()
			must(t, err)
			diff(t, fmt.Sprintf("GA's complaints (sorted up to %d)", sorted), want, ids(got, func(c duban.Complaint) int64 { return c.ID }))
		}
	})
}
