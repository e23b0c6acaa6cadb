package api

import (
	"errors"
	"net/http"
	"strings"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/jobs"
)

// calendarRoutes mounts the calendar feeds: minting and revoking (bearer
// token; the rule book decides who), and the feed itself, whose token in
// the URL is its only credential.
func (s *server) calendarRoutes() {
	if s.Calendars == nil {
		return
	}
	s.handle("POST /api/v1/people/{id}/calendar", s.mintPersonCalendar)
	s.handle("DELETE /api/v1/people/{id}/calendar", s.revokePersonCalendar)
	s.handle("POST /api/v1/agencies/{code}/calendar", s.mintAgencyCalendar)
	s.handle("DELETE /api/v1/agencies/{code}/calendar", s.revokeAgencyCalendar)
	s.mux.HandleFunc("GET "+jobs.FeedPath+"{file}", s.calendarFeed)
}

// feedURL is the answer of a mint.
type feedURL struct {
	URL string `json:"url"`
}

// mintPersonCalendar: POST /api/v1/people/{id}/calendar → 201 {url}; the
// person themself or an admin. Minting again rotates the URL.
func (s *server) mintPersonCalendar(w http.ResponseWriter, r *http.Request, a jobs.Actor) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	u, err := s.Calendars.MintPerson(r.Context(), actorOf(a), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, feedURL{URL: u})
	return nil
}

// revokePersonCalendar: DELETE /api/v1/people/{id}/calendar → 204, also
// when there was no feed.
func (s *server) revokePersonCalendar(w http.ResponseWriter, r *http.Request, a jobs.Actor) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if err := s.Calendars.RevokePerson(r.Context(), actorOf(a), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// mintAgencyCalendar: POST /api/v1/agencies/{code}/calendar → 201 {url};
// the office (staff, admins).
func (s *server) mintAgencyCalendar(w http.ResponseWriter, r *http.Request, a jobs.Actor) error {
	u, err := s.Calendars.MintAgency(r.Context(), actorOf(a), r.PathValue("code"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, feedURL{URL: u})
	return nil
}

// revokeAgencyCalendar: DELETE /api/v1/agencies/{code}/calendar → 204.
func (s *server) revokeAgencyCalendar(w http.ResponseWriter, r *http.Request, a jobs.Actor) error {
	if err := s.Calendars.RevokeAgency(r.Context(), actorOf(a), r.PathValue("code")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// calendarFeed: GET /calendar/{token}.ics, the feed as text/calendar; an
// unknown, rotated or revoked token is 404, the same for each.
func (s *server) calendarFeed(w http.ResponseWriter, r *http.Request) {
	token, ok := strings.CutSuffix(r.PathValue("file"), ".ics")
	if !ok {
		writeJSON(w, http.StatusNotFound, errorBody{Error: "no such calendar"})
		return
	}
	body, err := s.Calendars.Feed(r.Context(), token)
	if errors.Is(err, duban.ErrNotFound) {
		writeJSON(w, http.StatusNotFound, errorBody{Error: "no such calendar"})
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/calendar; charset=utf-8")
	w.Header().Set("Content-Disposition", `inline; filename="duban.ics"`)
	// The URL is a credential: keep the feed out of shared caches.
	w.Header().Set("Cache-Control", "private, no-cache")
	_, _ = w.Write(body)
}
