package jobs_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/redis/go-redis/v9"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/jobs"
	"github.com/cityhall/duban/storage"
	"github.com/cityhall/duban/storage/storagetest"
)

// reconcileRows gives h a hearing and, beside its own steps and notice,
// n more pending reminders due within a pass's window, one not due yet,
// and n more queued deliveries; it returns the hearing's start.
func reconcileRows(h *harness, n int) time.Time {
	h.t.Helper()
	start := h.clock.Now().Add(2*time.Hour + 3*time.Minute)
	hr := h.register("R-1", start)
	for i := range n {
		r := &duban.Reminder{HearingAgencyID: hr.Agencies[0].ID, HearingID: hr.ID, Kind: duban.KindReminder,
			OffsetSeconds: int64(i), DueAt: h.clock.Now().Add(time.Duration(i) * time.Second)}
		if err := h.store.CreateReminder(h.ctx, r); err != nil {
			h.t.Fatal(err)
		}
		d := &duban.Delivery{DedupeKey: fmt.Sprintf("reconcile-%d", i), PersonID: h.head.ID, Channel: duban.ChannelTelegram,
			Kind: duban.MsgReminder, Ref: hr.CaseNumber, Payload: "{}"}
		if _, err := h.store.CreateDelivery(h.ctx, d); err != nil {
			h.t.Fatal(err)
		}
	}
	later := &duban.Reminder{HearingAgencyID: hr.Agencies[0].ID, HearingID: hr.ID, Kind: duban.KindReminder,
		DueAt: h.clock.Now().Add(time.Hour)}
	if err := h.store.CreateReminder(h.ctx, later); err != nil {
		h.t.Fatal(err)
	}
	return start
}

// A pass rebuilds every pending step in its window and every queued
// delivery, however many pages they take: a page's worth, a page and a
// bit, an exact number of pages, and many pages.
func TestReconcile_RebuildsEveryRowAcrossPages(t *testing.T) {
	tests := []struct {
		name string
		page int
	}{
		{"one page", 1000},
		{"rows one a page", 1},
		{"pages of three", 3},
		{"pages of seven", 7},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, storagetest.SQLiteURL(t))
			reconcileRows(h, 40)
			// What a pass must rebuild, read at once.
			due, err := h.store.PendingRemindersDueBefore(h.ctx, h.clock.Now().Add(4*time.Minute), 1000)
			if err != nil {
				t.Fatal(err)
			}
			queued, err := h.store.QueuedDeliveries(h.ctx, 1000)
			if err != nil {
				t.Fatal(err)
			}
			if len(due) < 42 || len(queued) < 41 {
				t.Fatalf("set-up: %d reminders due, %d deliveries queued; want the 40 added and the hearing's own", len(due), len(queued))
			}
			h.redis.Mini.FlushAll()

			rc := jobs.NewReconciler(h.store, h.queue, jobs.ReconcilerConfig{Interval: 2 * time.Minute, Page: tt.page,
				Clock: h.clock, Log: h.log, Metrics: h.metrics})
			st, err := rc.Reconcile(h.ctx)
			if err != nil {
				t.Fatal(err)
			}
			if st.Reminders != len(due) || st.Deliveries != len(queued) {
				t.Errorf("re-enqueued %d reminders and %d deliveries, want %d and %d", st.Reminders, st.Deliveries, len(due), len(queued))
			}
			for _, r := range due {
				if !h.redis.Mini.Exists("asynq:{default}:t:" + jobs.ReminderTaskID(r)) {
					t.Errorf("reminder %d due %s: no task", r.ID, r.DueAt)
				}
			}
			for _, d := range queued {
				if !h.redis.Mini.Exists("asynq:{default}:t:" + jobs.DeliveryTaskID(d)) {
					t.Errorf("delivery %d: no task", d.ID)
				}
			}
			tasks := 0
			for _, k := range h.redis.Mini.Keys() {
				if strings.HasPrefix(k, "asynq:{default}:t:") {
					tasks++
				}
			}
			if tasks != len(due)+len(queued) {
				t.Errorf("%d tasks in Redis, want %d: one a row in the window, none for the step not due yet", tasks, len(due)+len(queued))
			}

			// A second pass finds each task there: counted again, added never.
			if _, err := rc.Reconcile(h.ctx); err != nil {
				t.Fatal(err)
			}
			pending, _ := h.redis.Mini.List("asynq:{default}:pending")
			scheduled, _ := h.redis.Mini.SortedSet("asynq:{default}:scheduled")
			if got := len(pending) + len(scheduled); got != len(due)+len(queued) {
				t.Errorf("after a second pass %d tasks waiting, want %d, each once", got, len(due)+len(queued))
			}
			for typ, want := range map[string]int{jobs.TypeReminderSend: 2 * len(due), jobs.TypeDeliverySend: 2 * len(queued)} {
				if got := testutil.ToFloat64(h.metrics.Reconciled.WithLabelValues(typ)); got != float64(want) {
					t.Errorf("reconciled %s counted %v, want %d", typ, got, want)
				}
			}
		})
	}
}

// A pass whose Redis refuses every command fails, at once and whole:
// no worker is left waiting, and asynq retries the task.
func TestReconcile_FailsWhenRedisRefuses(t *testing.T) {
	h := newHarness(t, storagetest.SQLiteURL(t))
	reconcileRows(h, 20)
	h.redis.Mini.FlushAll()
	h.redis.Mini.SetError("LOADING Redis is loading the dataset in memory")
	rc := jobs.NewReconciler(h.store, h.queue, jobs.ReconcilerConfig{Page: 3, Clock: h.clock, Log: h.log, Metrics: h.metrics})
	st, err := rc.Reconcile(h.ctx)
	if err == nil {
		t.Fatalf("pass with Redis refusing = %+v, nil; want the error", st)
	}
	if st.Reminders != 0 || st.Deliveries != 0 {
		t.Errorf("pass with Redis refusing re-enqueued %+v, want nothing", st)
	}
	if got := testutil.ToFloat64(h.metrics.Reconciled.WithLabelValues(jobs.TypeReminderSend)); got != 0 {
		t.Errorf("reconciled counted %v with nothing enqueued", got)
	}
}

// A periodic pass may outlast its period at scale: its task's time limit
// is longer than the period, so it is not cut off and retried from the
// first row every period.
func TestReconcileTask_OutlastsItsPeriod(t *testing.T) {
	h := newHarness(t, storagetest.SQLiteURL(t))
	client := asynq.NewClient(asynq.RedisClientOpt{Addr: h.redis.Addr})
	defer client.Close()
	for _, period := range []time.Duration{10 * time.Second, 2 * time.Minute, 2 * time.Hour} {
		info, err := client.Enqueue(jobs.NewReconcileTask(h.clock.Now(), period))
		if err != nil {
			t.Fatal(err)
		}
		if info.Timeout < period || info.Timeout < 30*time.Minute {
			t.Errorf("reconcile every %s may run %s, want at least the period and half an hour", period, info.Timeout)
		}
		if info.MaxRetry != 1 {
			t.Errorf("reconcile every %s retried %d times, want once", period, info.MaxRetry)
		}
		h.redis.Mini.FlushAll()
	}
}

// silentRedis accepts connections and never answers, so a command sent
// to it waits; hung is told of each connection, and stop closes them all.
func silentRedis(t *testing.T) (addr string, hung <-chan struct{}, stop func()) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan struct{}, 100)
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			select {
			case ch <- struct{}{}:
			default:
			}
		}
	}()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			ln.Close()
			mu.Lock()
			defer mu.Unlock()
			for _, c := range conns {
				c.Close()
			}
		})
	}
	t.Cleanup(stop)
	return ln.Addr().String(), ch, stop
}

// A period's task that finds the pass before it still running returns at
// once rather than walk the same rows beside it; once that pass has ended,
// the next runs.
func TestReconcile_PeriodicPassLeavesOutWhileOneRuns(t *testing.T) {
	h := newHarness(t, storagetest.SQLiteURL(t))
	reconcileRows(h, 5)
	addr, hung, stop := silentRedis(t)
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	defer rdb.Close()
	queue := jobs.NewQueue(rdb, h.clock)
	rc := jobs.NewReconciler(h.store, queue, jobs.ReconcilerConfig{Clock: h.clock, Log: h.log, Metrics: h.metrics})
	task := jobs.NewReconcileTask(h.clock.Now(), 2*time.Minute)

	first := make(chan error, 1)
	go func() { first <- rc.HandleReconcile(h.ctx, task) }()
	<-hung // the first pass waits on Redis
	if err := rc.HandleReconcile(h.ctx, task); err != nil {
		t.Errorf("a period's pass beside a running one = %v, want nil at once", err)
	}
	stop()
	if err := <-first; err == nil {
		t.Error("the pass whose Redis went away = nil, want its error")
	}
	// The running pass has ended: the next one runs (and fails, its Redis
	// gone) instead of being left out.
	if err := rc.HandleReconcile(h.ctx, task); err == nil {
		t.Error("a pass after the running one ended = nil, want it to run and fail on the closed Redis")
	}
}

// replyTasks are the reply tasks on the conversation queue, due or
// waiting: each its first delivery and the ones it sends after it.
func replyTasks(t *testing.T, h *harness) map[int64][]int64 {
	t.Helper()
	out := map[int64][]int64{}
	for _, list := range []func(string, ...asynq.ListOption) ([]*asynq.TaskInfo, error){h.insp.ListPendingTasks, h.insp.ListScheduledTasks} {
		ts, err := list(jobs.QueueConversation)
		if err != nil && !errors.Is(err, asynq.ErrQueueNotFound) {
			t.Fatal(err)
		}
		for _, ti := range ts {
			var p jobs.DeliveryPayload
			if err := json.Unmarshal(ti.Payload, &p); err != nil {
				t.Fatal(err)
			}
			out[p.DeliveryID] = p.Then
		}
	}
	return out
}

// A pass rebuilds the queued replies to one update as one task sending
// them in order, as the webhook hands them over, not a task each: with a
// task each, a reply held back by a 429 (its task waiting for Telegram's
// retry_after) was overtaken by the replies after it — the next prompt
// before the edit taking the pressed buttons away. A chain still waiting
// keeps its task and gains no other.
func TestReconcile_KeepsTheRepliesToAnUpdateInOrder(t *testing.T) {
	h := newHarness(t, storagetest.SQLiteURL(t))
	plan := func(update, n int) []int64 {
		t.Helper()
		var ids []int64
		err := h.store.InTx(h.ctx, func(tx *storage.Store) error {
			for i := range n {
				d, err := h.outbox.PlanReply(h.ctx, tx, fmt.Sprintf("tg:%d:%d", update, i), duban.ChannelTelegram,
					duban.Address{TelegramChatID: 9000 + int64(update)}, duban.Message{Text: fmt.Sprintf("reply %d of update %d", i, update)})
				if err != nil {
					return err
				}
				ids = append(ids, d.ID)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return ids
	}
	u7, u8 := plan(7, 3), plan(8, 2)
	rc := jobs.NewReconciler(h.store, h.queue, jobs.ReconcilerConfig{Clock: h.clock, Log: h.log, Metrics: h.metrics})
	if _, err := rc.Reconcile(h.ctx); err != nil {
		t.Fatal(err)
	}
	want := map[int64][]int64{u7[0]: u7[1:], u8[0]: u8[1:]}
	if got := replyTasks(t, h); !reflect.DeepEqual(got, want) {
		t.Fatalf("reply tasks after a pass (first: then) = %v, want one chain an update %v", got, want)
	}

	// Telegram refused update 7's first reply: its chain waits for
	// retry_after when the next pass comes.
	h.redis.Mini.FlushAll()
	client := asynq.NewClient(asynq.RedisClientOpt{Addr: h.redis.Addr})
	defer client.Close()
	if _, err := client.Enqueue(jobs.NewReplySendTask(duban.Delivery{ID: u7[0]}, u7[1:]...), asynq.ProcessIn(3*time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := rc.Reconcile(h.ctx); err != nil {
		t.Fatal(err)
	}
	if got := replyTasks(t, h); !reflect.DeepEqual(got, want) {
		t.Fatalf("reply tasks after a pass over a waiting chain = %v, want %v", got, want)
	}
}

// A Redis flushed (or restarted empty) under a send takes the sender's
// task: when that send then fails (a 429, a 5xx), its row goes back to
// queued with no task to retry it. Reconcile's task for the row, enqueued
// after the flush and taken by a worker while the row is still in flight,
// comes back for it rather than finish: finished, it would hold for hours
// the task id every later pass enqueues, and the message would never
// leave. The fault harness lost a notice so (docs/RELIABILITY.md,
// scenario 3).
func TestReconcile_ADeliveryInFlightAtAFlushIsSentWhenItsSendFails(t *testing.T) {
	h := newHarness(t, storagetest.SQLiteURL(t))
	h.register("F-1", time.Date(2026, 12, 4, 9, 30, 0, 0, sh))
	ds, err := h.store.QueuedDeliveries(h.ctx, 10)
	if err != nil || len(ds) != 1 {
		t.Fatalf("planned %d deliveries, %v; want the head's notice", len(ds), err)
	}
	notice := ds[0]
	// The notice's task is waiting for its slot when Redis is flushed; a
	// pass then finds the row queued and enqueues it again.
	h.redis.Mini.FlushAll()
	rc := jobs.NewReconciler(h.store, h.queue, jobs.ReconcilerConfig{Clock: h.clock, Log: h.log, Metrics: h.metrics})
	if _, err := rc.Reconcile(h.ctx); err != nil {
		t.Fatal(err)
	}
	// The first task reaches its slot and marks the row sending.
	if ok, err := h.store.ClaimDeliveryAs(h.ctx, notice.ID, "replica-a"); !ok || err != nil {
		t.Fatalf("claim as replica-a = %v, %v", ok, err)
	}
	// A worker takes reconcile's task meanwhile.
	srv := jobs.NewServer(asynq.RedisClientOpt{Addr: h.redis.Addr}, jobs.ServerConfig{Concurrency: 2, ShutdownTimeout: time.Second}, h.log)
	if err := srv.Start(jobs.NewMux(h.hs, h.outbox, rc, h.cs)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	key := "asynq:{default}:t:" + jobs.DeliveryTaskID(notice)
	deadline := time.Now().Add(10 * time.Second)
	for h.redis.Mini.HGet(key, "state") == "pending" {
		if time.Now().After(deadline) {
			t.Fatal("reconcile's task was not taken by the worker")
		}
		time.Sleep(20 * time.Millisecond)
	}
	// The first send is refused, and its task's retry was lost with the
	// flush: the row is queued again, with reconcile's task the only one.
	if err := h.store.DeliveryRequeue(h.ctx, notice.ID, "telegram: 429 Too Many Requests"); err != nil {
		t.Fatal(err)
	}
	deadline = time.Now().Add(20 * time.Second)
	for len(h.kinds(h.head.Name)) == 0 {
		if time.Now().After(deadline) {
			got, _ := h.store.DeliveryByID(h.ctx, notice.ID)
			t.Fatalf("the notice was never sent: its row is %s, reconcile's task %q", got.Status, h.redis.Mini.HGet(key, "state"))
		}
		if _, err := rc.Reconcile(h.ctx); err != nil {
			t.Fatal(err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if got := h.kinds(h.head.Name); len(got) != 1 || got[0] != duban.MsgNotice {
		t.Errorf("the head got %v, want the notice once", got)
	}
}
