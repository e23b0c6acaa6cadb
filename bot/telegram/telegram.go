// Package telegram is duban's one Telegram bot: /start CODE binds a chat,
// reminder buttons answer hearings, supervisors act on complaints
// (supervision.go), and the public reports problems and follows them
// (report*.go, status.go). Updates arrive by long polling (poll.go) or a
// webhook (webhook.go); each is handled once, in one transaction with its
// update_id (bot.Once), and answered after the commit.
package telegram

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
	"github.com/redis/go-redis/v9"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/bot"
	"github.com/cityhall/duban/i18n"
	"github.com/cityhall/duban/jobs"
	"github.com/cityhall/duban/redact"
	"github.com/cityhall/duban/storage"
)

// sourceTelegram names Telegram's update ids in processed_updates.
const sourceTelegram = "telegram"

// Deps is what the Telegram bot needs.
type Deps struct {
	API      *tgbotapi.BotAPI // created by the caller with NewBotAPIWithAPIEndpoint
	Token    string           // the bot token, only to redact it from errors and logs
	Store    *storage.Store
	Hearings *jobs.Hearings
	// Complaints takes the public's reports and ratings; nil turns the
	// hotline (/report, /status, rating buttons) off.
	Complaints *jobs.Complaints
	T          *i18n.Bundle
	Clock      duban.Clock
	Log        *slog.Logger
	// ReportsPerChat is how many reports one chat may file in a day
	// (DUBAN_REPORTS_PER_CHAT); 0 means the default, 10.
	ReportsPerChat int
	// Redis holds the polling lease that lets one replica at a time poll
	// (lease.go); nil polls without one.
	Redis redis.UniversalClient
	// PollLeaseKey names the lease; empty derives it from the token, so
	// that each bot has its own.
	PollLeaseKey string
	// PollLeaseTTL is how long the lease lasts unrenewed; 0 means
	// DefaultPollLeaseTTL.
	PollLeaseTTL time.Duration
}

// Bot handles the updates of the one Telegram bot: /start CODE binds a
// chat, reminder buttons answer hearings, the public reports problems
// (/report, or any message from someone not bound) and follows them
// (/status CODE, rating buttons), and everything else gets help. Updates
// arrive by long polling (Poll) or a webhook (WebhookHandler).
type Bot struct {
	api        *tgbotapi.BotAPI
	token      string
	store      *storage.Store
	hearings   *jobs.Hearings
	complaints *jobs.Complaints
	t          *i18n.Bundle
	clock      duban.Clock
	log        *slog.Logger
	perChat    int    // reports a chat may file in a day
	limitKey   []byte // the key of the chat hashes the daily limit counts under
	redis      redis.UniversalClient
	leaseKey   string
	leaseTTL   time.Duration
}

// New returns the Telegram bot of d.
func New(d Deps) *Bot {
	log := d.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	clock := d.Clock
	if clock == nil {
		clock = duban.SystemClock{}
	}
	perChat := d.ReportsPerChat
	if perChat <= 0 {
		perChat = defaultReportsPerChat
	}
	key := d.PollLeaseKey
	if key == "" {
		sum := sha256.Sum256([]byte(d.Token))
		key = "duban:telegram:poll:" + hex.EncodeToString(sum[:6]) // named by a hash, never by the token
	}
	return &Bot{api: d.API, token: d.Token, store: d.Store, hearings: d.Hearings, complaints: d.Complaints,
		t: d.T, clock: clock, log: log, perChat: perChat, limitKey: reportLimitKey(d.Token),
		redis: d.Redis, leaseKey: key, leaseTTL: d.PollLeaseTTL}
}

// replies are the Bot API calls answering one update. Messages and edits
// are planned as deliveries in the update's transaction
// (jobs.Outbox.PlanReply) and sent through the provider's limit, by the
// webhook's request or the workers; only the answers to button presses
// (answerCallbackQuery), which Telegram wants within seconds, are made
// directly after the commit.
type replies []tgbotapi.Chattable

// HandleUpdate handles one update in one transaction with its update_id, so
// that a re-delivered update changes nothing and gets no second reply. The
// replies are planned in the same transaction and handed to the workers
// after the commit (the webhook sends them itself: WebhookHandler). An error means the update was not committed and should
// be delivered again (the database is unreachable); it never carries the
// bot token.
func (t *Bot) HandleUpdate(ctx context.Context, u tgbotapi.Update) error {
	_, err := t.handle(ctx, u, t.hearings.Outbox.EnqueueReplies, false)
	return err
}

// handle is HandleUpdate with the planned replies handed to then once
// committed: to the workers when polling, whose loop must not wait for the
// sends, or sent at once in a webhook's request (Telegram posts updates
// over several connections at a time; see WebhookHandler). With inline,
// the answer to a press (answerCallbackQuery) is not made but returned,
// for the webhook's answer to carry (see WebhookHandler); the other
// direct calls are made.
func (t *Bot) handle(ctx context.Context, u tgbotapi.Update, then func(context.Context, ...*duban.Delivery), inline bool) (tgbotapi.Chattable, error) {
	id := strconv.Itoa(u.UpdateID)
	var out replies
	var planned []*duban.Delivery
	var direct replies
	fresh, err := bot.OnceThen(ctx, t.store, sourceTelegram, id, func(tx *storage.Store) error {
		var err error
		out, err = t.route(ctx, tx, u)
		return err
	}, func(tx *storage.Store) error {
		var err error
		planned, direct, err = t.plan(ctx, tx, "tg:"+id, out)
		return err
	})
	if err != nil {
		return nil, redact.Error(fmt.Errorf("telegram: update %s: %w", id, err), t.token)
	}
	if !fresh {
		return nil, nil // an earlier delivery of the update answered it
	}
	var answer tgbotapi.Chattable
	if inline {
		for i, c := range direct {
			if _, ok := c.(tgbotapi.CallbackConfig); ok {
				answer, direct = c, slices.Delete(direct, i, i+1)
				break
			}
		}
	}
	t.send(direct)
	then(ctx, planned...)
	return answer, nil
}

// plan writes the messages and edits of out as conversation replies under
// key, inside tx, and returns them with the calls made directly.
func (t *Bot) plan(ctx context.Context, tx *storage.Store, key string, out replies) ([]*duban.Delivery, replies, error) {
	var planned []*duban.Delivery
	var direct replies
	for i, c := range out {
		var to duban.Address
		var msg duban.Message
		switch c := c.(type) {
		case tgbotapi.MessageConfig:
			to, msg = duban.Address{TelegramChatID: c.ChatID}, duban.Message{Text: c.Text}
			if c.ReplyMarkup != nil {
				b, err := json.Marshal(c.ReplyMarkup)
				if err != nil {
					return nil, nil, fmt.Errorf("telegram: reply markup: %w", err)
				}
				msg.Markup = b
			}
		case tgbotapi.EditMessageReplyMarkupConfig:
			to = duban.Address{TelegramChatID: c.ChatID}
			msg.Edit = strconv.FormatInt(c.ChatID, 10) + ":" + strconv.Itoa(c.MessageID)
			if c.ReplyMarkup != nil {
				b, err := json.Marshal(c.ReplyMarkup)
				if err != nil {
					return nil, nil, fmt.Errorf("telegram: reply markup: %w", err)
				}
				msg.Markup = b
			}
		default: // answerCallbackQuery
			direct = append(direct, c)
			continue
		}
		d, err := t.hearings.Outbox.PlanReply(ctx, tx, key+":"+strconv.Itoa(i), duban.ChannelTelegram, to, msg)
		if err != nil {
			return nil, nil, err
		}
		planned = append(planned, d)
	}
	return planned, direct, nil
}

// send makes the direct calls; a failure is logged, since the update is
// committed and a re-delivery would change nothing.
func (t *Bot) send(out replies) {
	for _, c := range out {
		if _, err := t.api.Request(c); err != nil {
			t.log.Warn("telegram: reply failed", slog.Any("error", redact.Error(err, t.token)))
		}
	}
}

func (t *Bot) route(ctx context.Context, tx *storage.Store, u tgbotapi.Update) (replies, error) {
	switch {
	case u.CallbackQuery != nil:
		return t.callback(ctx, tx, u.UpdateID, u.CallbackQuery)
	case u.Message != nil:
		return t.message(ctx, tx, u.Message)
	}
	return nil, nil
}

// kindDelegate is the chat state of a head asked who appears instead; its
// data is the id of the hearing's agency.
const kindDelegate = "delegate"

// chatKey names a Telegram chat in chat_states.
func chatKey(chatID int64) string { return "tg:" + strconv.FormatInt(chatID, 10) }

// locale is the person's language, else the Telegram user's, else zh-CN.
func (t *Bot) locale(p *duban.Person, u *tgbotapi.User) string {
	if p != nil && p.Locale != "" {
		return p.Locale
	}
	if u != nil {
		return duban.NormalizeLocale(u.LanguageCode)
	}
	return duban.LocaleZH
}

func (t *Bot) text(chatID int64, locale, id string, data map[string]any) tgbotapi.MessageConfig {
	return tgbotapi.NewMessage(chatID, t.t.T(locale, id, data))
}

// command splits "/start@duban_bot CODE" into "start" and "CODE"; text that
// is not a command comes back as args with an empty command.
func command(text string) (cmd, args string) {
	text = strings.TrimSpace(text)
	if !strings.HasPrefix(text, "/") {
		return "", text
	}
	name, rest := text[1:], ""
	if i := strings.IndexFunc(name, unicode.IsSpace); i >= 0 {
		name, rest = name[:i], name[i:]
	}
	name, _, _ = strings.Cut(name, "@")
	return strings.ToLower(name), strings.TrimSpace(rest)
}

// message handles a message in a private chat. Groups are not where duban
// talks to anyone, so their messages are ignored. A chat in a report gives
// its messages to the report; anyone else not bound starts one; a bound
// person's message answers their open question, or gets their help.
func (t *Bot) message(ctx context.Context, tx *storage.Store, m *tgbotapi.Message) (replies, error) {
	if m.From == nil || m.Chat == nil || m.Chat.IsGroup() || m.Chat.IsSuperGroup() || m.Chat.IsChannel() {
		return nil, nil
	}
	p, err := bot.Optional(tx.PersonByTelegramUser(ctx, m.From.ID))
	if err != nil {
		return nil, err
	}
	locale, chat := t.locale(p, m.From), m.Chat.ID
	hotline := t.complaints != nil
	cmd, args := command(m.Text)
	switch {
	case cmd == "start" && args != "":
		return t.bind(ctx, tx, m, p, args)
	case cmd == "start", cmd == "help":
		return replies{t.help(chat, p, locale)}, nil
	case cmd == "report" && hotline:
		return t.startReport(ctx, tx, chat, locale)
	case cmd == "status" && hotline:
		return t.status(ctx, tx, chat, locale, args)
	case cmd == "cancel":
		// Drops a report draft or a pending question alike.
		if err := tx.ClearChatState(ctx, chatKey(chat)); err != nil {
			return nil, err
		}
		msg := t.text(chat, locale, "bot.cancelled", nil)
		if hotline {
			msg.ReplyMarkup = tgbotapi.NewRemoveKeyboard(false) // the contact step's keyboard
		}
		return replies{msg}, nil
	case cmd != "" && p == nil:
		return replies{t.help(chat, p, locale)}, nil
	case cmd != "":
		return replies{t.text(chat, locale, "bot.unknown_command", nil)}, nil
	}
	if hotline {
		st, err := bot.Optional(tx.ChatStateOf(ctx, chatKey(chat)))
		if err != nil {
			return nil, err
		}
		if st != nil && st.Kind == kindReport {
			return t.reportInput(ctx, tx, m, st, locale)
		}
		if p == nil {
			return t.startReport(ctx, tx, chat, locale)
		}
	}
	if p == nil {
		return replies{t.help(chat, p, locale)}, nil
	}
	out, handled, err := t.delegateText(ctx, tx, chat, p, locale, args)
	if handled || err != nil {
		return out, err
	}
	if out, handled, err = t.superviseText(ctx, tx, chat, p, locale, args); handled || err != nil {
		return out, err
	}
	return replies{t.help(chat, p, locale)}, nil
}

func (t *Bot) help(chat int64, p *duban.Person, locale string) tgbotapi.MessageConfig {
	if p == nil {
		return t.text(chat, locale, "bot.help.public", nil)
	}
	msg := t.text(chat, locale, "bot.help.bound", map[string]any{"Name": p.Name})
	if t.complaints != nil {
		msg.Text += "\n" + t.t.T(locale, "report.help.bound", nil)
	}
	return msg
}

// bind links the chat to the person of a one-time code. A code that is
// unknown, used or expired, or a Telegram user already bound to someone
// else, is refused and changes nothing (the code stays usable).
func (t *Bot) bind(ctx context.Context, tx *storage.Store, m *tgbotapi.Message, current *duban.Person, code string) (replies, error) {
	chat, user := m.Chat.ID, m.From.ID
	invalid := replies{t.text(chat, t.locale(current, m.From), "bot.bind.invalid", nil)}
	pid, err := tx.UseBindCode(ctx, strings.ToUpper(strings.TrimSpace(code)), t.clock.Now())
	if errors.Is(err, duban.ErrNotFound) {
		return invalid, nil
	}
	if err != nil {
		return nil, err
	}
	if current != nil && current.ID != pid {
		return invalid, bot.ErrUndo
	}
	p, err := bot.Optional(tx.PersonByID(ctx, pid))
	if err != nil {
		return nil, err
	}
	if p == nil || !p.Active {
		return invalid, bot.ErrUndo
	}
	// A person who had another chat is told there that their messages
	// moved: a code in the wrong hands must not move them unnoticed.
	var oldChat int64
	if p.TelegramChatID != nil && *p.TelegramChatID != chat {
		oldChat = *p.TelegramChatID
	}
	p.TelegramChatID, p.TelegramUserID = &chat, &user
	if p.Locale == "" {
		p.Locale = duban.NormalizeLocale(m.From.LanguageCode)
	}
	if err := tx.UpdatePerson(ctx, p); err != nil {
		if errors.Is(err, duban.ErrConflict) { // a deactivated person still holds this user
			return invalid, bot.ErrUndo
		}
		return nil, err
	}
	target := fmt.Sprintf("person:%d", p.ID)
	if err := tx.Audit(ctx, target, "person.bind", target, "telegram"); err != nil {
		return nil, err
	}
	out := replies{t.text(chat, p.Locale, "bot.bound", map[string]any{"Name": p.Name})}
	if oldChat != 0 {
		out = append(out, t.text(oldChat, p.Locale, "person.rebind_code", map[string]any{"Name": p.Name}))
	}
	return out, nil
}

// delegateSeparators split "姓名，理由" / "name, reason" at the first of them.
const delegateSeparators = "，,；;\n"

// splitDelegate reads who appears instead and why; both must be non-empty.
func splitDelegate(text string) (name, reason string, ok bool) {
	i := strings.IndexAny(text, delegateSeparators)
	if i < 0 {
		return "", "", false
	}
	_, size := utf8.DecodeRuneInString(text[i:])
	name, reason = strings.TrimSpace(text[:i]), strings.TrimSpace(text[i+size:])
	if name == "" || reason == "" {
		return "", "", false
	}
	return name, reason, true
}

// delegateText reads "姓名，理由" from a head who was asked who appears
// instead. It reports false when the chat is not in that conversation.
func (t *Bot) delegateText(ctx context.Context, tx *storage.Store, chat int64, p *duban.Person, locale, text string) (replies, bool, error) {
	st, err := bot.Optional(tx.ChatStateOf(ctx, chatKey(chat)))
	if err != nil {
		return nil, true, err
	}
	if st == nil || st.Kind != kindDelegate || st.PersonID == nil || *st.PersonID != p.ID {
		return nil, false, nil
	}
	name, reason, ok := splitDelegate(text)
	if !ok {
		return replies{t.text(chat, locale, "bot.answer.delegate_format", nil)}, true, nil
	}
	haID, err := strconv.ParseInt(st.Data, 10, 64)
	if err != nil {
		if err := tx.ClearChatState(ctx, st.ChatKey); err != nil {
			return nil, true, err
		}
		return replies{t.text(chat, locale, "bot.error", nil)}, true, nil
	}
	_, ha, err := t.hearings.With(tx).Answer(ctx, jobs.Actor{Person: p}, jobs.AnswerRequest{
		HearingAgencyID: haID, Answer: duban.AnswerDelegated, DelegateName: name, DelegateReason: reason})
	var ve *duban.ValidationError
	var se *duban.StateError
	switch {
	case errors.As(err, &ve): // too long: ask again, the question stands
		return replies{t.text(chat, locale, "bot.answer.delegate_format", nil)}, true, nil
	case errors.Is(err, duban.ErrConflict) && !errors.As(err, &se):
		return replies{t.text(chat, locale, "bot.error", nil)}, true, bot.ErrUndo
	case err != nil:
		id, ok := bot.ReplyFor(err)
		if !ok {
			return nil, true, err
		}
		// Forbidden or too late: the question no longer stands.
		if err := tx.ClearChatState(ctx, st.ChatKey); err != nil {
			return nil, true, err
		}
		return replies{t.text(chat, locale, id, nil)}, true, nil
	}
	if err := tx.ClearChatState(ctx, st.ChatKey); err != nil {
		return nil, true, err
	}
	return replies{t.text(chat, locale, "bot.answer.delegated", map[string]any{"Delegate": ha.DelegateName, "Reason": ha.DelegateReason})}, true, nil
}
