package storage

import (
	"context"
	"fmt"
	"time"
)

// Reports filed through the Telegram bot, counted per chat for a day under
// a keyed hash of the chat (bot/telegram/report_limit.go); the chat
// itself is not stored.

// RecordReportFiled notes that a report was filed now under chatHash.
func (s *Store) RecordReportFiled(ctx context.Context, chatHash string) error {
	if _, err := s.exec(ctx, `INSERT INTO report_limits (chat_hash, filed_at) VALUES (?, ?)`, chatHash, s.now()); err != nil {
		return fmt.Errorf("record report filed: %w", err)
	}
	return nil
}

// ReportsFiledSince counts the reports filed under chatHash after since.
func (s *Store) ReportsFiledSince(ctx context.Context, chatHash string, since time.Time) (int, error) {
	var n int
	if err := s.get(ctx, &n, `SELECT COUNT(*) FROM report_limits WHERE chat_hash = ? AND filed_at > ?`, chatHash, ts(since)); err != nil {
		return 0, fmt.Errorf("reports filed: %w", err)
	}
	return n, nil
}

// PruneReportLimits deletes what was recorded before before, and returns
// how many rows went.
func (s *Store) PruneReportLimits(ctx context.Context, before time.Time) (int64, error) {
	n, err := s.exec(ctx, `DELETE FROM report_limits WHERE filed_at < ?`, ts(before))
	if err != nil {
		return 0, fmt.Errorf("prune report limits: %w", err)
	}
	return n, nil
}
