package duban

import (
	"sort"
	"time"
)

// ReminderKind is what a timed step of a hearing does when it comes due.
type ReminderKind string

// Kinds of timed steps per defendant agency.
const (
	// KindReminder reminds the head (and a named deputy) of the hearing.
	KindReminder ReminderKind = "reminder"
	// KindEscalation tells supervisors and office staff that the head has
	// not answered.
	KindEscalation ReminderKind = "escalation"
	// KindOutcome asks office staff who appeared.
	KindOutcome ReminderKind = "outcome"
)

// ReminderStatus is where a timed step stands.
type ReminderStatus string

// Statuses of a timed step.
const (
	ReminderPending   ReminderStatus = "pending"
	ReminderSent      ReminderStatus = "sent"
	ReminderFailed    ReminderStatus = "failed"
	ReminderCancelled ReminderStatus = "cancelled"
	// ReminderSkipped: the step came due but had nothing to do (the head
	// answered before the escalation, the outcome was already recorded).
	ReminderSkipped ReminderStatus = "skipped"
)

// Reminder is one timed step for one defendant agency of a hearing. The row
// is the truth; the asynq task carrying its id and due time only says when.
type Reminder struct {
	ID              int64          `db:"id"`
	HearingAgencyID int64          `db:"hearing_agency_id"`
	HearingID       int64          `db:"hearing_id"`
	Kind            ReminderKind   `db:"kind"`
	OffsetSeconds   int64          `db:"offset_seconds"`
	DueAt           time.Time      `db:"due_at"`
	Status          ReminderStatus `db:"status"`
	SentAt          *time.Time     `db:"sent_at"`
}

// Policy is how the reminders of a hearing are timed.
type Policy struct {
	Offsets        []time.Duration // lead times before the start
	EscalateBefore time.Duration
	OutcomeAfter   time.Duration
	Quiet          QuietHours
}

// Step is one planned timed step.
type Step struct {
	Kind   ReminderKind
	Offset time.Duration
	DueAt  time.Time
}

// Plan lays out the timed steps of a hearing starting at start, seen at
// now: a reminder for every offset still ahead (moved out of quiet hours
// unless that would pass the start), one escalation check, and one outcome
// request. Steps are sorted by due time, ties by kind.
func (p Policy) Plan(start, now time.Time) []Step {
	var steps []Step
	seen := map[time.Time]bool{}
	for _, off := range p.Offsets {
		due := start.Add(-off)
		if !due.After(now) {
			continue // past offsets are skipped
		}
		due = p.Quiet.Defer(due, start).Truncate(time.Second)
		if seen[due] || !due.After(now) {
			continue // two offsets folded onto the end of one quiet night
		}
		seen[due] = true
		steps = append(steps, Step{Kind: KindReminder, Offset: off, DueAt: due})
	}
	esc := start.Add(-p.EscalateBefore)
	if esc.Before(now) {
		// The notice came inside the escalation window: supervisors hear at
		// once that nobody has answered yet.
		esc = now
	}
	esc = p.Quiet.Defer(esc, start).Truncate(time.Second)
	steps = append(steps, Step{Kind: KindEscalation, Offset: p.EscalateBefore, DueAt: esc})
	out := p.Quiet.Defer(start.Add(p.OutcomeAfter), time.Time{}).Truncate(time.Second)
	steps = append(steps, Step{Kind: KindOutcome, Offset: -p.OutcomeAfter, DueAt: out})
	sort.SliceStable(steps, func(i, j int) bool { return steps[i].DueAt.Before(steps[j].DueAt) })
	return steps
}
