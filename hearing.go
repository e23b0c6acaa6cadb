package duban

import (
	"strings"
	"time"
)

// HearingStatus is where a hearing stands.
type HearingStatus string

// Hearing states: scheduled (its time may move) → held | cancelled.
const (
	HearingScheduled HearingStatus = "scheduled"
	HearingHeld      HearingStatus = "held"
	HearingCancelled HearingStatus = "cancelled"
)

// Answer is what an agency head said about a hearing.
type Answer string

// A head's answer: none → confirmed | delegated; it can change until the
// hearing starts.
const (
	AnswerNone      Answer = "none"
	AnswerConfirmed Answer = "confirmed"
	AnswerDelegated Answer = "delegated"
)

// Attendance is who appeared for an agency at a held hearing.
type Attendance string

// Outcomes per agency after a hearing.
const (
	AttendanceHead   Attendance = "head"
	AttendanceDeputy Attendance = "deputy"
	AttendanceNone   Attendance = "none"
)

// ParseAttendance validates an attendance value.
func ParseAttendance(s string) (Attendance, error) {
	switch a := Attendance(s); a {
	case AttendanceHead, AttendanceDeputy, AttendanceNone:
		return a, nil
	}
	return "", Invalid("attendance", "must be head, deputy or none")
}

// Hearing is one court session of an administrative lawsuit. A case may
// have several; a hearing may have several defendant agencies.
type Hearing struct {
	ID         int64         `db:"id"`
	CaseNumber string        `db:"case_number"`
	Court      string        `db:"court"`
	Courtroom  string        `db:"courtroom"`
	StartsAt   time.Time     `db:"starts_at"`
	Plaintiff  string        `db:"plaintiff"`
	Cause      string        `db:"cause"`
	Status     HearingStatus `db:"status"`
	CreatedAt  time.Time     `db:"created_at"`
	UpdatedAt  time.Time     `db:"updated_at"`
	// Sequence counts the changes of the hearing (move, cancel): an
	// iCalendar event's SEQUENCE (RFC 5545, 3.8.7.4).
	Sequence int `db:"sequence"`

	Agencies []HearingAgency `db:"-"`
}

// HearingAgency is one defendant agency of a hearing: its head's answer and
// the outcome are kept per agency.
type HearingAgency struct {
	ID               int64       `db:"id"`
	HearingID        int64       `db:"hearing_id"`
	AgencyID         int64       `db:"agency_id"`
	AgencyCode       string      `db:"agency_code"`
	AgencyName       string      `db:"agency_name"`
	Answer           Answer      `db:"answer"`
	DelegateName     string      `db:"delegate_name"`
	DelegateReason   string      `db:"delegate_reason"`
	DelegatePersonID *int64      `db:"delegate_person_id"`
	AnsweredAt       *time.Time  `db:"answered_at"`
	AnsweredBy       *int64      `db:"answered_by"`
	Outcome          *Attendance `db:"outcome"`
	OutcomeAt        *time.Time  `db:"outcome_at"`
	OutcomeBy        *int64      `db:"outcome_by"`
}

// Notice is a court's hearing notice as it enters duban.
type Notice struct {
	CaseNumber string
	Court      string
	Courtroom  string
	Agencies   []string // agency codes
	StartsAt   time.Time
	Plaintiff  string
	Cause      string
}

// Validate checks a notice against now. Unknown agencies are the caller's
// to check, since that needs storage.
func (n *Notice) Validate(now time.Time) error {
	var v ValidationError
	req := func(field, val string, max int) {
		switch {
		case strings.TrimSpace(val) == "":
			v.Add(field, "is required")
		case len([]rune(val)) > max:
			v.Add(field, "must be at most %d characters", max)
		}
	}
	req("case_number", n.CaseNumber, MaxNameRunes)
	req("court", n.Court, MaxTitleRunes)
	req("plaintiff", n.Plaintiff, MaxPartyRunes)
	req("cause", n.Cause, MaxNoteRunes)
	if len([]rune(n.Courtroom)) > MaxNameRunes {
		v.Add("courtroom", "must be at most %d characters", MaxNameRunes)
	}
	if len(n.Agencies) == 0 {
		v.Add("agency", "at least one defendant agency is required")
	}
	seen := map[string]bool{}
	for _, a := range n.Agencies {
		if strings.TrimSpace(a) == "" {
			v.Add("agency", "an agency code is empty")
		} else if seen[a] {
			v.Add("agency", "agency %q is named twice", a)
		}
		seen[a] = true
	}
	if n.StartsAt.IsZero() {
		v.Add("starts_at", "is required")
	} else if !n.StartsAt.After(now) {
		v.Add("starts_at", "is in the past")
	}
	return v.Err()
}

// ParseTime reads a time as the API accepts it: RFC 3339, or
// "2006-01-02 15:04" in loc.
func ParseTime(s string, loc *time.Location) (time.Time, error) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02 15:04", "2006-01-02 15:04:05", "2006-01-02T15:04", "2006/01/02 15:04", "2006/1/2 15:04"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, Invalid("", "is not a time (RFC 3339 or 2006-01-02 15:04)")
}
