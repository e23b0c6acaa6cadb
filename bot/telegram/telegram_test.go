package telegram_test

import (
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/bot/bottest"
	"github.com/cityhall/duban/bot/telegram"
	"github.com/cityhall/duban/internal/fakes/tgfake"
	"github.com/cityhall/duban/notifier"
	"github.com/cityhall/duban/storage/storagetest"
)

const token = "123456:TOKEN-that-must-not-leak"

// Telegram user ids (equal to their private chat ids) of the people every
// test has, and of someone duban does not know.
const (
	tgHead, tgOther, tgStaff, tgSup, tgOtherHead       = bottest.TgHead, bottest.TgOther, bottest.TgStaff, bottest.TgSup, bottest.TgOtherHead
	tgStranger                                   int64 = 9009
)

// tr renders a message as the bot would.
var tr = bottest.Tr

type tgEnv struct {
	*bottest.Env
	fake *tgfake.Server
	api  *tgbotapi.BotAPI
	logs *bottest.SyncBuffer
	bot  *telegram.Bot
}

func newTelegram(t *testing.T) *tgEnv {
	t.Helper()
	return newTelegramOn(t, bottest.New(t))
}

// newTelegramOn is newTelegram on env.
func newTelegramOn(t *testing.T, env *bottest.Env) *tgEnv {
	t.Helper()
	e := &tgEnv{Env: env, fake: tgfake.New(t), logs: &bottest.SyncBuffer{}}
	api, err := tgbotapi.NewBotAPIWithAPIEndpoint(token, e.fake.Endpoint())
	if err != nil {
		t.Fatalf("bot api: %v", err)
	}
	e.api = api
	// The bot's replies go through the outbox, sent at once in a test;
	// without the limits, which would hold each step a second.
	e.Senders[duban.ChannelTelegram] = notifier.NewTelegram(api, token, notifier.WithGlobalRate(0), notifier.WithChatInterval(0))
	e.bot = e.newBot()
	return e
}

// newBot builds the Telegram bot afresh, as a restart would.
func (e *tgEnv) newBot() *telegram.Bot {
	return telegram.New(telegram.Deps{API: e.api, Token: token, Store: e.Store, Hearings: e.Hearings, Complaints: e.Complaints,
		T: bottest.Bundle, Clock: e.Clock, Log: slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
}

func (e *tgEnv) handle(u tgbotapi.Update) {
	e.T.Helper()
	if err := e.bot.HandleUpdate(e.Ctx, u); err != nil {
		e.T.Fatalf("HandleUpdate %d: %v", u.UpdateID, err)
	}
}

// lastAnswer is the last answerCallbackQuery: its text and whether it is
// an alert.
func (e *tgEnv) lastAnswer() (string, bool) {
	e.T.Helper()
	calls := e.fake.Calls("answerCallbackQuery")
	if len(calls) == 0 {
		e.T.Fatal("no answerCallbackQuery")
	}
	c := calls[len(calls)-1]
	return c.Get("text"), c.Get("show_alert") == "true"
}

func TestTelegramStart_BindsWithAFreshCodeOnly(t *testing.T) {
	const user = 7007
	tests := []struct {
		name      string
		expiresIn time.Duration
		usedBy    int64 // a user who used the code before, 0 for none
		from      int64
		want      string // message id of the reply
		wantBound int64  // the Telegram user the code's person ends bound to, 0 for none
	}{
		{name: "a fresh code binds the chat", expiresIn: time.Hour, from: user, want: "bot.bound", wantBound: user},
		{name: "a used code is refused", expiresIn: time.Hour, usedBy: 8008, from: user, want: "bot.bind.invalid", wantBound: 8008},
		{name: "an expired code is refused", expiresIn: -time.Minute, from: user, want: "bot.bind.invalid"},
		{name: "a user bound to someone else is refused", expiresIn: time.Hour, from: tgHead, want: "bot.bind.invalid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTelegram(t)
			p := storagetest.Person(t, e.Store, duban.Person{Name: "孙科长", AgencyID: &e.Agency.ID, Roles: duban.Roles{duban.RoleDeputy}})
			if err := e.Store.CreateBindCode(e.Ctx, p.ID, "K7Q2M9XA", e.Clock.Now().Add(tt.expiresIn)); err != nil {
				t.Fatal(err)
			}
			if tt.usedBy != 0 {
				e.handle(tgfake.TextUpdate(1, tt.usedBy, tt.usedBy, "/start K7Q2M9XA"))
			}
			e.handle(tgfake.TextUpdate(2, tt.from, tt.from, "/start  k7q2m9xa "))

			sent := e.fake.Sent()
			last := sent[len(sent)-1]
			if last.ChatID != tt.from || last.Text != tr(duban.LocaleZH, tt.want, map[string]any{"Name": p.Name}) {
				t.Errorf("reply = %+v, want %s to %d", last, tt.want, tt.from)
			}
			got, err := e.Store.PersonByID(e.Ctx, p.ID)
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case tt.wantBound == 0 && (got.TelegramUserID != nil || got.TelegramChatID != nil):
				t.Errorf("person bound to user %v chat %v, want unbound", *got.TelegramUserID, *got.TelegramChatID)
			case tt.wantBound != 0 && (got.TelegramUserID == nil || *got.TelegramUserID != tt.wantBound || *got.TelegramChatID != tt.wantBound):
				t.Errorf("person bound to %v/%v, want chat and user %d", got.TelegramChatID, got.TelegramUserID, tt.wantBound)
			}
		})
	}
}

func TestTelegramStart_RefusalLeavesTheCodeUsable(t *testing.T) {
	e := newTelegram(t)
	p := storagetest.Person(t, e.Store, duban.Person{Name: "孙科长", AgencyID: &e.Agency.ID, Roles: duban.Roles{duban.RoleDeputy}})
	if err := e.Store.CreateBindCode(e.Ctx, p.ID, "K7Q2M9XA", e.Clock.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	e.handle(tgfake.TextUpdate(1, tgHead, tgHead, "/start K7Q2M9XA")) // the head is bound already
	e.handle(tgfake.TextUpdate(2, 7007, 7007, "/start K7Q2M9XA"))
	got, _ := e.Store.PersonByID(e.Ctx, p.ID)
	if got.TelegramChatID == nil || *got.TelegramChatID != 7007 {
		t.Fatalf("chat = %v, want 7007: a refused bind must not use the code up", got.TelegramChatID)
	}
	head, _ := e.Store.PersonByID(e.Ctx, e.Head.ID)
	if *head.TelegramUserID != tgHead {
		t.Errorf("the head's binding changed to %d", *head.TelegramUserID)
	}
}

func TestTelegramHandleUpdate_HelpFitsWhoAsks(t *testing.T) {
	tests := []struct {
		name string
		from int64
		text string
		want string
	}{
		{"stranger /start", tgStranger, "/start", tr("zh-CN", "bot.help.public", nil)},
		{"stranger /help", tgStranger, "/help", tr("zh-CN", "bot.help.public", nil)},
		{"stranger text starts a report", tgStranger, "我要举报乱收费", tr("zh-CN", "report.start", nil)},
		{"stranger unknown command", tgStranger, "/whatever", tr("zh-CN", "bot.help.public", nil)},
		{"bound /help", tgHead, "/help@duban_bot", tr("zh-CN", "bot.help.bound", map[string]any{"Name": "张局长"}) + "\n" + tr("zh-CN", "report.help.bound", nil)},
		{"bound text", tgHead, "我要举报乱收费", tr("zh-CN", "bot.help.bound", map[string]any{"Name": "张局长"}) + "\n" + tr("zh-CN", "report.help.bound", nil)},
		{"bound unknown command", tgHead, "/whatever", tr("zh-CN", "bot.unknown_command", nil)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTelegram(t)
			e.handle(tgfake.TextUpdate(1, tt.from, tt.from, tt.text))
			if sent := e.fake.Sent(); len(sent) != 1 || sent[0].Text != tt.want || sent[0].ChatID != tt.from {
				t.Errorf("sent %+v, want %q", sent, tt.want)
			}
		})
	}
}

func TestTelegramHandleUpdate_EnglishSpeakerGetsEnglish(t *testing.T) {
	e := newTelegram(t)
	u := tgfake.TextUpdate(1, tgStranger, tgStranger, "/help")
	u.Message.From.LanguageCode = "en-GB"
	e.handle(u)
	if got := e.fake.Sent()[0].Text; got != tr("en", "bot.help.public", nil) {
		t.Errorf("reply %q, want the English help", got)
	}
}

func TestTelegramHandleUpdate_RedeliveredUpdateChangesNothing(t *testing.T) {
	e := newTelegram(t)
	u := tgfake.CallbackUpdate(10, tgHead, tgHead, 55, fmt.Sprintf("hc:%d", e.HA))
	e.handle(u)
	e.Clock.Advance(time.Minute)
	e.handle(u)
	if n := len(e.fake.Calls("answerCallbackQuery")); n != 1 {
		t.Errorf("answerCallbackQuery called %d times, want 1", n)
	}
	if n := len(e.fake.Sent()); n != 1 {
		t.Errorf("%d messages sent, want 1", n)
	}
	if n := e.AuditCount("hearing.answer"); n != 1 {
		t.Errorf("%d answers recorded, want 1", n)
	}
	if ha := e.HANow(); ha.Answer != duban.AnswerConfirmed || !ha.AnsweredAt.Equal(time.Date(2026, 12, 1, 9, 0, 0, 0, bottest.Shanghai)) {
		t.Errorf("answer %s at %v, want confirmed at the first delivery", ha.Answer, ha.AnsweredAt)
	}
}

func TestTelegramButtons_ActOnlyForWhoMay(t *testing.T) {
	tests := []struct {
		name       string
		from       int64
		data       string // %d is the hearing's agency
		afterStart bool
		wantAnswer duban.Answer
		wantReply  string // the callback answer's message id
		wantAlert  bool
		wantSent   string // message id of a chat message, "" for none; "details" for the details
	}{
		{name: "head confirms", from: tgHead, data: "hc:%d", wantAnswer: duban.AnswerConfirmed, wantReply: "bot.answer.confirmed", wantSent: "bot.answer.confirmed"},
		{name: "a supervisor does not answer for the head", from: tgSup, data: "hc:%d", wantAnswer: duban.AnswerNone, wantReply: "bot.not_yours", wantAlert: true},
		{name: "nor does a supervisor name who goes instead", from: tgSup, data: "hd:%d", wantAnswer: duban.AnswerNone, wantReply: "bot.not_yours", wantAlert: true},
		{name: "someone else of the agency may not confirm", from: tgOther, data: "hc:%d", wantAnswer: duban.AnswerNone, wantReply: "bot.not_yours", wantAlert: true},
		{name: "the head of another agency may not confirm", from: tgOtherHead, data: "hc:%d", wantAnswer: duban.AnswerNone, wantReply: "bot.not_yours", wantAlert: true},
		{name: "a stranger may not confirm", from: tgStranger, data: "hc:%d", wantAnswer: duban.AnswerNone, wantReply: "bot.not_yours", wantAlert: true},
		{name: "no answer once the hearing started", from: tgHead, data: "hc:%d", afterStart: true, wantAnswer: duban.AnswerNone, wantReply: "bot.too_late", wantAlert: true},
		{name: "no delegating once the hearing started", from: tgHead, data: "hd:%d", afterStart: true, wantAnswer: duban.AnswerNone, wantReply: "bot.too_late", wantAlert: true},
		{name: "garbage data", from: tgHead, data: "zz:%d", wantAnswer: duban.AnswerNone, wantReply: "bot.error", wantAlert: true},
		{name: "an unknown hearing", from: tgHead, data: "hc:999%d", wantAnswer: duban.AnswerNone, wantReply: "bot.error", wantAlert: true},
		{name: "someone of the agency sees details", from: tgOther, data: "hi:%d", wantAnswer: duban.AnswerNone, wantSent: "details"},
		{name: "staff see details", from: tgStaff, data: "hi:%d", wantAnswer: duban.AnswerNone, wantSent: "details"},
		{name: "another agency's head does not", from: tgOtherHead, data: "hi:%d", wantAnswer: duban.AnswerNone, wantReply: "bot.not_yours", wantAlert: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTelegram(t)
			if tt.afterStart {
				e.AfterStart()
			}
			e.handle(tgfake.CallbackUpdate(1, tt.from, tt.from, 55, fmt.Sprintf(tt.data, e.HA)))
			if got := e.HANow().Answer; got != tt.wantAnswer {
				t.Errorf("answer = %s, want %s", got, tt.wantAnswer)
			}
			text, alert := e.lastAnswer()
			if want := tr("zh-CN", tt.wantReply, nil); tt.wantReply != "" && (text != want || alert != tt.wantAlert) {
				t.Errorf("callback answer %q alert=%v, want %q alert=%v", text, alert, want, tt.wantAlert)
			}
			sent := e.fake.Sent()
			switch tt.wantSent {
			case "":
				if len(sent) != 0 {
					t.Errorf("sent %+v, want nothing", sent)
				}
			case "details":
				if len(sent) != 1 || !strings.Contains(sent[0].Text, e.Hearing.CaseNumber) || !strings.Contains(sent[0].Text, "市公安局") {
					t.Errorf("sent %+v, want the details", sent)
				}
			default:
				if len(sent) != 1 || sent[0].Text != tr("zh-CN", tt.wantSent, nil) || sent[0].ChatID != tt.from {
					t.Errorf("sent %+v, want %s to %d", sent, tt.wantSent, tt.from)
				}
			}
		})
	}
}

func TestTelegramDelegate_TwoUpdatesSurviveARestart(t *testing.T) {
	e := newTelegram(t)
	e.handle(tgfake.CallbackUpdate(1, tgHead, tgHead, 55, fmt.Sprintf("hd:%d", e.HA)))
	if sent := e.fake.Sent(); len(sent) != 1 || sent[0].Text != tr("zh-CN", "bot.answer.delegate_prompt", nil) {
		t.Fatalf("sent %+v, want the prompt", sent)
	}

	e.bot = e.newBot() // the question is in the database, not in memory
	e.handle(tgfake.TextUpdate(2, tgHead, tgHead, "李四"))
	if got := e.fake.Sent()[1].Text; got != tr("zh-CN", "bot.answer.delegate_format", nil) {
		t.Errorf("reply to a name alone = %q, want the format hint", got)
	}
	e.handle(tgfake.TextUpdate(3, tgHead, tgHead, "李四，出差"))

	ha := e.HANow()
	if ha.Answer != duban.AnswerDelegated || ha.DelegateName != "李四" || ha.DelegateReason != "出差" {
		t.Fatalf("answer %s %q %q, want delegated 李四 出差", ha.Answer, ha.DelegateName, ha.DelegateReason)
	}
	if got, want := e.fake.Sent()[2].Text, tr("zh-CN", "bot.answer.delegated", map[string]any{"Delegate": "李四", "Reason": "出差"}); got != want {
		t.Errorf("reply %q, want %q", got, want)
	}
	e.handle(tgfake.TextUpdate(4, tgHead, tgHead, "王五，开会"))
	if ha := e.HANow(); ha.DelegateName != "李四" {
		t.Errorf("a message after the answer changed it to %q", ha.DelegateName)
	}
}

func TestTelegramDelegate_CancelEndsTheQuestion(t *testing.T) {
	e := newTelegram(t)
	e.handle(tgfake.CallbackUpdate(1, tgHead, tgHead, 55, fmt.Sprintf("hd:%d", e.HA)))
	e.handle(tgfake.TextUpdate(2, tgHead, tgHead, "/cancel"))
	e.handle(tgfake.TextUpdate(3, tgHead, tgHead, "李四，出差"))
	if ha := e.HANow(); ha.Answer != duban.AnswerNone {
		t.Errorf("answer = %s after /cancel, want none", ha.Answer)
	}
	if got := e.fake.Sent()[1].Text; got != tr("zh-CN", "bot.cancelled", nil) {
		t.Errorf("reply to /cancel = %q", got)
	}
}

func TestTelegramDelegate_SomeoneElseIsNotAsked(t *testing.T) {
	e := newTelegram(t)
	e.handle(tgfake.CallbackUpdate(1, tgOther, tgOther, 55, fmt.Sprintf("hd:%d", e.HA)))
	e.handle(tgfake.TextUpdate(2, tgOther, tgOther, "李四，出差"))
	if ha := e.HANow(); ha.Answer != duban.AnswerNone {
		t.Errorf("answer = %s, want none", ha.Answer)
	}
	if text, alert := e.lastAnswer(); text != tr("zh-CN", "bot.not_yours", nil) || !alert {
		t.Errorf("callback answer %q alert=%v, want not_yours", text, alert)
	}
}

func TestTelegramOutcome_StaffRecordAndTheButtonsGo(t *testing.T) {
	tests := []struct {
		name       string
		from       int64
		afterStart bool
		want       *duban.Attendance
		wantReply  string
	}{
		{name: "staff record who appeared", from: tgStaff, afterStart: true, want: ptr(duban.AttendanceHead), wantReply: "bot.outcome.recorded"},
		{name: "the head may not", from: tgHead, afterStart: true, wantReply: "bot.not_yours"},
		{name: "not before the hearing", from: tgStaff, wantReply: "bot.outcome.too_early"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTelegram(t)
			if tt.afterStart {
				e.AfterStart()
			}
			e.handle(tgfake.CallbackUpdate(1, tt.from, tt.from, 77, fmt.Sprintf("ho:%d:head", e.HA)))
			got := e.HANow().Outcome
			if (got == nil) != (tt.want == nil) || (got != nil && *got != *tt.want) {
				t.Errorf("outcome = %v, want %v", got, tt.want)
			}
			data := map[string]any{"Agency": "市公安局", "Attendance": tr("zh-CN", "attendance.head", nil)}
			if text, _ := e.lastAnswer(); text != tr("zh-CN", tt.wantReply, data) {
				t.Errorf("callback answer %q, want %s", text, tt.wantReply)
			}
			edits := e.fake.Calls("editMessageReplyMarkup")
			if tt.want == nil {
				if len(edits) != 0 {
					t.Errorf("buttons edited: %v", edits)
				}
				return
			}
			if len(edits) != 1 || edits[0].Get("chat_id") != fmt.Sprint(tt.from) || edits[0].Get("message_id") != "77" ||
				edits[0].Get("reply_markup") != `{"inline_keyboard":[]}` {
				t.Errorf("edits %v, want the keyboard of message 77 emptied", edits)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

// A person bound to one chat who binds another with a new code is told on
// the old chat that their messages moved there: a code in the wrong hands
// does not move a head's reminders unnoticed.
func TestTelegramStart_RebindingWithANewCodeTellsTheOldChat(t *testing.T) {
	const oldChat, newChat = 7101, 7102
	e := newTelegram(t)
	p := storagetest.Person(t, e.Store, duban.Person{Name: "孙科长", AgencyID: &e.Agency.ID, Roles: duban.Roles{duban.RoleDeputy}})
	for i, c := range []struct {
		code string
		chat int64
	}{{"K7Q2M9XA", oldChat}, {"P4R8T2WB", newChat}} {
		if err := e.Store.CreateBindCode(e.Ctx, p.ID, c.code, e.Clock.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		e.handle(tgfake.TextUpdate(10+i, c.chat, c.chat, "/start "+c.code))
	}
	got, err := e.Store.PersonByID(e.Ctx, p.ID)
	if err != nil || got.TelegramChatID == nil || *got.TelegramChatID != newChat {
		t.Fatalf("person after the second code: %+v (%v), want bound to chat %d", got, err, newChat)
	}
	var toOld []string
	for _, m := range e.fake.Sent() {
		if m.ChatID == oldChat {
			toOld = append(toOld, m.Text)
		}
	}
	want := tr(duban.LocaleZH, "person.rebind_code", map[string]any{"Name": p.Name})
	if len(toOld) != 2 || toOld[1] != want {
		t.Errorf("the old chat was sent %q; want the welcome, then %q", toOld, want)
	}
}
