package api

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/jobs"
	"github.com/cityhall/duban/storage"
)

// hearingCreate is a court's notice as the API takes it: agency holds one
// code (or "A1;A2" as in a CSV), agencies a list; both may be given.
type hearingCreate struct {
	CaseNumber string   `json:"case_number"`
	Court      string   `json:"court"`
	Courtroom  string   `json:"courtroom"`
	Agency     string   `json:"agency"`
	Agencies   []string `json:"agencies"`
	StartsAt   string   `json:"starts_at"`
	Plaintiff  string   `json:"plaintiff"`
	Cause      string   `json:"cause"`
}

// createHearing: POST /api/v1/hearings → 201 with the new hearing, or 200
// with the one already registered for the same case number and start.
func (s *server) createHearing(w http.ResponseWriter, r *http.Request, a jobs.Actor) error {
	var req hearingCreate
	if err := decode(w, r, &req); err != nil {
		return err
	}
	n := duban.Notice{CaseNumber: req.CaseNumber, Court: req.Court, Courtroom: req.Courtroom,
		Plaintiff: req.Plaintiff, Cause: req.Cause, Agencies: jobs.SplitAgencies(req.Agency)}
	for _, c := range req.Agencies {
		n.Agencies = append(n.Agencies, strings.TrimSpace(c))
	}
	if strings.TrimSpace(req.StartsAt) != "" {
		t, err := duban.ParseTime(req.StartsAt, s.Loc)
		if err != nil {
			// Report the bad time with everything else wrong in the notice.
			v := duban.ValidationError{Details: []duban.FieldError{{Field: "starts_at", Message: "is not a time (RFC 3339 or 2006-01-02 15:04)"}}}
			var rest *duban.ValidationError
			if errors.As(n.Validate(s.Clock.Now()), &rest) {
				for _, d := range rest.Details {
					if d.Field != "starts_at" {
						v.Details = append(v.Details, d)
					}
				}
			}
			if _, err := jobs.ResolveAgencies(r.Context(), s.Store, n.Agencies); errors.As(err, &rest) {
				v.Details = append(v.Details, rest.Details...)
			} else if err != nil {
				return err
			}
			return &v
		}
		n.StartsAt = t
	}
	h, created, err := s.Hearings.Register(r.Context(), a, n)
	if err != nil {
		return err
	}
	out, err := s.viewer().hearing(r.Context(), h)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	writeJSON(w, status, out)
	return nil
}

// listHearings: GET /api/v1/hearings?agency=&from=&to=&status=&limit=&cursor=,
// by start time. from and to are dates (to inclusive) or times (to
// exclusive) in local time.
func (s *server) listHearings(w http.ResponseWriter, r *http.Request, a jobs.Actor) error {
	ctx := r.Context()
	q := r.URL.Query()
	var f storage.HearingFilter
	var v duban.ValidationError
	if code := q.Get("agency"); code != "" {
		ag, err := s.agencyByCode(ctx, code, "agency")
		if err != nil {
			return err
		}
		f.AgencyID = &ag.ID
	}
	for _, b := range []struct {
		name string
		dst  **time.Time
		end  bool
	}{{"from", &f.From, false}, {"to", &f.To, true}} {
		if raw := q.Get(b.name); raw != "" {
			t, err := parseBound(raw, s.Loc, b.end)
			if err != nil {
				v.Add(b.name, "is not a date (YYYY-MM-DD) or time")
				continue
			}
			*b.dst = &t
		}
	}
	if st := q.Get("status"); st != "" {
		f.Status = duban.HearingStatus(st)
		if !slices.Contains([]duban.HearingStatus{duban.HearingScheduled, duban.HearingHeld, duban.HearingCancelled}, f.Status) {
			v.Add("status", "must be scheduled, held or cancelled")
		}
	}
	limit, err := queryInt(r, "limit")
	if err != nil {
		return err
	}
	f.Limit, f.After = limit, q.Get("cursor")
	if err := v.Err(); err != nil {
		return err
	}
	if scope := a.ScopeOf(duban.HearingRead); !scope.All {
		if scope.None() || (f.AgencyID != nil && *f.AgencyID != *scope.Agency) {
			return errorf(http.StatusForbidden, "you may see the hearings of your own agency only")
		}
		f.AgencyID = scope.Agency
	}
	hs, next, err := s.Store.HearingsPage(ctx, f)
	if err != nil {
		return err
	}
	out, err := s.viewer().hearings(ctx, hs)
	if err != nil {
		return err
	}
	setNext(w, r, next)
	writeJSON(w, http.StatusOK, out)
	return nil
}

// parseBound reads a list bound: a date is the start of that day, or of
// the next one for an inclusive end; anything else is a time.
func parseBound(raw string, loc *time.Location, end bool) (time.Time, error) {
	if d, err := time.ParseInLocation(time.DateOnly, strings.TrimSpace(raw), loc); err == nil {
		if end {
			d = d.AddDate(0, 0, 1)
		}
		return d, nil
	}
	return duban.ParseTime(raw, loc)
}

// hearing loads the route's hearing, if a may see it.
func (s *server) hearing(r *http.Request, a jobs.Actor) (*duban.Hearing, error) {
	id, err := pathID(r)
	if err != nil {
		return nil, err
	}
	h, err := s.Store.HearingByID(r.Context(), id)
	if err != nil {
		return nil, notFound(err, "hearing %d", id)
	}
	if !a.May(duban.HearingRead, duban.OfHearing(h)) {
		return nil, errorf(http.StatusForbidden, "you may see the hearings of your own agency only")
	}
	return h, nil
}

// respond answers a hearing as it now stands.
func (s *server) respond(w http.ResponseWriter, r *http.Request, status int, id int64) error {
	h, err := s.Store.HearingByID(r.Context(), id)
	if err != nil {
		return err
	}
	out, err := s.viewer().hearing(r.Context(), h)
	if err != nil {
		return err
	}
	writeJSON(w, status, out)
	return nil
}

// getHearing: GET /api/v1/hearings/{id}.
func (s *server) getHearing(w http.ResponseWriter, r *http.Request, a jobs.Actor) error {
	h, err := s.hearing(r, a)
	if err != nil {
		return err
	}
	return s.respond(w, r, http.StatusOK, h.ID)
}

type hearingPatch struct {
	StartsAt  *string `json:"starts_at"`
	Courtroom *string `json:"courtroom"`
	Status    *string `json:"status"`
}

// patchHearing: PATCH /api/v1/hearings/{id} with starts_at (reschedule),
// courtroom, or status "cancelled" (alone). Held is recorded through
// /outcome.
func (s *server) patchHearing(w http.ResponseWriter, r *http.Request, a jobs.Actor) error {
	var req hearingPatch
	if err := decode(w, r, &req); err != nil {
		return err
	}
	h, err := s.hearing(r, a)
	if err != nil {
		return err
	}
	var v duban.ValidationError
	var start time.Time
	if req.StartsAt == nil && req.Courtroom == nil && req.Status == nil {
		v.Add("", "name starts_at, courtroom or status")
	}
	if req.StartsAt != nil {
		if start, err = duban.ParseTime(*req.StartsAt, s.Loc); err != nil {
			v.Add("starts_at", "is not a time (RFC 3339 or 2006-01-02 15:04)")
		}
	}
	if req.Status != nil {
		switch {
		case *req.Status != string(duban.HearingCancelled):
			v.Add("status", "can only be set to cancelled; record an outcome to mark a hearing held")
		case req.StartsAt != nil || req.Courtroom != nil:
			v.Add("status", "cancelling cannot be combined with other changes")
		}
	}
	if err := v.Err(); err != nil {
		return err
	}
	ctx := r.Context()
	if req.Courtroom != nil {
		if _, err := s.Hearings.SetCourtroom(ctx, a, h.ID, *req.Courtroom); err != nil {
			return err
		}
	}
	if req.StartsAt != nil {
		if _, err := s.Hearings.Reschedule(ctx, a, h.ID, start); err != nil {
			return err
		}
	}
	if req.Status != nil {
		if _, err := s.Hearings.Cancel(ctx, a, h.ID); err != nil {
			return err
		}
	}
	return s.respond(w, r, http.StatusOK, h.ID)
}

type outcomeRequest struct {
	Agency     string `json:"agency"`
	Attendance string `json:"attendance"`
}

// recordOutcome: POST /api/v1/hearings/{id}/outcome {agency?, attendance}:
// who appeared, for one agency or (agency omitted) all; the hearing is
// held.
func (s *server) recordOutcome(w http.ResponseWriter, r *http.Request, a jobs.Actor) error {
	var req outcomeRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	h, err := s.hearing(r, a)
	if err != nil {
		return err
	}
	if _, err := s.Hearings.RecordOutcome(r.Context(), a, h.ID, strings.TrimSpace(req.Agency), duban.Attendance(req.Attendance)); err != nil {
		return err
	}
	return s.respond(w, r, http.StatusOK, h.ID)
}

type answerRequest struct {
	Agency   string        `json:"agency"`
	Answer   string        `json:"answer"`
	Delegate *delegateJSON `json:"delegate"`
}

// answerHearing: POST /api/v1/hearings/{id}/answer {agency, answer:
// confirmed|delegated, delegate?: {name, reason}}, the head's answer as the
// bots take it, given by a head (of that agency) or recorded by office
// staff from a head's call (the answer then names them as recorded_by).
// An extension (docs/API.md, the answer route); agency may be left out when the hearing has
// one defendant, or the caller heads one of them.
func (s *server) answerHearing(w http.ResponseWriter, r *http.Request, a jobs.Actor) error {
	var req answerRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	h, err := s.hearing(r, a)
	if err != nil {
		return err
	}
	ha, err := pickAgency(h, strings.TrimSpace(req.Agency), a)
	if err != nil {
		return err
	}
	ar := jobs.AnswerRequest{HearingAgencyID: ha.ID, Answer: duban.Answer(req.Answer)}
	if req.Delegate != nil {
		ar.DelegateName, ar.DelegateReason = req.Delegate.Name, req.Delegate.Reason
	}
	if _, _, err := s.Hearings.Answer(r.Context(), a, ar); err != nil {
		return err
	}
	return s.respond(w, r, http.StatusOK, h.ID)
}

// pickAgency finds the defendant agency an answer is about.
func pickAgency(h *duban.Hearing, code string, a jobs.Actor) (*duban.HearingAgency, error) {
	if code == "" {
		switch {
		case len(h.Agencies) == 1:
			return &h.Agencies[0], nil
		case a.Person != nil && a.Person.AgencyID != nil:
			for i := range h.Agencies {
				if h.Agencies[i].AgencyID == *a.Person.AgencyID {
					return &h.Agencies[i], nil
				}
			}
		}
		return nil, duban.Invalid("agency", "is required: the hearing has several defendant agencies")
	}
	for i := range h.Agencies {
		if h.Agencies[i].AgencyCode == code {
			return &h.Agencies[i], nil
		}
	}
	return nil, duban.Invalid("agency", "%q is not a defendant of this hearing", code)
}
