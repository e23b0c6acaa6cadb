package api

import (
	"bytes"
	"encoding/json"
	"net/http"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/jobs"
)

// personJSON is a person as the API shows them. Only office staff,
// supervisors, admins and the person themself ever see it.
type personJSON struct {
	ID             int64    `json:"id"`
	Name           string   `json:"name"`
	Agency         string   `json:"agency,omitempty"`
	Roles          []string `json:"roles"`
	TelegramChatID *int64   `json:"telegram_chat_id,omitempty"`
	SlackUserID    string   `json:"slack_user_id,omitempty"`
	Email          string   `json:"email,omitempty"`
	Phone          string   `json:"phone,omitempty"`
	Locale         string   `json:"locale"`
	Channels       []string `json:"channels"`
	Login          string   `json:"login,omitempty"`
	Active         bool     `json:"active"`
	CreatedAt      string   `json:"created_at"`
	UpdatedAt      string   `json:"updated_at"`
}

func (s *server) personOut(p *duban.Person) personJSON {
	roles := make([]string, len(p.Roles))
	for i, r := range p.Roles {
		roles[i] = string(r)
	}
	channels := make([]string, len(p.Channels))
	for i, c := range p.Channels {
		channels[i] = string(c)
	}
	return personJSON{ID: p.ID, Name: p.Name, Agency: p.AgencyCode, Roles: roles, TelegramChatID: p.TelegramChatID,
		SlackUserID: p.SlackUserID, Email: p.Email, Phone: p.Phone, Locale: p.Locale, Channels: channels, Login: p.Login, Active: p.Active,
		CreatedAt: rfc3339(p.CreatedAt, s.Loc), UpdatedAt: rfc3339(p.UpdatedAt, s.Loc)}
}

// personFields are the fields of a person a caller sets; in a PATCH an
// absent field is left alone.
type personFields struct {
	Name           *string         `json:"name"`
	Agency         json.RawMessage `json:"agency"` // a code or an id; null or "" in a PATCH removes it
	Roles          *[]string       `json:"roles"`
	TelegramChatID *int64          `json:"telegram_chat_id"` // 0 unbinds
	SlackUserID    *string         `json:"slack_user_id"`
	Email          *string         `json:"email"`
	Phone          *string         `json:"phone"`
	Locale         *string         `json:"locale"`
	Channels       *[]string       `json:"channels"` // [] restores the global order
	Active         *bool           `json:"active"`   // PATCH only
	Login          *string         `json:"login"`    // the web sign-in name; "" takes it away
}

// fields turns the request's fields into the use case's. The agency is a
// code or an id; null or "" removes it. Anything else is a 400.
func (f personFields) fields() (jobs.PersonFields, error) {
	out := jobs.PersonFields{Name: f.Name, Roles: f.Roles, TelegramChatID: f.TelegramChatID, SlackUserID: f.SlackUserID,
		Email: f.Email, Phone: f.Phone, Locale: f.Locale, Channels: f.Channels, Active: f.Active}
	if f.Agency != nil {
		ref, err := agencyRef(f.Agency)
		if err != nil {
			return out, err
		}
		out.Agency = &ref
	}
	return out, nil
}

// agencyRef reads a person's agency given as a code or an id; null or ""
// is no agency.
func agencyRef(raw json.RawMessage) (jobs.AgencyRef, error) {
	raw = bytes.TrimSpace(raw)
	if string(raw) == "null" {
		return jobs.AgencyRef{}, nil
	}
	var code string
	if err := json.Unmarshal(raw, &code); err == nil {
		return jobs.AgencyRef{Code: code}, nil
	}
	var id int64
	if err := json.Unmarshal(raw, &id); err != nil {
		return jobs.AgencyRef{}, badField("agency", "agency must be an agency code or id")
	}
	if id == 0 {
		// No agency has id 0; the zero AgencyRef would mean "none".
		return jobs.AgencyRef{Code: "0"}, nil
	}
	return jobs.AgencyRef{ID: id}, nil
}

// chatTaken is the 409 of a Telegram chat or Slack user bound to someone
// else.
func chatTaken(err error) error {
	return conflict(err, "the Telegram chat or Slack user is already bound to someone else")
}

// createPerson: POST /api/v1/people.
//
// Office staff add people with no role or an agency's roles, and without
// chat addresses (those come from the person's own /start CODE); an
// office role or a chat address needs an admin.
func (s *server) createPerson(w http.ResponseWriter, r *http.Request, a jobs.Actor) error {
	// Refused before the body is read; the use case asks again of the
	// person to be.
	if err := actorOf(a).Check(duban.PersonAdd, duban.Subject{}); err != nil {
		return err
	}
	var req personFields
	if err := decode(w, r, &req); err != nil {
		return err
	}
	if req.Active != nil {
		return badField("active", "unknown field %q", "active")
	}
	f, err := req.fields()
	if err != nil {
		return err
	}
	if req.Login != nil {
		if err := jobs.CheckLogin(r.Context(), s.Store, 0, *req.Login); err != nil {
			return err
		}
	}
	p, err := s.people.Add(r.Context(), actorOf(a), f)
	if err != nil {
		return chatTaken(err)
	}
	if req.Login != nil {
		if err := jobs.SetLogin(r.Context(), s.Store, actorOf(a), p.ID, *req.Login); err != nil {
			return err
		}
		if p, err = s.Store.PersonByID(r.Context(), p.ID); err != nil {
			return err
		}
	}
	writeJSON(w, http.StatusCreated, s.personOut(p))
	return nil
}

// listPeople: GET /api/v1/people?agency=&role=, for staff and supervisors.
func (s *server) listPeople(w http.ResponseWriter, r *http.Request, a jobs.Actor) error {
	q := r.URL.Query()
	people, err := s.people.List(r.Context(), actorOf(a), jobs.PeopleQuery{Agency: q.Get("agency"), Role: q.Get("role")})
	if err != nil {
		return err
	}
	out := make([]personJSON, 0, len(people))
	for i := range people {
		out = append(out, s.personOut(&people[i]))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// getPerson: GET /api/v1/people/{id}, for staff, supervisors and the
// person themself.
func (s *server) getPerson(w http.ResponseWriter, r *http.Request, a jobs.Actor) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	p, err := s.people.Get(r.Context(), actorOf(a), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.personOut(p))
	return nil
}

// patchPerson: PATCH /api/v1/people/{id}; jobs.People.Update asks the
// rule book of each kind of change and audits each in its transaction.
func (s *server) patchPerson(w http.ResponseWriter, r *http.Request, a jobs.Actor) error {
	// Refused before the body is read, as in createPerson.
	if err := actorOf(a).Check(duban.PersonEdit, duban.Subject{}); err != nil {
		return err
	}
	var req personFields
	if err := decode(w, r, &req); err != nil {
		return err
	}
	id, err := pathID(r)
	if err != nil {
		return err
	}
	f, err := req.fields()
	if err != nil {
		return err
	}
	if req.Login != nil {
		// Checked first, so a taken login changes nothing.
		if err := jobs.CheckLogin(r.Context(), s.Store, id, *req.Login); err != nil {
			return err
		}
	}
	p, err := s.people.Update(r.Context(), actorOf(a), id, f)
	if err != nil {
		return chatTaken(err)
	}
	if req.Login != nil {
		if err := jobs.SetLogin(r.Context(), s.Store, actorOf(a), id, *req.Login); err != nil {
			return err
		}
		if p, err = s.Store.PersonByID(r.Context(), id); err != nil {
			return err
		}
	}
	writeJSON(w, http.StatusOK, s.personOut(p))
	return nil
}

// texts is the i18n bundle messages are rendered with; nil without
// either use case that holds it.
func (s *server) texts() jobs.Translator {
	switch {
	case s.Complaints != nil:
		return s.Complaints.T
	case s.Hearings != nil:
		return s.Hearings.Render.T
	}
	return nil
}

// deletePerson: DELETE /api/v1/people/{id} deactivates: the person keeps
// their history but receives nothing and their tokens stop working.
func (s *server) deletePerson(w http.ResponseWriter, r *http.Request, a jobs.Actor) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if _, err := s.people.Deactivate(r.Context(), actorOf(a), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
