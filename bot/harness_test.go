package bot_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/i18n"
	"github.com/cityhall/duban/internal/testenv"
	"github.com/cityhall/duban/jobs"
	"github.com/cityhall/duban/notifier"
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

var bundle = i18n.MustNew()

// tr renders a message as the bot would.
func tr(locale, id string, data map[string]any) string { return bundle.T(locale, id, data) }

// Telegram user ids (equal to their private chat ids) and Slack user ids
// of the people every test has.
const (
	tgHead, tgOther, tgStaff, tgSup, tgOtherHead int64 = 1001, 2002, 3003, 4004, 5005
	tgStranger                                   int64 = 9009
)

const (
	slHead, slOther, slStaff, slSup = "UHEAD", "UOTHER", "USTAFF", "USUP"
	slStranger                      = "USTRANGER"
)

// env is the domain side of a bot test: a store with an agency, its head,
// someone else of it, office staff, a supervisor, the head of another
// agency, and one hearing of the agency on 2026-12-10 09:30, the clock
// standing at 2026-12-01 09:00 (Shanghai).
type env struct {
	t         *testing.T
	ctx       context.Context
	url       string
	store     *storage.Store
	clock     *duban.ManualClock
	hs        *jobs.Hearings
	cs        *jobs.Complaints // built as app/app.go builds it
	agency    *duban.Agency
	head      *duban.Person
	other     *duban.Person
	staff     *duban.Person
	sup       *duban.Person
	otherHead *duban.Person
	hearing   *duban.Hearing
	ha        int64 // the hearing's one agency
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{t: t, ctx: context.Background(), url: storagetest.SQLiteURL(t)}
	e.clock = duban.NewManualClock(time.Date(2026, 12, 1, 9, 0, 0, 0, sh))
	e.store = storagetest.Open(t, e.url, storage.WithClock(e.clock))
	r := testenv.MiniRedis(t)
	opt := asynq.RedisClientOpt{Addr: r.Addr}
	client, insp := asynq.NewClient(opt), asynq.NewInspector(opt)
	t.Cleanup(func() { client.Close(); insp.Close() })
	queue := jobs.NewQueue(client, insp, e.clock)
	discard := slog.New(slog.DiscardHandler)
	metrics := jobs.NewMetrics(nil)
	outbox := jobs.NewOutbox(e.store, queue, notifier.Senders{duban.ChannelConsole: notifier.NewConsole(io.Discard)},
		jobs.OutboxConfig{Clock: e.clock, Log: discard, Metrics: metrics})
	policy := duban.Policy{Offsets: []time.Duration{72 * time.Hour, 24 * time.Hour, 2 * time.Hour},
		EscalateBefore: 24 * time.Hour, OutcomeAfter: 4 * time.Hour}
	e.hs = jobs.NewHearings(e.store, queue, outbox, jobs.HearingsConfig{Render: jobs.Renderer{T: bundle, Loc: sh},
		Policy: policy, Clock: e.clock, Log: discard, Metrics: metrics})
	e.cs = jobs.NewComplaints(e.store, queue, outbox, jobs.ComplaintsConfig{T: bundle, Loc: sh,
		Calendar: duban.NewCalendar(sh), Clock: e.clock, Log: discard, Metrics: metrics})

	e.agency = storagetest.Agency(t, e.store, "GA", "市公安局")
	sj := storagetest.Agency(t, e.store, "SJ", "市司法局")
	person := func(name string, agency *int64, role duban.Role, tg int64, slackID string) *duban.Person {
		return storagetest.Person(t, e.store, duban.Person{Name: name, AgencyID: agency, Roles: duban.Roles{role},
			TelegramChatID: &tg, TelegramUserID: &tg, SlackUserID: slackID})
	}
	e.head = person("张局长", &e.agency.ID, duban.RoleAgencyHead, tgHead, slHead)
	e.other = person("路人", &e.agency.ID, duban.RoleHandler, tgOther, slOther)
	e.staff = person("小刘", nil, duban.RoleStaff, tgStaff, slStaff)
	e.sup = person("赵监督", nil, duban.RoleSupervisor, tgSup, slSup)
	e.otherHead = person("钱局长", &sj.ID, duban.RoleAgencyHead, tgOtherHead, "UOTHERHEAD")

	h, created, err := e.hs.Register(e.ctx, jobs.Actor{Person: e.staff}, duban.Notice{CaseNumber: "（2026）沪0101行初7号",
		Court: "市中级人民法院", Courtroom: "第三法庭", Agencies: []string{"GA"}, StartsAt: time.Date(2026, 12, 10, 9, 30, 0, 0, sh),
		Plaintiff: "王某", Cause: "行政处罚"})
	if err != nil || !created {
		t.Fatalf("register: created=%v err=%v", created, err)
	}
	e.hearing, e.ha = h, h.Agencies[0].ID
	return e
}

// haNow reloads the hearing's agency.
func (e *env) haNow() *duban.HearingAgency {
	e.t.Helper()
	ha, err := e.store.HearingAgencyByID(e.ctx, e.ha)
	if err != nil {
		e.t.Fatal(err)
	}
	return ha
}

// afterStart moves the clock past the hearing's start.
func (e *env) afterStart() { e.clock.Set(e.hearing.StartsAt.Add(5 * time.Hour)) }

// auditCount counts audit entries of action.
func (e *env) auditCount(action string) int {
	e.t.Helper()
	log, err := e.store.AuditLog(e.ctx, 1000)
	if err != nil {
		e.t.Fatal(err)
	}
	n := 0
	for _, a := range log {
		if a.Action == action {
			n++
		}
	}
	return n
}
