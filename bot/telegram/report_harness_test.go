package telegram_test

import (
	"errors"
	"fmt"
	"regexp"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/internal/fakes/tgfake"
	"github.com/cityhall/duban/storage"
)

// trackingCodeRE is a tracking code as the bot shows it.
var trackingCodeRE = regexp.MustCompile(`\b[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}\b`)

// reporter is someone of the public writing to the bot in a private chat
// (user id = chat id), each update with a fresh id.
type reporter struct {
	e    *tgEnv
	chat int64
	next int
}

func (e *tgEnv) reporter(chat int64) *reporter {
	return &reporter{e: e, chat: chat, next: int(chat%100000) * 1000}
}

// update makes a message update, changed by mod.
func (r *reporter) update(mod func(m *tgbotapi.Message)) tgbotapi.Update {
	r.next++
	u := tgfake.TextUpdate(r.next, r.chat, r.chat, "")
	if mod != nil {
		mod(u.Message)
	}
	return u
}

func (r *reporter) say(text string) {
	r.e.T.Helper()
	r.next++
	r.e.handle(tgfake.TextUpdate(r.next, r.chat, r.chat, text))
}

func (r *reporter) send(mod func(m *tgbotapi.Message)) {
	r.e.T.Helper()
	r.e.handle(r.update(mod))
}

// pressUpdate is a press of a button with data under a message of the bot.
func (r *reporter) pressUpdate(data string) tgbotapi.Update {
	r.next++
	return tgfake.CallbackUpdate(r.next, r.chat, r.chat, 500, data)
}

func (r *reporter) press(data string) {
	r.e.T.Helper()
	r.e.handle(r.pressUpdate(data))
}

// last is the last message the bot sent to the reporter.
func (r *reporter) last() tgfake.Message {
	r.e.T.Helper()
	var out tgfake.Message
	for _, m := range r.e.fake.Sent() {
		if m.ChatID == r.chat {
			out = m
		}
	}
	return out
}

// state is the chat's draft as stored, "" for none.
func (r *reporter) state() string {
	r.e.T.Helper()
	st, err := r.e.Store.ChatStateOf(r.e.Ctx, fmt.Sprintf("tg:%d", r.chat))
	if errors.Is(err, duban.ErrNotFound) {
		return ""
	}
	if err != nil {
		r.e.T.Fatal(err)
	}
	return st.Data
}

func location(lat, lon float64) func(m *tgbotapi.Message) {
	return func(m *tgbotapi.Message) { m.Location = &tgbotapi.Location{Latitude: lat, Longitude: lon} }
}

func photo(sizes ...tgbotapi.PhotoSize) func(m *tgbotapi.Message) {
	return func(m *tgbotapi.Message) { m.Photo = sizes }
}

func document(id, mime string, size int) func(m *tgbotapi.Message) {
	return func(m *tgbotapi.Message) {
		m.Document = &tgbotapi.Document{FileID: id, FileUniqueID: "u" + id, FileName: "a.pdf", MimeType: mime, FileSize: size}
	}
}

func contact(userID int64, phone string) func(m *tgbotapi.Message) {
	return func(m *tgbotapi.Message) {
		m.Contact = &tgbotapi.Contact{PhoneNumber: phone, FirstName: "王", LastName: "五", UserID: userID}
	}
}

// The steps upTo drives a report to.
const (
	toText    = "text"
	toWhere   = "where"
	toFiles   = "files"
	toContact = "contact"
	toConfirm = "confirm"
)

// upTo starts a report and answers every step before the one named.
func (r *reporter) upTo(step string) {
	r.e.T.Helper()
	r.say("/report")
	r.press("r:cat:illegal_fee")
	r.press("r:ag:-")
	if step == toText {
		return
	}
	r.say("收费站多收了 50 元")
	r.press("r:done")
	if step == toWhere {
		return
	}
	r.press("r:skip")
	if step == toFiles {
		return
	}
	r.press("r:skip")
	if step == toContact {
		return
	}
	r.say(tr(duban.LocaleZH, "report.button.chat_only", nil))
}

// complaints lists every complaint, oldest first.
func (e *tgEnv) complaints() []duban.Complaint {
	e.T.Helper()
	cs, err := e.Store.Complaints(e.Ctx, storage.ComplaintFilter{})
	if err != nil {
		e.T.Fatal(err)
	}
	for i, j := 0, len(cs)-1; i < j; i, j = i+1, j-1 {
		cs[i], cs[j] = cs[j], cs[i]
	}
	return cs
}
