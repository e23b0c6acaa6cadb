package storage

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cityhall/duban"
)

// MarkProcessed records that an inbound update (a Telegram update_id, a
// Slack event or request id) has been handled. It reports false when it was
// already recorded: a re-delivery, which must change nothing. Call it in the
// same transaction as the update's effects.
func (s *Store) MarkProcessed(ctx context.Context, source, id string) (bool, error) {
	n, err := s.exec(ctx, `INSERT INTO processed_updates (source, update_id, processed_at) VALUES (?, ?, ?)
		ON CONFLICT DO NOTHING`, source, id, s.now())
	if err != nil {
		return false, fmt.Errorf("mark %s update %s: %w", source, id, err)
	}
	return n == 1, nil
}

// ChatState is a conversation in progress in one chat, kept in the
// database so a restart in the middle loses nothing.
type ChatState struct {
	ChatKey  string `db:"chat_key"`
	PersonID *int64 `db:"person_id"`
	Kind     string `db:"kind"`
	Data     string `db:"data"`
}

// ChatStateOf returns the conversation of a chat, or ErrNotFound.
func (s *Store) ChatStateOf(ctx context.Context, key string) (*ChatState, error) {
	var c ChatState
	if err := s.get(ctx, &c, `SELECT chat_key, person_id, kind, data FROM chat_states WHERE chat_key = ?`, key); err != nil {
		return nil, fmt.Errorf("chat state: %w", err)
	}
	return &c, nil
}

// SetChatState saves the conversation of a chat, replacing any, in one
// statement.
func (s *Store) SetChatState(ctx context.Context, c *ChatState) error {
	if _, err := s.exec(ctx, `INSERT INTO chat_states (chat_key, person_id, kind, data, updated_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (chat_key) DO UPDATE SET person_id = excluded.person_id, kind = excluded.kind, data = excluded.data,
		updated_at = excluded.updated_at`, c.ChatKey, c.PersonID, c.Kind, c.Data, s.now()); err != nil {
		return fmt.Errorf("set chat state: %w", err)
	}
	return nil
}

// ClearChatState ends the conversation of a chat.
func (s *Store) ClearChatState(ctx context.Context, key string) error {
	if _, err := s.exec(ctx, `DELETE FROM chat_states WHERE chat_key = ?`, key); err != nil && !errors.Is(err, duban.ErrNotFound) {
		return fmt.Errorf("clear chat state: %w", err)
	}
	return nil
}

// IdleChatStates lists the keys of conversations of kind last saved
// before t: half-written reports nobody finished.
func (s *Store) IdleChatStates(ctx context.Context, kind string, before time.Time, limit int) ([]string, error) {
	keys := []string{}
	if err := s.sel(ctx, &keys, fmt.Sprintf(`SELECT chat_key FROM chat_states WHERE kind = ? AND updated_at < ?
		ORDER BY chat_key LIMIT %d`, limit), kind, ts(before)); err != nil {
		return nil, fmt.Errorf("idle chat states: %w", err)
	}
	return keys, nil
}

// Retention of the rows public traffic leaves behind: a table that grows
// with what strangers send must be pruned, or anyone could fill the
// database (README.md, Privacy, gives the periods). A handled update id or an
// idempotency key guards against re-delivery and retries, which come
// within hours, so a week is ample; a /status look-up counts only
// towards the last hour's limit.
const (
	UpdateIDRetention     = 7 * 24 * time.Hour
	IdempotencyRetention  = 7 * 24 * time.Hour
	StatusLookupRetention = 24 * time.Hour
)

// PruneTraffic deletes handled update ids and idempotency keys older than
// a week and /status look-ups older than a day, as of now; it returns the
// rows removed.
func (s *Store) PruneTraffic(ctx context.Context, now time.Time) (int64, error) {
	var total int64
	for _, q := range []struct {
		sql    string
		before time.Time
	}{
		{`DELETE FROM processed_updates WHERE processed_at < ?`, now.Add(-UpdateIDRetention)},
		{`DELETE FROM idempotency_keys WHERE created_at < ?`, now.Add(-IdempotencyRetention)},
		{`DELETE FROM status_lookups WHERE at < ?`, now.Add(-StatusLookupRetention)},
	} {
		n, err := s.exec(ctx, q.sql, ts(q.before))
		if err != nil {
			return total, fmt.Errorf("prune: %w", err)
		}
		total += n
	}
	return total, nil
}
