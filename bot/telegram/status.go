package telegram

import (
	"context"
	"errors"
	"strings"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/bot"
	"github.com/cityhall/duban/jobs"
	"github.com/cityhall/duban/storage"
)

// statusLookupsPerHour is how many /status lookups a chat may make in an
// hour (README.md, the complaint queue): enough for a reporter, too few to guess codes.
const statusLookupsPerHour = 10

// publicEventText lists the actions whose text the reporter reads in the
// timeline: the reason of a rejection, the agency's reply, the result.
var publicEventText = map[duban.Action]bool{duban.ActionReject: true, duban.ActionReply: true, duban.ActionClose: true}

// status answers /status CODE with the complaint's state and the public
// part of its timeline, never the reporter's identity or internal notes.
// A malformed code and an unknown one get the same answer after the same
// database work, so the answer tells nothing about which codes exist.
func (t *Bot) status(ctx context.Context, tx *storage.Store, chat int64, locale, args string) (replies, error) {
	if strings.TrimSpace(args) == "" {
		return replies{t.text(chat, locale, "report.status.usage", nil)}, nil
	}
	n, err := tx.RecordStatusLookup(ctx, chat, t.clock.Now().Add(-time.Hour))
	if err != nil {
		return nil, err
	}
	if n > statusLookupsPerHour {
		return replies{t.text(chat, locale, "report.status.too_many", map[string]any{"Max": statusLookupsPerHour})}, nil
	}
	code, err := duban.ParseTrackingCode(args)
	if err != nil {
		code = "" // no complaint has it; the look-up below runs all the same
	}
	c, err := bot.Optional(tx.ComplaintByCode(ctx, code))
	if err != nil {
		return nil, err
	}
	if c == nil {
		return replies{t.text(chat, locale, "report.status.not_found", nil)}, nil
	}
	status, events, err := jobs.PublicTimeline(ctx, tx, c)
	if err != nil {
		return nil, err
	}
	loc := time.UTC
	if t.complaints != nil && t.complaints.Loc != nil {
		loc = t.complaints.Loc
	}
	var lines []string
	for _, e := range events {
		text := ""
		if publicEventText[e.Action] {
			text = duban.Truncate(e.Text, 600)
		}
		lines = append(lines, t.t.T(locale, "report.status.event", map[string]any{"At": e.At.In(loc).Format("2006-01-02 15:04"),
			"Action": t.t.T(locale, "report.status.action."+string(e.Action), nil), "Text": text}))
	}
	merged := ""
	if c.Status == duban.ComplaintMerged {
		merged = t.t.T(locale, "report.status.merged", nil)
	}
	text := t.t.T(locale, "report.status.result", map[string]any{"Code": duban.FormatTrackingCode(c.TrackingCode),
		"Status": t.t.T(locale, "complaint.status."+string(status), nil), "Category": t.t.T(locale, "category."+string(c.Category), nil),
		"Merged": merged, "Timeline": strings.Join(lines, "\n")})
	return replies{tgbotapi.NewMessage(chat, duban.Truncate(text, maxMessageRunes))}, nil
}

// rate records the reporter's answer to the follow-up (回访): only from
// the chat the report came from, and once. The buttons go once it is
// recorded.
func (t *Bot) rate(ctx context.Context, tx *storage.Store, pr press, cb duban.ComplaintCallback) (replies, error) {
	if t.complaints == nil {
		return t.alert(pr, "bot.error"), nil
	}
	_, err := t.complaints.With(tx).Rate(ctx, pr.chat, cb.ComplaintID, cb.Rating)
	var se *duban.StateError
	switch {
	case errors.Is(err, duban.ErrForbidden):
		return t.alert(pr, "bot.not_yours"), bot.ErrUndo
	case errors.As(err, &se) && se.State == "rated":
		return t.alert(pr, "report.rate.already"), bot.ErrUndo
	case errors.As(err, &se):
		return t.alert(pr, "report.rate.unavailable"), bot.ErrUndo
	case errors.Is(err, duban.ErrNotFound), errors.Is(err, duban.ErrInvalid):
		return t.alert(pr, "bot.error"), bot.ErrUndo
	case err != nil:
		return nil, err
	}
	text := t.t.T(pr.locale, "report.rate.thanks", map[string]any{"Rating": cb.Rating})
	out := t.pressed(pr)
	out[0] = tgbotapi.NewCallback(pr.q.ID, text)
	return append(out, tgbotapi.NewMessage(pr.chat, text)), nil
}
