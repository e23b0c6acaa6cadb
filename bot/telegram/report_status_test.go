package telegram_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/internal/fakes/tgfake"
	"github.com/cityhall/duban/jobs"
)

// staffActor acts on complaints as the office does through the API.
var staffActor = jobs.Actor{Name: "staff"}

// fileComplaint takes a complaint in from a reporter named 王五 with a
// phone, told in chat.
func (e *tgEnv) fileComplaint(chat int64) *duban.Complaint {
	e.T.Helper()
	c, _, err := e.Complaints.Create(e.Ctx, staffActor, jobs.Intake{Source: duban.SourceTelegram, Category: "illegal_fine",
		Description: "交警无故罚款", ReporterName: "王五", ReporterPhone: "13800000000", ReporterChatID: &chat})
	if err != nil {
		e.T.Fatal(err)
	}
	return c
}

// act takes actions on complaint id, a minute apart.
func (e *tgEnv) act(id int64, reqs ...duban.ActionRequest) {
	e.T.Helper()
	for _, req := range reqs {
		e.Clock.Advance(time.Minute)
		if _, err := e.Complaints.Act(e.Ctx, staffActor, id, req); err != nil {
			e.T.Fatalf("%s: %v", req.Action, err)
		}
	}
}

// toClosed takes a complaint through to closed.
var toClosed = []duban.ActionRequest{{Action: duban.ActionAccept}, {Action: duban.ActionAssign, Agency: "GA"},
	{Action: duban.ActionReply, Text: "已退还罚款"}, {Action: duban.ActionClose, Text: "办结"}}

func TestStatus_RightCodeShowsStateAndPublicTimelineOnly(t *testing.T) {
	e := newTelegram(t)
	c := e.fileComplaint(tgOtherHead)
	e.act(c.ID, duban.ActionRequest{Action: duban.ActionAccept},
		duban.ActionRequest{Action: duban.ActionNote, Text: "内部备注：反映人王五曾多次来电"},
		duban.ActionRequest{Action: duban.ActionAssign, Agency: "GA"},
		duban.ActionRequest{Action: duban.ActionReply, Text: "经核查，已退还罚款"})
	code := duban.FormatTrackingCode(c.TrackingCode)
	r := e.reporter(tgStranger)
	for name, typed := range map[string]string{"as shown": code, "lower case without dashes": strings.ToLower(c.TrackingCode)} {
		t.Run(name, func(t *testing.T) {
			r.say("/status " + typed)
			got := r.last().Text
			for _, want := range []string{code, tr("zh-CN", "complaint.status.replied", nil), tr("zh-CN", "category.illegal_fine", nil),
				tr("zh-CN", "report.status.action.receive", nil), tr("zh-CN", "report.status.action.accept", nil),
				tr("zh-CN", "report.status.action.reply", nil), "经核查，已退还罚款", "2026-12-01 09:04"} {
				if !strings.Contains(got, want) {
					t.Errorf("status lacks %q:\n%s", want, got)
				}
			}
			for _, secret := range []string{"王五", "13800000000", "内部备注", "staff", fmt.Sprint(tgOtherHead)} {
				if strings.Contains(got, secret) {
					t.Errorf("status shows %q:\n%s", secret, got)
				}
			}
		})
	}
}

func TestStatus_WrongAndMalformedCodesGetTheSameAnswer(t *testing.T) {
	e := newTelegram(t)
	c := e.fileComplaint(tgOtherHead)
	unknown := "ABCD-EFGH-JKMN"
	if c.TrackingCode == "ABCDEFGHJKMN" {
		unknown = "ABCD-EFGH-JKMP"
	}
	r := e.reporter(tgStranger)
	var answers []string
	for _, typed := range []string{unknown, "hello", "ABCD-EFGH-JKMU", strings.Repeat("0", 200)} {
		r.say("/status " + typed)
		answers = append(answers, r.last().Text)
	}
	for i, a := range answers {
		if a != tr("zh-CN", "report.status.not_found", nil) {
			t.Errorf("answer %d = %q, want not_found", i, a)
		}
	}
}

func TestStatus_EleventhLookupInAnHourIsRefused(t *testing.T) {
	e := newTelegram(t)
	c := e.fileComplaint(tgOtherHead)
	code := duban.FormatTrackingCode(c.TrackingCode)
	r := e.reporter(tgStranger)
	for i := 1; i <= 10; i++ {
		r.say("/status " + code)
		if got := r.last().Text; !strings.Contains(got, code) {
			t.Fatalf("lookup %d refused: %q", i, got)
		}
		e.Clock.Advance(time.Minute)
	}
	r.say("/status " + code)
	if got := r.last().Text; got != tr("zh-CN", "report.status.too_many", map[string]any{"Max": 10}) {
		t.Errorf("11th lookup got %q, want too_many", got)
	}
	other := e.reporter(8118)
	other.say("/status " + code)
	if got := other.last().Text; !strings.Contains(got, code) {
		t.Errorf("another chat was refused too: %q", got)
	}
	e.Clock.Advance(time.Hour)
	r.say("/status " + code)
	if got := r.last().Text; !strings.Contains(got, code) {
		t.Errorf("a lookup an hour later got %q", got)
	}
}

// TestStatus_MergedComplaintMirrorsTheSurvivorUnderItsOwnCode: a merged
// reporter goes on under their own code, seeing the survivor's progress
// but never its code or text.
func TestStatus_MergedComplaintMirrorsTheSurvivorUnderItsOwnCode(t *testing.T) {
	e := newTelegram(t)
	dup, survivor := e.fileComplaint(tgOtherHead), e.fileComplaint(tgOtherHead)
	e.act(dup.ID, duban.ActionRequest{Action: duban.ActionMerge, Into: survivor.TrackingCode})
	e.act(survivor.ID, duban.ActionRequest{Action: duban.ActionAccept})
	r := e.reporter(tgStranger)
	r.say("/status " + dup.TrackingCode)
	want := tr("zh-CN", "report.status.merged", nil)
	got := r.last().Text
	if !strings.Contains(got, want) || !strings.Contains(got, tr("zh-CN", "complaint.status.accepted", nil)) {
		t.Errorf("status of a merged complaint:\n%s\nwant %q and the survivor's status", got, want)
	}
	if strings.Contains(got, duban.FormatTrackingCode(survivor.TrackingCode)) || strings.Contains(got, survivor.TrackingCode) {
		t.Errorf("the merged reporter was given the survivor's code:\n%s", got)
	}
}

func TestStatus_WithoutCodeExplainsItself(t *testing.T) {
	e := newTelegram(t)
	r := e.reporter(tgStranger)
	r.say("/status")
	if got := r.last().Text; got != tr("zh-CN", "report.status.usage", nil) {
		t.Errorf("/status alone got %q", got)
	}
}

func TestRate_OnlyTheReportersChatRatesAndOnce(t *testing.T) {
	tests := []struct {
		name       string
		from       int64
		closed     bool
		pressTwice bool
		want       string // the callback answer's message id
		wantRating *int
	}{
		{name: "the reporter rates", from: tgStranger, closed: true, want: "report.rate.thanks", wantRating: ptr(4)},
		{name: "another chat may not", from: 8118, closed: true, want: "bot.not_yours"},
		{name: "a second rating is refused", from: tgStranger, closed: true, pressTwice: true, want: "report.rate.already", wantRating: ptr(4)},
		{name: "not before closing", from: tgStranger, want: "report.rate.unavailable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTelegram(t)
			c := e.fileComplaint(tgStranger)
			if tt.closed {
				e.act(c.ID, toClosed...)
			}
			data := duban.ComplaintCallback{Verb: duban.VerbRate, ComplaintID: c.ID, Rating: 4}.Encode()
			e.handle(tgfake.CallbackUpdate(1, tt.from, tt.from, 70, data))
			if tt.pressTwice {
				e.handle(tgfake.CallbackUpdate(2, tt.from, tt.from, 70, data))
			}
			if text, _ := e.lastAnswer(); text != tr("zh-CN", tt.want, map[string]any{"Rating": 4}) {
				t.Errorf("answer %q, want %s", text, tt.want)
			}
			got, err := e.Store.ComplaintByID(e.Ctx, c.ID)
			if err != nil {
				t.Fatal(err)
			}
			if (got.Rating == nil) != (tt.wantRating == nil) || (got.Rating != nil && *got.Rating != *tt.wantRating) {
				t.Errorf("rating %v, want %v", got.Rating, tt.wantRating)
			}
		})
	}
}
