package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/jobs"
	"github.com/cityhall/duban/storage"
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
	Active         bool     `json:"active"`
	CreatedAt      string   `json:"created_at"`
	UpdatedAt      string   `json:"updated_at"`
}

func (s *server) personOut(p *duban.Person) personJSON {
	roles := make([]string, len(p.Roles))
	for i, r := range p.Roles {
		roles[i] = string(r)
	}
	return personJSON{ID: p.ID, Name: p.Name, Agency: p.AgencyCode, Roles: roles, TelegramChatID: p.TelegramChatID,
		SlackUserID: p.SlackUserID, Email: p.Email, Phone: p.Phone, Locale: p.Locale, Active: p.Active,
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
	Active         *bool           `json:"active"` // PATCH only
}

// apply sets p's fields from f and validates the result; it returns the
// names of the fields changed, for the audit log (never their values: phone
// and e-mail are personal data).
func (s *server) apply(ctx context.Context, f personFields, p *duban.Person) ([]string, error) {
	var changed []string
	var v duban.ValidationError
	if f.Name != nil {
		p.Name, changed = strings.TrimSpace(*f.Name), append(changed, "name")
	}
	if f.Agency != nil {
		ag, err := s.agencyRef(ctx, f.Agency)
		var ve *duban.ValidationError
		switch {
		case errors.As(err, &ve):
			v.Details = append(v.Details, ve.Details...)
		case err != nil:
			return nil, err
		case ag == nil:
			p.AgencyID, p.AgencyCode = nil, ""
		default:
			p.AgencyID, p.AgencyCode = &ag.ID, ag.Code
		}
		changed = append(changed, "agency")
	}
	if f.Roles != nil {
		roles, err := duban.ParseRoles(strings.Join(*f.Roles, ","))
		var ve *duban.ValidationError
		if errors.As(err, &ve) {
			v.Details = append(v.Details, ve.Details...)
		}
		p.Roles, changed = roles, append(changed, "roles")
	}
	if f.TelegramChatID != nil {
		p.TelegramChatID, p.TelegramUserID = nil, nil
		if id := *f.TelegramChatID; id != 0 {
			p.TelegramChatID = &id
			if id > 0 { // a private chat's id is its user's id
				uid := id
				p.TelegramUserID = &uid
			}
		}
		changed = append(changed, "telegram_chat_id")
	}
	for _, x := range []struct {
		name string
		src  *string
		dst  *string
	}{{"slack_user_id", f.SlackUserID, &p.SlackUserID}, {"email", f.Email, &p.Email}, {"phone", f.Phone, &p.Phone}, {"locale", f.Locale, &p.Locale}} {
		if x.src != nil {
			*x.dst, changed = strings.TrimSpace(*x.src), append(changed, x.name)
		}
	}
	if f.Active != nil {
		p.Active, changed = *f.Active, append(changed, fmt.Sprintf("active=%t", *f.Active))
	}
	if err := duban.ValidatePerson(p); err != nil {
		var ve *duban.ValidationError
		if !errors.As(err, &ve) {
			return nil, err
		}
		for _, d := range ve.Details {
			if d.Field == "roles" && f.Roles != nil && hasField(v.Details, "roles") {
				continue // an unknown role already said what is wrong
			}
			if d.Field == "agency" && hasField(v.Details, "agency") {
				continue
			}
			v.Details = append(v.Details, d)
		}
	}
	return changed, v.Err()
}

func hasField(ds []duban.FieldError, field string) bool {
	for _, d := range ds {
		if d.Field == field {
			return true
		}
	}
	return false
}

// agencyRef resolves a person's agency given as a code or an id; null or ""
// is no agency.
func (s *server) agencyRef(ctx context.Context, raw json.RawMessage) (*duban.Agency, error) {
	raw = bytes.TrimSpace(raw)
	if string(raw) == "null" {
		return nil, nil
	}
	var code string
	if err := json.Unmarshal(raw, &code); err == nil {
		code = strings.TrimSpace(code)
		if code == "" {
			return nil, nil
		}
		ag, err := s.agencyByCode(ctx, code, "agency")
		if err == nil {
			return ag, nil
		}
		id, perr := strconv.ParseInt(code, 10, 64)
		if perr != nil {
			return nil, err
		}
		raw = json.RawMessage(strconv.FormatInt(id, 10))
	}
	var id int64
	if err := json.Unmarshal(raw, &id); err != nil {
		return nil, badField("agency", "agency must be an agency code or id")
	}
	ag, err := s.Store.AgencyByID(ctx, id)
	if errors.Is(err, duban.ErrNotFound) {
		return nil, duban.Invalid("agency", "unknown agency %d", id)
	}
	return ag, err
}

func sameRoles(a, b duban.Roles) bool {
	x, y := slices.Clone(a), slices.Clone(b)
	slices.Sort(x)
	slices.Sort(y)
	return slices.Equal(slices.Compact(x), slices.Compact(y))
}

// chatsChanged reports which chat addresses of p and q differ.
func chatsChanged(p, q *duban.Person) (telegram, slack bool) {
	telegram = (p.TelegramChatID == nil) != (q.TelegramChatID == nil) ||
		(p.TelegramChatID != nil && *p.TelegramChatID != *q.TelegramChatID)
	return telegram, p.SlackUserID != q.SlackUserID
}

func personDetail(p *duban.Person) string {
	return fmt.Sprintf("roles=%s agency=%s", p.Roles, p.AgencyCode)
}

// createPerson: POST /api/v1/people.
//
// Office staff add people with no role or an agency's roles, and without
// chat addresses (those come from the person's own /start CODE); an
// office role or a chat address needs an admin.
func (s *server) createPerson(w http.ResponseWriter, r *http.Request, a jobs.Actor) error {
	act := actorOf(a)
	if err := act.Check(duban.PersonAdd, duban.Subject{}); err != nil {
		return err
	}
	var req personFields
	if err := decode(w, r, &req); err != nil {
		return err
	}
	if req.Active != nil {
		return badField("active", "unknown field %q", "active")
	}
	ctx := r.Context()
	p := &duban.Person{Locale: duban.LocaleZH, Active: true}
	if req.Name == nil {
		req.Name = new(string)
	}
	if req.Roles == nil {
		req.Roles = &[]string{}
	}
	if _, err := s.apply(ctx, req, p); err != nil {
		return err
	}
	if err := act.Check(duban.PersonAdd, duban.OfPerson(p)); err != nil {
		return err
	}
	if p.Roles.Office() {
		if err := act.Check(duban.PersonRoles, duban.OfPerson(p)); err != nil {
			return err
		}
	}
	if p.Bound() {
		if err := act.Check(duban.PersonRebind, duban.OfPerson(p)); err != nil {
			return err
		}
	}
	err := s.Store.InTx(ctx, func(tx *storage.Store) error {
		if err := tx.CreatePerson(ctx, p); err != nil {
			return conflict(err, "the Telegram chat or Slack user is already bound to someone else")
		}
		return tx.Audit(ctx, a.String(), "person.create", fmt.Sprintf("person:%d", p.ID), personDetail(p))
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, s.personOut(p))
	return nil
}

// listPeople: GET /api/v1/people?agency=&role=, for staff and supervisors.
func (s *server) listPeople(w http.ResponseWriter, r *http.Request, a jobs.Actor) error {
	if err := actorOf(a).Check(duban.PersonRead, duban.Subject{}); err != nil {
		return err
	}
	ctx := r.Context()
	var f storage.PeopleFilter
	q := r.URL.Query()
	if raw := q.Get("agency"); raw != "" {
		ag, err := s.agencyRef(ctx, json.RawMessage(strconv.Quote(raw)))
		if err != nil {
			return err
		}
		f.AgencyID = &ag.ID
	}
	if raw := q.Get("role"); raw != "" {
		roles, err := duban.ParseRoles(raw)
		if err != nil {
			return duban.Invalid("role", "unknown role %q", raw)
		}
		if len(roles) != 1 {
			return duban.Invalid("role", "name one role")
		}
		f.Role = roles[0]
	}
	people, err := s.Store.People(ctx, f)
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

// person loads the {id} of the route.
func (s *server) person(r *http.Request) (*duban.Person, error) {
	id, err := pathID(r)
	if err != nil {
		return nil, err
	}
	p, err := s.Store.PersonByID(r.Context(), id)
	return p, notFound(err, "person %d", id)
}

// getPerson: GET /api/v1/people/{id}, for staff, supervisors and the
// person themself.
func (s *server) getPerson(w http.ResponseWriter, r *http.Request, a jobs.Actor) error {
	p, err := s.person(r)
	if err != nil {
		return err
	}
	if err := actorOf(a).Check(duban.PersonRead, duban.OfPerson(p)); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.personOut(p))
	return nil
}

// patchPerson: PATCH /api/v1/people/{id}. Each kind of change asks the
// rule book: details (duban.PersonEdit), roles (PersonRoles: admins only,
// never one's own), chat addresses (PersonRebind: admins only; a notice
// for the old address is planned), active (PersonDeactivate). Every
// credential change is audited in the transaction that makes it.
func (s *server) patchPerson(w http.ResponseWriter, r *http.Request, a jobs.Actor) error {
	act := actorOf(a)
	if err := act.Check(duban.PersonEdit, duban.Subject{}); err != nil {
		return err
	}
	var req personFields
	if err := decode(w, r, &req); err != nil {
		return err
	}
	p, err := s.person(r)
	if err != nil {
		return err
	}
	old := *p
	old.Roles = slices.Clone(p.Roles)
	if err := act.Check(duban.PersonEdit, duban.OfPerson(&old)); err != nil {
		return err
	}
	ctx := r.Context()
	changed, err := s.apply(ctx, req, p)
	if err != nil {
		return err
	}
	rolesChanged := !sameRoles(old.Roles, p.Roles)
	if rolesChanged {
		if err := act.Check(duban.PersonRoles, duban.OfPerson(&old)); err != nil {
			return err
		}
	}
	tgChanged, slackChanged := chatsChanged(&old, p)
	if tgChanged || slackChanged {
		if err := act.Check(duban.PersonRebind, duban.OfPerson(&old)); err != nil {
			return err
		}
	}
	if old.Active != p.Active {
		if err := act.Check(duban.PersonDeactivate, duban.OfPerson(&old)); err != nil {
			return err
		}
	}
	var notices []*duban.Delivery
	err = s.Store.InTx(ctx, func(tx *storage.Store) error {
		if err := tx.UpdatePerson(ctx, p); err != nil {
			return conflict(err, "the Telegram chat or Slack user is already bound to someone else")
		}
		target := fmt.Sprintf("person:%d", p.ID)
		if err := tx.Audit(ctx, a.String(), "person.update", target, "changed "+strings.Join(changed, ",")); err != nil {
			return err
		}
		if rolesChanged {
			if err := tx.Audit(ctx, a.String(), "person.roles", target, fmt.Sprintf("from %q to %q", old.Roles.String(), p.Roles.String())); err != nil {
				return err
			}
		}
		for _, c := range []struct {
			changed bool
			channel duban.Channel
			was     duban.Person // the person as reachable on the old address only
		}{
			{tgChanged, duban.ChannelTelegram, duban.Person{TelegramChatID: old.TelegramChatID}},
			{slackChanged, duban.ChannelSlack, duban.Person{SlackUserID: old.SlackUserID}},
		} {
			if !c.changed {
				continue
			}
			if err := tx.Audit(ctx, a.String(), "person.rebind", target, string(c.channel)); err != nil {
				return err
			}
			if !c.was.Bound() {
				continue // nothing was bound: nobody to warn
			}
			d, err := s.planRebindNotice(ctx, tx, &old, c.was, c.channel)
			if err != nil {
				return err
			}
			notices = append(notices, d)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if s.outbox != nil {
		s.outbox.Enqueue(ctx, notices...)
	}
	writeJSON(w, http.StatusOK, s.personOut(p))
	return nil
}

// msgRebind tells a person, on the address they had, that an admin
// changed where their messages go.
const msgRebind duban.MessageKind = "rebind"

// planRebindNotice plans, in tx, the message telling p on their old
// address on channel ch (was holds only that address) that an admin
// changed it.
func (s *server) planRebindNotice(ctx context.Context, tx *storage.Store, p *duban.Person, was duban.Person, ch duban.Channel) (*duban.Delivery, error) {
	if s.outbox == nil {
		return nil, nil
	}
	was.ID, was.Name, was.Locale, was.Active = p.ID, p.Name, p.Locale, true
	msg := duban.Message{Kind: msgRebind, Ref: fmt.Sprintf("person:%d", p.ID),
		Text: s.texts().T(p.Locale, "person.rebind", map[string]any{"Name": p.Name, "Channel": channelName(ch)})}
	to := jobs.AddressOf(&was)
	msg.To = &to
	key := fmt.Sprintf("rebind:%d:%s:%d", p.ID, ch, s.Clock.Now().UnixNano())
	return s.outbox.Plan(ctx, tx, &was, key, msg, nil, nil)
}

// channelName is a channel as people know it.
func channelName(ch duban.Channel) string {
	switch ch {
	case duban.ChannelTelegram:
		return "Telegram"
	case duban.ChannelSlack:
		return "Slack"
	}
	return string(ch)
}

// texts is the i18n bundle messages are rendered with.
func (s *server) texts() jobs.Translator {
	if s.Complaints != nil {
		return s.Complaints.T
	}
	return s.Hearings.Render.T
}

// deletePerson: DELETE /api/v1/people/{id} deactivates: the person keeps
// their history but receives nothing and their tokens stop working.
func (s *server) deletePerson(w http.ResponseWriter, r *http.Request, a jobs.Actor) error {
	p, err := s.person(r)
	if err != nil {
		return err
	}
	if err := actorOf(a).Check(duban.PersonDeactivate, duban.OfPerson(p)); err != nil {
		return err
	}
	ctx := r.Context()
	p.Active = false
	err = s.Store.InTx(ctx, func(tx *storage.Store) error {
		if err := tx.UpdatePerson(ctx, p); err != nil {
			return err
		}
		return tx.Audit(ctx, a.String(), "person.deactivate", fmt.Sprintf("person:%d", p.ID), "")
	})
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
