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

// SetChatState saves the conversation of a chat, replacing any.
func (s *Store) SetChatState(ctx context.Context, c *ChatState) error {
	if _, err := s.exec(ctx, `DELETE FROM chat_states WHERE chat_key = ?`, c.ChatKey); err != nil {
		return fmt.Errorf("set chat state: %w", err)
	}
	if _, err := s.exec(ctx, `INSERT INTO chat_states (chat_key, person_id, kind, data, updated_at) VALUES (?, ?, ?, ?, ?)`,
		c.ChatKey, c.PersonID, c.Kind, c.Data, s.now()); err != nil {
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
