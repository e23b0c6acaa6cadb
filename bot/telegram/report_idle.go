package telegram

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/bot"
	"github.com/cityhall/duban/redact"
	"github.com/cityhall/duban/storage"
)

// DropIdleReports drops the report drafts nobody answered for a day and
// tells each chat so. It runs with the periodic SLA check
// (jobs.Housekeeping, given to jobs.NewMux by app). Each draft is dropped in a transaction of
// its own that re-reads it, so a draft answered meanwhile stays.
// The draft's own last_activity is checked again before it goes. It also
// forgets the chat hashes of the daily report limit older than a day.
func (t *Bot) DropIdleReports(ctx context.Context) error {
	var errs []error
	if err := t.pruneReportLimits(ctx); err != nil {
		errs = append(errs, err)
	}
	cutoff := t.clock.Now().Add(-reportIdle)
	keys, err := t.idleReportKeys(ctx, cutoff)
	if err != nil {
		return errors.Join(append(errs, err)...)
	}
	for _, key := range keys {
		chat, err := strconv.ParseInt(strings.TrimPrefix(key, "tg:"), 10, 64)
		if !strings.HasPrefix(key, "tg:") || err != nil {
			continue // not a Telegram chat
		}
		var planned []*duban.Delivery
		err = t.store.InTx(ctx, func(tx *storage.Store) error {
			st, err := bot.Optional(tx.ChatStateOf(ctx, key))
			if err != nil || st == nil || st.Kind != kindReport {
				return err
			}
			d, derr := decodeDraft(st.Data)
			if derr == nil && d.LastActivity.After(cutoff) {
				return nil // answered since the query
			}
			if err := tx.ClearChatState(ctx, key); err != nil {
				return err
			}
			locale := ""
			if d != nil {
				locale = d.Locale
			}
			msg := t.text(chat, locale, "report.idle_dropped", nil)
			msg.ReplyMarkup = tgbotapi.NewRemoveKeyboard(false)
			// Once per dropped draft: its last activity names it.
			var stamp int64
			if d != nil {
				stamp = d.LastActivity.UnixMicro()
			}
			planned, _, err = t.plan(ctx, tx, fmt.Sprintf("tg:idle:%d:%d", chat, stamp), replies{msg})
			return err
		})
		if err != nil {
			errs = append(errs, err)
			continue
		}
		t.hearings.Outbox.EnqueueReplies(ctx, planned...)
	}
	if len(keys) > 0 {
		t.log.Info("telegram: idle report drafts checked", slog.Int("drafts", len(keys)))
	}
	if err := errors.Join(errs...); err != nil {
		return redact.Error(fmt.Errorf("telegram: drop idle reports: %w", err), t.token)
	}
	return nil
}

// idleReportKeys lists the chats whose report draft was last saved before
// cutoff.
func (t *Bot) idleReportKeys(ctx context.Context, cutoff time.Time) ([]string, error) {
	keys, err := t.store.IdleChatStates(ctx, kindReport, cutoff, 1000)
	if err != nil {
		return nil, fmt.Errorf("telegram: idle report drafts: %w", err)
	}
	return keys, nil
}
