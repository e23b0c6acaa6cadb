package jobs

import (
	"context"
	"errors"
	"fmt"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/storage"
)

// LinkAnswers takes a head's answer through a signed link from an e-mail
// (duban.AnswerToken): no sign-in, the link is the credential, and the
// answer goes through Hearings.Answer as that head, so the rule book and
// the hearing's state decide as for any other answer.
type LinkAnswers struct {
	store    *storage.Store
	hearings *Hearings
	key      []byte
	clock    duban.Clock
}

// NewLinkAnswers returns the link answers of hearings, checking links
// with key (duban.AnswerKey of the configured secret) against clock (nil:
// the wall clock).
func NewLinkAnswers(store *storage.Store, hearings *Hearings, key []byte, clock duban.Clock) *LinkAnswers {
	if clock == nil {
		clock = duban.SystemClock{}
	}
	return &LinkAnswers{store: store, hearings: hearings, key: key, clock: clock}
}

// LinkAnswer is what a valid link opens: its head and their part in a
// hearing.
type LinkAnswer struct {
	Token   duban.AnswerToken
	Person  *duban.Person
	Hearing *duban.Hearing
	Agency  *duban.HearingAgency
}

// Open checks token and loads what it answers for. A tampered, foreign or
// expired link, or one whose head may no longer answer for the agency
// (deactivated, moved, no longer head), is refused with an error matching
// duban.ErrUnauthorized or duban.ErrForbidden.
func (la *LinkAnswers) Open(ctx context.Context, token string) (*LinkAnswer, error) {
	t, err := duban.ParseAnswerToken(la.key, token, la.clock.Now())
	if err != nil {
		return nil, err
	}
	p, err := la.store.PersonByID(ctx, t.PersonID)
	if errors.Is(err, duban.ErrNotFound) {
		return nil, duban.ErrTokenInvalid
	}
	if err != nil {
		return nil, err
	}
	ha, err := la.store.HearingAgencyByID(ctx, t.HearingAgencyID)
	if errors.Is(err, duban.ErrNotFound) {
		return nil, duban.ErrTokenInvalid
	}
	if err != nil {
		return nil, err
	}
	if err := (duban.Actor{Person: p}).Check(duban.HearingAnswer, duban.Subject{Agencies: []int64{ha.AgencyID}}); err != nil {
		return nil, err
	}
	h, err := la.store.HearingByID(ctx, ha.HearingID)
	if err != nil {
		return nil, err
	}
	return &LinkAnswer{Token: t, Person: p, Hearing: h, Agency: ha}, nil
}

// Answer checks token and records req's answer as the link's head; the
// hearing agency is the link's, whatever req names.
func (la *LinkAnswers) Answer(ctx context.Context, token string, req AnswerRequest) (*LinkAnswer, error) {
	a, err := la.Open(ctx, token)
	if err != nil {
		return nil, err
	}
	req.HearingAgencyID = a.Agency.ID
	h, ha, err := la.hearings.Answer(ctx, duban.Actor{Person: a.Person}, req)
	if err != nil {
		return a, fmt.Errorf("answer by link: %w", err)
	}
	a.Hearing, a.Agency = h, ha
	return a, nil
}
