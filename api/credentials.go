package api

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/jobs"
	"github.com/cityhall/duban/storage"
)

// maxTokenName bounds a token's name: a label like "laptop" or "OA sync".
const maxTokenName = 100

// credentialOf loads the route's person and asks the rule book whether a
// may do d to them; active requires them to be active.
func (s *server) credentialOf(r *http.Request, a jobs.Actor, d duban.Do, action string, active bool) (*duban.Person, error) {
	p, err := s.person(r)
	if err != nil {
		return nil, err
	}
	if err := actorOf(a).Check(d, duban.OfPerson(p)); err != nil {
		return nil, err
	}
	if active && !p.Active {
		return nil, &duban.StateError{Action: action, State: "deactivated", Allowed: []string{}}
	}
	return p, nil
}

// createBindCode: POST /api/v1/people/{id}/bind-code → {code, expires_at,
// link}; the person sends /start CODE to the bot (or opens the link).
// Admins make codes for anyone; office staff only for a person with no
// chat bound yet (duban.PersonBindCode). Audited.
func (s *server) createBindCode(w http.ResponseWriter, r *http.Request, a jobs.Actor) error {
	p, err := s.credentialOf(r, a, duban.PersonBindCode, "bind-code", true)
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

// tokenRequest is the optional body of POST …/tokens.
type tokenRequest struct {
	Name      string `json:"name"`
	ExpiresAt string `json:"expires_at"`
}

// tokenJSON is a token as listed: never its secret.
type tokenJSON struct {
	ID         int64   `json:"id"`
	Name       string  `json:"name"`
	CreatedAt  string  `json:"created_at"`
	ExpiresAt  *string `json:"expires_at"`
	LastUsedAt *string `json:"last_used_at,omitempty"`
}

// createToken: POST /api/v1/people/{id}/tokens {name?, expires_at?} →
// {id, token}, shown once; only its hash is kept. Minted by the person
// themself or an admin (duban.PersonTokens); audited in the same
// transaction.
func (s *server) createToken(w http.ResponseWriter, r *http.Request, a jobs.Actor) error {
	p, err := s.credentialOf(r, a, duban.PersonTokens, "token", true)
	if err != nil {
		return err
	}
	var req tokenRequest
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(body)) > 0 { // no body: a token without a name or an expiry
		r.Body = io.NopCloser(bytes.NewReader(body))
		if err := decode(w, r, &req); err != nil {
			return err
		}
	}
	t := &storage.APIToken{PersonID: p.ID, Name: strings.TrimSpace(req.Name)}
	var v duban.ValidationError
	if utf8.RuneCountInString(t.Name) > maxTokenName {
		v.Add("name", "is over %d characters", maxTokenName)
	}
	if req.ExpiresAt != "" {
		exp, err := duban.ParseTime(req.ExpiresAt, s.Loc)
		switch {
		case err != nil:
			v.Add("expires_at", "is not a time (RFC 3339 or 2006-01-02 15:04)")
		case !exp.After(s.Clock.Now()):
			v.Add("expires_at", "is not in the future")
		default:
			t.ExpiresAt = &exp
		}
	}
	if err := v.Err(); err != nil {
		return err
	}
	token, err := newToken()
	if err != nil {
		return err
	}
	ctx := r.Context()
	err = s.Store.InTx(ctx, func(tx *storage.Store) error {
		if err := tx.AddToken(ctx, t, HashToken(token)); err != nil {
			return err
		}
		detail := fmt.Sprintf("token:%d name=%q", t.ID, t.Name)
		if t.ExpiresAt != nil {
			detail += " expires " + rfc3339(*t.ExpiresAt, s.Loc)
		}
		return tx.Audit(ctx, a.String(), "person.token", fmt.Sprintf("person:%d", p.ID), detail)
	})
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusCreated, map[string]any{"id": t.ID, "token": token})
	return nil
}

// listTokens: GET /api/v1/people/{id}/tokens → [{id, name, created_at,
// expires_at, last_used_at?}], for the person and admins; no secrets.
func (s *server) listTokens(w http.ResponseWriter, r *http.Request, a jobs.Actor) error {
	p, err := s.credentialOf(r, a, duban.PersonTokens, "tokens", false)
	if err != nil {
		return err
	}
	list, err := s.Store.Tokens(r.Context(), p.ID)
	if err != nil {
		return err
	}
	out := make([]tokenJSON, 0, len(list))
	for _, t := range list {
		out = append(out, tokenJSON{ID: t.ID, Name: t.Name, CreatedAt: rfc3339(t.CreatedAt, s.Loc),
			ExpiresAt: rfc3339p(t.ExpiresAt, s.Loc), LastUsedAt: rfc3339p(t.LastUsedAt, s.Loc)})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// revokeToken: DELETE /api/v1/people/{id}/tokens/{token_id} → 204; the
// token answers 401 from then on. Audited in the same transaction.
func (s *server) revokeToken(w http.ResponseWriter, r *http.Request, a jobs.Actor) error {
	p, err := s.credentialOf(r, a, duban.PersonTokens, "revoke", false)
	if err != nil {
		return err
	}
	id, err := strconv.ParseInt(r.PathValue("token_id"), 10, 64)
	if err != nil || id <= 0 {
		return errorf(http.StatusNotFound, "token %q of person %d does not exist", r.PathValue("token_id"), p.ID)
	}
	ctx := r.Context()
	err = s.Store.InTx(ctx, func(tx *storage.Store) error {
		if err := tx.RevokeToken(ctx, p.ID, id); err != nil {
			return notFound(err, "token %d of person %d", id, p.ID)
		}
		return tx.Audit(ctx, a.String(), "person.token_revoke", fmt.Sprintf("person:%d", p.ID), fmt.Sprintf("token:%d", id))
	})
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
