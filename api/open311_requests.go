package api

import (
	"cmp"
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/jobs"
	"github.com/cityhall/duban/storage"
)

// open311Item is the public part of a complaint, as GeoReport v2's "GET
// Service Request(s)" answers it: never the reporter, never internal
// notes.
type open311Item struct {
	ServiceRequestID  string   `json:"service_request_id"`
	Status            string   `json:"status"` // open or closed
	StatusNotes       string   `json:"status_notes"`
	ServiceName       string   `json:"service_name"`
	ServiceCode       string   `json:"service_code"`
	Description       string   `json:"description"`
	AgencyResponsible string   `json:"agency_responsible"`
	ServiceNotice     string   `json:"service_notice"`
	RequestedDatetime string   `json:"requested_datetime"`
	UpdatedDatetime   string   `json:"updated_datetime"`
	ExpectedDatetime  *string  `json:"expected_datetime"` // the end of the time limit
	Address           string   `json:"address"`
	Lat               *float64 `json:"lat"`
	Long              *float64 `json:"long"`
}

// open311Notes are the public actions whose message to the reporter
// (complaint.update.*) is a request's status notes.
var open311Notes = map[duban.Action]bool{duban.ActionAccept: true, duban.ActionReject: true,
	duban.ActionReply: true, duban.ActionClose: true, duban.ActionMerge: true}

// open311Out renders complaints' public part in locale.
func (s *server) open311Out(ctx context.Context, locale string, cs []duban.Complaint) ([]open311Item, error) {
	agencies := open311Agencies{}
	out := make([]open311Item, 0, len(cs))
	for i := range cs {
		c := &cs[i]
		it := open311Item{ServiceRequestID: duban.FormatTrackingCode(c.TrackingCode), Status: "closed",
			ServiceName: s.Complaints.T.T(locale, "category."+string(c.Category), nil), ServiceCode: string(c.Category),
			Description: c.Description, RequestedDatetime: rfc3339(c.CreatedAt, s.Loc), UpdatedDatetime: rfc3339(c.UpdatedAt, s.Loc),
			ExpectedDatetime: rfc3339p(c.DueAt, s.Loc), Address: c.Location, Lat: c.Latitude, Long: c.Longitude,
		}
		status, es, err := jobs.PublicTimeline(ctx, s.Store, c)
		if err != nil {
			return nil, err
		}
		it.StatusNotes = s.Complaints.T.T(locale, "complaint.status."+string(status), nil)
		if status.Open() {
			it.Status = "open"
		}
		if c.AgencyID != nil {
			name, err := s.agencyName(ctx, agencies, *c.AgencyID)
			if err != nil {
				return nil, err
			}
			it.AgencyResponsible = name
		}
		// The latest public step speaks, as it spoke to the reporter.
		for _, e := range slices.Backward(es) {
			if open311Notes[e.Action] {
				it.StatusNotes = s.Complaints.T.T(locale, "complaint.update."+string(e.Action), map[string]any{
					"Code": it.ServiceRequestID, "Text": e.Text})
			}
			break
		}
		out = append(out, it)
	}
	return out, nil
}

// open311Get: GET /open311/v2/requests/{id}.json → the request in an
// array, or an empty array for a code that names nothing (no answer tells
// a caller whether a code exists).
func (s *server) open311Get(w http.ResponseWriter, r *http.Request) error {
	id, ok := strings.CutSuffix(r.PathValue("id"), ".json")
	if !ok {
		return problem(http.StatusNotFound, "requests are served as JSON: requests/{id}.json")
	}
	return s.open311ByCodes(w, r, []string{id})
}

// open311List: GET /open311/v2/requests.json?service_request_id=a,b for
// anyone; without ids, a search by start_date, end_date, status and
// service_code for office staff, supervisors and admins (their token as
// api_key), at most 1000 requests, newest first, by default of the last
// 90 days.
func (s *server) open311List(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	if ids := strings.TrimSpace(q.Get("service_request_id")); ids != "" {
		parts := strings.Split(ids, ",")
		if len(parts) > maxOpen311IDs {
			return problem(http.StatusBadRequest, "at most %d service_request_id at once", maxOpen311IDs)
		}
		return s.open311ByCodes(w, r, parts)
	}
	ctx := r.Context()
	a, err := s.open311Caller(r)
	if err != nil {
		return err
	}
	if !actorOf(a).ScopeOf(duban.ComplaintRead).All {
		return duban.ErrForbidden
	}
	f := storage.ComplaintFilter{Limit: 1000}
	var from, to time.Time
	for _, b := range []struct {
		name string
		dst  *time.Time
		end  bool
	}{{"start_date", &from, false}, {"end_date", &to, true}} {
		if raw := q.Get(b.name); raw != "" {
			t, err := parseBound(raw, s.Loc, b.end)
			if err != nil {
				return problem(http.StatusBadRequest, "%s is not a date or time (RFC 3339)", b.name)
			}
			*b.dst = t
		}
	}
	if !to.IsZero() {
		f.CreatedTo = &to
	}
	if from.IsZero() {
		// The spec's default: the last 90 days (before end_date, if given).
		from = cmp.Or(to, s.Clock.Now()).AddDate(0, 0, -90)
	}
	f.CreatedFrom = &from
	var codes []duban.Category
	for _, raw := range splitList(q.Get("service_code")) {
		c, err := duban.ParseCategory(raw)
		if err != nil {
			return problem(http.StatusBadRequest, "service_code must be one of %s", names(duban.Categories))
		}
		codes = append(codes, c)
	}
	if len(codes) == 1 {
		f.Category = codes[0]
	}
	statuses := []duban.ComplaintStatus{""} // any
	if raw := splitList(q.Get("status")); len(raw) > 0 {
		statuses = nil
		for _, st := range duban.ComplaintStatuses {
			if (st.Open() && slices.Contains(raw, "open")) || (!st.Open() && slices.Contains(raw, "closed")) {
				statuses = append(statuses, st)
			}
		}
		if slices.ContainsFunc(raw, func(x string) bool { return x != "open" && x != "closed" }) {
			return problem(http.StatusBadRequest, "status must be open or closed")
		}
	}
	var found []duban.Complaint
	for _, st := range statuses {
		f.Status = st
		cs, err := s.Store.Complaints(ctx, f)
		if err != nil {
			return err
		}
		for _, c := range cs {
			if len(codes) == 0 || slices.Contains(codes, c.Category) {
				found = append(found, c)
			}
		}
	}
	slices.SortFunc(found, func(a, b duban.Complaint) int { return cmp.Compare(b.ID, a.ID) })
	out, err := s.open311Out(ctx, open311Locale(r), found[:min(len(found), 1000)])
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// open311ByCodes answers the requests of the tracking codes given, in
// their order; codes that are malformed or name nothing are left out.
func (s *server) open311ByCodes(w http.ResponseWriter, r *http.Request, raw []string) error {
	var codes []string
	for _, x := range raw {
		if c, err := duban.ParseTrackingCode(x); err == nil && !slices.Contains(codes, c) {
			codes = append(codes, c)
		}
	}
	found := []duban.Complaint{}
	if len(codes) > 0 {
		cs, err := s.Store.Complaints(r.Context(), storage.ComplaintFilter{Codes: codes, Limit: len(codes)})
		if err != nil {
			return err
		}
		for _, code := range codes {
			if i := slices.IndexFunc(cs, func(c duban.Complaint) bool { return c.TrackingCode == code }); i >= 0 {
				found = append(found, cs[i])
			}
		}
	}
	out, err := s.open311Out(r.Context(), open311Locale(r), found)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// open311Caller finds who calls by the api_key parameter (or a bearer
// token): the bootstrap admin or an active person; anyone else is
// refused.
func (s *server) open311Caller(r *http.Request) (jobs.Actor, error) {
	key := strings.TrimSpace(r.URL.Query().Get("api_key"))
	if key == "" {
		if scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " "); ok && strings.EqualFold(scheme, "Bearer") {
			key = strings.TrimSpace(tok)
		}
	}
	if key == "" {
		return jobs.Actor{}, duban.ErrForbidden
	}
	a, err := s.credential(r, key)
	var ae *apiError
	if errors.As(err, &ae) && ae.status == http.StatusUnauthorized {
		return jobs.Actor{}, duban.ErrForbidden
	}
	return a, err
}
