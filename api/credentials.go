package api

import (
	"fmt"
	"net/http"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/jobs"
	"github.com/cityhall/duban/storage"
)

// activePerson loads the route's person for a credential: they must be
// active and manageable by a.
func (s *server) activePerson(r *http.Request, a jobs.Actor, action string) (*duban.Person, error) {
	if err := require(a, duban.RoleStaff); err != nil {
		return nil, err
	}
	p, err := s.person(r)
	if err != nil {
		return nil, err
	}
	if err := mayManage(a, p); err != nil {
		return nil, err
	}
	if !p.Active {
		return nil, &duban.StateError{Action: action, State: "deactivated", Allowed: []string{}}
	}
	return p, nil
}

// createBindCode: POST /api/v1/people/{id}/bind-code → {code, expires_at,
// link}; the person sends /start CODE to the bot (or opens the link).
func (s *server) createBindCode(w http.ResponseWriter, r *http.Request, a jobs.Actor) error {
	p, err := s.activePerson(r, a, "bind-code")
	if err != nil {
		return err
	}
	code, err := newBindCode()
	if err != nil {
		return err
	}
	ctx := r.Context()
	expires := s.Clock.Now().Add(s.BindCodeTTL)
	err = s.Store.InTx(ctx, func(tx *storage.Store) error {
		if err := tx.CreateBindCode(ctx, p.ID, code, expires); err != nil {
			return err
		}
		return tx.Audit(ctx, a.String(), "person.bind_code", fmt.Sprintf("person:%d", p.ID), "expires "+rfc3339(expires, s.Loc))
	})
	if err != nil {
		return err
	}
	link := ""
	if s.TelegramBotUsername != "" {
		link = "https://t.me/" + s.TelegramBotUsername + "?start=" + code
	}
	writeJSON(w, http.StatusCreated, map[string]string{"code": code, "expires_at": rfc3339(expires, s.Loc), "link": link})
	return nil
}

// createToken: POST /api/v1/people/{id}/tokens → {token}, shown once; only
// its hash is kept.
func (s *server) createToken(w http.ResponseWriter, r *http.Request, a jobs.Actor) error {
	p, err := s.activePerson(r, a, "token")
	if err != nil {
		return err
	}
	token, err := newToken()
	if err != nil {
		return err
	}
	ctx := r.Context()
	err = s.Store.InTx(ctx, func(tx *storage.Store) error {
		if err := tx.CreateToken(ctx, p.ID, HashToken(token)); err != nil {
			return err
		}
		return tx.Audit(ctx, a.String(), "person.token", fmt.Sprintf("person:%d", p.ID), "")
	})
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusCreated, map[string]string{"token": token})
	return nil
}
