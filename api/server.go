// Package api is duban's HTTP surface: the JSON API of docs/API.md for
// agencies, people, hearings, complaints, deliveries, the audit log and
// reports, Open311 GeoReport v2, with the health, readiness and metrics
// endpoints and the platform webhooks mounted beside it.
package api

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/jobs"
	"github.com/cityhall/duban/ratelimit"
	"github.com/cityhall/duban/reports"
	"github.com/cityhall/duban/storage"
)

// Deps is what the HTTP surface needs.
type Deps struct {
	Store    *storage.Store
	Hearings *jobs.Hearings
	// Complaints is the supervision queue; nil: the complaint endpoints
	// and Open311 are not mounted.
	Complaints *jobs.Complaints
	// Bulletins sends the bulletin on demand; nil: the route is not
	// mounted.
	Bulletins *jobs.Bulletins
	Outbox    *jobs.Outbox // nil: Hearings.Outbox
	Clock     duban.Clock
	// Loc is DUBAN_TIMEZONE: times are answered in it, and request times
	// without an offset are read in it.
	Loc *time.Location
	// AdminToken is the bootstrap admin's bearer token; empty: none.
	AdminToken string
	// Limiter keeps the counts of the limits on public doors (Open311
	// posts, wrong tokens) where every replica shares them; nil: no limits.
	Limiter Limiter
	// Open311Rate is DUBAN_OPEN311_RATE; zero: 10 a minute.
	Open311Rate ratelimit.Rate
	// TrustedProxies are DUBAN_TRUSTED_PROXIES: peers whose
	// X-Forwarded-For is believed for per-address limits.
	TrustedProxies []netip.Prefix
	// BindCodeTTL is how long a chat bind code stays valid; zero:
	// jobs.DefaultBindCodeTTL.
	BindCodeTTL time.Duration
	// TelegramBotUsername builds bind links https://t.me/<name>?start=<code>;
	// empty: the link is "".
	TelegramBotUsername string
	// Ready reports whether the database and Redis are reachable; its error
	// names the failing part before a colon ("database: …"). Nil: the
	// store is pinged.
	Ready func(ctx context.Context) error
	// Metrics is the Prometheus handler mounted at GET /metrics; nil: none.
	Metrics http.Handler
	// Calendars serves the private calendar feeds and their minting; nil:
	// not mounted.
	Calendars *jobs.Calendars
	// LinkAnswers takes heads' answers through signed e-mail links; nil:
	// the answer page is not mounted.
	LinkAnswers *jobs.LinkAnswers
	// Routes are extra patterns mounted as given, e.g. "POST /telegram/webhook".
	Routes map[string]http.Handler
	Log    *slog.Logger
}

// Limiter counts hits per key in windows shared by every replica
// (ratelimit.Redis).
type Limiter interface {
	// Allow counts one hit of key and reports whether it is within limit
	// hits in window; when not, retry is how long until it may be.
	Allow(ctx context.Context, key string, limit int, window time.Duration) (ok bool, retry time.Duration, err error)
	// Count returns the hits of key in its current window and how long the
	// window has left, without counting one.
	Count(ctx context.Context, key string) (n int, left time.Duration, err error)
}

// defaultOpen311Rate is DUBAN_OPEN311_RATE's default (README.md; configs/duban.example.yaml).
var defaultOpen311Rate = ratelimit.Rate{Limit: 10, Window: time.Minute}

// readyTimeout bounds a readiness probe; orchestrators probe every few
// seconds and a hung database must answer "not ready", not hang too.
const readyTimeout = 3 * time.Second

type server struct {
	Deps
	outbox      *jobs.Outbox
	people      *jobs.People
	agencies    *jobs.Agencies
	credentials *jobs.Credentials
	reports     *reports.Reports
	log         *slog.Logger
	mux         *http.ServeMux
}

// New builds the HTTP handler of duban.
func New(d Deps) http.Handler {
	s := &server{Deps: d, outbox: d.Outbox, log: d.Log, mux: http.NewServeMux()}
	if s.outbox == nil && d.Hearings != nil {
		s.outbox = d.Hearings.Outbox
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.Loc == nil {
		s.Loc = time.Local
	}
	if s.Clock == nil {
		s.Clock = duban.SystemClock{}
	}
	if s.Open311Rate.Limit <= 0 || s.Open311Rate.Window <= 0 {
		s.Open311Rate = defaultOpen311Rate
	}
	people := jobs.PeopleDeps{Store: d.Store, Clock: s.Clock}
	if t := s.texts(); t != nil && s.outbox != nil {
		people.Outbox, people.T = s.outbox, t
	}
	s.people = jobs.NewPeople(people)
	s.agencies = jobs.NewAgencies(d.Store)
	s.reports = reports.New(d.Store, s.Loc, s.Clock, s.texts())
	s.credentials = jobs.NewCredentials(jobs.CredentialsDeps{Store: d.Store, Clock: s.Clock, Loc: s.Loc, BindCodeTTL: s.BindCodeTTL})
	s.routes()
	return s
}

func (s *server) routes() {
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	s.mux.HandleFunc("GET /readyz", s.readyz)
	if s.Metrics != nil {
		s.mux.Handle("GET /metrics", s.Metrics)
	}
	for pattern, h := range s.Routes {
		s.mux.Handle(pattern, h)
	}

	s.handle("POST /api/v1/agencies", s.createAgency)
	s.handle("GET /api/v1/agencies", s.listAgencies)
	s.handle("PATCH /api/v1/agencies/{code}", s.patchAgency)

	s.handle("POST /api/v1/people", s.createPerson)
	s.handle("GET /api/v1/people", s.listPeople)
	s.handle("GET /api/v1/people/{id}", s.getPerson)
	s.handle("PATCH /api/v1/people/{id}", s.patchPerson)
	s.handle("DELETE /api/v1/people/{id}", s.deletePerson)
	s.handle("POST /api/v1/people/{id}/bind-code", s.createBindCode)
	s.handle("POST /api/v1/people/{id}/tokens", s.createToken)
	s.handle("GET /api/v1/people/{id}/tokens", s.listTokens)
	s.handle("DELETE /api/v1/people/{id}/tokens/{token_id}", s.revokeToken)
	s.handle("PUT /api/v1/people/{id}/password", s.putPassword)

	s.handle("POST /api/v1/hearings", s.createHearing)
	s.handle("GET /api/v1/hearings", s.listHearings)
	s.handle("POST /api/v1/hearings/import", s.importHearings)
	s.handle("GET /api/v1/hearings/{id}", s.getHearing)
	s.handle("PATCH /api/v1/hearings/{id}", s.patchHearing)
	s.handle("POST /api/v1/hearings/{id}/outcome", s.recordOutcome)
	s.handle("POST /api/v1/hearings/{id}/answer", s.answerHearing)

	s.handle("GET /api/v1/deliveries", s.listDeliveries)
	s.handle("POST /api/v1/deliveries/{id}/resend", s.resendDelivery)
	s.handle("GET /api/v1/audit", s.auditLog)
	s.handle("GET /api/v1/reports/appearance", s.appearanceReport)
	if s.Bulletins != nil {
		s.handle("POST /api/v1/reports/bulletin", s.sendBulletin)
	}
	s.calendarRoutes()
	s.answerRoutes()

	if s.Complaints != nil {
		s.handle("POST /api/v1/complaints", s.createComplaint)
		s.handle("GET /api/v1/complaints", s.listComplaints)
		s.handle("GET /api/v1/complaints/{id}", s.getComplaint)
		s.handle("POST /api/v1/complaints/{id}/actions", s.actOnComplaint)
		s.handle("GET /api/v1/callbacks", s.listCallbacks)
		s.handle("GET /api/v1/reports/complaints", s.complaintsReport)

		s.mux.HandleFunc("GET /open311/v2/services.json", s.open311(s.open311Services))
		s.mux.HandleFunc("POST /open311/v2/requests.json", s.open311(s.open311Create))
		s.mux.HandleFunc("GET /open311/v2/requests.json", s.open311(s.open311List))
		s.mux.HandleFunc("GET /open311/v2/requests/{id}", s.open311(s.open311Get))
	}
}

// handlerFunc is an authenticated endpoint: it answers, or returns the error
// fail maps to a status.
type handlerFunc func(w http.ResponseWriter, r *http.Request, a jobs.Actor) error

// handle mounts an endpoint behind bearer authentication.
func (s *server) handle(pattern string, h handlerFunc) {
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		a, err := s.authenticate(r)
		if err == nil {
			err = h(w, r, a)
		}
		if err != nil {
			s.fail(w, r, err)
		}
	})
}

// ServeHTTP logs the request, recovers a panicking handler into a 500, and
// answers unknown paths and methods in the API's JSON error shape.
func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	sw := &statusWriter{ResponseWriter: w}
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.log.Error("handler panicked", slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Any("panic", v))
			if sw.status == 0 {
				writeJSON(sw, http.StatusInternalServerError, errorBody{Error: "internal error"})
			}
		}
		level := slog.LevelInfo
		if !strings.HasPrefix(r.URL.Path, "/api/") {
			level = slog.LevelDebug // probes and scrapes
		}
		s.log.Log(r.Context(), level, "http request", slog.String("method", r.Method), slog.String("path", r.URL.Path),
			slog.Int("status", sw.code()), slog.Duration("duration", time.Since(start)))
	}()
	if _, pattern := s.mux.Handler(r); pattern == "" {
		s.unmatched(sw, r)
		return
	}
	s.mux.ServeHTTP(sw, r)
}

// unmatched answers a request no pattern took: ServeMux's own 404 and 405
// become JSON; its redirects (a cleaned path) pass through.
func (s *server) unmatched(w http.ResponseWriter, r *http.Request) {
	h, _ := s.mux.Handler(r)
	rec := &captureWriter{header: http.Header{}}
	h.ServeHTTP(rec, r)
	switch rec.status {
	case http.StatusNotFound:
		writeJSON(w, http.StatusNotFound, errorBody{Error: "no such endpoint: " + r.URL.Path})
	case http.StatusMethodNotAllowed:
		w.Header().Set("Allow", rec.header.Get("Allow"))
		writeJSON(w, http.StatusMethodNotAllowed, errorBody{Error: fmt.Sprintf("%s is not allowed on %s", r.Method, r.URL.Path)})
	default:
		for k, v := range rec.header {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.status)
		_, _ = w.Write(rec.body)
	}
}

// readyz answers 200 when the database and Redis are reachable, else 503
// naming the failing part (the text before the error's first colon) and
// nothing more: driver errors can carry hosts and user names.
func (s *server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
	defer cancel()
	check := s.Ready
	if check == nil {
		check = func(ctx context.Context) error {
			if err := s.Store.Ping(ctx); err != nil {
				return fmt.Errorf("database: %w", err)
			}
			return nil
		}
	}
	if err := check(ctx); err != nil {
		part, _, found := strings.Cut(err.Error(), ":")
		if !found || strings.ContainsAny(part, " /@") {
			part = "a dependency"
		}
		s.log.Warn("not ready", slog.Any("error", err))
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "error": part + " is not reachable"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// statusWriter remembers the status a handler wrote, for the access log.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) code() int {
	if w.status == 0 {
		return http.StatusOK
	}
	return w.status
}

// Unwrap lets http.ResponseController reach the connection (flushes,
// deadlines) through the wrapper.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// captureWriter holds the answer of ServeMux's own handlers.
type captureWriter struct {
	header http.Header
	status int
	body   []byte
}

func (c *captureWriter) Header() http.Header { return c.header }
func (c *captureWriter) WriteHeader(code int) {
	if c.status == 0 {
		c.status = code
	}
}
func (c *captureWriter) Write(b []byte) (int, error) {
	if c.status == 0 {
		c.status = http.StatusOK
	}
	c.body = append(c.body, b...)
	return len(b), nil
}
