package telegram

import (
	"context"
	"errors"
	"strconv"
	"strings"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/bot"
	"github.com/cityhall/duban/jobs"
	"github.com/cityhall/duban/storage"
)

// press is one button press being handled.
type press struct {
	q      *tgbotapi.CallbackQuery
	p      *duban.Person
	cb     duban.Callback
	locale string
	chat   int64
	msgID  int // the message holding the button, 0 when unknown
	update int // the update's id, the idempotency key of what it creates
}

// callback handles a button of a report, a rating of a complaint, or a
// button under a reminder, an escalation or an outcome request. The
// presser's role is checked before anything changes; a press that may not
// act is answered and changes nothing.
func (t *Bot) callback(ctx context.Context, tx *storage.Store, update int, q *tgbotapi.CallbackQuery) (replies, error) {
	if q.From == nil {
		return nil, nil
	}
	p, err := bot.Optional(tx.PersonByTelegramUser(ctx, q.From.ID))
	if err != nil {
		return nil, err
	}
	pr := press{q: q, p: p, locale: t.locale(p, q.From), chat: q.From.ID, update: update}
	if q.Message != nil && q.Message.Chat != nil {
		pr.chat, pr.msgID = q.Message.Chat.ID, q.Message.MessageID
	}
	// Report buttons ("r:…") and the reporter's rating ("cr:<id>:<n>") come
	// first: anyone may press them, bound or not.
	if strings.HasPrefix(q.Data, reportPrefix) {
		return t.reportPress(ctx, tx, pr)
	}
	if cc, err := duban.ParseComplaintCallback(q.Data); err == nil {
		if cc.Verb == duban.VerbRate {
			return t.rate(ctx, tx, pr, cc)
		}
		return t.supervise(ctx, tx, pr, cc)
	}
	if strings.HasPrefix(q.Data, assignPrefix) {
		return t.assignPress(ctx, tx, pr)
	}
	if pr.cb, err = duban.ParseCallback(q.Data); err != nil {
		return t.alert(pr, "bot.error"), nil
	}
	if p == nil {
		return t.alert(pr, "bot.not_yours"), nil
	}
	switch pr.cb.Verb {
	case duban.VerbConfirm:
		return t.confirm(ctx, tx, pr)
	case duban.VerbDelegate:
		return t.askDelegate(ctx, tx, pr)
	case duban.VerbDetails:
		return t.details(ctx, tx, pr)
	case duban.VerbOutcome:
		return t.outcome(ctx, tx, pr)
	}
	return t.alert(pr, "bot.error"), nil
}

// alert answers the press with a message the presser must dismiss.
func (t *Bot) alert(pr press, id string) replies {
	return replies{tgbotapi.NewCallbackWithAlert(pr.q.ID, t.t.T(pr.locale, id, nil))}
}

// failed answers a press whose use case refused, rolling back whatever the
// update did; other errors are returned for the update to be retried.
func (t *Bot) failed(pr press, err error) (replies, error) {
	id, ok := bot.ReplyFor(err)
	if !ok {
		return nil, err
	}
	return t.alert(pr, id), bot.ErrUndo
}

// confirm records that the head appears in person; the office staff
// pressing it record an answer given by phone. Whoever else presses it is
// refused by the rule book before anything changes.
func (t *Bot) confirm(ctx context.Context, tx *storage.Store, pr press) (replies, error) {
	_, ha, err := bot.HearingOf(ctx, tx, pr.cb.HearingAgencyID)
	if err != nil {
		return t.failed(pr, err)
	}
	if !bot.MayAnswer(pr.p, ha) {
		return t.alert(pr, "bot.not_yours"), nil
	}
	_, _, err = t.hearings.With(tx).Answer(ctx, jobs.Actor{Person: pr.p}, jobs.AnswerRequest{
		HearingAgencyID: pr.cb.HearingAgencyID, Answer: duban.AnswerConfirmed})
	if err != nil {
		return t.failed(pr, err)
	}
	// A question of who appears instead, still open in this chat, is moot.
	st, err := bot.Optional(tx.ChatStateOf(ctx, chatKey(pr.chat)))
	if err != nil {
		return nil, err
	}
	if st != nil && st.Kind == kindDelegate {
		if err := tx.ClearChatState(ctx, st.ChatKey); err != nil {
			return nil, err
		}
	}
	text := t.t.T(pr.locale, "bot.answer.confirmed", nil)
	return replies{tgbotapi.NewCallback(pr.q.ID, text), tgbotapi.NewMessage(pr.chat, text)}, nil
}

// askDelegate asks the head who appears instead and why; the answer is the
// head's next message in this chat, read by delegateText.
func (t *Bot) askDelegate(ctx context.Context, tx *storage.Store, pr press) (replies, error) {
	h, ha, err := bot.HearingOf(ctx, tx, pr.cb.HearingAgencyID)
	if err != nil {
		return t.failed(pr, err)
	}
	if !bot.MayAnswer(pr.p, ha) {
		return t.alert(pr, "bot.not_yours"), nil
	}
	if err := bot.Answerable(h, t.clock.Now()); err != nil {
		return t.alert(pr, "bot.too_late"), nil
	}
	err = tx.SetChatState(ctx, &storage.ChatState{ChatKey: chatKey(pr.chat), PersonID: &pr.p.ID, Kind: kindDelegate,
		Data: strconv.FormatInt(ha.ID, 10)})
	if err != nil {
		return nil, err
	}
	return replies{tgbotapi.NewCallback(pr.q.ID, ""), tgbotapi.NewMessage(pr.chat, t.t.T(pr.locale, "bot.answer.delegate_prompt", nil))}, nil
}

func (t *Bot) details(ctx context.Context, tx *storage.Store, pr press) (replies, error) {
	h, ha, err := bot.HearingOf(ctx, tx, pr.cb.HearingAgencyID)
	if err != nil {
		return t.failed(pr, err)
	}
	if !bot.MaySee(pr.p, ha) {
		return t.alert(pr, "bot.not_yours"), nil
	}
	text := t.hearings.Render.Details(pr.locale, h, ha)
	return replies{tgbotapi.NewCallback(pr.q.ID, ""), tgbotapi.NewMessage(pr.chat, text)}, nil
}

// outcome records who appeared, as the office staff answer an outcome
// request, and takes the buttons off the request.
func (t *Bot) outcome(ctx context.Context, tx *storage.Store, pr press) (replies, error) {
	h, ha, err := bot.HearingOf(ctx, tx, pr.cb.HearingAgencyID)
	if err != nil {
		return t.failed(pr, err)
	}
	if !bot.MayRecordOutcome(pr.p, ha) {
		return t.alert(pr, "bot.not_yours"), nil
	}
	_, ha, err = t.hearings.With(tx).RecordOutcomeFor(ctx, jobs.Actor{Person: pr.p}, pr.cb.HearingAgencyID, pr.cb.Attendance)
	var se *duban.StateError
	if errors.As(err, &se) && t.clock.Now().Before(h.StartsAt) && h.Status == duban.HearingScheduled {
		return t.alert(pr, "bot.outcome.too_early"), bot.ErrUndo
	}
	if err != nil {
		return t.failed(pr, err)
	}
	text := t.t.T(pr.locale, "bot.outcome.recorded", map[string]any{
		"Agency": ha.AgencyName, "Attendance": t.t.T(pr.locale, bot.AttendanceID(pr.cb.Attendance), nil)})
	out := replies{tgbotapi.NewCallback(pr.q.ID, text)}
	if pr.msgID != 0 {
		out = append(out, tgbotapi.NewEditMessageReplyMarkup(pr.chat, pr.msgID,
			tgbotapi.InlineKeyboardMarkup{InlineKeyboard: [][]tgbotapi.InlineKeyboardButton{}}))
	}
	return append(out, tgbotapi.NewMessage(pr.chat, text)), nil
}
