package web_test

import (
	"context"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/app"
	"github.com/cityhall/duban/configs"
	"github.com/cityhall/duban/internal/testenv"
	"github.com/cityhall/duban/jobs"
	"github.com/cityhall/duban/storage/storagetest"
)

// start is the test clock's first instant: a Tuesday morning in
// Shanghai, a working day.
var start = time.Date(2026, 12, 1, 9, 0, 0, 0, shanghai)

var shanghai = func() *time.Location {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		return time.FixedZone("CST", 8*3600)
	}
	return loc
}()

const testPassword = "a long test password"

// env is duban assembled as `serve` assembles it (app.New, the real
// storage and use cases, Redis in-process), its HTTP handler served by
// httptest, and an office: two agencies, a head and a handler at GA,
// office staff, a supervisor and an admin, each with a web login.
type env struct {
	t                                testing.TB
	ctx                              context.Context
	app                              *app.App
	clock                            *duban.ManualClock
	srv                              *httptest.Server
	redis                            testenv.Redis
	ga, sj                           *duban.Agency
	head, handler, staff, sup, admin *duban.Person
}

func newEnv(t testing.TB, dbURL string, set ...func(*configs.Config)) *env {
	t.Helper()
	cfg := configs.Default()
	cfg.DatabaseURL = configs.Secret(dbURL)
	cfg.QuietHours = "off"
	cfg.AdminToken = "test-admin-token-0123456789abcdef"
	cfg.Console = true
	e := &env{t: t, ctx: context.Background(), clock: duban.NewManualClock(start), redis: testenv.MiniRedis(t)}
	cfg.RedisURL = configs.Secret(e.redis.URL())
	for _, f := range set {
		f(&cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	a, err := app.New(e.ctx, cfg, app.Options{Clock: e.clock, Logger: testLogger(), Stdout: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	e.app = a
	e.srv = httptest.NewServer(a.Handler())
	t.Cleanup(e.srv.Close)
	st := a.Store
	e.ga = storagetest.Agency(t, st, "GA", "市公安局")
	e.sj = storagetest.Agency(t, st, "SJ", "市市场监督管理局")
	e.head = e.person(duban.Person{Name: "张局长", AgencyID: &e.ga.ID, Roles: duban.Roles{duban.RoleAgencyHead}}, "head")
	e.handler = e.person(duban.Person{Name: "钱办理", AgencyID: &e.ga.ID, Roles: duban.Roles{duban.RoleHandler}}, "handler")
	e.staff = e.person(duban.Person{Name: "法制办小刘", Roles: duban.Roles{duban.RoleStaff}}, "staff")
	e.sup = e.person(duban.Person{Name: "赵监督", Roles: duban.Roles{duban.RoleSupervisor}}, "sup")
	e.admin = e.person(duban.Person{Name: "管理员", Roles: duban.Roles{duban.RoleAdmin}}, "admin")
	return e
}

// person creates someone with a web login and testPassword.
func (e *env) person(p duban.Person, login string) *duban.Person {
	e.t.Helper()
	p.Locale = duban.LocaleZH
	got := storagetest.Person(e.t, e.app.Store, p)
	sys := jobs.Actor{Name: "test"}
	if err := jobs.SetLogin(e.ctx, e.app.Store, sys, got.ID, login); err != nil {
		e.t.Fatal(err)
	}
	if err := jobs.SetPassword(e.ctx, e.app.Store, sys, got.ID, testPassword); err != nil {
		e.t.Fatal(err)
	}
	got.Login = login
	return got
}

// complaint files a hotline call with a reporter's phone.
func (e *env) complaint(description string) *duban.Complaint {
	e.t.Helper()
	c, _, err := e.app.Complaints.Create(e.ctx, jobs.Actor{Name: "test"}, jobs.Intake{Source: duban.SourceHotlineCall,
		Category: string(duban.CategoryIllegalFine), Description: description, ReporterName: "王先生", ReporterPhone: "13800001111"})
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

// assigned files a complaint and assigns it to GA.
func (e *env) assigned(description string, days int) *duban.Complaint {
	e.t.Helper()
	c := e.complaint(description)
	sys := jobs.Actor{Name: "test"}
	for _, req := range []duban.ActionRequest{{Action: duban.ActionAccept}, {Action: duban.ActionAssign, Agency: "GA", WorkingDays: days, HandlerID: &e.handler.ID}} {
		var err error
		if c, err = e.app.Complaints.Act(e.ctx, sys, c.ID, req); err != nil {
			e.t.Fatal(err)
		}
	}
	return c
}

// browser is one person's browser: cookies, and forms posted with the
// CSRF token of the page they are on, as a browser posts them.
type browser struct {
	e      *env
	c      *http.Client
	addr   string // X-Forwarded-For, when set
	origin string
}

func (e *env) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{e: e, origin: e.srv.URL, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

// page is an answer.
type page struct {
	status int
	header http.Header
	body   string
}

func (b *browser) do(req *http.Request) page {
	b.e.t.Helper()
	if b.addr != "" {
		req.Header.Set("X-Forwarded-For", b.addr)
	}
	res, err := b.c.Do(req)
	if err != nil {
		b.e.t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return page{status: res.StatusCode, header: res.Header, body: string(body)}
}

func (b *browser) get(path string) page {
	b.e.t.Helper()
	req, _ := http.NewRequest("GET", b.e.srv.URL+path, nil)
	return b.do(req)
}

var csrfField = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// post sends a form from the page at from, with its CSRF token (unless
// token is "-", for none).
func (b *browser) post(from, path string, form url.Values, token ...string) page {
	b.e.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if len(token) == 0 {
		p := b.get(from)
		m := csrfField.FindStringSubmatch(p.body)
		if m == nil {
			b.e.t.Fatalf("no CSRF field on %s (%d):\n%s", from, p.status, p.body)
		}
		form.Set("csrf_token", html.UnescapeString(m[1]))
	} else if token[0] != "-" {
		form.Set("csrf_token", token[0])
	}
	req, _ := http.NewRequest("POST", b.e.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if b.origin != "" {
		req.Header.Set("Origin", b.origin)
	}
	return b.do(req)
}

// signIn signs in as login with testPassword and fails the test unless
// it worked.
func (b *browser) signIn(login string) *browser {
	b.e.t.Helper()
	p := b.post("/login", "/login", url.Values{"login": {login}, "password": {testPassword}})
	if p.status != http.StatusSeeOther {
		b.e.t.Fatalf("sign in as %s: %d\n%s", login, p.status, p.body)
	}
	return b
}

func (p page) want(t testing.TB, status int, contains ...string) page {
	t.Helper()
	if p.status != status {
		t.Fatalf("status %d, want %d\n%s", p.status, status, p.body)
	}
	for _, s := range contains {
		if !strings.Contains(p.body, s) {
			t.Errorf("page lacks %q:\n%s", s, p.body)
		}
	}
	return p
}

func path(format string, args ...any) string { return fmt.Sprintf(format, args...) }

// testLogger discards, unless DUBAN_TEST_LOG is set.
func testLogger() *slog.Logger {
	if os.Getenv("DUBAN_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}
