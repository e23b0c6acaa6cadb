package bulletin_test

import (
	"context"
	"html"
	"strings"
	"testing"
	"time"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/bulletin"
	"github.com/cityhall/duban/i18n"
	"github.com/cityhall/duban/internal/testenv"
	"github.com/cityhall/duban/reports"
	"github.com/cityhall/duban/storage"
	"github.com/cityhall/duban/storage/storagetest"
)

func TestCovered_TheLastWholePeriod(t *testing.T) {
	sh := testenv.Shanghai()
	for _, tt := range []struct {
		p        bulletin.Period
		at       time.Time
		from, to string
	}{
		{bulletin.Week, time.Date(2026, 11, 30, 9, 0, 0, 0, sh), "2026-11-23", "2026-11-29"},  // Monday 09:00, as scheduled
		{bulletin.Week, time.Date(2026, 12, 2, 15, 0, 0, 0, sh), "2026-11-23", "2026-11-29"},  // on demand midweek
		{bulletin.Week, time.Date(2026, 11, 29, 23, 0, 0, 0, sh), "2026-11-16", "2026-11-22"}, // Sunday night: this week is not whole
		{bulletin.Month, time.Date(2026, 12, 1, 9, 0, 0, 0, sh), "2026-11-01", "2026-11-30"},
		{bulletin.Month, time.Date(2026, 1, 5, 9, 0, 0, 0, sh), "2025-12-01", "2025-12-31"},
		{bulletin.Quarter, time.Date(2026, 10, 1, 9, 0, 0, 0, sh), "2026-07-01", "2026-09-30"},
		{bulletin.Quarter, time.Date(2026, 2, 14, 9, 0, 0, 0, sh), "2025-10-01", "2025-12-31"},
		// 00:30 on the 1st in Shanghai is still the month before in UTC.
		{bulletin.Month, time.Date(2026, 12, 1, 0, 30, 0, 0, sh), "2026-11-01", "2026-11-30"},
	} {
		rg := bulletin.Covered(tt.p, tt.at, sh)
		if got := rg.From.Format(time.DateOnly) + " " + rg.To.Format(time.DateOnly); got != tt.from+" "+tt.to {
			t.Errorf("%s at %s: %s, want %s %s", tt.p, tt.at, got, tt.from, tt.to)
		}
	}
	if _, err := bulletin.ParsePeriod("fortnight"); err == nil {
		t.Error("a fortnight was taken as a period")
	}
}

func TestCompose_SummaryAndEveryTableInTheMail(t *testing.T) {
	sh := testenv.Shanghai()
	clock := duban.NewManualClock(time.Date(2026, 12, 2, 10, 0, 0, 0, sh))
	st := storagetest.Open(t, storagetest.SQLiteURL(t), storage.WithClock(clock))
	storagetest.Agency(t, st, "GA", "市公安局")
	ctx := context.Background()
	c := &duban.Complaint{TrackingCode: "AAAA", Status: duban.ComplaintReceived, Source: duban.SourceTelegram,
		Category: duban.CategoryIllegalFine, Description: "<script>x</script>", ReporterLocale: duban.LocaleZH}
	if err := st.CreateComplaint(ctx, c); err != nil {
		t.Fatal(err)
	}
	rs := reports.New(st, sh, clock, i18n.MustNew())
	rg := reports.Range{From: time.Date(2026, 12, 1, 0, 0, 0, 0, sh), To: time.Date(2026, 12, 2, 0, 0, 0, 0, sh)}
	for _, locale := range []string{duban.LocaleZH, duban.LocaleEN} {
		b, err := bulletin.Compose(ctx, rs, i18n.MustNew(), locale, rg)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]string{duban.LocaleZH: "本期受理投诉 1 件", duban.LocaleEN: "Complaints received: 1"}[locale]
		if !strings.Contains(b.Text, want) || !strings.Contains(b.HTML, want) || b.Subject == "" {
			t.Errorf("%s: text %q; want %q in the text and the mail", locale, b.Text, want)
		}
		for _, tb := range b.Tables {
			if !strings.Contains(b.HTML, html.EscapeString(tb.Title)) {
				t.Errorf("%s: the mail lacks the table %q", locale, tb.Title)
			}
		}
		if len(b.Tables) < 8 {
			t.Errorf("%s: %d tables", locale, len(b.Tables))
		}
	}
}
