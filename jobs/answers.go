package jobs

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/storage"
)

// AnswerRequest is a head's answer to a hearing notice.
type AnswerRequest struct {
	HearingAgencyID int64
	Answer          duban.Answer
	DelegateName    string
	DelegateReason  string
}

// Answer records a head's answer; it can change until the hearing starts.
// Only the agency's head, or a supervisor, may answer.
func (hs *Hearings) Answer(ctx context.Context, actor Actor, req AnswerRequest) (*duban.Hearing, *duban.HearingAgency, error) {
	var v duban.ValidationError
	switch req.Answer {
	case duban.AnswerConfirmed:
		req.DelegateName, req.DelegateReason = "", ""
	case duban.AnswerDelegated:
		req.DelegateName, req.DelegateReason = strings.TrimSpace(req.DelegateName), strings.TrimSpace(req.DelegateReason)
		if req.DelegateName == "" {
			v.Add("delegate.name", "is required")
		} else if len([]rune(req.DelegateName)) > duban.MaxNameRunes {
			v.Add("delegate.name", "must be at most %d characters", duban.MaxNameRunes)
		}
		if req.DelegateReason == "" {
			v.Add("delegate.reason", "is required")
		} else if len([]rune(req.DelegateReason)) > duban.MaxNoteRunes {
			v.Add("delegate.reason", "must be at most %d characters", duban.MaxNoteRunes)
		}
	default:
		v.Add("answer", "must be confirmed or delegated")
	}
	if err := v.Err(); err != nil {
		return nil, nil, err
	}
	now := hs.clock.Now()
	var h *duban.Hearing
	var ha *duban.HearingAgency
	var deliveries []*duban.Delivery
	err := hs.store.InTx(ctx, func(tx *storage.Store) error {
		var err error
		if ha, err = tx.HearingAgencyByID(ctx, req.HearingAgencyID); err != nil {
			return err
		}
		if !mayAnswer(actor, ha) {
			return duban.ErrForbidden
		}
		if h, err = tx.HearingByID(ctx, ha.HearingID); err != nil {
			return err
		}
		if h.Status != duban.HearingScheduled || !now.Before(h.StartsAt) {
			return &duban.StateError{Action: "answer", State: "started or " + string(h.Status), Allowed: []string{}}
		}
		prevDelegate := ha.DelegatePersonID
		ha.Answer, ha.DelegateName, ha.DelegateReason, ha.DelegatePersonID = req.Answer, req.DelegateName, req.DelegateReason, nil
		if req.Answer == duban.AnswerDelegated {
			dep, err := tx.PersonByNameInAgency(ctx, ha.AgencyID, req.DelegateName)
			if err != nil && !errors.Is(err, duban.ErrNotFound) {
				return err
			}
			if dep != nil {
				ha.DelegatePersonID = &dep.ID
			}
		}
		t := now
		ha.AnsweredAt, ha.AnsweredBy = &t, actor.PersonID()
		if err := tx.SetAnswer(ctx, ha); err != nil {
			return err
		}
		if x := findAgency(h, ha.ID); x != nil {
			*x = *ha
		}
		if ha.DelegatePersonID != nil && (prevDelegate == nil || *prevDelegate != *ha.DelegatePersonID) {
			// The newly named deputy hears about the hearing at once.
			dep, err := tx.PersonByID(ctx, *ha.DelegatePersonID)
			if err != nil {
				return err
			}
			heads, err := tx.HeadsOf(ctx, ha.AgencyID)
			if err != nil {
				return err
			}
			msg := hs.Render.HeadMessage(duban.MsgNotice, dep.Locale, h, ha, now, h.StartsAt, headNames(heads))
			d, err := hs.Outbox.Plan(ctx, tx, dep, fmt.Sprintf("deputy:%d:%d", ha.ID, dep.ID), msg, nil, &ha.ID)
			if err != nil {
				return err
			}
			deliveries = append(deliveries, d)
		}
		tx.AfterCommit(func() { hs.Outbox.Enqueue(ctx, deliveries...) })
		return tx.Audit(ctx, actor.String(), "hearing.answer", fmt.Sprintf("hearing_agency:%d", ha.ID), string(req.Answer))
	})
	if err != nil {
		return nil, nil, err
	}
	return h, ha, nil
}

// mayAnswer reports whether actor may answer for ha's agency: its head,
// or the office recording an answer given by phone.
func mayAnswer(actor Actor, ha *duban.HearingAgency) bool {
	s := duban.Subject{Agencies: []int64{ha.AgencyID}}
	return actor.May(duban.HearingAnswer, s) || actor.May(duban.HearingRecordAnswer, s)
}

// RecordOutcome records who appeared for one agency of a hearing (code
// given) or for all of them, and marks the hearing held.
func (hs *Hearings) RecordOutcome(ctx context.Context, actor Actor, hearingID int64, agencyCode string, att duban.Attendance) (*duban.Hearing, error) {
	if err := actor.Check(duban.HearingOutcome, duban.Subject{}); err != nil {
		return nil, err
	}
	if _, err := duban.ParseAttendance(string(att)); err != nil {
		return nil, err
	}
	now := hs.clock.Now()
	err := hs.store.InTx(ctx, func(tx *storage.Store) error {
		h, err := tx.HearingByID(ctx, hearingID)
		if err != nil {
			return err
		}
		if h.Status == duban.HearingCancelled {
			return &duban.StateError{Action: "outcome", State: string(h.Status), Allowed: []string{}}
		}
		if now.Before(h.StartsAt) {
			return &duban.StateError{Action: "outcome", State: "not started", Allowed: []string{"answer"}}
		}
		matched := false
		for i := range h.Agencies {
			ha := &h.Agencies[i]
			if agencyCode != "" && ha.AgencyCode != agencyCode {
				continue
			}
			matched = true
			a, t := att, now
			ha.Outcome, ha.OutcomeAt, ha.OutcomeBy = &a, &t, actor.PersonID()
			if err := tx.SetOutcome(ctx, ha); err != nil {
				return err
			}
		}
		if !matched {
			return duban.Invalid("agency", "%q is not a defendant of this hearing", agencyCode)
		}
		h.Status = duban.HearingHeld
		if err := tx.UpdateHearing(ctx, h); err != nil {
			return err
		}
		return tx.Audit(ctx, actor.String(), "hearing.outcome", fmt.Sprintf("hearing:%d", h.ID), agencyCode+"="+string(att))
	})
	if err != nil {
		return nil, err
	}
	return hs.store.HearingByID(ctx, hearingID)
}

// RecordOutcomeFor records an outcome by the id of a hearing's agency, as
// the staff's buttons carry it.
func (hs *Hearings) RecordOutcomeFor(ctx context.Context, actor Actor, haID int64, att duban.Attendance) (*duban.Hearing, *duban.HearingAgency, error) {
	ha, err := hs.store.HearingAgencyByID(ctx, haID)
	if err != nil {
		return nil, nil, err
	}
	h, err := hs.RecordOutcome(ctx, actor, ha.HearingID, ha.AgencyCode, att)
	if err != nil {
		return nil, nil, err
	}
	for i := range h.Agencies {
		if h.Agencies[i].ID == haID {
			return h, &h.Agencies[i], nil
		}
	}
	return h, ha, nil
}
