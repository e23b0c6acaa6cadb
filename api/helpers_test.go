package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
	_ "time/tzdata" // Asia/Shanghai on hosts without zoneinfo

	"github.com/redis/go-redis/v9"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/api"
	"github.com/cityhall/duban/i18n"
	"github.com/cityhall/duban/internal/testenv"
	"github.com/cityhall/duban/jobs"
	"github.com/cityhall/duban/notifier"
	"github.com/cityhall/duban/ratelimit"
	"github.com/cityhall/duban/reports"
	"github.com/cityhall/duban/storage"
	"github.com/cityhall/duban/storage/storagetest"
)

var sh = mustLoc("Asia/Shanghai")

func mustLoc(name string) *time.Location {
	l, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return l
}

const adminToken = "admin-secret-token-0123456789abcdef"

// syncBuffer is the console's output, written by asynq-free code only but
// read by tests.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// env is the API on a fresh store at 2026-12-01 09:00 Shanghai, with two
// agencies (GA with a head, SF without), an office staff member and a
// supervisor, each with a token.
type env struct {
	t      testing.TB
	ctx    context.Context
	store  *storage.Store
	clock  *duban.ManualClock
	hs     *jobs.Hearings
	cs     *jobs.Complaints
	srv    *httptest.Server
	deps   api.Deps
	redis  testenv.Redis
	ready  error
	ga, sf *duban.Agency
	head   *duban.Person
	staff  *duban.Person
	sup    *duban.Person
	// handler works at GA and is handed complaints.
	handler *duban.Person
	tokens  map[int64]string
}

func newEnv(t testing.TB, store *storage.Store) *env {
	t.Helper()
	e := &env{t: t, ctx: context.Background(), store: store, tokens: map[int64]string{}}
	r := testenv.MiniRedis(t)
	rdb := redis.NewClient(&redis.Options{Addr: r.Addr})
	e.clock = duban.NewManualClock(time.Date(2026, 12, 1, 9, 0, 0, 0, sh))
	queue := jobs.NewQueue(rdb, e.clock)
	t.Cleanup(func() { rdb.Close() })
	log := slog.New(slog.DiscardHandler)
	metrics := jobs.NewMetrics(nil)
	outbox := jobs.NewOutbox(store, queue, notifier.Senders{duban.ChannelConsole: notifier.NewConsole(&syncBuffer{})},
		jobs.OutboxConfig{Clock: e.clock, Log: log, Metrics: metrics})
	e.hs = jobs.NewHearings(store, queue, outbox, jobs.HearingsConfig{Render: jobs.Renderer{T: i18n.MustNew(), Loc: sh},
		Policy: duban.Policy{Offsets: []time.Duration{72 * time.Hour, 24 * time.Hour, 2 * time.Hour}, EscalateBefore: 24 * time.Hour, OutcomeAfter: 4 * time.Hour},
		Clock:  e.clock, Log: log, Metrics: metrics})
	e.cs = jobs.NewComplaints(store, queue, outbox, jobs.ComplaintsConfig{T: i18n.MustNew(), Loc: sh,
		Calendar: duban.NewCalendar(sh), Clock: e.clock, Log: log, Metrics: metrics})
	e.redis = r
	e.deps = api.Deps{Store: store, Hearings: e.hs, Complaints: e.cs, Outbox: outbox,
		Bulletins: jobs.NewBulletins(store, outbox, reports.New(store, sh, e.clock, i18n.MustNew()),
			jobs.BulletinsConfig{T: i18n.MustNew(), Loc: sh, Clock: e.clock}), Clock: e.clock, Loc: sh,
		AdminToken: adminToken, BindCodeTTL: time.Hour, TelegramBotUsername: "duban_bot", Limiter: ratelimit.New(rdb),
		Ready:   func(context.Context) error { return e.ready },
		Metrics: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "# metrics\n") }),
		Routes: map[string]http.Handler{"POST /telegram/webhook": http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(http.StatusTeapot)
		})},
		Log: log}
	e.srv = httptest.NewServer(api.New(e.deps))
	t.Cleanup(e.srv.Close)
	e.ga = storagetest.Agency(t, store, "GA", "市公安局")
	e.sf = storagetest.Agency(t, store, "SF", "市司法局")
	e.head = storagetest.Person(t, store, duban.Person{Name: "张局长", AgencyID: &e.ga.ID, Roles: duban.Roles{duban.RoleAgencyHead}})
	e.staff = storagetest.Person(t, store, duban.Person{Name: "小刘", Roles: duban.Roles{duban.RoleStaff}})
	e.sup = storagetest.Person(t, store, duban.Person{Name: "赵监督", Roles: duban.Roles{duban.RoleSupervisor}})
	e.handler = storagetest.Person(t, store, duban.Person{Name: "钱办理", AgencyID: &e.ga.ID, Roles: duban.Roles{duban.RoleHandler}})
	return e
}

// reconfigure serves the API again with change made to its Deps.
func (e *env) reconfigure(change func(*api.Deps)) {
	e.t.Helper()
	change(&e.deps)
	e.srv.Close()
	e.srv = httptest.NewServer(api.New(e.deps))
	e.t.Cleanup(e.srv.Close)
}

// token returns a bearer token of p, made on first use.
func (e *env) token(p *duban.Person) string {
	e.t.Helper()
	if tok, ok := e.tokens[p.ID]; ok {
		return tok
	}
	tok := "test-token-" + p.Name
	if err := e.store.CreateToken(e.ctx, p.ID, api.HashToken(tok)); err != nil {
		e.t.Fatal(err)
	}
	e.tokens[p.ID] = tok
	return tok
}

// resp is an answer of the API.
type resp struct {
	t      testing.TB
	Status int
	Header http.Header
	Body   []byte
}

// decode reads the body into v.
func (r resp) decode(v any) {
	r.t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		r.t.Fatalf("decode %s: %v", r.Body, err)
	}
}

// obj is the body as a generic object.
func (r resp) obj() map[string]any {
	r.t.Helper()
	var m map[string]any
	r.decode(&m)
	return m
}

// want fails the test unless the status is status.
func (r resp) want(status int) resp {
	r.t.Helper()
	if r.Status != status {
		r.t.Fatalf("status %d, want %d: %s", r.Status, status, r.Body)
	}
	return r
}

// errorFields lists the detail fields of an error answer.
func (r resp) errorFields() []string {
	r.t.Helper()
	var b struct {
		Details []duban.FieldError `json:"details"`
	}
	r.decode(&b)
	var out []string
	for _, d := range b.Details {
		out = append(out, d.Field)
	}
	return out
}

// call sends body (a string as is, anything else as JSON) with token, and
// hdr as header name and value pairs.
func (e *env) call(method, path, token string, body any, hdr ...string) resp {
	e.t.Helper()
	var rd io.Reader
	ctype := ""
	switch b := body.(type) {
	case nil:
	case string:
		rd, ctype = strings.NewReader(b), "application/json"
	case []byte:
		rd, ctype = bytes.NewReader(b), "text/csv"
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd, ctype = bytes.NewReader(raw), "application/json"
	}
	return e.send(method, path, token, ctype, rd, hdr...)
}

func (e *env) send(method, path, token, ctype string, body io.Reader, hdr ...string) resp {
	e.t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, body)
	if err != nil {
		e.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp{t: e.t, Status: res.StatusCode, Header: res.Header, Body: b}
}

// hearing is the answer's shape, decoded for assertions.
type hearing struct {
	ID         int64  `json:"id"`
	CaseNumber string `json:"case_number"`
	Court      string `json:"court"`
	Courtroom  string `json:"courtroom"`
	Agencies   []struct {
		Code     string  `json:"code"`
		Name     string  `json:"name"`
		Answer   string  `json:"answer"`
		Outcome  *string `json:"outcome"`
		Delegate *struct {
			Name   string `json:"name"`
			Reason string `json:"reason"`
		} `json:"delegate"`
		RecordedBy string `json:"recorded_by"`
	} `json:"agencies"`
	StartsAt  string `json:"starts_at"`
	Plaintiff string `json:"plaintiff"`
	Cause     string `json:"cause"`
	Status    string `json:"status"`
	Reminders []struct {
		Agency  string `json:"agency"`
		Person  string `json:"person"`
		DueAt   string `json:"due_at"`
		Status  string `json:"status"`
		Channel string `json:"channel"`
		Kind    string `json:"kind"`
	} `json:"reminders"`
}

// notice is a valid hearing body, 2026-12-04 09:30 for GA.
func notice(caseNumber string) map[string]any {
	return map[string]any{"case_number": caseNumber, "court": "市中级人民法院", "courtroom": "第三法庭", "agency": "GA",
		"starts_at": "2026-12-04 09:30", "plaintiff": "王某", "cause": "行政处罚"}
}

// register creates a hearing as office staff.
func (e *env) register(caseNumber string) hearing {
	e.t.Helper()
	var h hearing
	e.call("POST", "/api/v1/hearings", e.token(e.staff), notice(caseNumber)).want(http.StatusCreated).decode(&h)
	return h
}
