// Package bottest is the domain side of the tests of bot/telegram and
// bot/slack: a store with people, an agency and a hearing, the use cases
// built as app/app.go builds them, and a manual clock. The fakes of the
// platforms' APIs are in internal/fakes.
package bottest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/i18n"
	"github.com/cityhall/duban/internal/testenv"
	"github.com/cityhall/duban/jobs"
	"github.com/cityhall/duban/notifier"
	"github.com/cityhall/duban/storage"
	"github.com/cityhall/duban/storage/storagetest"
)

// Shanghai is the courts' time zone in every test.
var Shanghai = mustLoc("Asia/Shanghai")

func mustLoc(name string) *time.Location {
	l, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return l
}

// Bundle holds the messages the bots say.
var Bundle = i18n.MustNew()

// Tr renders a message as the bot would.
func Tr(locale, id string, data map[string]any) string { return Bundle.T(locale, id, data) }

// Telegram user ids (equal to their private chat ids) and Slack user ids
// of the people every test has.
const (
	TgHead, TgOther, TgStaff, TgSup, TgOtherHead int64 = 1001, 2002, 3003, 4004, 5005
	SlHead, SlOther, SlStaff, SlSup                    = "UHEAD", "UOTHER", "USTAFF", "USUP"
)

// Env is the domain side of a bot test: a store with an agency, its head,
// someone else of it, office staff, a supervisor, the head of another
// agency, and one hearing of the agency on 2026-12-10 09:30, the clock
// standing at 2026-12-01 09:00 (Shanghai).
type Env struct {
	T          *testing.T
	Ctx        context.Context
	URL        string
	Store      *storage.Store
	Clock      *duban.ManualClock
	Hearings   *jobs.Hearings
	Complaints *jobs.Complaints // built as app/app.go builds it
	Outbox     *jobs.Outbox
	// Tasks looks at the queue the use cases enqueue to (no worker runs
	// them in a bot test).
	Tasks *asynq.Inspector
	// Senders are the outbox's channels: the console for what is planned
	// for people; a test adds the platform it talks to, for the bot's
	// replies, which the outbox sends at once (OutboxConfig.Immediate).
	Senders   notifier.Senders
	Agency    *duban.Agency
	Head      *duban.Person
	Other     *duban.Person
	Staff     *duban.Person
	Sup       *duban.Person
	OtherHead *duban.Person
	Hearing   *duban.Hearing
	HA        int64 // the hearing's one agency
}

// New is the Env of one test; the bots' replies are sent at once
// (OutboxConfig.Immediate).
func New(t *testing.T) *Env {
	t.Helper()
	return build(t, true)
}

// NewQueued is New with the outbox as serve builds it: replies are handed
// to tasks (which no worker runs) unless the bot sends them itself.
func NewQueued(t *testing.T) *Env {
	t.Helper()
	return build(t, false)
}

func build(t *testing.T, immediate bool) *Env {
	t.Helper()
	e := &Env{T: t, Ctx: context.Background(), URL: storagetest.SQLiteURL(t)}
	e.Clock = duban.NewManualClock(time.Date(2026, 12, 1, 9, 0, 0, 0, Shanghai))
	e.Store = storagetest.Open(t, e.URL, storage.WithClock(e.Clock))
	r := testenv.MiniRedis(t)
	opt := asynq.RedisClientOpt{Addr: r.Addr}
	insp := asynq.NewInspector(opt)
	rdb := redis.NewClient(&redis.Options{Addr: r.Addr})
	queue := jobs.NewQueue(rdb, e.Clock)
	t.Cleanup(func() { rdb.Close(); insp.Close() })
	e.Tasks = insp
	discard := slog.New(slog.DiscardHandler)
	metrics := jobs.NewMetrics(nil)
	e.Senders = notifier.Senders{duban.ChannelConsole: notifier.NewConsole(io.Discard)}
	outbox := jobs.NewOutbox(e.Store, queue, e.Senders, jobs.OutboxConfig{Order: []duban.Channel{duban.ChannelConsole},
		Clock: e.Clock, Log: discard, Metrics: metrics, Immediate: immediate})
	e.Outbox = outbox
	policy := duban.Policy{Offsets: []time.Duration{72 * time.Hour, 24 * time.Hour, 2 * time.Hour},
		EscalateBefore: 24 * time.Hour, OutcomeAfter: 4 * time.Hour}
	e.Hearings = jobs.NewHearings(e.Store, queue, outbox, jobs.HearingsConfig{Render: jobs.Renderer{T: Bundle, Loc: Shanghai},
		Policy: policy, Clock: e.Clock, Log: discard, Metrics: metrics})
	e.Complaints = jobs.NewComplaints(e.Store, queue, outbox, jobs.ComplaintsConfig{T: Bundle, Loc: Shanghai,
		Calendar: duban.NewCalendar(Shanghai), Clock: e.Clock, Log: discard, Metrics: metrics})

	e.Agency = storagetest.Agency(t, e.Store, "GA", "市公安局")
	sj := storagetest.Agency(t, e.Store, "SJ", "市司法局")
	person := func(name string, agency *int64, role duban.Role, tg int64, slackID string) *duban.Person {
		return storagetest.Person(t, e.Store, duban.Person{Name: name, AgencyID: agency, Roles: duban.Roles{role},
			TelegramChatID: &tg, TelegramUserID: &tg, SlackUserID: slackID})
	}
	e.Head = person("张局长", &e.Agency.ID, duban.RoleAgencyHead, TgHead, SlHead)
	e.Other = person("路人", &e.Agency.ID, duban.RoleHandler, TgOther, SlOther)
	e.Staff = person("小刘", nil, duban.RoleStaff, TgStaff, SlStaff)
	e.Sup = person("赵监督", nil, duban.RoleSupervisor, TgSup, SlSup)
	e.OtherHead = person("钱局长", &sj.ID, duban.RoleAgencyHead, TgOtherHead, "UOTHERHEAD")

	h, created, err := e.Hearings.Register(e.Ctx, jobs.Actor{Person: e.Staff}, duban.Notice{CaseNumber: "（2026）沪0101行初7号",
		Court: "市中级人民法院", Courtroom: "第三法庭", Agencies: []string{"GA"}, StartsAt: time.Date(2026, 12, 10, 9, 30, 0, 0, Shanghai),
		Plaintiff: "王某", Cause: "行政处罚"})
	if err != nil || !created {
		t.Fatalf("register: created=%v err=%v", created, err)
	}
	e.Hearing, e.HA = h, h.Agencies[0].ID
	return e
}

// HANow reloads the hearing's agency.
func (e *Env) HANow() *duban.HearingAgency {
	e.T.Helper()
	ha, err := e.Store.HearingAgencyByID(e.Ctx, e.HA)
	if err != nil {
		e.T.Fatal(err)
	}
	return ha
}

// AfterStart moves the clock past the hearing's start.
func (e *Env) AfterStart() { e.Clock.Set(e.Hearing.StartsAt.Add(5 * time.Hour)) }

// AuditCount counts audit entries of action.
func (e *Env) AuditCount(action string) int {
	e.T.Helper()
	log, err := e.Store.AuditLog(e.Ctx, 1000)
	if err != nil {
		e.T.Fatal(err)
	}
	n := 0
	for _, a := range log {
		if a.Action == action {
			n++
		}
	}
	return n
}

// SyncBuffer is a log sink safe for the goroutines of Poll and Socket Mode.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// MustJSON is v as JSON, failing the test when it cannot be.
func MustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
