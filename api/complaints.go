package api

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/jobs"
	"github.com/cityhall/duban/storage"
)

// maxIdempotencyKey bounds an Idempotency-Key header, as Stripe's API
// does (255); 200 leaves room for the prefix duban adds.
const maxIdempotencyKey = 200

// occurredSkew is how far in the future an occurred_at may lie, for a
// caller's clock running ahead.
const occurredSkew = 5 * time.Minute

// complaintCreate is POST /api/v1/complaints as the API takes it.
type complaintCreate struct {
	Source      string        `json:"source"`
	Category    string        `json:"category"`
	Agency      string        `json:"agency"`
	Description string        `json:"description"`
	OccurredAt  string        `json:"occurred_at"`
	Location    string        `json:"location"`
	Latitude    *float64      `json:"latitude"`
	Longitude   *float64      `json:"longitude"`
	Reporter    *reporterJSON `json:"reporter"`
	Outlet      string        `json:"outlet"`
	Link        string        `json:"link"`
	Headline    string        `json:"headline"`
}

// intakeFields maps the jobs' field names to the API's.
var intakeFields = map[string]string{"lat": "latitude", "long": "longitude"}

type complaintCreated struct {
	ID           int64                 `json:"id"`
	TrackingCode string                `json:"tracking_code"`
	Status       duban.ComplaintStatus `json:"status"`
}

// createComplaint: POST /api/v1/complaints → 201 {id, tracking_code,
// status}; a retry with the same Idempotency-Key answers the first
// complaint with 200. Office staff, supervisors and admins only: other
// systems log complaints with a staff member's token.
func (s *server) createComplaint(w http.ResponseWriter, r *http.Request, a jobs.Actor) error {
	if err := a.Check(duban.ComplaintLog, duban.Subject{}); err != nil {
		return err
	}
	key := r.Header.Get("Idempotency-Key")
	if len(key) > maxIdempotencyKey || !utf8.ValidString(key) {
		return badField("Idempotency-Key", "Idempotency-Key must be at most %d characters of UTF-8", maxIdempotencyKey)
	}
	var req complaintCreate
	if err := decodeText(w, r, &req); err != nil {
		return err
	}
	in := jobs.Intake{Source: duban.Source(req.Source), Category: req.Category, Agency: req.Agency,
		Description: req.Description, Location: req.Location, Latitude: req.Latitude, Longitude: req.Longitude,
		Outlet: req.Outlet, Link: req.Link, Headline: req.Headline}
	if req.Reporter != nil {
		in.ReporterName, in.ReporterPhone, in.Anonymous = req.Reporter.Name, req.Reporter.Phone, req.Reporter.Anonymous
	}
	if key != "" {
		// Scoped by caller, so two systems choosing the same key never
		// receive each other's complaint.
		in.IdempotencyKey = "api:" + a.String() + ":" + key
	}
	var v duban.ValidationError
	if raw := strings.TrimSpace(req.OccurredAt); raw != "" {
		t, err := duban.ParseTime(raw, s.Loc)
		switch {
		case err != nil:
			v.Add("occurred_at", "is not a time (RFC 3339 or 2006-01-02 15:04)")
		case t.After(s.Clock.Now().Add(occurredSkew)):
			v.Add("occurred_at", "is in the future")
		default:
			in.OccurredAt = &t
		}
	}
	var bad *duban.ValidationError
	if errors.As(renameFields(in.Validate(), intakeFields), &bad) {
		v.Details = append(v.Details, bad.Details...)
	}
	if err := v.Err(); err != nil {
		return err
	}
	c, created, err := s.Complaints.Create(r.Context(), a, in)
	if err != nil {
		return renameFields(err, intakeFields)
	}
	status := http.StatusCreated
	if !created {
		if c.Source != in.Source || c.Description != strings.TrimSpace(in.Description) {
			return duban.Invalid("Idempotency-Key", "was used for a different complaint")
		}
		status = http.StatusOK
	}
	writeJSON(w, status, complaintCreated{ID: c.ID, TrackingCode: duban.FormatTrackingCode(c.TrackingCode), Status: c.Status})
	return nil
}

// listComplaints: GET /api/v1/complaints?status=&agency=&reported_agency=
// &source=&category=&overdue=true&q=&handler=&limit=&cursor=, newest
// first, a page at a time. The
// rule book scopes the query: an agency's people see what has been
// assigned to their agency, now or before; no list shows the reporter.
func (s *server) listComplaints(w http.ResponseWriter, r *http.Request, a jobs.Actor) error {
	ctx := r.Context()
	f, err := s.complaintFilter(r, a)
	if err != nil {
		return err
	}
	cs, next, err := s.Store.ComplaintsPage(ctx, f)
	if err != nil {
		return err
	}
	v := s.complaintViewer(a)
	out := make([]complaintJSON, 0, len(cs))
	for i := range cs {
		c, err := v.summary(ctx, &cs[i])
		if err != nil {
			return err
		}
		out = append(out, c)
	}
	setNext(w, r, next)
	body := map[string]any{"complaints": out}
	if next != "" {
		body["next_cursor"] = next
	}
	writeJSON(w, http.StatusOK, body)
	return nil
}

// complaintFilter reads a list's query and narrows it to what a may see.
func (s *server) complaintFilter(r *http.Request, a jobs.Actor) (storage.ComplaintFilter, error) {
	q := r.URL.Query()
	var f storage.ComplaintFilter
	var v duban.ValidationError
	if raw := q.Get("status"); raw != "" {
		st, err := duban.ParseComplaintStatus(raw)
		if err != nil {
			v.Add("status", "must be one of %s", names(duban.ComplaintStatuses))
		}
		f.Status = st
	}
	if raw := q.Get("source"); raw != "" {
		src, err := duban.ParseSource(raw)
		if err != nil {
			v.Add("source", "must be one of %s", names(duban.Sources))
		}
		f.Source = src
	}
	if raw := q.Get("category"); raw != "" {
		cat, err := duban.ParseCategory(raw)
		if err != nil {
			v.Add("category", "must be one of %s", names(duban.Categories))
		}
		f.Category = cat
	}
	if raw := q.Get("overdue"); raw != "" {
		// overdue=false is no filter: the store can only narrow to overdue.
		if b, err := strconv.ParseBool(raw); err != nil {
			v.Add("overdue", "must be true or false")
		} else if b {
			now := s.Clock.Now()
			f.OverdueAt = &now
		}
	}
	if raw := q.Get("handler"); raw != "" {
		id, err := strconv.ParseInt(raw, 10, 64)
		switch {
		case raw == "me" && a.Person != nil:
			f.HandlerID = &a.Person.ID
		case err != nil || id <= 0:
			v.Add("handler", "must be a person id or me")
		default:
			f.HandlerID = &id
		}
	}
	if raw := q.Get("q"); raw != "" {
		if !utf8.ValidString(raw) || utf8.RuneCountInString(raw) > duban.MaxTitleRunes {
			v.Add("q", "must be at most %d characters of UTF-8", duban.MaxTitleRunes)
		}
		f.Query = raw
	}
	limit, err := queryInt(r, "limit")
	if err != nil {
		return f, err
	}
	f.Limit, f.After = limit, q.Get("cursor")
	if f.Limit == 0 {
		f.Limit = 200 // the list's size before it had pages
	}
	if code := q.Get("agency"); code != "" {
		ag, err := s.agencyByCode(r.Context(), code, "agency")
		if err != nil {
			return f, err
		}
		f.AgencyID = &ag.ID
	}
	if code := q.Get("reported_agency"); code != "" {
		ag, err := s.agencyByCode(r.Context(), code, "reported_agency")
		if err != nil {
			return f, err
		}
		f.ReportedAgencyID = &ag.ID
	}
	if err := v.Err(); err != nil {
		return f, err
	}
	if err := a.Check(duban.ComplaintQueue, duban.Subject{}); err != nil {
		return f, err
	}
	scope := a.ScopeOf(duban.ComplaintRead)
	f.Scope = &scope
	return f, nil
}

func names[T ~string](xs []T) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = string(x)
	}
	return strings.Join(s, ", ")
}

// complaint loads the route's complaint, by id or tracking code.
func (s *server) complaint(r *http.Request) (*duban.Complaint, error) {
	ref := r.PathValue("id")
	c, err := s.Complaints.Lookup(r.Context(), ref)
	if err != nil {
		return nil, notFound(err, "complaint %q", ref)
	}
	return c, nil
}

// getComplaint: GET /api/v1/complaints/{id} (id or tracking code). The
// reporter is shown to office staff, supervisors and admins, and each
// such read is in the audit log; the agency and its handler never see it.
func (s *server) getComplaint(w http.ResponseWriter, r *http.Request, a jobs.Actor) error {
	c, err := s.complaint(r)
	if err != nil {
		return err
	}
	seen, err := s.Complaints.View(r.Context(), a, c)
	if err != nil {
		return err
	}
	out, err := s.complaintViewer(a).detail(r.Context(), &seen, true)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// actOnComplaint: POST /api/v1/complaints/{id}/actions {action, text?,
// reason?, agency?, handler?, working_days?, into?, rating?} → 200 with the
// complaint as it now stands (without the reporter: GET it to read that);
// 409 with the allowed actions when its state forbids the action.
func (s *server) actOnComplaint(w http.ResponseWriter, r *http.Request, a jobs.Actor) error {
	var req duban.ActionRequest
	if err := decodeText(w, r, &req); err != nil {
		return err
	}
	c, err := s.complaint(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	subj, err := s.Complaints.Subject(ctx, c)
	if err != nil {
		return err
	}
	if err := a.Check(duban.ComplaintRead, subj); err != nil {
		return err // who may not read it learns nothing of its state
	}
	if c, err = s.Complaints.Act(ctx, a, c.ID, req); err != nil {
		return err
	}
	seen := c.Redacted()
	out, err := s.complaintViewer(a).detail(ctx, &seen, false)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
