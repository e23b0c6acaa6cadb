package notifier

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
	"github.com/redis/go-redis/v9"
	"golang.org/x/time/rate"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/redact"
)

// Bot API limits.
const (
	// https://core.telegram.org/bots/api#sendmessage: "Text of the message
	// to be sent, 1-4096 characters after entities parsing". Telegram
	// counts UTF-16 code units; we count them too, which is never more
	// generous than counting code points.
	telegramMaxText = 4096
	// https://core.telegram.org/bots/api#inlinekeyboardbutton:
	// callback_data is 1-64 bytes.
	telegramMaxCallbackData = 64
)

// ellipsis ends a truncated text.
const ellipsis = "…"

// Telegram sends messages through the Bot API (sendMessage) with an inline
// keyboard of the message's buttons.
//
// tgbotapi takes no context: Send honours ctx while it waits for its rate
// limit slot, but the HTTP call itself is bounded by the timeout of the
// BotAPI's HTTP client, which the caller should set.
type Telegram struct {
	api     *tgbotapi.BotAPI
	token   string
	limiter *telegramLimiter
	shared  *sharedTelegramLimiter // when set, instead of limiter
	gate    bulkGate               // bulk messages' places ahead (Urgent skips it)
}

// TelegramOption configures a Telegram sender.
type TelegramOption func(*telegramConfig)

type telegramConfig struct {
	globalPerSecond float64
	chatInterval    time.Duration
	now             func() time.Time
	rdb             redis.UniversalClient
	prefix          string
}

// WithSharedLimits keeps the Bot API's limits in Redis under keys starting
// with prefix, shared by every replica sending through the same bot,
// instead of in this process.
func WithSharedLimits(rdb redis.UniversalClient, prefix string) TelegramOption {
	return func(c *telegramConfig) { c.rdb, c.prefix = rdb, prefix }
}

// WithGlobalRate sets the overall rate of messages a second, 30 by default
// (Telegram's limit); a value <= 0 lifts it, for benchmarks only. The
// per-chat and per-group limits always hold.
func WithGlobalRate(perSecond float64) TelegramOption {
	return func(c *telegramConfig) { c.globalPerSecond = perSecond }
}

// WithChatInterval sets the least time between two messages to one chat,
// 1.1 s by default (Telegram's one a second, with a margin); 0 lifts it.
// For tests of conversations only, which would otherwise wait a second
// between the replies to each step.
func WithChatInterval(d time.Duration) TelegramOption {
	return func(c *telegramConfig) { c.chatInterval = d }
}

// NewTelegram returns a sender using api. token is the bot token, masked
// from every error the sender returns.
func NewTelegram(api *tgbotapi.BotAPI, token string, opts ...TelegramOption) *Telegram {
	cfg := telegramConfig{globalPerSecond: telegramGlobalPerSecond, chatInterval: telegramChatInterval, now: time.Now}
	for _, o := range opts {
		o(&cfg)
	}
	t := &Telegram{api: api, token: token, limiter: newTelegramLimiter(cfg.globalPerSecond, cfg.now), gate: newBulkGate()}
	if cfg.chatInterval != telegramChatInterval {
		t.limiter.chats = NewKeyedLimiter(rate.Every(cfg.chatInterval), 1)
	}
	if cfg.rdb != nil {
		t.shared = newSharedTelegramLimiter(cfg.rdb, cfg.prefix, cfg.globalPerSecond)
	}
	return t
}

// wait blocks until a slot for a message to chatID comes, or ctx ends,
// running prepare (when not nil) in between (see Waiter).
func (t *Telegram) wait(ctx context.Context, chatID int64, prepare func() error) error {
	if t.shared != nil {
		return t.shared.wait(ctx, chatID, t.gate, prepare)
	}
	return t.limiter.wait(ctx, chatID, t.gate, prepare)
}

// Channel returns duban.ChannelTelegram.
func (t *Telegram) Channel() duban.Channel { return duban.ChannelTelegram }

// Reachable reports whether addr has a Telegram chat: a person who bound
// their chat with /start CODE.
func (t *Telegram) Reachable(addr duban.Address) bool { return addr.TelegramChatID != 0 }

// Wait waits for the next slot to send to addr's chat, running prepare
// between the slot's reservation and its moment (see Waiter).
func (t *Telegram) Wait(ctx context.Context, addr duban.Address, prepare func() error) error {
	var prepErr error
	var p func() error
	if prepare != nil {
		p = func() error { prepErr = prepare(); return prepErr }
	}
	if err := t.wait(ctx, addr.TelegramChatID, p); err != nil {
		if prepErr != nil {
			return prepErr // the caller's own error, as it gave it
		}
		return fmt.Errorf("telegram: wait for rate limit: %w", err)
	}
	return nil
}

// Send sends msg to addr's chat and returns "chat_id:message_id"; it waits
// for the chat's slot unless ctx holds one (Reserved). A message with Edit
// replaces the buttons of the message it names (editMessageReplyMarkup); a
// message with Markup carries it as its reply_markup instead of Buttons.
func (t *Telegram) Send(ctx context.Context, addr duban.Address, msg duban.Message) (string, error) {
	if !t.Reachable(addr) {
		return "", unreachable(duban.ChannelTelegram)
	}
	var cfg tgbotapi.Chattable
	switch {
	case msg.Edit != "":
		chat, id, err := parseMessageID(msg.Edit)
		if err != nil {
			return "", &PermanentError{Channel: duban.ChannelTelegram, Err: err}
		}
		var kb tgbotapi.InlineKeyboardMarkup
		if len(msg.Markup) > 0 {
			if err := json.Unmarshal(msg.Markup, &kb); err != nil {
				return "", &PermanentError{Channel: duban.ChannelTelegram, Err: fmt.Errorf("telegram: edit markup: %w", err)}
			}
		}
		edit := tgbotapi.NewEditMessageReplyMarkup(chat, id, kb)
		if kb.InlineKeyboard == nil {
			edit.ReplyMarkup = nil // no buttons: the keyboard is removed
		}
		cfg = edit
	default:
		m := tgbotapi.NewMessage(addr.TelegramChatID, truncateUTF16(msg.Text, telegramMaxText))
		if len(msg.Markup) > 0 {
			m.ReplyMarkup = msg.Markup
		} else {
			keyboard, err := telegramKeyboard(msg.Buttons)
			if err != nil {
				return "", err
			}
			if keyboard != nil {
				m.ReplyMarkup = *keyboard
			}
		}
		cfg = m
	}
	if !reserved(ctx) {
		if err := t.Wait(ctx, addr, nil); err != nil {
			return "", err
		}
	}
	if msg.Edit != "" {
		if _, err := t.api.Request(cfg); err != nil {
			var te *tgbotapi.Error
			if errors.As(err, &te) && strings.Contains(te.Message, "message is not modified") {
				return msg.Edit, nil
			}
			return "", t.classify("edit message", err)
		}
		return msg.Edit, nil
	}
	resp, err := t.api.Request(cfg)
	if err != nil {
		return "", t.classify("send message", err)
	}
	// Only the id is kept: tgbotapi's Send would decode the whole Message.
	var sent struct {
		MessageID int `json:"message_id"`
	}
	if err := json.Unmarshal(resp.Result, &sent); err != nil {
		return "", t.classify("send message", fmt.Errorf("telegram: sent message: %w", err))
	}
	return strconv.FormatInt(addr.TelegramChatID, 10) + ":" + strconv.Itoa(sent.MessageID), nil
}

// parseMessageID reads "chat_id:message_id", as Send returns it.
func parseMessageID(s string) (int64, int, error) {
	c, m, ok := strings.Cut(s, ":")
	chat, err1 := strconv.ParseInt(c, 10, 64)
	id, err2 := strconv.Atoi(m)
	if !ok || err1 != nil || err2 != nil {
		return 0, 0, fmt.Errorf("telegram: message id %q is not chat:message", s)
	}
	return chat, id, nil
}

// Edit replaces the text and buttons of a message sent earlier
// (editMessageText); no buttons removes the keyboard. Editing a message to
// what it already says succeeds.
func (t *Telegram) Edit(ctx context.Context, chatID int64, messageID int, text string, buttons [][]duban.Button) error {
	keyboard, err := telegramKeyboard(buttons)
	if err != nil {
		return err
	}
	cfg := tgbotapi.NewEditMessageText(chatID, messageID, truncateUTF16(text, telegramMaxText))
	cfg.ReplyMarkup = keyboard
	if err := t.wait(ctx, chatID, nil); err != nil {
		return fmt.Errorf("telegram: wait for rate limit: %w", err)
	}
	if _, err := t.api.Request(cfg); err != nil {
		var te *tgbotapi.Error
		if errors.As(err, &te) && strings.Contains(te.Message, "message is not modified") {
			return nil
		}
		return t.classify("edit message", err)
	}
	return nil
}

// classify sorts a Bot API error into a rate limit, a permanent error or a
// transient one, with the token masked first, so that no classified error's
// text carries it: it is in every request URL, and Go's HTTP client quotes
// the URL in its errors.
func (t *Telegram) classify(op string, err error) error {
	wrapped := redact.Error(fmt.Errorf("telegram: %s: %w", op, err), t.token)
	var te *tgbotapi.Error
	if !errors.As(err, &te) {
		return wrapped // network error, timeout, unreadable answer: transient
	}
	switch {
	case te.Code == http.StatusTooManyRequests || te.RetryAfter > 0:
		return rateLimited(duban.ChannelTelegram, time.Duration(te.RetryAfter)*time.Second, wrapped)
	case te.Code == http.StatusBadRequest, // chat not found, message is too long, …
		te.Code == http.StatusUnauthorized, // the token is wrong
		te.Code == http.StatusForbidden,    // bot was blocked by the user, user is deactivated
		te.Code == http.StatusNotFound:     // the token or method is wrong
		return &PermanentError{Channel: duban.ChannelTelegram, Err: wrapped}
	}
	return wrapped
}

// telegramKeyboard builds the inline keyboard of buttons, nil for none. Each
// button's Data comes back as callback_data, which Telegram bounds.
func telegramKeyboard(buttons [][]duban.Button) (*tgbotapi.InlineKeyboardMarkup, error) {
	var rows [][]tgbotapi.InlineKeyboardButton
	for _, row := range buttons {
		var r []tgbotapi.InlineKeyboardButton
		for _, b := range row {
			if n := len(b.Data); n == 0 || n > telegramMaxCallbackData {
				return nil, &PermanentError{
					Channel: duban.ChannelTelegram,
					Err:     fmt.Errorf("telegram: button %q: callback data is %d bytes, want 1 to %d", b.Label, n, telegramMaxCallbackData),
				}
			}
			r = append(r, tgbotapi.NewInlineKeyboardButtonData(b.Label, b.Data))
		}
		if len(r) > 0 {
			rows = append(rows, r)
		}
	}
	if len(rows) == 0 {
		return nil, nil
	}
	kb := tgbotapi.NewInlineKeyboardMarkup(rows...)
	return &kb, nil
}

// truncateUTF16 cuts s to at most limit UTF-16 code units, ending it with an
// ellipsis when it was cut.
func truncateUTF16(s string, limit int) string {
	if len(s) <= limit { // bytes ≥ code units, so this is short enough
		return s
	}
	units, cut := 0, -1
	budget := limit - len(utf16.Encode([]rune(ellipsis)))
	for i, r := range s {
		n := utf16.RuneLen(r)
		if n < 0 {
			n = 1 // invalid UTF-8 goes out as U+FFFD
		}
		if units+n > budget && cut < 0 {
			cut = i
		}
		units += n
		if units > limit {
			return s[:cut] + ellipsis
		}
	}
	return s
}
