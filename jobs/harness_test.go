package jobs_test

import (
	"context"
	"fmt"
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

var sh = mustLoc("Asia/Shanghai")

func mustLoc(name string) *time.Location {
	l, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return l
}

// sent is one message a fake sender took.
type sent struct {
	Channel duban.Channel
	To      string
	Addr    duban.Address
	Msg     duban.Message
}

// recorder is a fake channel that records what it is asked to send, and
// can be told to fail.
type recorder struct {
	mu   sync.Mutex
	msgs []sent
	fail func(ch duban.Channel, addr duban.Address) error
}

func (r *recorder) sender(ch duban.Channel, reach func(duban.Address) bool) notifier.Sender {
	return notifier.Func{Chan: ch, ReachableFunc: reach, SendFunc: func(_ context.Context, addr duban.Address, msg duban.Message) (string, error) {
		r.mu.Lock()
		defer r.mu.Unlock()
		if r.fail != nil {
			if err := r.fail(ch, addr); err != nil {
				return "", err
			}
		}
		r.msgs = append(r.msgs, sent{Channel: ch, To: addr.Name, Addr: addr, Msg: msg})
		if ch == duban.ChannelTelegram {
			// As notifier's Telegram sender names a message: chat:message.
			return fmt.Sprintf("%d:%d", addr.TelegramChatID, len(r.msgs)), nil
		}
		return "id", nil
	}}
}

func (r *recorder) all() []sent {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]sent(nil), r.msgs...)
}

type harness struct {
	t       *testing.T
	ctx     context.Context
	store   *storage.Store
	clock   *duban.ManualClock
	queue   *jobs.Queue
	insp    *asynq.Inspector
	outbox  *jobs.Outbox
	hs      *jobs.Hearings
	rec     *recorder
	agency  *duban.Agency
	head    *duban.Person
	staff   *duban.Person
	sup     *duban.Person
	other   *duban.Person
	redis   testenv.Redis
	metrics *jobs.Metrics
	cs      *jobs.Complaints
	log     *slog.Logger
	senders notifier.Senders
}

// newHarness builds the job side on store with a recording console
// channel reaching everyone, and a Telegram channel reaching people with a
// chat id, at 2026-12-01 09:00 Shanghai.
func newHarness(t *testing.T, url string) *harness {
	// A Tuesday morning in an ordinary week, outside quiet hours; tests
	// that need another day set the clock themselves.
	return newHarnessAt(t, url, time.Date(2026, 12, 1, 9, 0, 0, 0, sh))
}

// newHarnessAt is newHarness with the clock at at.
func newHarnessAt(t *testing.T, url string, at time.Time) *harness {
	t.Helper()
	h := &harness{t: t, ctx: context.Background(), rec: &recorder{}}
	h.clock = duban.NewManualClock(at)
	store := storagetest.Open(t, url, storage.WithClock(h.clock))
	h.store = store
	h.redis = testenv.MiniRedis(t)
	opt := asynq.RedisClientOpt{Addr: h.redis.Addr}
	h.insp = asynq.NewInspector(opt)
	rdb := redis.NewClient(&redis.Options{Addr: h.redis.Addr})
	h.queue = jobs.NewQueue(rdb, h.clock)
	t.Cleanup(func() { rdb.Close(); h.insp.Close() })
	h.metrics = jobs.NewMetrics(nil)
	h.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	h.build(notifier.Senders{
		duban.ChannelTelegram: h.rec.sender(duban.ChannelTelegram, func(a duban.Address) bool { return a.TelegramChatID != 0 }),
		duban.ChannelConsole:  h.rec.sender(duban.ChannelConsole, nil),
	})
	h.agency = storagetest.Agency(t, store, "GA", "市公安局")
	chat := int64(1001)
	h.head = storagetest.Person(t, store, duban.Person{Name: "张局长", AgencyID: &h.agency.ID, Roles: duban.Roles{duban.RoleAgencyHead}, TelegramChatID: &chat, TelegramUserID: &chat})
	h.staff = storagetest.Person(t, store, duban.Person{Name: "小刘", Roles: duban.Roles{duban.RoleStaff}})
	h.sup = storagetest.Person(t, store, duban.Person{Name: "赵监督", Roles: duban.Roles{duban.RoleSupervisor}, Locale: duban.LocaleEN})
	h.other = storagetest.Person(t, store, duban.Person{Name: "路人", AgencyID: &h.agency.ID, Roles: duban.Roles{duban.RoleHandler}})
	return h
}

// build makes the use cases on senders, as app/app.go does.
func (h *harness) build(senders notifier.Senders) {
	h.senders = senders
	h.outbox = jobs.NewOutbox(h.store, h.queue, senders, jobs.OutboxConfig{Clock: h.clock, Log: h.log, Metrics: h.metrics})
	quiet, _ := duban.ParseQuietHours("22:00-07:00", sh)
	h.hs = jobs.NewHearings(h.store, h.queue, h.outbox, jobs.HearingsConfig{Render: jobs.Renderer{T: i18n.MustNew(), Loc: sh},
		Policy: duban.Policy{Offsets: []time.Duration{168 * time.Hour, 72 * time.Hour, 24 * time.Hour, 2 * time.Hour},
			EscalateBefore: 24 * time.Hour, OutcomeAfter: 4 * time.Hour, Quiet: quiet},
		Clock: h.clock, Log: h.log, Metrics: h.metrics})
	h.cs = jobs.NewComplaints(h.store, h.queue, h.outbox, jobs.ComplaintsConfig{T: i18n.MustNew(), Loc: sh,
		Calendar: duban.NewCalendar(sh), Quiet: quiet, Clock: h.clock, Log: h.log, Metrics: h.metrics, Retention: 3 * 365 * 24 * time.Hour})
}

// dropChannel builds the use cases again without the channel ch.
func (h *harness) dropChannel(ch duban.Channel) {
	senders := notifier.Senders{}
	for c, s := range h.senders {
		if c != ch {
			senders[c] = s
		}
	}
	h.build(senders)
}

var staffActor = func(h *harness) jobs.Actor { return jobs.Actor{Person: h.staff} }

func (h *harness) register(caseNo string, start time.Time, agencies ...string) *duban.Hearing {
	h.t.Helper()
	if len(agencies) == 0 {
		agencies = []string{"GA"}
	}
	got, created, err := h.hs.Register(h.ctx, staffActor(h), duban.Notice{CaseNumber: caseNo, Court: "市中级人民法院", Courtroom: "第三法庭",
		Agencies: agencies, StartsAt: start, Plaintiff: "王某", Cause: "行政处罚"})
	if err != nil || !created {
		h.t.Fatalf("register: created=%v err=%v", created, err)
	}
	return got
}

// drain sends every queued delivery, as the delivery tasks would.
func (h *harness) drain() {
	h.t.Helper()
	for i := 0; i < 10; i++ {
		ds, err := h.store.QueuedDeliveries(h.ctx, 1000)
		if err != nil {
			h.t.Fatal(err)
		}
		if len(ds) == 0 {
			return
		}
		for _, d := range ds {
			_ = h.outbox.Deliver(h.ctx, d.ID)
		}
	}
}

// fire runs every pending step due by now, as the reminder tasks would
// (which send their messages themselves), after the messages planned
// before it, whose tasks would have run by then.
func (h *harness) fire() {
	h.t.Helper()
	h.drain()
	rs, err := h.store.PendingRemindersDueBefore(h.ctx, h.clock.Now().Add(time.Second), 1000)
	if err != nil {
		h.t.Fatal(err)
	}
	for _, r := range rs {
		if err := h.hs.Remind(h.ctx, jobs.ReminderPayload{ReminderID: r.ID, Due: r.DueAt.Unix()}); err != nil {
			h.t.Fatalf("remind %d: %v", r.ID, err)
		}
	}
	h.drain()
}

func (h *harness) kinds(to string) []duban.MessageKind {
	var out []duban.MessageKind
	for _, s := range h.rec.all() {
		if s.To == to {
			out = append(out, s.Msg.Kind)
		}
	}
	return out
}
