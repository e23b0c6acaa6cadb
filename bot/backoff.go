package bot

import (
	"context"
	"time"
)

// Backoff of a loop that keeps a connection to a platform (Telegram long
// polling, Slack Socket Mode): one second, doubling, at most thirty.
const (
	minBackoff = time.Second
	maxBackoff = 30 * time.Second
)

// Backoff is a doubling delay between one second and thirty; its zero
// value starts at one second.
type Backoff struct{ cur time.Duration }

// Next is the delay before the next attempt.
func (b *Backoff) Next() time.Duration {
	if b.cur == 0 {
		b.cur = minBackoff
	} else {
		b.cur = min(2*b.cur, maxBackoff)
	}
	return b.cur
}

// Reset starts the delays again from one second, after a success.
func (b *Backoff) Reset() { b.cur = 0 }

// Sleep waits d, reporting false when ctx ended first.
func Sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
