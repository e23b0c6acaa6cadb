package duban

import (
	"math"
	"strings"
	"time"
	"unicode/utf8"
)

// ComplaintStatus is where a complaint stands.
type ComplaintStatus string

// Complaint states (docs/API.md, Complaints): received → accepted | rejected; accepted →
// assigned → replied → closed; a reply may be sent back (replied → assigned);
// closed and rejected complaints can be reopened (→ accepted); any open
// complaint can be merged into another.
const (
	ComplaintReceived ComplaintStatus = "received"
	ComplaintAccepted ComplaintStatus = "accepted"
	ComplaintRejected ComplaintStatus = "rejected"
	ComplaintAssigned ComplaintStatus = "assigned"
	ComplaintReplied  ComplaintStatus = "replied"
	ComplaintClosed   ComplaintStatus = "closed"
	ComplaintMerged   ComplaintStatus = "merged"
)

// ComplaintStatuses lists every complaint state, in the order of the flow.
var ComplaintStatuses = []ComplaintStatus{
	ComplaintReceived, ComplaintAccepted, ComplaintRejected, ComplaintAssigned,
	ComplaintReplied, ComplaintClosed, ComplaintMerged,
}

// ParseComplaintStatus validates a status, as a list filter takes it.
func ParseComplaintStatus(s string) (ComplaintStatus, error) {
	return parseOneOf("status", s, ComplaintStatuses)
}

// Open reports whether a complaint in state s is still being handled:
// received, accepted, assigned or replied.
func (s ComplaintStatus) Open() bool {
	switch s {
	case ComplaintReceived, ComplaintAccepted, ComplaintAssigned, ComplaintReplied:
		return true
	}
	return false
}

// Source is how a complaint reached the office.
type Source string

// Sources of complaints, as the API and Open311 name them (docs/API.md).
const (
	SourceTelegram    Source = "telegram"     // the public hotline bot
	SourceHotlineCall Source = "hotline_call" // a call to the supervision hotline, logged by staff
	SourceMedia       Source = "media"        // raised by a newspaper, broadcaster or site (曝光)
	SourceOpen311     Source = "open311"      // an Open311 GeoReport request
	SourceNPCDeputy   Source = "npc_deputy"   // a deputy to the people's congress (人大代表)
	SourceCPPCCMember Source = "cppcc_member" // a member of the CPPCC (政协委员)
	SourceOther       Source = "other"
)

// Sources lists every source.
var Sources = []Source{
	SourceTelegram, SourceHotlineCall, SourceMedia, SourceOpen311,
	SourceNPCDeputy, SourceCPPCCMember, SourceOther,
}

// ParseSource validates a source.
func ParseSource(s string) (Source, error) { return parseOneOf("source", s, Sources) }

// Category is what a complaint is about. The codes double as Open311
// service codes.
type Category string

// Categories of complaints, as the API names them and Open311 lists them
// as services (docs/API.md).
const (
	CategoryIllegalFine Category = "illegal_fine" // 乱罚款
	CategoryIllegalFee  Category = "illegal_fee"  // 乱收费
	CategoryIllegalLevy Category = "illegal_levy" // 乱摊派
	CategoryInaction    Category = "inaction"     // 不作为
	CategoryAbuse       Category = "abuse"        // 乱作为
	CategoryEfficiency  Category = "efficiency"   // 机关效能
	CategoryOther       Category = "other"        // 其他
)

// Categories lists every category, in the order menus show them.
var Categories = []Category{
	CategoryIllegalFine, CategoryIllegalFee, CategoryIllegalLevy,
	CategoryInaction, CategoryAbuse, CategoryEfficiency, CategoryOther,
}

// ParseCategory validates a category.
func ParseCategory(s string) (Category, error) { return parseOneOf("category", s, Categories) }

// Action is something a supervisor, office staff or a handler does to a
// complaint. Every action taken is an Event.
type Action string

// Actions on a complaint (docs/API.md, POST /api/v1/complaints/{id}/actions).
const (
	ActionAccept   Action = "accept"   // received → accepted
	ActionReject   Action = "reject"   // received → rejected; needs a reason, the reporter is told
	ActionAssign   Action = "assign"   // accepted, assigned or replied → assigned: agency, handler, time limit
	ActionReply    Action = "reply"    // assigned → replied: the agency has answered
	ActionClose    Action = "close"    // replied → closed (办结)
	ActionReopen   Action = "reopen"   // closed or rejected → accepted
	ActionMerge    Action = "merge"    // any open state → merged into another complaint
	ActionUrge     Action = "urge"     // 催办, while assigned
	ActionEscalate Action = "escalate" // 督办, while assigned
	ActionExtend   Action = "extend"   // more working days on the time limit, while assigned
	ActionNote     Action = "note"     // an internal note, any time
	ActionRate     Action = "rate"     // the reporter's satisfaction (回访), once closed

	// ActionReceive is the first event of every complaint's timeline; it is
	// not an action anyone can take through the API.
	ActionReceive Action = "receive"
)

// Actions lists every action; AllowedActions keeps this order.
var Actions = []Action{
	ActionAccept, ActionReject, ActionAssign, ActionReply, ActionClose, ActionReopen,
	ActionMerge, ActionUrge, ActionEscalate, ActionExtend, ActionNote, ActionRate,
}

// ParseAction validates an action.
func ParseAction(s string) (Action, error) { return parseOneOf("action", s, Actions) }

// transitions holds, for each state, the actions allowed in it and the state
// each leads to. Urge, escalate, extend, note and rate leave the state as it
// is.
var transitions = map[ComplaintStatus]map[Action]ComplaintStatus{
	ComplaintReceived: {
		ActionAccept: ComplaintAccepted,
		ActionReject: ComplaintRejected,
		ActionMerge:  ComplaintMerged,
		ActionNote:   ComplaintReceived,
	},
	ComplaintAccepted: {
		ActionAssign: ComplaintAssigned,
		ActionMerge:  ComplaintMerged,
		ActionNote:   ComplaintAccepted,
	},
	ComplaintRejected: {
		ActionReopen: ComplaintAccepted,
		ActionNote:   ComplaintRejected,
	},
	ComplaintAssigned: {
		ActionAssign:   ComplaintAssigned, // reassign
		ActionReply:    ComplaintReplied,
		ActionMerge:    ComplaintMerged,
		ActionUrge:     ComplaintAssigned,
		ActionEscalate: ComplaintAssigned,
		ActionExtend:   ComplaintAssigned,
		ActionNote:     ComplaintAssigned,
	},
	ComplaintReplied: {
		ActionClose:  ComplaintClosed,
		ActionAssign: ComplaintAssigned, // sent back
		ActionMerge:  ComplaintMerged,
		ActionNote:   ComplaintReplied,
	},
	ComplaintClosed: {
		ActionReopen: ComplaintAccepted,
		ActionNote:   ComplaintClosed,
		ActionRate:   ComplaintClosed,
	},
	ComplaintMerged: {
		ActionNote: ComplaintMerged,
	},
}

// Transition returns the state that action a leads to from state from. An
// action not allowed in from is a *StateError (matching ErrConflict) that
// lists the allowed ones; an unknown action is a *ValidationError.
func Transition(from ComplaintStatus, a Action) (ComplaintStatus, error) {
	if _, err := ParseAction(string(a)); err != nil {
		return "", err
	}
	to, ok := transitions[from][a]
	if !ok {
		return "", &StateError{Action: string(a), State: string(from), Allowed: AllowedActions(from)}
	}
	return to, nil
}

// AllowedActions lists the actions allowed in state s, in the order of
// Actions; an empty list for an unknown state.
func AllowedActions(s ComplaintStatus) []string {
	out := []string{}
	for _, a := range Actions {
		if _, ok := transitions[s][a]; ok {
			out = append(out, string(a))
		}
	}
	return out
}

// Limits of what people type, in Unicode code points: the one place they
// are set, for every door (API, Open311, both bots, the CLI).
const (
	// MaxNameRunes bounds a name: a person's, a deputy's, a token's, a
	// courtroom, a case number.
	MaxNameRunes = 100
	// MaxTitleRunes bounds an agency's or a court's name, and a search.
	MaxTitleRunes = 200
	// MaxPartyRunes bounds a plaintiff.
	MaxPartyRunes = 500
	// MaxNoteRunes bounds a hearing's cause and a deputy's reason.
	MaxNoteRunes = 1000
	// MaxFieldRunes bounds every other field of a complaint (location,
	// outlet, link, the reporter's name and phone), and a supervisor's
	// reason given in chat.
	MaxFieldRunes = 2000
	// MaxReportRunes bounds a report's description, which may span several
	// Telegram messages, and any text of an action: 20,000 Unicode code
	// points (docs/API.md, POST /api/v1/complaints).
	MaxReportRunes = 20000
	// MaxAttachmentBytes bounds one photo or document sent with a report
	// (README.md, The complaint queue): 10 MB.
	MaxAttachmentBytes = 10 << 20
	// MaxAssignWorkingDays and MaxExtendWorkingDays bound the time limit set
	// by an assignment and the days one extension adds.
	MaxAssignWorkingDays = 60
	MaxExtendWorkingDays = 30
	// maxRefRunes bounds an agency or complaint reference (id, code or
	// tracking code) in an action.
	maxRefRunes = 64
)

// ActionRequest is an action as a caller asks for it (the body of POST
// /api/v1/complaints/{id}/actions, a Slack button or modal). Fields an
// action does not use are ignored.
type ActionRequest struct {
	Action Action `json:"action"`
	// Text is the body of a note or reply, or a remark with any action.
	Text string `json:"text,omitempty"`
	// Reason is why a complaint is rejected or its limit extended.
	Reason string `json:"reason,omitempty"`
	// Agency is the code or id of the agency a complaint is assigned to.
	Agency string `json:"agency,omitempty"`
	// HandlerID is the person at that agency who handles it, when named.
	HandlerID *int64 `json:"handler,omitempty"`
	// WorkingDays is the time limit of an assignment (0 means
	// DefaultWorkingDays) or the days an extension adds.
	WorkingDays int `json:"working_days,omitempty"`
	// Into is the id or tracking code of the complaint this one merges into.
	Into string `json:"into,omitempty"`
	// Rating is the reporter's satisfaction, 1 (worst) to 5 (best).
	Rating int `json:"rating,omitempty"`
}

// Validate checks the fields the action needs: reject needs a reason;
// extend a reason and 1 to 30 working days; assign an agency and 1 to 60
// working days, or none for the default; merge a complaint to merge into;
// rate a rating of 1 to 5; note a text. Texts are valid UTF-8 of at most
// MaxReportRunes characters. Whether the action is allowed in the
// complaint's state is Transition's to say.
func (r ActionRequest) Validate() error {
	var v ValidationError
	if _, err := ParseAction(string(r.Action)); err != nil {
		v.Add("action", "must be one of %s", joinNames(Actions))
	}
	checkText(&v, "text", r.Text, r.Action == ActionNote)
	checkText(&v, "reason", r.Reason, r.Action == ActionReject || r.Action == ActionExtend)
	switch r.Action {
	case ActionAssign:
		checkRef(&v, "agency", r.Agency)
		if r.HandlerID != nil && *r.HandlerID <= 0 {
			v.Add("handler", "is not a person id")
		}
		if r.WorkingDays < 0 || r.WorkingDays > MaxAssignWorkingDays {
			v.Add("working_days", "must be 1 to %d, or left out for %d", MaxAssignWorkingDays, DefaultWorkingDays)
		}
	case ActionExtend:
		if r.WorkingDays < 1 || r.WorkingDays > MaxExtendWorkingDays {
			v.Add("working_days", "must be 1 to %d", MaxExtendWorkingDays)
		}
	case ActionMerge:
		checkRef(&v, "into", r.Into)
	case ActionRate:
		if r.Rating < 1 || r.Rating > 5 {
			v.Add("rating", "must be 1 to 5")
		}
	}
	return v.Err()
}

// Limit returns the working days of an assign (DefaultWorkingDays when
// none was given) or an extend, 0 for any other action.
func (r ActionRequest) Limit() int {
	switch r.Action {
	case ActionAssign:
		if r.WorkingDays == 0 {
			return DefaultWorkingDays
		}
		return r.WorkingDays
	case ActionExtend:
		return r.WorkingDays
	}
	return 0
}

func checkText(v *ValidationError, field, s string, required bool) {
	switch {
	case !utf8.ValidString(s):
		v.Add(field, "is not valid UTF-8")
	case required && strings.TrimSpace(s) == "":
		v.Add(field, "is required")
	case utf8.RuneCountInString(s) > MaxReportRunes:
		v.Add(field, "must be at most %d characters", MaxReportRunes)
	}
}

func checkRef(v *ValidationError, field, s string) {
	switch {
	case !utf8.ValidString(s):
		v.Add(field, "is not valid UTF-8")
	case strings.TrimSpace(s) == "":
		v.Add(field, "is required")
	case utf8.RuneCountInString(s) > maxRefRunes:
		v.Add(field, "must be at most %d characters", maxRefRunes)
	}
}

// Complaint is a report of a problem with administrative law enforcement,
// from the public or logged by staff, tracked until it is closed. The
// reporter's identity (name, phone, Telegram chat) is for office staff and
// supervisors only; see Redacted.
type Complaint struct {
	ID           int64           `db:"id" json:"id"`
	TrackingCode string          `db:"tracking_code" json:"tracking_code"` // canonical, no dashes
	Status       ComplaintStatus `db:"status" json:"status"`
	Source       Source          `db:"source" json:"source"`
	Category     Category        `db:"category" json:"category"`
	// AgencyID is the agency the office assigned, nil until then;
	// ReportedAgencyID the agency the reporter named, a claim that gives
	// that agency no access.
	AgencyID         *int64     `db:"agency_id" json:"agency_id,omitempty"`
	ReportedAgencyID *int64     `db:"reported_agency_id" json:"reported_agency_id,omitempty"`
	HandlerID        *int64     `db:"handler_id" json:"handler_id,omitempty"`
	Description      string     `db:"description" json:"description"`
	OccurredAt       *time.Time `db:"occurred_at" json:"occurred_at,omitempty"`
	Location         string     `db:"location" json:"location,omitempty"` // where it happened, as told
	Latitude         *float64   `db:"latitude" json:"latitude,omitempty"`
	Longitude        *float64   `db:"longitude" json:"longitude,omitempty"`

	ReporterName   string `db:"reporter_name" json:"reporter_name,omitempty"`
	ReporterPhone  string `db:"reporter_phone" json:"reporter_phone,omitempty"`
	ReporterChatID *int64 `db:"reporter_chat_id" json:"reporter_chat_id,omitempty"` // Telegram chat the reporter is told in
	Anonymous      bool   `db:"anonymous" json:"anonymous"`                         // followed only through the tracking code

	ReporterLocale string `db:"reporter_locale" json:"-"` // the language the reporter is told in

	AgencyText string     `db:"agency_text" json:"agency_text,omitempty"` // an agency named by the reporter but not known to duban
	Outlet     string     `db:"outlet" json:"outlet,omitempty"`           // the media outlet, for SourceMedia
	Link       string     `db:"link" json:"link,omitempty"`               // the article or post
	Headline   string     `db:"headline" json:"headline,omitempty"`       // the media report's headline
	ClosedAt   *time.Time `db:"closed_at" json:"closed_at,omitempty"`

	// The supervision channel's message about this complaint, updated in
	// place as it moves.
	SlackChannel string `db:"slack_channel" json:"-"`
	SlackTS      string `db:"slack_ts" json:"-"`
	// ContactErasedAt is when the reporter's identity was erased, a
	// configured time after closing.
	ContactErasedAt *time.Time `db:"contact_erased_at" json:"-"`

	AssignedAt *time.Time `db:"assigned_at" json:"assigned_at,omitempty"`
	DueAt      *time.Time `db:"due_at" json:"due_at"` // end of the current time limit; null before assignment
	MergedInto *int64     `db:"merged_into" json:"merged_into,omitempty"`
	Rating     *int       `db:"rating" json:"rating,omitempty"` // 1–5, from the follow-up (回访)
	// CloseWorkingDays and ClosedOnTime are set when the complaint closes:
	// the working days from its latest assignment to closing, and whether
	// it closed within the limit in force then (extensions included).
	CloseWorkingDays *int      `db:"close_working_days" json:"close_working_days,omitempty"`
	ClosedOnTime     *bool     `db:"closed_on_time" json:"closed_on_time,omitempty"`
	CreatedAt        time.Time `db:"created_at" json:"created_at"`
	UpdatedAt        time.Time `db:"updated_at" json:"updated_at"`
}

// Redacted returns a copy of c without the reporter's identity, as the
// agency complained about, its handler and the public may see it.
func (c Complaint) Redacted() Complaint {
	c.ReporterName, c.ReporterPhone, c.ReporterChatID = "", "", nil
	return c
}

// Overdue reports whether c is assigned and its time limit has passed at
// now. A replied complaint waits on the office, not the agency, and is never
// overdue.
func (c *Complaint) Overdue(now time.Time) bool {
	return c.Status == ComplaintAssigned && c.DueAt != nil && now.After(*c.DueAt)
}

// Event is one entry of a complaint's timeline: every action taken, with
// who took it, when and what was said. Public events are the ones the
// reporter may read (/status, Open311); the rest are internal.
type Event struct {
	ID          int64     `db:"id" json:"id"`
	ComplaintID int64     `db:"complaint_id" json:"complaint_id"`
	Action      Action    `db:"action" json:"action"`
	Actor       string    `db:"actor" json:"actor"`
	At          time.Time `db:"at" json:"at"`
	Text        string    `db:"text" json:"text,omitempty"`
	Public      bool      `db:"public" json:"public"`
	// AgencyID is the agency an assign event gave the complaint to, the
	// agency whose person wrote a note (seen by the office and that
	// agency only), or, on a reply, the agency whose reply the office
	// received on paper and recorded (OnPaper); nil on a reply the
	// agency gave itself.
	AgencyID *int64 `db:"agency_id" json:"-"`
}

// OnPaper reports whether e is an agency's reply that came on paper and
// was recorded by the office (e.Actor), not one the agency gave itself,
// so a timeline shows who typed it in.
func (e Event) OnPaper() bool { return e.Action == ActionReply && e.AgencyID != nil }

// ValidateReportText checks a report's description: valid UTF-8, not blank,
// at most MaxReportRunes Unicode code points.
func ValidateReportText(s string) error {
	switch {
	case !utf8.ValidString(s):
		return Invalid("description", "is not valid UTF-8")
	case strings.ContainsRune(s, 0):
		// PostgreSQL's text cannot hold NUL.
		return Invalid("description", "contains a NUL character")
	case strings.TrimSpace(s) == "":
		return Invalid("description", "is required")
	case utf8.RuneCountInString(s) > MaxReportRunes:
		return Invalid("description", "must be at most %d characters", MaxReportRunes)
	}
	return nil
}

// ValidateCoordinates checks a WGS 84 position: latitude -90 to 90,
// longitude -180 to 180, both finite. Field names follow Open311 (lat,
// long).
func ValidateCoordinates(lat, lon float64) error {
	var v ValidationError
	if math.IsNaN(lat) || lat < -90 || lat > 90 {
		v.Add("lat", "must be a latitude from -90 to 90")
	}
	if math.IsNaN(lon) || lon < -180 || lon > 180 {
		v.Add("long", "must be a longitude from -180 to 180")
	}
	return v.Err()
}

// parseOneOf returns the value of values spelled s, or an Invalid error
// naming field and every value it may take: the one parser of duban's
// enumerations.
func parseOneOf[T ~string](field, s string, values []T) (T, error) {
	for _, x := range values {
		if string(x) == s {
			return x, nil
		}
	}
	return "", Invalid(field, "must be one of %s", joinNames(values))
}

func joinNames[T ~string](xs []T) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = string(x)
	}
	return strings.Join(s, ", ")
}
