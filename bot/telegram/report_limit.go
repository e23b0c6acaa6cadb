package telegram

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"time"

	"github.com/cityhall/duban/storage"
)

// defaultReportsPerChat is DUBAN_REPORTS_PER_CHAT's default (README.md; configs/duban.example.yaml).
const defaultReportsPerChat = 10

// reportLimitWindow is the day a filed report counts against its chat, and
// how long its hash is kept.
const reportLimitWindow = 24 * time.Hour

// reportLimitLabel separates the key of the chat hashes from any other use
// of the bot token.
const reportLimitLabel = "duban report limit v1"

// reportLimitKey derives the key of the chat hashes from the bot token:
// HMAC-SHA256(token, label). The token is already the bot's one secret, so
// nobody who cannot act as the bot can test a chat id against the stored
// hashes; a new token starts the counts afresh, which costs at most a day's
// limit.
func reportLimitKey(token string) []byte {
	m := hmac.New(sha256.New, []byte(token))
	m.Write([]byte(reportLimitLabel))
	return m.Sum(nil)
}

// chatHash is the keyed hash a chat's reports are counted under: an
// anonymous reporter's chat is never stored in clear for the limit.
func (t *Bot) chatHash(chat int64) string {
	m := hmac.New(sha256.New, t.limitKey)
	m.Write([]byte(strconv.FormatInt(chat, 10)))
	return hex.EncodeToString(m.Sum(nil))
}

// reportsLeft reports whether chat may file one more report today.
func (t *Bot) reportsLeft(ctx context.Context, tx *storage.Store, chat int64) (bool, error) {
	n, err := tx.ReportsFiledSince(ctx, t.chatHash(chat), t.clock.Now().Add(-reportLimitWindow))
	if err != nil {
		return false, fmt.Errorf("telegram: report limit: %w", err)
	}
	return n < t.perChat, nil
}

// countReport counts a report chat files, in the transaction that files it.
func (t *Bot) countReport(ctx context.Context, tx *storage.Store, chat int64) error {
	if err := tx.RecordReportFiled(ctx, t.chatHash(chat)); err != nil {
		return fmt.Errorf("telegram: report limit: %w", err)
	}
	return nil
}

// pruneReportLimits forgets the chat hashes older than a day; it runs with
// DropIdleReports.
func (t *Bot) pruneReportLimits(ctx context.Context) error {
	if _, err := t.store.PruneReportLimits(ctx, t.clock.Now().Add(-reportLimitWindow)); err != nil {
		return fmt.Errorf("telegram: %w", err)
	}
	return nil
}
