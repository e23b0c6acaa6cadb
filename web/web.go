// Package web is duban's pages for supervisors, the office and agencies:
// sign-in, the complaint queue, a complaint with its timeline and
// actions, and hearings. Server-rendered with html/template, working
// without JavaScript, asking nothing of another host; every permission is
// the rule book's (access.go) and every change goes through the same use
// cases as the API and the bots (jobs/).
package web

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/justinas/nosurf"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/i18n"
	"github.com/cityhall/duban/jobs"
	"github.com/cityhall/duban/reports"
	"github.com/cityhall/duban/storage"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Limiter counts hits per key in windows shared by every replica
// (ratelimit.Redis); the same interface as api.Limiter.
type Limiter interface {
	Allow(ctx context.Context, key string, limit int, window time.Duration) (ok bool, retry time.Duration, err error)
	Count(ctx context.Context, key string) (n int, left time.Duration, err error)
}

// Deps is what the pages need.
type Deps struct {
	Store      *storage.Store
	Hearings   *jobs.Hearings
	Complaints *jobs.Complaints
	T          *i18n.Bundle
	Clock      duban.Clock
	// Loc is DUBAN_TIMEZONE: every time is shown in it, and typed times
	// are read in it.
	Loc *time.Location
	// PublicURL is DUBAN_PUBLIC_URL: when https, cookies are Secure and
	// requests count as TLS for the CSRF check (behind a proxy that ends
	// TLS); its origin is also accepted as a form's Origin.
	PublicURL string
	// Limiter keeps the sign-in lock-out counts; nil: no lock-out (tests
	// of other things).
	Limiter Limiter
	// ClientAddr is the address a request comes from, behind
	// DUBAN_TRUSTED_PROXIES (api.ClientAddr); nil: the peer.
	ClientAddr func(*http.Request) string
	// Files fetches complaint attachments from Telegram; nil: attachments
	// are listed but cannot be opened.
	Files *TelegramFiles
	// Monitor is asynq's web monitor, served at /admin/queues for admins;
	// nil: not mounted.
	Monitor http.Handler
	// Reports computes the reports page's figures; nil: no reports page.
	Reports *reports.Reports
	// Bulletins sends the bulletin from the reports page; nil: no button.
	Bulletins *jobs.Bulletins
	Log       *slog.Logger
}

// Web is the pages' handler.
type Web struct {
	Deps
	sessions *scs.SessionManager
	pages    *pages
	handler  http.Handler
	secure   bool
	origin   string
}

// SessionIdle is how long a session lasts without a request
// (README.md, The web pages: 12 hours idle at most).
const SessionIdle = 12 * time.Hour

// sessionLifetime bounds a session however busy: a working day and a
// night.
const sessionLifetime = 24 * time.Hour

// New builds the pages.
func New(d Deps) (*Web, error) {
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	if d.Clock == nil {
		d.Clock = duban.SystemClock{}
	}
	if d.Loc == nil {
		d.Loc = time.Local
	}
	if d.T == nil {
		b, err := i18n.New()
		if err != nil {
			return nil, err
		}
		d.T = b
	}
	if d.ClientAddr == nil {
		d.ClientAddr = peerAddr
	}
	w := &Web{Deps: d}
	if d.PublicURL != "" {
		u, err := url.Parse(d.PublicURL)
		if err != nil {
			return nil, err
		}
		w.secure = u.Scheme == "https"
		w.origin = u.Scheme + "://" + u.Host
	}
	p, err := loadPages(d.T)
	if err != nil {
		return nil, err
	}
	w.pages = p

	sm := scs.New()
	sm.Store = &sessionStore{st: d.Store}
	sm.IdleTimeout = SessionIdle
	sm.Lifetime = sessionLifetime
	sm.HashTokenInStore = true
	sm.Cookie.Name = "duban_session"
	sm.Cookie.HttpOnly = true
	sm.Cookie.SameSite = http.SameSiteLaxMode
	sm.Cookie.Secure = w.secure
	sm.Cookie.Path = "/"
	sm.ErrorFunc = func(rw http.ResponseWriter, r *http.Request, err error) {
		d.Log.Error("web session", slog.Any("error", err))
		http.Error(rw, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
	}
	w.sessions = sm

	mux := http.NewServeMux()
	w.routes(mux)
	csrf := nosurf.New(mux)
	csrf.SetBaseCookie(http.Cookie{Name: "duban_csrf", Path: "/", HttpOnly: true, Secure: w.secure, SameSite: http.SameSiteLaxMode,
		MaxAge: int(sessionLifetime.Seconds())})
	csrf.SetIsTLSFunc(func(r *http.Request) bool { return w.secure || r.TLS != nil })
	if w.origin != "" {
		allowed, err := nosurf.StaticOrigins(w.origin)
		if err != nil {
			return nil, err
		}
		csrf.SetIsAllowedOriginFunc(allowed)
	}
	csrf.SetFailureHandler(http.HandlerFunc(w.csrfFailed))
	// asynqmon's own calls carry no CSRF token: the monitor checks the
	// admin's session and the request's origin itself (monitor.go).
	csrf.ExemptFunc(func(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, monitorPath+"/") })
	w.handler = securityHeaders(sm.LoadAndSave(csrf))
	return w, nil
}

// Routes are the patterns the pages answer, for mounting beside the API
// (api.Deps.Routes): every path of the pages, and nothing under /api/.
func (w *Web) Routes() map[string]http.Handler {
	out := map[string]http.Handler{}
	for _, p := range []string{"/{$}", "/login", "/logout", "/lang", "/static/", "/complaints", "/complaints/",
		"/hearings", "/hearings/", "/me", "/me/",
		"/callbacks", "/deliveries", "/deliveries/", "/admin/audit", "/reports", "/reports/", "/people", "/people/", "/agencies", "/agencies/"} {
		out[p] = w
	}
	if w.Monitor != nil {
		out[monitorPath] = w
		out[monitorPath+"/"] = w
	}
	return out
}

// ServeHTTP serves the pages.
func (w *Web) ServeHTTP(rw http.ResponseWriter, r *http.Request) { w.handler.ServeHTTP(rw, r) }

func (w *Web) routes(mux *http.ServeMux) {
	static, _ := fs.Sub(staticFS, "static")
	mux.Handle("GET /static/", http.StripPrefix("/static/", cacheStatic(http.FileServerFS(static))))
	mux.HandleFunc("GET /{$}", w.home)
	mux.HandleFunc("GET /login", w.loginPage)
	mux.HandleFunc("POST /login", w.login)
	mux.HandleFunc("POST /logout", w.logout)
	mux.HandleFunc("POST /lang", w.switchLang)

	mux.HandleFunc("GET /complaints", w.page(w.queue))
	mux.HandleFunc("GET /complaints/new", w.page(w.newComplaint))
	mux.HandleFunc("POST /complaints/new", w.page(w.logComplaint))
	mux.HandleFunc("GET /complaints/{id}", w.page(w.complaint))
	mux.HandleFunc("POST /complaints/{id}/actions", w.page(w.act))
	mux.HandleFunc("GET /complaints/{id}/files/{n}", w.page(w.file))

	mux.HandleFunc("GET /hearings", w.page(w.hearings))
	mux.HandleFunc("POST /hearings", w.page(w.registerHearing))
	mux.HandleFunc("POST /hearings/import", w.page(w.importHearings))
	mux.HandleFunc("GET /hearings/{id}", w.page(w.hearing))
	mux.HandleFunc("POST /hearings/{id}/move", w.page(w.moveHearing))
	mux.HandleFunc("POST /hearings/{id}/cancel", w.page(w.cancelHearing))
	mux.HandleFunc("POST /hearings/{id}/outcome", w.page(w.recordOutcome))
	mux.HandleFunc("POST /hearings/{id}/answer", w.page(w.answerHearing))

	mux.HandleFunc("GET /people", w.page(w.people))
	mux.HandleFunc("POST /people", w.page(w.addPerson))
	mux.HandleFunc("GET /people/{id}", w.page(w.person))
	mux.HandleFunc("POST /people/{id}", w.page(w.editPerson))
	mux.HandleFunc("POST /people/{id}/roles", w.page(w.personRoles))
	mux.HandleFunc("POST /people/{id}/bind-code", w.page(w.personBindCode))
	mux.HandleFunc("POST /people/{id}/tokens", w.page(w.personToken))
	mux.HandleFunc("POST /people/{id}/tokens/{token}/revoke", w.page(w.revokeToken))
	mux.HandleFunc("POST /people/{id}/deactivate", w.page(w.deactivatePerson))
	mux.HandleFunc("POST /people/{id}/password", w.page(w.resetPassword))
	mux.HandleFunc("GET /agencies", w.page(w.agencies))
	mux.HandleFunc("POST /agencies", w.page(w.addAgency))
	mux.HandleFunc("POST /agencies/{code}", w.page(w.renameAgency))
	mux.HandleFunc("GET /reports", w.page(w.reportsView))
	mux.HandleFunc("GET /reports/{file}", w.page(w.reportDownload))
	mux.HandleFunc("POST /reports/bulletin", w.page(w.sendBulletin))
	mux.HandleFunc("GET /callbacks", w.page(w.callbacks))
	mux.HandleFunc("GET /deliveries", w.page(w.deliveries))
	mux.HandleFunc("POST /deliveries/{id}/resend", w.page(w.resend))
	mux.HandleFunc("GET /admin/audit", w.page(w.audit))
	mux.HandleFunc("GET /me", w.page(w.mePage))
	mux.HandleFunc("POST /me/password", w.page(w.changePassword))

	if w.Monitor != nil {
		mux.Handle(monitorPath, w.monitor())
		mux.Handle(monitorPath+"/", w.monitor())
	}
}

// home sends a signed-in person to the queue, anyone else to sign in.
func (w *Web) home(rw http.ResponseWriter, r *http.Request) {
	if _, ok := w.signedIn(rw, r); ok {
		http.Redirect(rw, r, "/complaints", http.StatusSeeOther)
		return
	}
	http.Redirect(rw, r, "/login", http.StatusSeeOther)
}

// pageFunc is a page for a signed-in person; an error it returns is
// shown as an error page with its status.
type pageFunc func(rw http.ResponseWriter, r *http.Request, me *viewer) error

// page requires a session: without one, GETs are sent to sign in (and
// back), and other methods are refused.
func (w *Web) page(h pageFunc) http.HandlerFunc {
	return func(rw http.ResponseWriter, r *http.Request) {
		me, ok := w.signedIn(rw, r)
		if !ok {
			if r.Method == http.MethodGet {
				http.Redirect(rw, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			w.fail(rw, r, w.visitor(r), errSignIn)
			return
		}
		if err := h(rw, r, me); err != nil {
			w.fail(rw, r, me, err)
		}
	}
}

// errSignIn is a post without a session.
var (
	errSignIn    = errors.New("web: not signed in")
	errForbidden = fmt.Errorf("web: %w", duban.ErrForbidden)
)

// status maps an error to the HTTP status of its page.
func status(err error) int {
	switch {
	case errors.Is(err, errSignIn):
		return http.StatusUnauthorized
	case errors.Is(err, duban.ErrForbidden):
		return http.StatusForbidden
	case errors.Is(err, duban.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, duban.ErrInvalid):
		return http.StatusUnprocessableEntity
	case errors.Is(err, duban.ErrConflict):
		return http.StatusConflict
	}
	return http.StatusInternalServerError
}

// fail shows an error page.
func (w *Web) fail(rw http.ResponseWriter, r *http.Request, me *viewer, err error) {
	code := status(err)
	if code == http.StatusInternalServerError {
		w.Log.Error("web page", slog.String("path", r.URL.Path), slog.Any("error", err))
	}
	w.render(rw, r, me, code, "error", errorPage{Status: code, Message: me.errorText(err)})
}

type errorPage struct {
	Status  int
	Message string
}

// csrfFailed answers a state-changing request without its CSRF token, or
// from another origin: 403.
func (w *Web) csrfFailed(rw http.ResponseWriter, r *http.Request) {
	w.Log.Warn("csrf check failed", slog.String("path", r.URL.Path), slog.Any("reason", nosurf.Reason(r)))
	me, ok := w.signedIn(rw, r)
	if !ok {
		me = w.visitor(r)
	}
	w.render(rw, r, me, http.StatusForbidden, "error", errorPage{Status: http.StatusForbidden, Message: me.t("web.error.csrf")})
}

// securityHeaders: no framing, no sniffing, nothing from another host.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		h := rw.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		if !strings.HasPrefix(r.URL.Path, monitorPath) {
			h.Set("X-Frame-Options", "DENY")
			h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
		}
		next.ServeHTTP(rw, r)
	})
}

// cacheStatic lets browsers keep the embedded files for a day.
func cacheStatic(next http.Handler) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("Cache-Control", "public, max-age=86400")
		next.ServeHTTP(rw, r)
	})
}

// peerAddr is the request's peer, without its port.
func peerAddr(r *http.Request) string {
	if ap, err := netip.ParseAddrPort(r.RemoteAddr); err == nil {
		return ap.Addr().Unmap().String()
	}
	return r.RemoteAddr
}
