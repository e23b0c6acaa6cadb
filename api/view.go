package api

import (
	"context"
	"fmt"
	"strings"

	"github.com/cityhall/duban"
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

// hearing renders h with its timed steps, as a list of one.
func (v *viewer) hearing(ctx context.Context, h *duban.Hearing) (hearingJSON, error) {
	out, err := v.hearings(ctx, []duban.Hearing{*h})
	if err != nil {
		return hearingJSON{}, err
	}
	return out[0], nil
}

// hearings renders a list. The reminders of all its hearings, the channel
// of each reminder's latest delivery and the people who answered are read
// with one query each (a batch of ids at a time), and heads once an agency:
// asked a row at a time, they cost 6 to 10 queries a hearing, and a week's
// list took seconds.
func (v *viewer) hearings(ctx context.Context, hs []duban.Hearing) ([]hearingJSON, error) {
	ids := make([]int64, len(hs))
	var answerers []int64
	for i := range hs {
		ids[i] = hs[i].ID
		for _, ha := range hs[i].Agencies {
			if ha.Answer != duban.AnswerNone && ha.AnsweredBy != nil {
				answerers = append(answerers, *ha.AnsweredBy)
			}
		}
	}
	people, err := v.s.Store.PeopleByIDs(ctx, answerers)
	if err != nil {
		return nil, err
	}
	reminders, err := v.s.Store.RemindersOfHearings(ctx, ids)
	if err != nil {
		return nil, err
	}
	var rids []int64
	for _, rs := range reminders {
		for _, r := range rs {
			rids = append(rids, r.ID)
		}
	}
	latest, err := v.s.Store.LatestDeliveryChannels(ctx, rids)
	if err != nil {
		return nil, err
	}
	out := make([]hearingJSON, 0, len(hs))
	for i := range hs {
		h, err := v.render(ctx, &hs[i], reminders[hs[i].ID], latest, people)
		if err != nil {
			return nil, err
		}
		out = append(out, h)
	}
	return out, nil
}

// render builds h's answer from what hearings read: its reminders rs, the
// channels of the reminders' latest deliveries and the people who answered.
func (v *viewer) render(ctx context.Context, h *duban.Hearing, rs []duban.Reminder, latest map[int64]duban.Channel,
	people map[int64]duban.Person) (hearingJSON, error) {
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
			p, ok := people[*ha.AnsweredBy]
			if !ok {
				return hearingJSON{}, fmt.Errorf("person %d: %w", *ha.AnsweredBy, duban.ErrNotFound)
			}
			if p.AgencyID == nil || *p.AgencyID != ha.AgencyID {
				a.RecordedBy = p.Name
			}
		}
		out.Agencies = append(out.Agencies, a)
	}
	for _, r := range rs {
		rj := reminderJSON{DueAt: rfc3339(r.DueAt, loc), Status: r.Status, Kind: r.Kind}
		ha := byID[r.HearingAgencyID]
		var heads []duban.Person
		if ha != nil {
			rj.Agency = ha.AgencyCode
			var err error
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
		rj.Channel = v.channel(r, heads, latest)
		out.Reminders = append(out.Reminders, rj)
	}
	return out, nil
}

// channel is the channel of the latest delivery made for r (latest holds
// them by reminder); before any, for a reminder, the channel its first head
// would be reached on.
func (v *viewer) channel(r duban.Reminder, heads []duban.Person, latest map[int64]duban.Channel) string {
	if ch, ok := latest[r.ID]; ok {
		return string(ch)
	}
	if r.Kind != duban.KindReminder || len(heads) == 0 || v.s.outbox == nil {
		return ""
	}
	if chans := v.s.outbox.Channels(&heads[0]); len(chans) > 0 {
		return string(chans[0])
	}
	return ""
}
