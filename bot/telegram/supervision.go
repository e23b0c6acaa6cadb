package telegram

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"unicode/utf8"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/bot"
	"github.com/cityhall/duban/jobs"
	"github.com/cityhall/duban/storage"
)

// Supervisors act on complaints from Telegram as they do from Slack: the
// buttons jobs.Complaints.SupervisionMessage puts under a complaint
// ("ca:<id>" accept, "cj:<id>" reject, "cs:<id>" assign, "cu:<id>" urge,
// "cc:<id>" close, "co:<id>" reopen) are checked against their presser
// through the rule book and taken through jobs.Complaints.Act, which checks
// the complaint's state. Accept, urge, close and reopen act at once; reject
// asks for the reason as the supervisor's next message; assign offers the
// active agencies as buttons ("sa:<complaint id>:<agency id>") or takes a
// typed agency code, with the default working days unless others are typed.
// The questions are chat states, so a restart loses nothing.

const (
	// kindReject is the chat state of a supervisor asked why a complaint
	// is rejected; its data is the complaint's id.
	kindReject = "c_reject"
	// kindAssign is the chat state of a supervisor asked where a complaint
	// goes; its data is the complaint's id.
	kindAssign = "c_assign"
	// assignPrefix begins the data of an agency button of an assignment:
	// "sa:<complaint id>:<agency id>", well within 64 bytes. No hearing or
	// complaint verb is "sa".
	assignPrefix = "sa:"
	// maxReasonRunes bounds a rejection's reason, as Slack's modal does.
	maxReasonRunes = duban.MaxFieldRunes
)

// supervise handles a supervision button pressed on Telegram.
func (t *Bot) supervise(ctx context.Context, tx *storage.Store, pr press, cc duban.ComplaintCallback) (replies, error) {
	action, ok := bot.ActionOf(cc.Verb)
	if !ok || t.complaints == nil {
		return t.alert(pr, "bot.error"), nil
	}
	c, refusal, err := t.supervisable(ctx, tx, pr, cc.ComplaintID, action)
	if refusal != nil || err != nil {
		return refusal, err
	}
	switch action {
	case duban.ActionReject, duban.ActionAssign:
		kind, prompt, data := kindReject, "tg.c.reason_prompt", map[string]any{"Code": duban.FormatTrackingCode(c.TrackingCode)}
		if action == duban.ActionAssign {
			kind, prompt = kindAssign, "tg.c.assign_prompt"
			data["Days"], data["MaxDays"] = duban.DefaultWorkingDays, duban.MaxAssignWorkingDays
		}
		if err := tx.SetChatState(ctx, &storage.ChatState{ChatKey: chatKey(pr.chat), PersonID: &pr.p.ID, Kind: kind,
			Data: strconv.FormatInt(c.ID, 10)}); err != nil {
			return nil, err
		}
		msg := t.text(pr.chat, pr.locale, prompt, data)
		if action == duban.ActionAssign {
			kb, err := t.agencyKeyboard(ctx, tx, c)
			if err != nil {
				return nil, err
			}
			if kb != nil {
				msg.ReplyMarkup = *kb
			}
		}
		return replies{tgbotapi.NewCallback(pr.q.ID, ""), msg}, nil
	}
	return t.act(ctx, tx, pr.chat, pr.msgID, pr.q.ID, pr.p, pr.locale, c.ID, duban.ActionRequest{Action: action})
}

// supervisable loads the complaint a press is about and checks, before
// anything is asked, that the presser may take action on it (the rule
// book) and that its state allows it. A refusal is the answer to send.
func (t *Bot) supervisable(ctx context.Context, tx *storage.Store, pr press, id int64, action duban.Action) (*duban.Complaint, replies, error) {
	if pr.p == nil {
		return nil, t.alert(pr, "bot.not_yours"), nil
	}
	c, err := bot.Optional(tx.ComplaintByID(ctx, id))
	if err != nil {
		return nil, nil, err
	}
	if c == nil {
		return nil, t.alert(pr, "tg.c.not_found"), nil
	}
	if !(duban.Actor{Person: pr.p}).May(duban.ComplaintDo(action), duban.Of(c)) {
		return nil, t.alert(pr, "bot.not_yours"), nil
	}
	if _, err := duban.Transition(c.Status, action); err != nil {
		var se *duban.StateError
		if !errors.As(err, &se) {
			return nil, nil, err
		}
		return nil, replies{tgbotapi.NewCallbackWithAlert(pr.q.ID, t.notAllowed(pr.locale, c, se))}, nil
	}
	return c, nil, nil
}

// agencyKeyboard offers the active agencies to assign c to, the current
// one first; nil when there is none (a code is typed instead).
func (t *Bot) agencyKeyboard(ctx context.Context, tx *storage.Store, c *duban.Complaint) (*tgbotapi.InlineKeyboardMarkup, error) {
	as, err := tx.Agencies(ctx)
	if err != nil {
		return nil, err
	}
	var bs []tgbotapi.InlineKeyboardButton
	for _, a := range as {
		if !a.Active || len(bs) == maxAgencyButtons {
			continue
		}
		b := tgbotapi.NewInlineKeyboardButtonData(duban.Truncate(a.Name+" ("+a.Code+")", 40), assignData(c.ID, a.ID))
		if c.AgencyID != nil && *c.AgencyID == a.ID {
			bs = append([]tgbotapi.InlineKeyboardButton{b}, bs...)
		} else {
			bs = append(bs, b)
		}
	}
	if len(bs) == 0 {
		return nil, nil
	}
	kb := keyboard(bs, 2)
	return &kb, nil
}

// assignData is an agency button's callback data.
func assignData(complaintID, agencyID int64) string {
	return assignPrefix + strconv.FormatInt(complaintID, 10) + ":" + strconv.FormatInt(agencyID, 10)
}

// parseAssignData reads data made by assignData.
func parseAssignData(s string) (complaintID, agencyID int64, ok bool) {
	rest, found := strings.CutPrefix(s, assignPrefix)
	if !found || len(s) > duban.MaxCallbackData {
		return 0, 0, false
	}
	cs, as, found := strings.Cut(rest, ":")
	c, err1 := strconv.ParseInt(cs, 10, 64)
	a, err2 := strconv.ParseInt(as, 10, 64)
	if !found || err1 != nil || err2 != nil || c <= 0 || a <= 0 {
		return 0, 0, false
	}
	return c, a, true
}

// assignPress assigns a complaint to the agency of the button pressed,
// with the default working days.
func (t *Bot) assignPress(ctx context.Context, tx *storage.Store, pr press) (replies, error) {
	id, agencyID, ok := parseAssignData(pr.q.Data)
	if !ok || t.complaints == nil {
		return t.alert(pr, "bot.error"), nil
	}
	c, refusal, err := t.supervisable(ctx, tx, pr, id, duban.ActionAssign)
	if refusal != nil || err != nil {
		return refusal, err
	}
	a, err := bot.Optional(tx.AgencyByID(ctx, agencyID))
	if err != nil {
		return nil, err
	}
	if a == nil || !a.Active {
		return t.alert(pr, "report.stale"), nil
	}
	if err := t.endQuestion(ctx, tx, pr.chat, c.ID); err != nil {
		return nil, err
	}
	return t.act(ctx, tx, pr.chat, pr.msgID, pr.q.ID, pr.p, pr.locale, c.ID, duban.ActionRequest{Action: duban.ActionAssign, Agency: a.Code})
}

// endQuestion ends the chat's question about complaint id, if one stands.
func (t *Bot) endQuestion(ctx context.Context, tx *storage.Store, chat, id int64) error {
	st, err := bot.Optional(tx.ChatStateOf(ctx, chatKey(chat)))
	if err != nil || st == nil {
		return err
	}
	if (st.Kind == kindReject || st.Kind == kindAssign) && st.Data == strconv.FormatInt(id, 10) {
		return tx.ClearChatState(ctx, st.ChatKey)
	}
	return nil
}

// superviseText reads a supervisor's answer to a question of reject or
// assign: the reason, or the agency code and optional working days. It
// reports false when the chat is not in such a question.
func (t *Bot) superviseText(ctx context.Context, tx *storage.Store, chat int64, p *duban.Person, locale, text string) (replies, bool, error) {
	st, err := bot.Optional(tx.ChatStateOf(ctx, chatKey(chat)))
	if err != nil {
		return nil, true, err
	}
	if st == nil || (st.Kind != kindReject && st.Kind != kindAssign) || st.PersonID == nil || *st.PersonID != p.ID {
		return nil, false, nil
	}
	id, err := strconv.ParseInt(st.Data, 10, 64)
	if err != nil || t.complaints == nil {
		if err := tx.ClearChatState(ctx, st.ChatKey); err != nil {
			return nil, true, err
		}
		return replies{t.text(chat, locale, "bot.error", nil)}, true, nil
	}
	text = strings.TrimSpace(text)
	req := duban.ActionRequest{Action: duban.ActionReject, Reason: text}
	if st.Kind == kindReject {
		if text == "" || !utf8.ValidString(text) || utf8.RuneCountInString(text) > maxReasonRunes {
			return replies{t.text(chat, locale, "tg.c.reason_expected", nil)}, true, nil
		}
	} else {
		req = duban.ActionRequest{Action: duban.ActionAssign}
		f := strings.Fields(text)
		unknown := replies{t.text(chat, locale, "tg.c.assign_unknown", map[string]any{"Code": duban.Truncate(text, 64),
			"MaxDays": duban.MaxAssignWorkingDays})}
		if len(f) == 0 || len(f) > 2 {
			return unknown, true, nil
		}
		a, err := bot.Optional(tx.AgencyByCode(ctx, f[0]))
		if err == nil && a == nil && strings.ToUpper(f[0]) != f[0] {
			a, err = bot.Optional(tx.AgencyByCode(ctx, strings.ToUpper(f[0]))) // codes are mostly typed in capitals
		}
		if err != nil {
			return nil, true, err
		}
		if a == nil || !a.Active {
			return unknown, true, nil
		}
		req.Agency = a.Code
		if len(f) == 2 {
			n, err := strconv.Atoi(f[1])
			if err != nil || n < 1 || n > duban.MaxAssignWorkingDays {
				return unknown, true, nil
			}
			req.WorkingDays = n
		}
	}
	// The question ends whatever the answer: done, or refused for a reason
	// the supervisor is told.
	if err := tx.ClearChatState(ctx, st.ChatKey); err != nil {
		return nil, true, err
	}
	out, err := t.act(ctx, tx, chat, 0, "", p, locale, id, req)
	return out, true, err
}

// act takes a supervisor's action through jobs.Complaints.Act, which
// checks the presser and the complaint's state again in its transaction.
// Done, the button's message shows the buttons of the new state; refused,
// the supervisor is told why (with the actions allowed) and nothing
// changes. queryID is the press answered, "" for a typed answer.
func (t *Bot) act(ctx context.Context, tx *storage.Store, chat int64, msgID int, queryID string, p *duban.Person,
	locale string, id int64, req duban.ActionRequest) (replies, error) {
	say := func(text string, refused bool) replies {
		if queryID == "" {
			return replies{tgbotapi.NewMessage(chat, text)}
		}
		if refused {
			return replies{tgbotapi.NewCallbackWithAlert(queryID, text)}
		}
		return replies{tgbotapi.NewCallback(queryID, text), tgbotapi.NewMessage(chat, text)}
	}
	c, err := t.complaints.With(tx).Act(ctx, jobs.Actor{Person: p}, id, req)
	if err != nil {
		text, ok := t.refusalText(ctx, tx, locale, id, err)
		if !ok {
			return nil, err
		}
		return say(text, true), bot.ErrUndo
	}
	out := say(t.t.T(locale, "tg.c.done", map[string]any{"Code": duban.FormatTrackingCode(c.TrackingCode),
		"Action": bot.ActionName(t.t, locale, string(req.Action)), "Status": t.t.T(locale, "complaint.status."+string(c.Status), nil)}), false)
	if msgID != 0 {
		msg, err := t.complaints.SupervisionMessage(ctx, c, locale)
		if err != nil {
			return nil, err
		}
		kb := tgbotapi.InlineKeyboardMarkup{InlineKeyboard: [][]tgbotapi.InlineKeyboardButton{}}
		for _, row := range msg.Buttons {
			var r []tgbotapi.InlineKeyboardButton
			for _, b := range row {
				r = append(r, tgbotapi.NewInlineKeyboardButtonData(b.Label, b.Data))
			}
			kb.InlineKeyboard = append(kb.InlineKeyboard, r)
		}
		out = append(out, tgbotapi.NewEditMessageReplyMarkup(chat, msgID, kb))
	}
	return out, nil
}

// refusalText is what a refused action tells the supervisor; false for
// errors that are not the user's.
func (t *Bot) refusalText(ctx context.Context, tx *storage.Store, locale string, id int64, err error) (string, bool) {
	var se *duban.StateError
	var ve *duban.ValidationError
	switch {
	case errors.As(err, &se):
		c, cerr := tx.ComplaintByID(ctx, id)
		if cerr != nil {
			return t.t.T(locale, "bot.error", nil), true
		}
		return t.notAllowed(locale, c, se), true
	case errors.Is(err, duban.ErrForbidden):
		return t.t.T(locale, "bot.not_yours", nil), true
	case errors.Is(err, duban.ErrNotFound):
		return t.t.T(locale, "tg.c.not_found", nil), true
	case errors.As(err, &ve), errors.Is(err, duban.ErrInvalid), errors.Is(err, duban.ErrConflict):
		return t.t.T(locale, "bot.error", nil), true
	}
	return "", false
}

// notAllowed says which state c is in and what may be done in it.
func (t *Bot) notAllowed(locale string, c *duban.Complaint, se *duban.StateError) string {
	data := bot.StateData(t.t, locale, se)
	data["Code"] = duban.FormatTrackingCode(c.TrackingCode)
	if len(se.Allowed) == 0 {
		return t.t.T(locale, "tg.c.none_allowed", data)
	}
	return t.t.T(locale, "tg.c.not_allowed", data)
}
