package api

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/jobs"
)

// complaintJSON is a complaint as the list shows it: everything but the
// timeline, the attachments and the reporter.
type complaintJSON struct {
	ID           int64                 `json:"id"`
	TrackingCode string                `json:"tracking_code"`
	Status       duban.ComplaintStatus `json:"status"`
	Source       duban.Source          `json:"source"`
	Category     duban.Category        `json:"category"`
	Agency       *string               `json:"agency"`
	// ReportedAgency is the agency the reporter named, {code?, name}: a
	// known agency, or the name as told.
	ReportedAgency *reportedAgencyJSON `json:"reported_agency"`
	AgencyText     string              `json:"agency_text,omitempty"`
	Handler        *string             `json:"handler"`
	Description    string              `json:"description"`
	OccurredAt     *string             `json:"occurred_at"`
	Location       string              `json:"location"`
	Latitude       *float64            `json:"latitude"`
	Longitude      *float64            `json:"longitude"`
	Outlet         string              `json:"outlet"`
	Link           string              `json:"link"`
	Headline       string              `json:"headline"`
	DueAt          *string             `json:"due_at"`
	Overdue        bool                `json:"overdue"`
	MergedInto     *string             `json:"merged_into,omitempty"` // the tracking code
	Rating         *int                `json:"rating"`
	CreatedAt      string              `json:"created_at"`
	UpdatedAt      string              `json:"updated_at"`
	ClosedAt       *string             `json:"closed_at,omitempty"`
}

// complaintDetailJSON is GET /api/v1/complaints/{id}: the complaint with
// its attachments and timeline, and the reporter for those who may see it.
type complaintDetailJSON struct {
	complaintJSON
	Attachments []attachmentJSON `json:"attachments"`
	Events      []eventJSON      `json:"events"`
	Reporter    *reporterJSON    `json:"reporter,omitempty"`
}

type attachmentJSON struct {
	FileID string `json:"file_id"`
	Kind   string `json:"kind"`
	Size   int64  `json:"size"`
	MIME   string `json:"mime"`
}

type eventJSON struct {
	Action duban.Action `json:"action"`
	Actor  string       `json:"actor"`
	At     string       `json:"at"`
	Text   string       `json:"text"`
	// RecordedBy names the office staff member who recorded a reply the
	// agency sent on paper (duban.Event.OnPaper); absent when the agency
	// replied itself, as recorded_by on a hearing's answer.
	RecordedBy string `json:"recorded_by,omitempty"`
}

// reporterJSON is who reported a complaint, for office staff, supervisors
// and admins only; the same shape is taken on intake.
type reporterJSON struct {
	Name      string `json:"name"`
	Phone     string `json:"phone"`
	Anonymous bool   `json:"anonymous"`
}

// complaintViewer renders complaints for one actor, looking up each agency
// and person once per request.
type complaintViewer struct {
	s        *server
	actor    jobs.Actor
	agencies map[int64]string
	people   map[int64]string
}

func (s *server) complaintViewer(a jobs.Actor) *complaintViewer {
	return &complaintViewer{s: s, actor: a, agencies: map[int64]string{}, people: map[int64]string{}}
}

func (v *complaintViewer) agencyCode(ctx context.Context, id int64) (string, error) {
	if code, ok := v.agencies[id]; ok {
		return code, nil
	}
	a, err := v.s.Store.AgencyByID(ctx, id)
	if err != nil {
		return "", err
	}
	v.agencies[id] = a.Code
	return a.Code, nil
}

func (v *complaintViewer) personName(ctx context.Context, id int64) (string, error) {
	if name, ok := v.people[id]; ok {
		return name, nil
	}
	p, err := v.s.Store.PersonByID(ctx, id)
	if errors.Is(err, duban.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	v.people[id] = p.Name
	return p.Name, nil
}

// reportedAgencyJSON is the agency a reporter named.
type reportedAgencyJSON struct {
	Code string `json:"code,omitempty"`
	Name string `json:"name"`
}

// summary renders c without timeline, attachments or reporter.
func (v *complaintViewer) summary(ctx context.Context, c *duban.Complaint) (complaintJSON, error) {
	loc := v.s.Loc
	out := complaintJSON{ID: c.ID, TrackingCode: duban.FormatTrackingCode(c.TrackingCode), Status: c.Status,
		Source: c.Source, Category: c.Category, AgencyText: c.AgencyText, Description: c.Description,
		OccurredAt: rfc3339p(c.OccurredAt, loc), Location: c.Location, Latitude: c.Latitude, Longitude: c.Longitude,
		Outlet: c.Outlet, Link: c.Link, Headline: c.Headline, DueAt: rfc3339p(c.DueAt, loc),
		Overdue: c.Overdue(v.s.Clock.Now()), Rating: c.Rating, CreatedAt: rfc3339(c.CreatedAt, loc),
		UpdatedAt: rfc3339(c.UpdatedAt, loc), ClosedAt: rfc3339p(c.ClosedAt, loc)}
	if c.AgencyID != nil {
		code, err := v.agencyCode(ctx, *c.AgencyID)
		if err != nil {
			return complaintJSON{}, err
		}
		out.Agency = &code
	}
	if c.ReportedAgencyID != nil {
		a, err := v.s.Store.AgencyByID(ctx, *c.ReportedAgencyID)
		if err != nil {
			return complaintJSON{}, err
		}
		out.ReportedAgency = &reportedAgencyJSON{Code: a.Code, Name: a.Name}
	} else if c.AgencyText != "" {
		out.ReportedAgency = &reportedAgencyJSON{Name: c.AgencyText}
	}
	if c.HandlerID != nil {
		name, err := v.personName(ctx, *c.HandlerID)
		if err != nil {
			return complaintJSON{}, err
		}
		out.Handler = &name
	}
	if c.MergedInto != nil {
		into, err := v.s.Store.ComplaintByID(ctx, *c.MergedInto)
		if err != nil {
			return complaintJSON{}, err
		}
		code := duban.FormatTrackingCode(into.TrackingCode)
		out.MergedInto = &code
	}
	return out, nil
}

// detail renders c, which must already be as the actor may see it
// (jobs.Complaints.View): with its attachments and timeline, internal
// notes for the office only, and the reporter when withReporter is set and
// the actor may see it.
func (v *complaintViewer) detail(ctx context.Context, c *duban.Complaint, withReporter bool) (complaintDetailJSON, error) {
	sum, err := v.summary(ctx, c)
	if err != nil {
		return complaintDetailJSON{}, err
	}
	out := complaintDetailJSON{complaintJSON: sum, Attachments: []attachmentJSON{}, Events: []eventJSON{}}
	as, err := v.s.Store.Attachments(ctx, c.ID)
	if err != nil {
		return complaintDetailJSON{}, err
	}
	for _, a := range as {
		out.Attachments = append(out.Attachments, attachmentJSON{FileID: a.FileID, Kind: a.Kind, Size: a.Size, MIME: a.MIME})
	}
	es, err := v.s.Store.Events(ctx, c.ID)
	if err != nil {
		return complaintDetailJSON{}, err
	}
	office := jobs.MaySeeReporter(v.actor)
	for _, e := range es {
		if !v.actor.SeesEvent(e) {
			continue
		}
		actor, err := v.actorName(ctx, e.Actor, office)
		if err != nil {
			return complaintDetailJSON{}, err
		}
		ev := eventJSON{Action: e.Action, Actor: actor, At: rfc3339(e.At, v.s.Loc), Text: e.Text}
		if e.OnPaper() {
			ev.RecordedBy = actor
		}
		out.Events = append(out.Events, ev)
	}
	if withReporter && office {
		out.Reporter = &reporterJSON{Name: c.ReporterName, Phone: c.ReporterPhone, Anonymous: c.Anonymous}
	}
	return out, nil
}

// actorName shows an event's actor: a person by name, a system actor by
// its name. Outside the office only the part before a colon is shown, so
// no actor string can carry a reporter's chat or number to the agency.
func (v *complaintViewer) actorName(ctx context.Context, actor string, office bool) (string, error) {
	kind, rest, found := strings.Cut(actor, ":")
	if kind == "person" && found {
		if id, err := strconv.ParseInt(rest, 10, 64); err == nil {
			if name, err := v.personName(ctx, id); err != nil || name != "" {
				return name, err
			}
		}
	}
	if office {
		return actor, nil
	}
	return kind, nil
}
