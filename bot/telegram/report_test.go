package telegram_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/internal/fakes/tgfake"
)

func TestReport_FullReportSurvivesARestart(t *testing.T) {
	e := newTelegram(t)
	r := e.reporter(tgStranger)

	r.say("你好，我要反映问题")
	if got := r.last(); got.Text != tr("zh-CN", "report.start", nil) || !strings.Contains(got.ReplyMarkup, `"r:cat:illegal_fine"`) {
		t.Fatalf("first reply %+v, want the category question with its buttons", got)
	}
	r.press("r:cat:illegal_fine")
	if got := r.last(); !strings.Contains(got.ReplyMarkup, fmt.Sprintf(`"r:ag:%d"`, e.Agency.ID)) || !strings.Contains(got.ReplyMarkup, `"r:ag:-"`) {
		t.Fatalf("agency question %+v, want a button per agency and one for unknown", got)
	}
	r.press(fmt.Sprintf("r:ag:%d", e.Agency.ID))
	r.say("交警在路口无故开具罚单。")

	e.bot = e.newBot() // a restart: the draft is in the database, not in memory

	r.say("  对方拒绝出示执法证件。 ")
	if got := r.last().Text; got != tr("zh-CN", "report.text.added", map[string]any{"Count": 24}) {
		t.Errorf("reply to the second text = %q", got)
	}
	r.press("r:done")
	r.send(location(31.2304, 121.4737))
	r.send(photo(tgbotapi.PhotoSize{FileID: "small", Width: 90, Height: 60, FileSize: 1200},
		tgbotapi.PhotoSize{FileID: "large", Width: 1280, Height: 853, FileSize: 2 << 20}))
	if got := r.last().Text; got != tr("zh-CN", "report.files.added", map[string]any{"Count": 1}) {
		t.Errorf("reply to the photo = %q", got)
	}
	e.bot = e.newBot()
	r.press("r:done")
	if got := r.last(); !strings.Contains(got.ReplyMarkup, `"request_contact":true`) {
		t.Fatalf("contact question %+v, want a request_contact button", got)
	}
	r.send(contact(tgStranger, "+86 138 0000 0000"))
	if got := r.last(); !strings.Contains(got.Text, "交警在路口无故开具罚单。\n对方拒绝出示执法证件。") || !strings.Contains(got.ReplyMarkup, `"r:ok"`) {
		t.Fatalf("summary %+v, want the text and a confirm button", got)
	}
	r.press("r:ok")

	cs := e.complaints()
	if len(cs) != 1 {
		t.Fatalf("%d complaints, want 1", len(cs))
	}
	c := cs[0]
	if c.Source != duban.SourceTelegram || c.Category != duban.CategoryIllegalFine || c.ReportedAgencyID == nil || *c.ReportedAgencyID != e.Agency.ID || c.AgencyID != nil ||
		c.Description != "交警在路口无故开具罚单。\n对方拒绝出示执法证件。" || c.Latitude == nil || *c.Latitude != 31.2304 ||
		c.Longitude == nil || *c.Longitude != 121.4737 || c.ReporterPhone != "+86 138 0000 0000" || c.ReporterName != "王 五" ||
		c.ReporterChatID == nil || *c.ReporterChatID != tgStranger || c.Anonymous || c.ReporterLocale != duban.LocaleZH ||
		c.Status != duban.ComplaintReceived {
		t.Errorf("complaint %+v", c)
	}
	atts, err := e.Store.Attachments(e.Ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(atts) != 1 || atts[0].FileID != "large" || atts[0].Kind != "photo" || atts[0].Size != 2<<20 || atts[0].MIME != "image/jpeg" {
		t.Errorf("attachments %+v, want the large photo", atts)
	}
	last := r.last().Text
	if got := trackingCodeRE.FindString(last); got == "" || got != duban.FormatTrackingCode(c.TrackingCode) {
		t.Errorf("last message %q, want tracking code %s", last, duban.FormatTrackingCode(c.TrackingCode))
	}
	if r.state() != "" {
		t.Errorf("draft %s kept after confirming", r.state())
	}
}

func TestReport_ConfirmDeliveredTwiceCreatesOne(t *testing.T) {
	e := newTelegram(t)
	r := e.reporter(tgStranger)
	r.upTo(toConfirm)
	u := r.pressUpdate("r:ok")
	sent := len(e.fake.Sent())
	e.handle(u)
	e.handle(u)
	if n := len(e.complaints()); n != 1 {
		t.Errorf("%d complaints, want 1", n)
	}
	if n := len(e.fake.Sent()) - sent; n != 1 {
		t.Errorf("%d replies to the confirmation, want 1", n)
	}
	if n := len(e.fake.Calls("answerCallbackQuery")); n != 6 { // cat, ag, done, skip, skip, ok: one each
		t.Errorf("answerCallbackQuery called %d times, want 6", n)
	}
}

func TestReport_AnonymousKeepsNoIdentity(t *testing.T) {
	e := newTelegram(t)
	r := e.reporter(tgStranger)
	r.upTo(toContact)
	r.say(tr(duban.LocaleZH, "report.button.anonymous", nil))
	r.press("r:ok")
	cs := e.complaints()
	if len(cs) != 1 {
		t.Fatalf("%d complaints, want 1", len(cs))
	}
	if c := cs[0]; !c.Anonymous || c.ReporterName != "" || c.ReporterPhone != "" || c.ReporterChatID != nil {
		t.Errorf("anonymous complaint keeps name %q phone %q chat %v", c.ReporterName, c.ReporterPhone, c.ReporterChatID)
	}
	if trackingCodeRE.FindString(r.last().Text) == "" {
		t.Errorf("last message %q holds no tracking code", r.last().Text)
	}
}

func TestReport_BadInputChangesNothing(t *testing.T) {
	tests := []struct {
		name  string
		step  string
		setup func(r *reporter)
		input func(r *reporter)
		want  string // the reply's message id
		data  map[string]any
	}{
		{name: "empty text", step: toText, input: func(r *reporter) { r.say(" \n ") }, want: "report.text.empty"},
		{name: "invalid UTF-8", step: toText, input: func(r *reporter) { r.say("罚款\xff\xfe") }, want: "report.text.invalid"},
		{name: "two messages over 20,000 characters in all", step: toText,
			setup: func(r *reporter) { r.say(strings.Repeat("罚", 15000)) },
			input: func(r *reporter) { r.say(strings.Repeat("款", 5000)) },
			want:  "report.text.too_long", data: map[string]any{"Max": 20000, "Count": 15000}},
		{name: "a file over 10 MB", step: toFiles, input: func(r *reporter) { r.send(document("big", "application/pdf", 10<<20+1)) },
			want: "report.files.too_big", data: map[string]any{"MaxMB": 10}},
		{name: "a location outside valid coordinates", step: toWhere, input: func(r *reporter) { r.send(location(91, 121.47)) },
			want: "report.where.bad_location"},
		{name: "someone else's contact", step: toContact, input: func(r *reporter) { r.send(contact(tgOther, "13900000000")) },
			want: "report.contact.not_own"},
		{name: "done before any text", step: toText, input: func(r *reporter) { r.press("r:done") }, want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTelegram(t)
			r := e.reporter(tgStranger)
			r.upTo(tt.step)
			if tt.setup != nil {
				tt.setup(r)
			}
			before, sent := r.state(), len(e.fake.Sent())
			tt.input(r)
			if after := r.state(); after != before {
				t.Errorf("draft changed:\n%s\n→\n%s", before, after)
			}
			if tt.want == "" { // a button: refused with an alert
				if text, alert := e.lastAnswer(); text != tr("zh-CN", "report.text.empty", nil) || !alert {
					t.Errorf("callback answer %q alert=%v", text, alert)
				}
				return
			}
			got := e.fake.Sent()[sent:]
			if len(got) != 1 || got[0].Text != tr("zh-CN", tt.want, tt.data) {
				t.Errorf("replies %+v, want one %s", got, tt.want)
			}
		})
	}
}

func TestReport_TypedAgencyPicksAKnownOneOrIsKeptAsSaid(t *testing.T) {
	tests := []struct {
		typed    string
		wantID   bool
		wantText string
	}{
		{typed: "ga", wantID: true},
		{typed: "市公安局", wantID: true},
		{typed: "城管大队", wantText: "城管大队"},
	}
	for _, tt := range tests {
		t.Run(tt.typed, func(t *testing.T) {
			e := newTelegram(t)
			r := e.reporter(tgStranger)
			r.say("/report")
			r.press("r:cat:abuse")
			r.say(tt.typed)
			r.say("执法人员态度粗暴")
			r.press("r:done")
			r.press("r:skip")
			r.press("r:skip")
			r.say(tr(duban.LocaleZH, "report.button.chat_only", nil))
			r.press("r:ok")
			cs := e.complaints()
			if len(cs) != 1 {
				t.Fatalf("%d complaints", len(cs))
			}
			c := cs[0]
			if (c.ReportedAgencyID != nil) != tt.wantID || (tt.wantID && *c.ReportedAgencyID != e.Agency.ID) || c.AgencyText != tt.wantText || c.AgencyID != nil {
				t.Errorf("reported agency %v text %q, assigned %v; want known=%v text %q, none assigned", c.ReportedAgencyID, c.AgencyText, c.AgencyID, tt.wantID, tt.wantText)
			}
			if c.ReporterChatID == nil || c.ReporterPhone != "" {
				t.Errorf("chat-only reporter: chat %v phone %q", c.ReporterChatID, c.ReporterPhone)
			}
		})
	}
}

func TestReport_CancelDropsTheDraft(t *testing.T) {
	e := newTelegram(t)
	r := e.reporter(tgStranger)
	r.upTo(toText)
	r.say("第一段")
	r.say("/cancel")
	if r.state() != "" {
		t.Fatalf("draft %s kept after /cancel", r.state())
	}
	if got := r.last().Text; got != tr("zh-CN", "bot.cancelled", nil) {
		t.Errorf("reply to /cancel = %q", got)
	}
	r.press("r:done")
	if text, _ := e.lastAnswer(); text != tr("zh-CN", "report.none", nil) {
		t.Errorf("a button after /cancel answered %q", text)
	}
	r.say("第二段")
	if got := r.last().Text; got != tr("zh-CN", "report.start", nil) {
		t.Errorf("a message after /cancel got %q, want a new report", got)
	}
	if n := len(e.complaints()); n != 0 {
		t.Errorf("%d complaints after /cancel", n)
	}
}

func TestReport_EditStartsAgainAndCancelButtonDrops(t *testing.T) {
	e := newTelegram(t)
	r := e.reporter(tgStranger)
	r.upTo(toConfirm)
	r.press("r:edit")
	if got := r.last().Text; got != tr("zh-CN", "report.start", nil) {
		t.Errorf("after edit: %q, want the category question", got)
	}
	if st := r.state(); strings.Contains(st, "收费站") {
		t.Errorf("edit kept the text: %s", st)
	}
	r.press("r:ok") // the old summary's button
	if text, alert := e.lastAnswer(); text != tr("zh-CN", "report.stale", nil) || !alert {
		t.Errorf("a stale button answered %q alert=%v", text, alert)
	}
	r.press("r:cancel")
	if r.state() != "" || len(e.complaints()) != 0 {
		t.Errorf("cancel kept draft %q, complaints %d", r.state(), len(e.complaints()))
	}
}

func TestDropIdleReports_DropsADayOldDraftOnly(t *testing.T) {
	e := newTelegram(t)
	idle, fresh := e.reporter(tgStranger), e.reporter(8118)
	idle.upTo(toText)
	e.Clock.Advance(23 * time.Hour)
	fresh.upTo(toText)
	e.Clock.Advance(time.Hour + time.Minute)

	if err := e.bot.DropIdleReports(e.Ctx); err != nil {
		t.Fatal(err)
	}
	if idle.state() != "" {
		t.Errorf("idle draft kept: %s", idle.state())
	}
	if got := idle.last().Text; got != tr("zh-CN", "report.idle_dropped", nil) {
		t.Errorf("idle reporter told %q", got)
	}
	if fresh.state() == "" {
		t.Error("a draft answered 61 minutes ago was dropped")
	}
	if got := fresh.last().Text; got == tr("zh-CN", "report.idle_dropped", nil) {
		t.Error("the fresh reporter was told the draft was dropped")
	}
	sent := len(e.fake.Sent())
	if err := e.bot.DropIdleReports(e.Ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(e.fake.Sent()); n != sent {
		t.Errorf("a second run sent %d more messages", n-sent)
	}
}

func TestReport_BoundPersonReportsWithTheCommand(t *testing.T) {
	e := newTelegram(t)
	r := e.reporter(tgHead)
	r.say("我有话要说")
	if got := r.last().Text; !strings.HasPrefix(got, tr("zh-CN", "bot.help.bound", map[string]any{"Name": "张局长"})) {
		t.Errorf("a bound person's message got %q, want their help", got)
	}
	if r.state() != "" {
		t.Errorf("a bound person's message started a draft: %s", r.state())
	}
	r.upTo(toConfirm)
	r.press("r:ok")
	if n := len(e.complaints()); n != 1 {
		t.Errorf("%d complaints from the bound person's /report, want 1", n)
	}
}

func TestReport_EnglishSpeakerIsAskedInEnglish(t *testing.T) {
	e := newTelegram(t)
	u := tgfake.TextUpdate(1, tgStranger, tgStranger, "/report")
	u.Message.From.LanguageCode = "en"
	e.handle(u)
	if got := e.fake.Sent()[0]; got.Text != tr("en", "report.start", nil) || !strings.Contains(got.ReplyMarkup, tr("en", "category.illegal_fine", nil)) {
		t.Errorf("reply %+v, want the English category question", got)
	}
}
