package jobs

import (
	"time"

	"github.com/cityhall/duban"
)

// Translator renders a message id of the i18n bundles in a locale.
type Translator interface {
	T(locale, id string, data map[string]any) string
}

// Renderer turns hearings into messages in a recipient's language.
type Renderer struct {
	T   Translator
	Loc *time.Location
}

func (r Renderer) fields(locale string, h *duban.Hearing, ha *duban.HearingAgency) map[string]any {
	return map[string]any{
		"CaseNumber": h.CaseNumber,
		"Court":      h.Court,
		"Courtroom":  h.Courtroom,
		"StartsAt":   r.Time(locale, h.StartsAt),
		"Plaintiff":  h.Plaintiff,
		"Cause":      h.Cause,
		"Agency":     ha.AgencyName,
	}
}

// Time formats t in local time with the locale's layout.
func (r Renderer) Time(locale string, t time.Time) string {
	layout := r.T.T(locale, "format.datetime", nil)
	if layout == "format.datetime" || layout == "" {
		layout = "2006-01-02 15:04"
	}
	return t.In(r.Loc).Format(layout)
}

// Left says how long until the hearing: days, else hours, else minutes.
func (r Renderer) Left(locale string, d time.Duration) string {
	switch {
	case d >= 24*time.Hour:
		return r.T.T(locale, "duration.days", map[string]any{"N": int(d.Round(time.Hour).Hours()) / 24})
	case d >= time.Hour:
		return r.T.T(locale, "duration.hours", map[string]any{"N": int(d.Round(time.Minute).Minutes()) / 60})
	default:
		return r.T.T(locale, "duration.minutes", map[string]any{"N": max(1, int(d.Round(time.Minute).Minutes()))})
	}
}

// AnswerLine states a head's answer so far.
func (r Renderer) AnswerLine(locale string, ha *duban.HearingAgency) string {
	switch ha.Answer {
	case duban.AnswerConfirmed:
		return r.T.T(locale, "hearing.answer.confirmed", nil)
	case duban.AnswerDelegated:
		return r.T.T(locale, "hearing.answer.delegated", map[string]any{"Delegate": ha.DelegateName, "Reason": ha.DelegateReason})
	default:
		return r.T.T(locale, "hearing.answer.none", nil)
	}
}

func (r Renderer) headButtons(locale string, haID int64) [][]duban.Button {
	return [][]duban.Button{
		{
			{Label: r.T.T(locale, "button.confirm", nil), Data: duban.Callback{Verb: duban.VerbConfirm, HearingAgencyID: haID}.Encode(), Style: "primary"},
			{Label: r.T.T(locale, "button.delegate", nil), Data: duban.Callback{Verb: duban.VerbDelegate, HearingAgencyID: haID}.Encode()},
		},
		{{Label: r.T.T(locale, "button.details", nil), Data: duban.Callback{Verb: duban.VerbDetails, HearingAgencyID: haID}.Encode()}},
	}
}

func (r Renderer) detailsButton(locale string, haID int64) [][]duban.Button {
	return [][]duban.Button{{{Label: r.T.T(locale, "button.details", nil), Data: duban.Callback{Verb: duban.VerbDetails, HearingAgencyID: haID}.Encode()}}}
}

// HeadMessage renders a notice, reminder or reschedule for a head; a copy
// for a named deputy (head is the head's name then) has a note in front
// and no answer buttons, since only the head answers.
func (r Renderer) HeadMessage(kind duban.MessageKind, locale string, h *duban.Hearing, ha *duban.HearingAgency, now time.Time, oldStart time.Time, deputyOf string) duban.Message {
	data := r.fields(locale, h, ha)
	data["AnswerLine"] = r.AnswerLine(locale, ha)
	data["Left"] = r.Left(locale, h.StartsAt.Sub(now))
	var id string
	switch kind {
	case duban.MsgNotice:
		id = "hearing.notice"
	case duban.MsgReschedule:
		id = "hearing.reschedule"
		data["OldStartsAt"] = r.Time(locale, oldStart)
	case duban.MsgCancel:
		id = "hearing.cancel"
	default:
		id = "hearing.reminder"
	}
	msg := duban.Message{Kind: kind, Ref: h.CaseNumber, Text: r.T.T(locale, id, data), HearingAgencyID: ha.ID}
	if deputyOf != "" {
		msg.Text = r.T.T(locale, "hearing.deputy_note", map[string]any{"Head": deputyOf, "Agency": ha.AgencyName}) + "\n" + msg.Text
		if kind != duban.MsgCancel {
			msg.Buttons = r.detailsButton(locale, ha.ID)
		}
		return msg
	}
	if kind != duban.MsgCancel {
		msg.Buttons = r.headButtons(locale, ha.ID)
	}
	return msg
}

// Escalation renders the message to supervisors and staff that a head has
// not answered (or cannot be reached at all).
func (r Renderer) Escalation(locale string, h *duban.Hearing, ha *duban.HearingAgency, head string, noChannel bool) duban.Message {
	data := r.fields(locale, h, ha)
	data["Head"] = head
	id := "hearing.escalation"
	if noChannel {
		id = "hearing.escalation.no_channel"
	}
	return duban.Message{Kind: duban.MsgEscalation, Ref: h.CaseNumber, Text: r.T.T(locale, id, data),
		Buttons: r.detailsButton(locale, ha.ID)}
}

// OutcomeRequest renders the question to staff of who appeared.
func (r Renderer) OutcomeRequest(locale string, h *duban.Hearing, ha *duban.HearingAgency, head string) duban.Message {
	data := r.fields(locale, h, ha)
	data["Head"] = head
	btn := func(a duban.Attendance, label string) duban.Button {
		return duban.Button{Label: r.T.T(locale, label, nil), Data: duban.Callback{Verb: duban.VerbOutcome, HearingAgencyID: ha.ID, Attendance: a}.Encode()}
	}
	return duban.Message{Kind: duban.MsgOutcomeRequest, Ref: h.CaseNumber, Text: r.T.T(locale, "hearing.outcome_request", data),
		Buttons: [][]duban.Button{{btn(duban.AttendanceHead, "button.outcome.head"), btn(duban.AttendanceDeputy, "button.outcome.deputy"), btn(duban.AttendanceNone, "button.outcome.none")}}}
}

// Details renders everything known about one agency's part in a hearing.
func (r Renderer) Details(locale string, h *duban.Hearing, ha *duban.HearingAgency) string {
	data := r.fields(locale, h, ha)
	data["AnswerLine"] = r.AnswerLine(locale, ha)
	return r.T.T(locale, "hearing.details", data)
}

// headNames joins the names of an agency's heads for messages to others.
func headNames(heads []duban.Person) string {
	s := ""
	for i, p := range heads {
		if i > 0 {
			s += "、"
		}
		s += p.Name
	}
	if s == "" {
		return "—"
	}
	return s
}
