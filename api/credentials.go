package api

import (
	"bytes"
	"io"
	"net/http"
	"strconv"

	"github.com/cityhall/duban/jobs"
)

// createBindCode: POST /api/v1/people/{id}/bind-code → {code, expires_at,
// link}; the person sends /start CODE to the bot (or opens the link).
// Admins make codes for anyone; office staff only for a person with no
// chat bound yet (jobs.Credentials.BindCode). Audited.
func (s *server) createBindCode(w http.ResponseWriter, r *http.Request, a jobs.Actor) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	bc, err := s.credentials.BindCode(r.Context(), actorOf(a), id)
	if err != nil {
		return err
	}
	link := ""
	if s.TelegramBotUsername != "" {
		link = "https://t.me/" + s.TelegramBotUsername + "?start=" + bc.Code
	}
	writeJSON(w, http.StatusCreated, map[string]string{"code": bc.Code, "expires_at": rfc3339(bc.ExpiresAt, s.Loc), "link": link})
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
// themself or an admin (jobs.Credentials.MintToken); audited in the same
// transaction.
func (s *server) createToken(w http.ResponseWriter, r *http.Request, a jobs.Actor) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	// The person and the permission are checked before the body is read.
	if _, err := s.credentials.MayMint(r.Context(), actorOf(a), id); err != nil {
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
	t, err := s.credentials.MintToken(r.Context(), actorOf(a), id, jobs.TokenSpec{Name: req.Name, ExpiresAt: req.ExpiresAt})
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusCreated, map[string]any{"id": t.ID, "token": t.Secret})
	return nil
}

// listTokens: GET /api/v1/people/{id}/tokens → [{id, name, created_at,
// expires_at, last_used_at?}], for the person and admins; no secrets.
func (s *server) listTokens(w http.ResponseWriter, r *http.Request, a jobs.Actor) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	list, err := s.credentials.Tokens(r.Context(), actorOf(a), id)
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
	id, err := pathID(r)
	if err != nil {
		return err
	}
	tokenID, err := strconv.ParseInt(r.PathValue("token_id"), 10, 64)
	if err != nil {
		tokenID = 0 // no token has it: a 404 once the person is checked
	}
	if err := s.credentials.RevokeToken(r.Context(), actorOf(a), id, tokenID); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
