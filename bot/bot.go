// Package bot holds what the Telegram bot (bot/telegram) and the Slack app
// (bot/slack) share: processing an update once with its undo (Once),
// reading the body of a platform's post (ReadPost), the rule-book
// questions a button asks before it acts, the messages that tell a user why
// nothing happened, and the backoff of a loop that keeps a connection.
//
// Both turn chat updates into domain actions, each committed in the same
// transaction as the id of the update that caused it, so that a
// re-delivered update changes nothing. The immediate answers a platform
// demands are sent from there, after the commit; everything scheduled goes
// through jobs.
package bot

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/i18n"
	"github.com/cityhall/duban/storage"
)

// ReplyFor maps an error of a use case to the message that tells the user,
// and reports false for errors that are not the user's (the database is
// down), which the caller returns so that the update is retried.
func ReplyFor(err error) (string, bool) {
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

// Optional turns ErrNotFound into nil, for look-ups where nobody found is an
// answer.
func Optional[T any](v *T, err error) (*T, error) {
	if errors.Is(err, duban.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return v, nil
}

// MayAnswer asks the rule book whether p may answer for ha: the head of its
// agency answers; the office staff record an answer given by phone. Nobody
// else, supervisors and admins included, answers for a head. The bot asks
// it before a question it puts; jobs.Hearings.Answer applies its own check.
func MayAnswer(p *duban.Person, ha *duban.HearingAgency) bool {
	a, s := duban.Actor{Person: p}, hearingAgencySubject(ha)
	return a.May(duban.HearingAnswer, s) || a.May(duban.HearingRecordAnswer, s)
}

// MaySee asks the rule book whether p may read the details of the hearing
// of ha, as sent for ha's agency.
func MaySee(p *duban.Person, ha *duban.HearingAgency) bool {
	return duban.Actor{Person: p}.May(duban.HearingRead, hearingAgencySubject(ha))
}

// MayRecordOutcome asks the rule book whether p may record who appeared.
func MayRecordOutcome(p *duban.Person, ha *duban.HearingAgency) bool {
	return duban.Actor{Person: p}.May(duban.HearingOutcome, hearingAgencySubject(ha))
}

// hearingAgencySubject is the rule book's subject of a button about one
// agency of a hearing.
func hearingAgencySubject(ha *duban.HearingAgency) duban.Subject {
	return duban.Subject{Agencies: []int64{ha.AgencyID}}
}

// Answerable reports, as jobs does, whether a head may still answer: until
// the hearing starts, unless it was cancelled.
func Answerable(h *duban.Hearing, now time.Time) error {
	if h.Status != duban.HearingScheduled || !now.Before(h.StartsAt) {
		return &duban.StateError{Action: "answer", State: "started or " + string(h.Status), Allowed: []string{}}
	}
	return nil
}

// HearingOf loads the hearing and the agency a button is about.
func HearingOf(ctx context.Context, tx *storage.Store, haID int64) (*duban.Hearing, *duban.HearingAgency, error) {
	ha, err := tx.HearingAgencyByID(ctx, haID)
	if err != nil {
		return nil, nil, err
	}
	h, err := tx.HearingByID(ctx, ha.HearingID)
	if err != nil {
		return nil, nil, err
	}
	return h, ha, nil
}

// AttendanceID is the message id naming who appeared.
func AttendanceID(a duban.Attendance) string { return "attendance." + string(a) }

// verbActions maps the supervision buttons to the actions they take.
var verbActions = map[string]duban.Action{
	duban.VerbCAccept: duban.ActionAccept, duban.VerbCReject: duban.ActionReject, duban.VerbCAssign: duban.ActionAssign,
	duban.VerbCUrge: duban.ActionUrge, duban.VerbCClose: duban.ActionClose, duban.VerbCReopen: duban.ActionReopen,
}

// ActionOf is the action of a complaint button's verb; false for a verb
// that is no supervisor's action (a rating, say).
func ActionOf(verb string) (duban.Action, bool) {
	a, ok := verbActions[verb]
	return a, ok
}

// StateData names, in locale, the state a refused action met and the
// actions allowed in it, for Slack and Telegram alike.
func StateData(b *i18n.Bundle, locale string, se *duban.StateError) map[string]any {
	allowed := make([]string, len(se.Allowed))
	for i, a := range se.Allowed {
		allowed[i] = ActionName(b, locale, a)
	}
	return map[string]any{"Action": ActionName(b, locale, se.Action),
		"Status": b.T(locale, "complaint.status."+se.State, nil), "Allowed": strings.Join(allowed, b.T(locale, "slack.c.list_sep", nil))}
}

// ActionName names a complaint action in locale (the words the Slack
// messages use too).
func ActionName(b *i18n.Bundle, locale, action string) string {
	return b.T(locale, "slack.c.action."+action, nil)
}
