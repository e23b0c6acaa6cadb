package api

import (
	"context"
	"strings"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/storage"
)

// hearingJSON is a hearing as docs/API.md (Hearings) shows it.
type hearingJSON struct {
	ID         int64               `json:"id"`
	CaseNumber string              `json:"case_number"`
	Court      string              `json:"court"`
	Courtroom  string              `json:"courtroom"`
	Agencies   []hearingAgencyJSON `json:"agencies"`
	StartsAt   string              `json:"starts_at"`
	Plaintiff  string              `json:"plaintiff"`
	Cause      string              `json:"cause"`
	Status     duban.HearingStatus `json:"status"`
	Reminders  []reminderJSON      `json:"reminders"`
}

type hearingAgencyJSON struct {
	Code     string            `json:"code"`
	Name     string            `json:"name"`
	Answer   duban.Answer      `json:"answer"`
	Delegate *delegateJSON     `json:"delegate,omitempty"`
	Outcome  *duban.Attendance `json:"outcome"`
	// RecordedBy names the office staff member who recorded the answer a
	// head gave by phone or in person; absent when the head answered
	// themselves. An extension of the original shape (docs/API.md, Hearings).
	RecordedBy string `json:"recorded_by,omitempty"`
}

type delegateJSON struct {
	Name   string `json:"name"`
	Reason string `json:"reason"`
}

// reminderJSON is one timed step. Kind (reminder, escalation or outcome)
// is an extension of the contract's shape; person names the heads for a
// reminder, and channel is where its message went, or would go.
type reminderJSON struct {
	Agency  string               `json:"agency"`
	Person  string               `json:"person"`
	DueAt   string               `json:"due_at"`
	Status  duban.ReminderStatus `json:"status"`
	Channel string               `json:"channel"`
	Kind    duban.ReminderKind   `json:"kind"`
}

// viewer builds hearing answers, remembering each agency's heads for the
// length of one request.
type viewer struct {
	s     *server
	heads map[int64][]duban.Person
}

func (s *server) viewer() *viewer { return &viewer{s: s, heads: map[int64][]duban.Person{}} }

func (v *viewer) headsOf(ctx context.Context, agencyID int64) ([]duban.Person, error) {
	if hs, ok := v.heads[agencyID]; ok {
		return hs, nil
	}
	hs, err := v.s.Store.HeadsOf(ctx, agencyID)
	if err != nil {
		return nil, err
	}
	v.heads[agencyID] = hs
	return hs, nil
}

// hearing renders h with its timed steps.
func (v *viewer) hearing(ctx context.Context, h *duban.Hearing) (hearingJSON, error) {
	loc := v.s.Loc
	out := hearingJSON{ID: h.ID, CaseNumber: h.CaseNumber, Court: h.Court, Courtroom: h.Courtroom,
		StartsAt: rfc3339(h.StartsAt, loc), Plaintiff: h.Plaintiff, Cause: h.Cause, Status: h.Status,
		Agencies: make([]hearingAgencyJSON, 0, len(h.Agencies)), Reminders: []reminderJSON{}}
	byID := map[int64]*duban.HearingAgency{}
	for i := range h.Agencies {
		ha := &h.Agencies[i]
		byID[ha.ID] = ha
		a := hearingAgencyJSON{Code: ha.AgencyCode, Name: ha.AgencyName, Answer: ha.Answer, Outcome: ha.Outcome}
		if ha.Answer == duban.AnswerDelegated {
			a.Delegate = &delegateJSON{Name: ha.DelegateName, Reason: ha.DelegateReason}
		}
		if ha.Answer != duban.AnswerNone && ha.AnsweredBy != nil {
			p, err := v.s.Store.PersonByID(ctx, *ha.AnsweredBy)
			if err != nil {
				return hearingJSON{}, err
			}
			if p.AgencyID == nil || *p.AgencyID != ha.AgencyID {
				a.RecordedBy = p.Name
			}
		}
		out.Agencies = append(out.Agencies, a)
	}
	rs, err := v.s.Store.RemindersOfHearing(ctx, h.ID)
	if err != nil {
		return hearingJSON{}, err
	}
	for _, r := range rs {
		rj := reminderJSON{DueAt: rfc3339(r.DueAt, loc), Status: r.Status, Kind: r.Kind}
		ha := byID[r.HearingAgencyID]
		var heads []duban.Person
		if ha != nil {
			rj.Agency = ha.AgencyCode
			if heads, err = v.headsOf(ctx, ha.AgencyID); err != nil {
				return hearingJSON{}, err
			}
		}
		if r.Kind == duban.KindReminder {
			names := make([]string, len(heads))
			for i := range heads {
				names[i] = heads[i].Name
			}
			rj.Person = strings.Join(names, "、")
		}
		if rj.Channel, err = v.channel(ctx, r, heads); err != nil {
			return hearingJSON{}, err
		}
		out.Reminders = append(out.Reminders, rj)
	}
	return out, nil
}

// channel is the channel of the latest delivery made for r; before any, for
// a reminder, the channel its first head would be reached on.
func (v *viewer) channel(ctx context.Context, r duban.Reminder, heads []duban.Person) (string, error) {
	id := r.ID
	ds, err := v.s.Store.Deliveries(ctx, storage.DeliveryFilter{ReminderID: &id, Limit: 1})
	if err != nil {
		return "", err
	}
	if len(ds) > 0 {
		return string(ds[0].Channel), nil
	}
	if r.Kind != duban.KindReminder || len(heads) == 0 || v.s.outbox == nil {
		return "", nil
	}
	if chans := v.s.outbox.Channels(&heads[0]); len(chans) > 0 {
		return string(chans[0]), nil
	}
	return "", nil
}

// hearings renders a list.
func (v *viewer) hearings(ctx context.Context, hs []duban.Hearing) ([]hearingJSON, error) {
	out := make([]hearingJSON, 0, len(hs))
	for i := range hs {
		h, err := v.hearing(ctx, &hs[i])
		if err != nil {
			return nil, err
		}
		out = append(out, h)
	}
	return out, nil
}
