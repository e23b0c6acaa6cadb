package telegram

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"strings"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/bot"
	"github.com/cityhall/duban/jobs"
	"github.com/cityhall/duban/storage"
)

// The guided report of the public hotline: category, agency, what
// happened, when and where, photos and documents, contact, then a summary
// to confirm. Each answer is saved as the chat's state in the transaction
// of its update before the bot replies, so a restart loses nothing.

// startReport begins a report in chat, or asks again the question of one
// already begun.
func (t *Bot) startReport(ctx context.Context, tx *storage.Store, chat int64, locale string) (replies, error) {
	st, err := bot.Optional(tx.ChatStateOf(ctx, chatKey(chat)))
	if err != nil {
		return nil, err
	}
	if st != nil && st.Kind == kindReport {
		if d, err := decodeDraft(st.Data); err == nil {
			msg, err := t.prompt(ctx, tx, chat, locale, d)
			if err != nil {
				return nil, err
			}
			return replies{msg}, nil
		}
	}
	// A chat past its reports of the day is told so before it writes one.
	ok, err := t.reportsLeft(ctx, tx, chat)
	if err != nil {
		return nil, err
	}
	if !ok {
		return replies{t.tooManyReports(chat, locale)}, nil
	}
	return t.advance(ctx, tx, chat, locale, &draft{Step: stepCategory, Locale: locale})
}

// tooManyReports tells a chat it filed all the reports it may today.
func (t *Bot) tooManyReports(chat int64, locale string) tgbotapi.MessageConfig {
	return t.text(chat, locale, "report.limit.reached", map[string]any{"Max": t.perChat})
}

// saveDraft keeps d as the chat's state.
func (t *Bot) saveDraft(ctx context.Context, tx *storage.Store, chat int64, d *draft) error {
	st, err := d.state(chat, t.clock.Now())
	if err != nil {
		return err
	}
	return tx.SetChatState(ctx, st)
}

// advance saves d and asks the question of its step.
func (t *Bot) advance(ctx context.Context, tx *storage.Store, chat int64, locale string, d *draft) (replies, error) {
	if err := t.saveDraft(ctx, tx, chat, d); err != nil {
		return nil, err
	}
	msg, err := t.prompt(ctx, tx, chat, locale, d)
	if err != nil {
		return nil, err
	}
	return replies{msg}, nil
}

// reportInput handles a message of a chat whose report is in progress.
// An answer the step refuses changes nothing and is told why.
func (t *Bot) reportInput(ctx context.Context, tx *storage.Store, m *tgbotapi.Message, st *storage.ChatState, locale string) (replies, error) {
	chat := m.Chat.ID
	d, err := decodeDraft(st.Data)
	if err != nil {
		t.log.Warn("telegram: unreadable report draft; starting again", slog.Any("error", err))
		return t.advance(ctx, tx, chat, locale, &draft{Step: stepCategory, Locale: locale})
	}
	switch d.Step {
	case stepAgency:
		if m.Text != "" {
			return t.typedAgency(ctx, tx, chat, locale, d, m.Text)
		}
	case stepText:
		if err := d.appendText(m.Text); err != nil {
			return replies{t.refusedText(chat, locale, d, err)}, nil
		}
		if err := t.saveDraft(ctx, tx, chat, d); err != nil {
			return nil, err
		}
		return replies{t.withButton(t.text(chat, locale, "report.text.added", map[string]any{"Count": d.runes()}),
			locale, "report.button.done_text", reportData(rDone))}, nil
	case stepWhere:
		switch {
		case m.Location != nil:
			if err := d.setLocation(m.Location.Latitude, m.Location.Longitude); err != nil {
				return replies{t.text(chat, locale, "report.where.bad_location", nil)}, nil
			}
		case m.Text != "":
			if err := d.setWhere(m.Text); err != nil {
				return replies{t.refusedText(chat, locale, d, err)}, nil
			}
		default:
			return t.reprompt(ctx, tx, chat, locale, d)
		}
		d.Step = stepFiles
		return t.advance(ctx, tx, chat, locale, d)
	case stepFiles:
		f, ok := fileOf(m)
		if !ok {
			return replies{t.withButton(t.text(chat, locale, "report.files.expected", nil), locale, "report.button.done", reportData(rDone))}, nil
		}
		switch err := d.addFile(f); {
		case errors.Is(err, errFileTooBig):
			return replies{t.text(chat, locale, "report.files.too_big", map[string]any{"MaxMB": duban.MaxAttachmentBytes >> 20})}, nil
		case errors.Is(err, errTooManyFiles):
			return replies{t.text(chat, locale, "report.files.too_many", map[string]any{"Max": maxReportFiles})}, nil
		case err != nil:
			return replies{t.text(chat, locale, "report.files.expected", nil)}, nil
		}
		if err := t.saveDraft(ctx, tx, chat, d); err != nil {
			return nil, err
		}
		return replies{t.withButton(t.text(chat, locale, "report.files.added", map[string]any{"Count": len(d.Files)}),
			locale, "report.button.done", reportData(rDone))}, nil
	case stepContact:
		return t.contactInput(ctx, tx, m, locale, d)
	}
	return t.reprompt(ctx, tx, chat, locale, d)
}

// reprompt asks the step's question again; nothing changes.
func (t *Bot) reprompt(ctx context.Context, tx *storage.Store, chat int64, locale string, d *draft) (replies, error) {
	msg, err := t.prompt(ctx, tx, chat, locale, d)
	if err != nil {
		return nil, err
	}
	return replies{msg}, nil
}

// refusedText tells why a text was not kept.
func (t *Bot) refusedText(chat int64, locale string, d *draft, err error) tgbotapi.MessageConfig {
	switch {
	case errors.Is(err, errReportEncoding):
		return t.text(chat, locale, "report.text.invalid", nil)
	case errors.Is(err, errReportTooLong) && d.Step == stepWhere:
		return t.text(chat, locale, "report.where.too_long", map[string]any{"Max": min(maxFieldRunes, duban.MaxReportRunes-d.runes())})
	case errors.Is(err, errReportTooLong):
		return t.text(chat, locale, "report.text.too_long", map[string]any{"Max": duban.MaxReportRunes, "Count": d.runes()})
	}
	return t.text(chat, locale, "report.text.empty", nil)
}

// typedAgency reads the agency as typed: an active agency's code or name
// picks it; anything else is kept as said.
func (t *Bot) typedAgency(ctx context.Context, tx *storage.Store, chat int64, locale string, d *draft, text string) (replies, error) {
	s, err := cleanText(text, maxFieldRunes)
	if err != nil {
		return replies{t.text(chat, locale, "report.agency.invalid", map[string]any{"Max": maxFieldRunes})}, nil
	}
	as, err := tx.Agencies(ctx)
	if err != nil {
		return nil, err
	}
	d.AgencyCode, d.AgencyName, d.AgencyText = "", "", s
	for _, a := range as {
		if a.Active && (strings.EqualFold(a.Code, s) || a.Name == s) {
			d.AgencyCode, d.AgencyName, d.AgencyText = a.Code, a.Name, ""
			break
		}
	}
	d.Step = stepText
	return t.advance(ctx, tx, chat, locale, d)
}

// fileOf reads the photo (its largest size) or document of a message.
func fileOf(m *tgbotapi.Message) (draftFile, bool) {
	if len(m.Photo) > 0 {
		best := m.Photo[0]
		for _, p := range m.Photo[1:] {
			if p.Width*p.Height > best.Width*best.Height || (p.Width*p.Height == best.Width*best.Height && p.FileSize > best.FileSize) {
				best = p
			}
		}
		// Telegram re-encodes every photo as JPEG.
		return draftFile{FileID: best.FileID, Kind: "photo", Size: int64(best.FileSize), MIME: "image/jpeg"}, true
	}
	if doc := m.Document; doc != nil {
		return draftFile{FileID: doc.FileID, Kind: "document", Size: int64(doc.FileSize), MIME: sanitizeField(doc.MimeType, 255)}, true
	}
	return draftFile{}, false
}

// contactInput reads how the reporter is reached: their own shared
// contact, this chat only, or anonymous.
func (t *Bot) contactInput(ctx context.Context, tx *storage.Store, m *tgbotapi.Message, locale string, d *draft) (replies, error) {
	chat := m.Chat.ID
	ack := ""
	switch text := strings.TrimSpace(m.Text); {
	case m.Contact != nil:
		if m.Contact.UserID != m.From.ID {
			msg := t.text(chat, locale, "report.contact.not_own", nil)
			msg.ReplyMarkup = t.contactKeyboard(locale)
			return replies{msg}, nil
		}
		d.setContact(m.Contact.FirstName+" "+m.Contact.LastName, m.Contact.PhoneNumber)
		ack = "report.contact.phone"
	case t.isLabel(text, "report.button.chat_only"):
		d.Contact, d.Name, d.Phone = contactChat, "", ""
		ack = "report.contact.chat"
	case t.isLabel(text, "report.button.anonymous"):
		d.Contact, d.Name, d.Phone = contactAnonymous, "", ""
		ack = "report.contact.anonymous"
	default:
		msg := t.text(chat, locale, "report.contact.expected", nil)
		msg.ReplyMarkup = t.contactKeyboard(locale)
		return replies{msg}, nil
	}
	d.Step = stepConfirm
	if err := t.saveDraft(ctx, tx, chat, d); err != nil {
		return nil, err
	}
	done := t.text(chat, locale, ack, nil)
	done.ReplyMarkup = tgbotapi.NewRemoveKeyboard(false)
	return replies{done, t.summary(chat, locale, d)}, nil
}

// isLabel reports whether text is the label of button id in a language
// duban speaks: the reply keyboard sends its label as a message.
func (t *Bot) isLabel(text, id string) bool {
	return text != "" && (text == t.t.T(duban.LocaleZH, id, nil) || text == t.t.T(duban.LocaleEN, id, nil))
}

// reportPress handles a button of the report. A button of a step already
// passed is stale and changes nothing.
func (t *Bot) reportPress(ctx context.Context, tx *storage.Store, pr press) (replies, error) {
	verb, arg, ok := parseReportData(pr.q.Data)
	if !ok || t.complaints == nil {
		return t.alert(pr, "bot.error"), nil
	}
	st, err := bot.Optional(tx.ChatStateOf(ctx, chatKey(pr.chat)))
	if err != nil {
		return nil, err
	}
	var d *draft
	if st != nil && st.Kind == kindReport {
		d, _ = decodeDraft(st.Data)
	}
	if d == nil {
		return t.alert(pr, "report.none"), nil
	}
	switch {
	case verb == rCancel:
		if err := tx.ClearChatState(ctx, st.ChatKey); err != nil {
			return nil, err
		}
		msg := t.text(pr.chat, pr.locale, "bot.cancelled", nil)
		msg.ReplyMarkup = tgbotapi.NewRemoveKeyboard(false)
		return append(t.pressed(pr), msg), nil
	case verb == rCategory && d.Step == stepCategory:
		c, err := duban.ParseCategory(arg)
		if err != nil {
			return t.alert(pr, "bot.error"), nil
		}
		d.Category, d.Step = c, stepAgency
	case verb == rAgency && d.Step == stepAgency:
		d.AgencyCode, d.AgencyName, d.AgencyText = "", "", ""
		if arg != "-" {
			id, _ := strconv.ParseInt(arg, 10, 64)
			a, err := bot.Optional(tx.AgencyByID(ctx, id))
			if err != nil {
				return nil, err
			}
			if a == nil || !a.Active {
				return t.alert(pr, "report.stale"), nil
			}
			d.AgencyCode, d.AgencyName = a.Code, a.Name
		}
		d.Step = stepText
	case verb == rDone && d.Step == stepText:
		if d.Text == "" {
			return t.alert(pr, "report.text.empty"), nil
		}
		d.Step = stepWhere
	case verb == rSkip && d.Step == stepWhere:
		d.Step = stepFiles
	case (verb == rDone || verb == rSkip) && d.Step == stepFiles:
		d.Step = stepContact
	case verb == rEdit && d.Step == stepConfirm:
		d = &draft{Step: stepCategory, Locale: d.Locale}
	case verb == rConfirm && d.Step == stepConfirm:
		return t.submit(ctx, tx, pr, d)
	default:
		return t.alert(pr, "report.stale"), nil
	}
	out, err := t.advance(ctx, tx, pr.chat, pr.locale, d)
	if err != nil {
		return nil, err
	}
	return append(t.pressed(pr), out...), nil
}

// pressed acknowledges a press and takes the buttons off its message, so
// that they are not pressed again.
func (t *Bot) pressed(pr press) replies {
	out := replies{tgbotapi.NewCallback(pr.q.ID, "")}
	if pr.msgID != 0 {
		out = append(out, tgbotapi.NewEditMessageReplyMarkup(pr.chat, pr.msgID,
			tgbotapi.InlineKeyboardMarkup{InlineKeyboard: [][]tgbotapi.InlineKeyboardButton{}}))
	}
	return out
}

// submit files the confirmed report, in the transaction of the confirming
// update, which also ends the draft; its update id is the idempotency key.
func (t *Bot) submit(ctx context.Context, tx *storage.Store, pr press, d *draft) (replies, error) {
	// Past the day's reports nothing is filed; the draft stays, to confirm
	// once the day has passed, until it is dropped as idle.
	ok, err := t.reportsLeft(ctx, tx, pr.chat)
	if err != nil {
		return nil, err
	}
	if !ok {
		return replies{tgbotapi.NewCallback(pr.q.ID, ""), t.tooManyReports(pr.chat, pr.locale)}, nil
	}
	if d.AgencyCode != "" {
		// An agency deleted since it was picked is kept as its name.
		a, err := bot.Optional(tx.AgencyByCode(ctx, d.AgencyCode))
		if err != nil {
			return nil, err
		}
		if a == nil {
			d.AgencyCode, d.AgencyText = "", d.AgencyName
		}
	}
	c, _, err := t.complaints.With(tx).Create(ctx, jobs.Actor{Name: "telegram"}, d.intake(pr.chat, pr.update))
	if errors.Is(err, duban.ErrInvalid) {
		// The steps check everything Create does; this is a bug, not the
		// reporter's doing. The draft stays, to edit or cancel.
		t.log.Error("telegram: report refused", slog.Any("error", err))
		return t.alert(pr, "bot.error"), bot.ErrUndo
	}
	if err != nil {
		return nil, err
	}
	if err := tx.ClearChatState(ctx, chatKey(pr.chat)); err != nil {
		return nil, err
	}
	if err := t.countReport(ctx, tx, pr.chat); err != nil {
		return nil, err
	}
	code := duban.FormatTrackingCode(c.TrackingCode)
	return append(t.pressed(pr), t.text(pr.chat, pr.locale, "report.created", map[string]any{"Code": code})), nil
}
