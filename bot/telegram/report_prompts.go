package telegram

import (
	"context"
	"fmt"
	"strconv"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/storage"
)

// prompt is the question of d's step, with its buttons.
func (t *Bot) prompt(ctx context.Context, tx *storage.Store, chat int64, locale string, d *draft) (tgbotapi.MessageConfig, error) {
	button := func(id, data string) tgbotapi.InlineKeyboardButton {
		return tgbotapi.NewInlineKeyboardButtonData(t.t.T(locale, id, nil), data)
	}
	switch d.Step {
	case stepCategory:
		var bs []tgbotapi.InlineKeyboardButton
		for _, c := range duban.Categories {
			bs = append(bs, tgbotapi.NewInlineKeyboardButtonData(t.t.T(locale, "category."+string(c), nil), reportData(rCategory, string(c))))
		}
		msg := t.text(chat, locale, "report.start", nil)
		msg.ReplyMarkup = keyboard(bs, 2)
		return msg, nil
	case stepAgency:
		as, err := tx.Agencies(ctx)
		if err != nil {
			return tgbotapi.MessageConfig{}, err
		}
		var bs []tgbotapi.InlineKeyboardButton
		for _, a := range as {
			if a.Active && len(bs) < maxAgencyButtons {
				bs = append(bs, tgbotapi.NewInlineKeyboardButtonData(duban.Truncate(a.Name, 40), reportData(rAgency, strconv.FormatInt(a.ID, 10))))
			}
		}
		msg := t.text(chat, locale, "report.ask.agency", nil)
		msg.ReplyMarkup = keyboard(bs, 2, button("report.button.agency_unknown", reportData(rAgency, "-")))
		return msg, nil
	case stepText:
		msg := t.text(chat, locale, "report.ask.text", map[string]any{"Max": duban.MaxReportRunes})
		if d.Text != "" {
			msg = t.withButton(msg, locale, "report.button.done_text", reportData(rDone))
		}
		return msg, nil
	case stepWhere:
		return t.withButton(t.text(chat, locale, "report.ask.where", nil), locale, "report.button.skip", reportData(rSkip)), nil
	case stepFiles:
		msg := t.text(chat, locale, "report.ask.files", map[string]any{"MaxMB": duban.MaxAttachmentBytes >> 20, "Max": maxReportFiles})
		if len(d.Files) > 0 {
			return t.withButton(msg, locale, "report.button.done", reportData(rDone)), nil
		}
		return t.withButton(msg, locale, "report.button.skip", reportData(rSkip)), nil
	case stepContact:
		msg := t.text(chat, locale, "report.ask.contact", nil)
		msg.ReplyMarkup = t.contactKeyboard(locale)
		return msg, nil
	}
	return t.summary(chat, locale, d), nil
}

// withButton puts one button under msg.
func (t *Bot) withButton(msg tgbotapi.MessageConfig, locale, id, data string) tgbotapi.MessageConfig {
	msg.ReplyMarkup = tgbotapi.NewInlineKeyboardMarkup(tgbotapi.NewInlineKeyboardRow(
		tgbotapi.NewInlineKeyboardButtonData(t.t.T(locale, id, nil), data)))
	return msg
}

// keyboard lays buttons out perRow to a row, then each of last on a row
// of its own.
func keyboard(bs []tgbotapi.InlineKeyboardButton, perRow int, last ...tgbotapi.InlineKeyboardButton) tgbotapi.InlineKeyboardMarkup {
	var rows [][]tgbotapi.InlineKeyboardButton
	for i := 0; i < len(bs); i += perRow {
		rows = append(rows, bs[i:min(i+perRow, len(bs))])
	}
	for _, b := range last {
		rows = append(rows, tgbotapi.NewInlineKeyboardRow(b))
	}
	return tgbotapi.NewInlineKeyboardMarkup(rows...)
}

// contactKeyboard offers the reporter's own contact (request_contact),
// this chat only, or anonymity.
func (t *Bot) contactKeyboard(locale string) tgbotapi.ReplyKeyboardMarkup {
	kb := tgbotapi.NewReplyKeyboard(
		tgbotapi.NewKeyboardButtonRow(tgbotapi.NewKeyboardButtonContact(t.t.T(locale, "report.button.share_contact", nil))),
		tgbotapi.NewKeyboardButtonRow(tgbotapi.NewKeyboardButton(t.t.T(locale, "report.button.chat_only", nil)),
			tgbotapi.NewKeyboardButton(t.t.T(locale, "report.button.anonymous", nil))))
	kb.OneTimeKeyboard = true
	return kb
}

// summary shows the draft to confirm, within Telegram's message limit.
func (t *Bot) summary(chat int64, locale string, d *draft) tgbotapi.MessageConfig {
	agency := d.AgencyName
	if agency == "" {
		agency = d.AgencyText
	}
	if agency == "" {
		agency = t.t.T(locale, "complaint.agency_unknown", nil)
	}
	where := d.Where
	if d.Lat != nil && d.Lon != nil {
		where = t.t.T(locale, "report.summary.point", map[string]any{"Lat": fmt.Sprintf("%.5f", *d.Lat), "Lon": fmt.Sprintf("%.5f", *d.Lon)})
	}
	if where == "" {
		where = t.t.T(locale, "report.summary.none", nil)
	}
	contact := t.t.T(locale, "report.summary.chat", nil)
	switch d.Contact {
	case contactPhone:
		contact = t.t.T(locale, "report.summary.phone", map[string]any{"Name": d.Name, "Phone": d.Phone})
	case contactAnonymous:
		contact = t.t.T(locale, "report.summary.anonymous", nil)
	}
	text := t.t.T(locale, "report.summary", map[string]any{"Category": t.t.T(locale, "category."+string(d.Category), nil),
		"Agency": duban.Truncate(agency, 200), "Description": duban.Truncate(d.Text, 2000), "Where": duban.Truncate(where, 300),
		"Files": len(d.Files), "Contact": contact})
	msg := tgbotapi.NewMessage(chat, duban.Truncate(text, maxMessageRunes))
	msg.ReplyMarkup = tgbotapi.NewInlineKeyboardMarkup(
		tgbotapi.NewInlineKeyboardRow(tgbotapi.NewInlineKeyboardButtonData(t.t.T(locale, "report.button.confirm", nil), reportData(rConfirm))),
		tgbotapi.NewInlineKeyboardRow(tgbotapi.NewInlineKeyboardButtonData(t.t.T(locale, "report.button.edit", nil), reportData(rEdit)),
			tgbotapi.NewInlineKeyboardButtonData(t.t.T(locale, "report.button.cancel", nil), reportData(rCancel))))
	return msg
}
