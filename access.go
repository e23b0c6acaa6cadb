package duban

import (
	"fmt"
	"slices"
)

// This file is the rule book: who may see and do what (README.md, "Who may
// see and do what"; the table is docs/ACCESS.md). Every entry point — the API, both bots, the CLI, jobs
// and the web pages — asks it; none decides on its own. docs/ACCESS.md is
// generated from it (TestAccessDocMatchesTheRules).

// Actor is who does something: a person (by token, chat or session), or,
// without one, the bootstrap admin of DUBAN_ADMIN_TOKEN, the operator at
// the command line, or the system itself (jobs). Actors without a person
// hold the admin's powers: everything but answering for a head.
type Actor struct {
	Person *Person
	Name   string
}

// System is the actor of duban's own steps (urges and escalations by the
// SLA check, reminders): audited as name.
func System(name string) Actor { return Actor{Name: name} }

// String is how the audit log and timelines name the actor.
func (a Actor) String() string {
	if a.Person != nil {
		return fmt.Sprintf("person:%d", a.Person.ID)
	}
	return a.Name
}

// PersonID is the actor's person id, nil without a person.
func (a Actor) PersonID() *int64 {
	if a.Person == nil {
		return nil
	}
	return &a.Person.ID
}

// holds reports whether the actor holds role r. An inactive person holds
// nothing; an actor without a person holds the admin role only.
func (a Actor) holds(r Role) bool {
	if a.Person == nil {
		return r == RoleAdmin
	}
	return a.Person.Active && a.Person.Has(r)
}

func (a Actor) admin() bool      { return a.holds(RoleAdmin) }
func (a Actor) staff() bool      { return a.holds(RoleStaff) || a.admin() }
func (a Actor) supervisor() bool { return a.holds(RoleSupervisor) || a.admin() }

// office reports whether the actor is of the legal-affairs office or a
// supervisor (admins included): those who see everything.
func (a Actor) office() bool { return a.staff() || a.supervisor() }

// agencyOf returns the agency whose head, deputy or handler the actor is
// (and holds no office role), or nil.
func (a Actor) agencyOf() *int64 {
	if a.Person == nil || !a.Person.Active || a.Person.AgencyID == nil {
		return nil
	}
	if a.holds(RoleAgencyHead) || a.holds(RoleDeputy) || a.holds(RoleHandler) {
		return a.Person.AgencyID
	}
	return nil
}

// Office reports whether r holds a role with the office's powers (staff,
// supervisor, admin): only an admin gives those.
func (r Roles) Office() bool {
	return slices.ContainsFunc(r, func(x Role) bool { return x == RoleStaff || x == RoleSupervisor || x == RoleAdmin })
}

// Do is something an actor may ask to do to a thing.
type Do string

// What an actor may do, by thing: the rows of docs/ACCESS.md.
const (
	HearingRegister     Do = "hearing.register" // register a notice (HTTP, Slack, CSV import)
	HearingMove         Do = "hearing.move"
	HearingCancel       Do = "hearing.cancel"
	HearingImport       Do = "hearing.import"
	HearingAnswer       Do = "hearing.answer"        // the head confirms or names who goes instead
	HearingRecordAnswer Do = "hearing.record_answer" // the office records an answer given by phone
	HearingOutcome      Do = "hearing.outcome"
	HearingRead         Do = "hearing.read"

	ComplaintLog       Do = "complaint.log" // a hotline call or a media report
	ComplaintRead      Do = "complaint.read"
	ComplaintReporter  Do = "complaint.reporter" // the reporter's identity (audited)
	ComplaintCallbacks Do = "complaint.callbacks"

	DeliveryRead   Do = "delivery.read"
	DeliveryResend Do = "delivery.resend"

	ReportRead     Do = "report.read"
	ReportBulletin Do = "report.bulletin" // send the bulletin (通报) now, beside its schedule

	PersonRead       Do = "person.read"
	PersonAdd        Do = "person.add"
	PersonEdit       Do = "person.edit" // name, agency, phone, e-mail, locale, channels
	PersonDeactivate Do = "person.deactivate"
	PersonRoles      Do = "person.roles"
	PersonTokens     Do = "person.tokens" // mint, list, revoke
	PersonPassword   Do = "person.password"
	PersonRebind     Do = "person.rebind" // change or clear a bound chat or Slack user
	PersonBindCode   Do = "person.bind_code"
	PersonCalendar   Do = "person.calendar"

	AgencyRead     Do = "agency.read"
	AgencyManage   Do = "agency.manage"   // add, edit
	AgencyCalendar Do = "agency.calendar" // mint, rotate or revoke an agency's calendar feed
	AuditRead      Do = "audit.read"
	ConfigManage   Do = "config.manage"
	QueueMonitor   Do = "queue.monitor" // asynq's web monitor
	ComplaintQueue Do = "complaint.queue"
)

// ComplaintDo is what taking action a on a complaint asks for.
func ComplaintDo(a Action) Do { return Do("complaint." + string(a)) }

// Subject is the thing acted on, in its present state; only the fields
// its kind needs are set.
type Subject struct {
	// Agencies are a hearing's defendant agencies; for HearingAnswer the
	// one agency answered for. For a complaint, every agency it has been
	// assigned to, now or before.
	Agencies []int64
	// Complaint is the complaint acted on.
	Complaint *Complaint
	// Person is the person acted on.
	Person *Person
}

// Of says the subject is a complaint with its assignment history.
func Of(c *Complaint, assignedBefore ...int64) Subject {
	return Subject{Complaint: c, Agencies: assignedBefore}
}

// OfHearing says the subject is a hearing.
func OfHearing(h *Hearing) Subject {
	s := Subject{}
	for _, ha := range h.Agencies {
		s.Agencies = append(s.Agencies, ha.AgencyID)
	}
	return s
}

// OfPerson says the subject is a person.
func OfPerson(p *Person) Subject { return Subject{Person: p} }

// Check answers ErrForbidden unless a may do d to s.
func (a Actor) Check(d Do, s Subject) error {
	if !a.May(d, s) {
		return fmt.Errorf("%s may not %s: %w", a, d, ErrForbidden)
	}
	return nil
}

// May reports whether a may do d to s, in s's present state.
func (a Actor) May(d Do, s Subject) bool {
	if a.Person != nil && !a.Person.Active {
		return false
	}
	switch d {
	case HearingRegister, HearingMove, HearingCancel, HearingImport, HearingOutcome:
		return a.staff()
	case HearingAnswer:
		// The head of X, for X only; nobody answers for a head, not even
		// an admin.
		x := a.agencyOf()
		return x != nil && a.holds(RoleAgencyHead) && slices.Contains(s.Agencies, *x)
	case HearingRecordAnswer:
		return a.holds(RoleStaff)
	case HearingRead:
		if a.office() {
			return true
		}
		x := a.agencyOf()
		return x != nil && slices.Contains(s.Agencies, *x)

	case ComplaintLog:
		return a.office()
	case ComplaintQueue:
		return a.office() || a.agencyOf() != nil
	case ComplaintRead:
		if a.office() {
			return true
		}
		return a.assignedToMine(s, false)
	case ComplaintReporter:
		return a.office()
	case ComplaintCallbacks, ComplaintDo(ActionRate):
		return a.staff()
	case ComplaintDo(ActionAccept), ComplaintDo(ActionReject), ComplaintDo(ActionAssign), ComplaintDo(ActionUrge),
		ComplaintDo(ActionEscalate), ComplaintDo(ActionExtend), ComplaintDo(ActionClose), ComplaintDo(ActionReopen),
		ComplaintDo(ActionMerge):
		return a.supervisor()
	case ComplaintDo(ActionReply):
		// The office records a reply received on paper; the agency replies
		// while the complaint is assigned to it.
		if a.staff() {
			return true
		}
		return a.assignedToMine(s, true) && s.Complaint.Status == ComplaintAssigned
	case ComplaintDo(ActionNote):
		if a.office() {
			return true
		}
		return a.assignedToMine(s, true) && s.Complaint.Status.Open()

	case DeliveryRead:
		return a.office()
	case DeliveryResend:
		return a.staff()
	case ReportRead:
		return a.office() || a.agencyOf() != nil
	case ReportBulletin:
		return a.office()

	case PersonRead:
		return a.office() || a.self(s)
	case PersonAdd:
		// The office adds agencies' people; whoever holds an office role
		// (staff, supervisor, admin) is given it by an admin.
		if a.admin() {
			return true
		}
		return a.holds(RoleStaff) && (s.Person == nil || !s.Person.Roles.Office())
	case PersonEdit, PersonDeactivate:
		// The office keeps people's details, but not an admin's.
		if a.admin() {
			return true
		}
		return a.holds(RoleStaff) && (s.Person == nil || !s.Person.Has(RoleAdmin))
	case PersonRoles:
		// Only admins grant, and nobody changes their own roles.
		return a.admin() && !a.self(s)
	case PersonTokens, PersonPassword, PersonCalendar:
		return a.admin() || a.self(s)
	case PersonRebind:
		return a.admin()
	case PersonBindCode:
		// Staff bind a new person's chat; re-binding a bound one is an
		// admin's, or the person's own new code.
		if a.admin() {
			return true
		}
		return a.holds(RoleStaff) && s.Person != nil && !s.Person.Bound() && !s.Person.Has(RoleAdmin)

	case AgencyRead:
		return true
	case AgencyManage, AgencyCalendar:
		return a.staff()
	case AuditRead, ConfigManage, QueueMonitor:
		return a.admin()
	}
	return false
}

// self reports whether s is the actor's own person.
func (a Actor) self(s Subject) bool {
	return a.Person != nil && s.Person != nil && a.Person.ID == s.Person.ID
}

// assignedToMine reports whether the subject complaint is assigned to the
// actor's agency — now, or (unless now is set) at any time before.
func (a Actor) assignedToMine(s Subject, now bool) bool {
	x := a.agencyOf()
	if x == nil || s.Complaint == nil {
		return false
	}
	if s.Complaint.AgencyID != nil && *s.Complaint.AgencyID == *x && s.Complaint.Status != ComplaintMerged {
		return true
	}
	return !now && slices.Contains(s.Agencies, *x)
}

// Scope is which rows of a list an actor may see: all of them, those of
// one agency, or none. Lists apply it in the query, so a page of 50 holds
// 50 rows the caller may see.
type Scope struct {
	All    bool
	Agency *int64 // with All false: only rows of this agency
}

// ScopeOf returns the scope of a's lists of the things d reads
// (HearingRead, ComplaintRead, ReportRead, DeliveryRead). For
// complaints, "of this agency" means assigned to it now or before.
func (a Actor) ScopeOf(d Do) Scope {
	if a.Person != nil && !a.Person.Active {
		return Scope{}
	}
	switch d {
	case HearingRead, ComplaintRead, ReportRead:
		if a.office() {
			return Scope{All: true}
		}
		return Scope{Agency: a.agencyOf()}
	case DeliveryRead:
		return Scope{All: a.office()}
	}
	return Scope{}
}

// None reports whether the scope admits no row.
func (s Scope) None() bool { return !s.All && s.Agency == nil }

// SeesEvent reports whether a may see event e of a complaint a may read:
// the office sees every event; an agency sees the public ones and the
// notes its own people wrote, never the office's internal notes.
func (a Actor) SeesEvent(e Event) bool {
	if a.office() {
		return true
	}
	if e.Public {
		return true
	}
	x := a.agencyOf()
	return x != nil && e.Action == ActionNote && e.AgencyID != nil && *e.AgencyID == *x
}

// PublicEvent reports whether the reporter, reading their own complaint
// through its code (/status, Open311), sees event e. It is the one list of
// what a reporter may read of a timeline.
func PublicEvent(e Event) bool {
	if !e.Public {
		return false
	}
	switch e.Action {
	case ActionReceive, ActionAccept, ActionReject, ActionAssign, ActionReply, ActionClose, ActionReopen, ActionMerge:
		return true
	}
	return false
}
