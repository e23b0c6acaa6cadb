package web

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/justinas/nosurf"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/jobs"
	"github.com/cityhall/duban/storage"
)

// The lock-out (docs/API.md, Limits on public doors): 5 wrong passwords for one login from one
// address lock that pair for 15 minutes. Counting by the pair means
// nobody can lock a supervisor out from elsewhere.
const (
	loginFailLimit  = 5
	loginFailWindow = 15 * time.Minute
)

type loginPage struct {
	Login  string
	Next   string
	Error  string
	Locked bool
}

func csrfToken(r *http.Request) string { return nosurf.Token(r) }

func (w *Web) loginPage(rw http.ResponseWriter, r *http.Request) {
	next := safeNext(r.URL.Query().Get("next"))
	if _, ok := w.signedIn(rw, r); ok {
		http.Redirect(rw, r, next, http.StatusSeeOther)
		return
	}
	w.render(rw, r, w.visitor(r), http.StatusOK, "login", loginPage{Next: next})
}

// lockKey is the counter of wrong passwords for a login from an address;
// the login is hashed so that Redis holds no list of them.
func (w *Web) lockKey(r *http.Request, login string) string {
	sum := sha256.Sum256([]byte(storage.LoginKey(login)))
	return "login:" + hex.EncodeToString(sum[:12]) + ":" + w.ClientAddr(r)
}

// login checks a login and password: a wrong one answers the same page
// with an error, 401; a locked pair answers 429 without checking the
// password at all, so a guess that is right does not stand out.
func (w *Web) login(rw http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	v := w.visitor(r)
	login := strings.TrimSpace(r.PostFormValue("login"))
	pw := r.PostFormValue("password")
	page := loginPage{Login: login, Next: safeNext(r.PostFormValue("next"))}
	key := w.lockKey(r, login)
	if w.Limiter != nil {
		n, _, err := w.Limiter.Count(ctx, key)
		if err != nil {
			w.Log.Warn("sign-in lock-out unavailable", slog.Any("error", err))
		} else if n >= loginFailLimit {
			page.Error, page.Locked = v.t("web.login.locked", "Minutes", int(loginFailWindow.Minutes())), true
			w.render(rw, r, v, http.StatusTooManyRequests, "login", page)
			return
		}
	}
	p, err := jobs.SignIn(ctx, w.Store, login, pw)
	if errors.Is(err, duban.ErrForbidden) {
		if w.Limiter != nil {
			if _, _, err := w.Limiter.Allow(ctx, key, loginFailLimit, loginFailWindow); err != nil {
				w.Log.Warn("sign-in lock-out unavailable", slog.Any("error", err))
			}
		}
		w.Log.Info("sign-in refused", slog.String("address", w.ClientAddr(r)))
		page.Error = v.t("web.login.wrong")
		w.render(rw, r, v, http.StatusUnauthorized, "login", page)
		return
	}
	if err != nil {
		w.fail(rw, r, v, err)
		return
	}
	hash, err := w.Store.PasswordHash(ctx, p.ID)
	if err != nil {
		w.fail(rw, r, v, err)
		return
	}
	// A new token on sign-in: a token planted before cannot ride along.
	if err := w.sessions.RenewToken(ctx); err != nil {
		w.fail(rw, r, v, err)
		return
	}
	w.sessions.Put(ctx, keyPerson, p.ID)
	w.sessions.Put(ctx, keyStamp, stamp(p, hash))
	if err := w.Store.Audit(ctx, duban.Actor{Person: p}.String(), "web.sign_in", "", w.ClientAddr(r)); err != nil {
		w.Log.Warn("audit sign-in", slog.Any("error", err))
	}
	http.Redirect(rw, r, page.Next, http.StatusSeeOther)
}

// logout ends the session.
func (w *Web) logout(rw http.ResponseWriter, r *http.Request) {
	if err := w.sessions.Destroy(r.Context()); err != nil {
		w.fail(rw, r, w.visitor(r), err)
		return
	}
	http.Redirect(rw, r, "/login", http.StatusSeeOther)
}

// switchLang keeps the language chosen for this session.
func (w *Web) switchLang(rw http.ResponseWriter, r *http.Request) {
	w.sessions.Put(r.Context(), keyLang, duban.NormalizeLocale(r.PostFormValue("lang")))
	http.Redirect(rw, r, safeNext(r.PostFormValue("next")), http.StatusSeeOther)
}

// safeNext keeps a redirect on this site: a path, never "//host" or a URL.
func safeNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") ||
		strings.ContainsAny(next, "\r\n") {
		return "/complaints"
	}
	return next
}
