package web

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/storage"
)

// sessionStore keeps scs's sessions in the database (table web_sessions),
// so that every replica shares them and a restart signs nobody out. scs
// hands it the SHA-256 of each token (HashTokenInStore). Expiry is by the
// wall clock, as scs itself sets and checks every deadline by it.
type sessionStore struct {
	st *storage.Store
}

func (s *sessionStore) FindCtx(ctx context.Context, token string) ([]byte, bool, error) {
	return s.st.FindWebSession(ctx, token, time.Now())
}

func (s *sessionStore) CommitCtx(ctx context.Context, token string, b []byte, expiry time.Time) error {
	return s.st.CommitWebSession(ctx, token, b, expiry)
}

func (s *sessionStore) DeleteCtx(ctx context.Context, token string) error {
	return s.st.DeleteWebSession(ctx, token)
}

func (s *sessionStore) Find(token string) ([]byte, bool, error) {
	return s.FindCtx(context.Background(), token)
}

func (s *sessionStore) Commit(token string, b []byte, expiry time.Time) error {
	return s.CommitCtx(context.Background(), token, b, expiry)
}

func (s *sessionStore) Delete(token string) error { return s.DeleteCtx(context.Background(), token) }

// Session keys.
const (
	keyPerson = "person"
	keyStamp  = "stamp"
	keyLang   = "lang"
	keyFlash  = "flash"
)

// stamp is what a session remembers of the credentials it was opened
// with: the roles and the password hash. A session whose person's stamp
// has changed — roles given or taken, a new password — ends at its next
// request (README.md, The web pages), as does one whose person was deactivated.
func stamp(p *duban.Person, passwordHash string) string {
	sum := sha256.Sum256([]byte(p.Roles.String() + "\x00" + passwordHash))
	return hex.EncodeToString(sum[:16])
}

// viewer is who looks at a page, with the language they read.
type viewer struct {
	web    *Web
	Person *duban.Person // nil when signed out
	Locale string
	CSRF   string
	Flash  string
	Path   string
}

// Actor is the rule book's actor of the viewer.
func (v *viewer) Actor() duban.Actor { return duban.Actor{Person: v.Person} }

// May reports whether the viewer may do d to s (for templates).
func (v *viewer) May(d string) bool {
	return v.Person != nil && v.Actor().May(duban.Do(d), duban.Subject{})
}

// t renders a message in the viewer's language.
func (v *viewer) t(id string, kv ...any) string {
	data := map[string]any{}
	for i := 0; i+1 < len(kv); i += 2 {
		if k, ok := kv[i].(string); ok {
			data[k] = kv[i+1]
		}
	}
	return v.web.T.T(v.Locale, id, data)
}

// signedIn finds the person of the request's session. A session whose
// person is gone, deactivated, or holds other roles or another password
// than when it opened is destroyed.
func (w *Web) signedIn(rw http.ResponseWriter, r *http.Request) (*viewer, bool) {
	ctx := r.Context()
	id := w.sessions.GetInt64(ctx, keyPerson)
	if id == 0 {
		return nil, false
	}
	p, err := w.Store.PersonByID(ctx, id)
	var hash string
	if err == nil {
		hash, err = w.Store.PasswordHash(ctx, id)
	}
	if err != nil && !errors.Is(err, duban.ErrNotFound) {
		w.Log.Error("web session person", slog.Any("error", err))
		return nil, false
	}
	if err != nil || !p.Active || hash == "" || w.sessions.GetString(ctx, keyStamp) != stamp(p, hash) {
		if derr := w.sessions.Destroy(ctx); derr != nil {
			w.Log.Error("end web session", slog.Any("error", derr))
		}
		return nil, false
	}
	v := w.viewerOf(r, p)
	v.Flash = w.sessions.PopString(ctx, keyFlash)
	return v, true
}

// visitor is a signed-out viewer.
func (w *Web) visitor(r *http.Request) *viewer { return w.viewerOf(r, nil) }

func (w *Web) viewerOf(r *http.Request, p *duban.Person) *viewer {
	v := &viewer{web: w, Person: p, Path: r.URL.Path}
	v.CSRF = csrfToken(r)
	switch lang := w.sessions.GetString(r.Context(), keyLang); {
	case lang != "":
		v.Locale = lang
	case p != nil:
		v.Locale = p.Locale
	default:
		v.Locale = duban.LocaleZH
		if al := r.Header.Get("Accept-Language"); strings.HasPrefix(strings.ToLower(al), "en") {
			v.Locale = duban.LocaleEN
		}
	}
	v.Locale = duban.NormalizeLocale(v.Locale)
	return v
}

// flash leaves a message for the next page the person sees.
func (w *Web) flash(r *http.Request, msg string) { w.sessions.Put(r.Context(), keyFlash, msg) }
