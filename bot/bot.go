// Package bot turns chat updates into domain actions: Telegram updates and
// Slack commands and interactions become bound chats, answers to hearing
// reminders, outcomes and registered notices, each committed in the same
// transaction as the id of the update that caused it, so that a re-delivered
// update changes nothing. The immediate answers a platform demands are sent
// from here, after the commit; everything scheduled goes through jobs.
package bot

import (
	"context"
	"errors"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cityhall/duban"
)

// maxBody bounds what an inbound webhook may post; Telegram updates and
// Slack payloads are far smaller.
const maxBody = 1 << 20

// Backoff of a loop that keeps a connection to a platform (Telegram long
// polling, Slack Socket Mode): one second, doubling, at most thirty.
const (
	minBackoff = time.Second
	maxBackoff = 30 * time.Second
)

// kindDelegate is the chat state of a head asked who appears instead; its
// data is the id of the hearing's agency.
const kindDelegate = "delegate"

// errUndo tells an update's handler to roll its effects back but still
// record the update as processed and send the replies prepared with it:
// the update was understood and answered, and changed nothing.
var errUndo = errors.New("bot: undo the update's effects")

// replyFor maps an error of a use case to the message that tells the user,
// and reports false for errors that are not the user's (the database is
// down), which the caller returns so that the update is retried.
func replyFor(err error) (string, bool) {
	var se *duban.StateError
	switch {
	case err == nil:
		return "", false
	case errors.Is(err, duban.ErrForbidden):
		return "bot.not_yours", true
	case errors.As(err, &se):
		return "bot.too_late", true
	case errors.Is(err, duban.ErrNotFound), errors.Is(err, duban.ErrInvalid), errors.Is(err, duban.ErrConflict):
		return "bot.error", true
	}
	return "", false
}

// optional turns ErrNotFound into nil, for look-ups where nobody found is an
// answer.
func optional[T any](v *T, err error) (*T, error) {
	if errors.Is(err, duban.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return v, nil
}

// mayAnswer asks the rule book whether p may answer for ha: the head of its
// agency answers; the office staff record an answer given by phone. Nobody
// else, supervisors and admins included, answers for a head. The bot asks
// it before a question it puts; jobs.Hearings.Answer applies its own check.
func mayAnswer(p *duban.Person, ha *duban.HearingAgency) bool {
	a, s := duban.Actor{Person: p}, hearingAgencySubject(ha)
	return a.May(duban.HearingAnswer, s) || a.May(duban.HearingRecordAnswer, s)
}

// maySee asks the rule book whether p may read the details of the hearing
// of ha, as sent for ha's agency.
func maySee(p *duban.Person, ha *duban.HearingAgency) bool {
	return duban.Actor{Person: p}.May(duban.HearingRead, hearingAgencySubject(ha))
}

// mayRecordOutcome asks the rule book whether p may record who appeared.
func mayRecordOutcome(p *duban.Person, ha *duban.HearingAgency) bool {
	return duban.Actor{Person: p}.May(duban.HearingOutcome, hearingAgencySubject(ha))
}

// hearingAgencySubject is the rule book's subject of a button about one
// agency of a hearing.
func hearingAgencySubject(ha *duban.HearingAgency) duban.Subject {
	return duban.Subject{Agencies: []int64{ha.AgencyID}}
}

// answerable reports, as jobs does, whether a head may still answer: until
// the hearing starts, unless it was cancelled.
func answerable(h *duban.Hearing, now time.Time) error {
	if h.Status != duban.HearingScheduled || !now.Before(h.StartsAt) {
		return &duban.StateError{Action: "answer", State: "started or " + string(h.Status), Allowed: []string{}}
	}
	return nil
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

// attendanceID is the message id naming who appeared.
func attendanceID(a duban.Attendance) string { return "attendance." + string(a) }

// backoff is a doubling delay between minBackoff and maxBackoff.
type backoff struct{ cur time.Duration }

func (b *backoff) next() time.Duration {
	if b.cur == 0 {
		b.cur = minBackoff
	} else {
		b.cur = min(2*b.cur, maxBackoff)
	}
	return b.cur
}

func (b *backoff) reset() { b.cur = 0 }

// sleep waits d, reporting false when ctx ended first.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
