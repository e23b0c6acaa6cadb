package telegram_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"testing"
	"time"

	"github.com/cityhall/duban"
)

// chatHash is the keyed hash README documents for the daily report limit:
// HMAC-SHA256 of the chat id under HMAC-SHA256(bot token, label).
func chatHash(chat int64) string {
	k := hmac.New(sha256.New, []byte(token))
	k.Write([]byte("duban report limit v1"))
	m := hmac.New(sha256.New, k.Sum(nil))
	m.Write([]byte(strconv.FormatInt(chat, 10)))
	return hex.EncodeToString(m.Sum(nil))
}

// file takes a report from start to its tracking code.
func (r *reporter) file() {
	r.e.T.Helper()
	r.upTo(toConfirm)
	r.press("r:ok")
}

func TestReportLimit_EleventhReportOfADayIsRefused(t *testing.T) {
	e := newTelegram(t)
	r := e.reporter(7001)
	for range 10 {
		r.file()
		if !trackingCodeRE.MatchString(r.last().Text) {
			t.Fatalf("report not filed: %q", r.last().Text)
		}
	}
	// The count is kept under the keyed hash, not the chat.
	n, err := e.Store.ReportsFiledSince(e.Ctx, chatHash(7001), e.Clock.Now().Add(-time.Hour))
	if err != nil || n != 10 {
		t.Fatalf("%d reports under the chat's hash (%v), want 10", n, err)
	}
	if n, _ := e.Store.ReportsFiledSince(e.Ctx, "7001", time.Time{}); n != 0 {
		t.Errorf("%d reports under the chat in clear", n)
	}

	r.say("/report")
	limit := tr(duban.LocaleZH, "report.limit.reached", map[string]any{"Max": 10})
	if got := r.last().Text; got != limit {
		t.Errorf("11th /report answered %q, want %q", got, limit)
	}
	r.say("又一件事") // a plain message would start one too
	if got := r.last().Text; got != limit || r.state() != "" {
		t.Errorf("plain message answered %q with draft %q, want the limit and no draft", got, r.state())
	}
	if n := len(e.complaints()); n != 10 {
		t.Errorf("%d complaints, want 10", n)
	}

	// Another chat is not limited by this one.
	other := e.reporter(7002)
	other.file()
	if !trackingCodeRE.MatchString(other.last().Text) {
		t.Errorf("another chat's report: %q", other.last().Text)
	}

	// A day later the chat may report again, and the old hashes go.
	e.Clock.Advance(24*time.Hour + time.Minute)
	if err := e.bot.DropIdleReports(e.Ctx); err != nil {
		t.Fatal(err)
	}
	if n, _ := e.Store.ReportsFiledSince(e.Ctx, chatHash(7001), time.Time{}); n != 0 {
		t.Errorf("%d hashes kept after a day, want none", n)
	}
	r.file()
	if !trackingCodeRE.MatchString(r.last().Text) {
		t.Errorf("report a day later: %q", r.last().Text)
	}
}

func TestReportLimit_ConfirmPastTheLimitFilesNothing(t *testing.T) {
	e := newTelegram(t)
	r := e.reporter(7003)
	r.upTo(toConfirm)
	// Meanwhile the chat's reports of the day were used up.
	for range 10 {
		if err := e.Store.RecordReportFiled(e.Ctx, chatHash(7003)); err != nil {
			t.Fatal(err)
		}
	}
	draft := r.state()
	r.press("r:ok")
	if got, want := r.last().Text, tr(duban.LocaleZH, "report.limit.reached", map[string]any{"Max": 10}); got != want {
		t.Errorf("confirm answered %q, want %q", got, want)
	}
	if n := len(e.complaints()); n != 0 {
		t.Errorf("%d complaints filed past the limit", n)
	}
	if r.state() != draft {
		t.Errorf("the draft changed past the limit")
	}
}
