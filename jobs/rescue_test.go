package jobs_test

import (
	"context"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/jobs"
	"github.com/cityhall/duban/storage/storagetest"
)

// takeAndDie leaves the task id of queue as a worker's SIGKILL leaves it:
// taken off the queue into active, as asynq's dequeue script does, with
// its lease run out leaseLeft ago (a live worker's heartbeat keeps it
// ahead).
func takeAndDie(t *testing.T, h *harness, queue, id string, leaseLeft time.Duration) {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: h.redis.Addr})
	defer c.Close()
	ctx := context.Background()
	prefix := "asynq:{" + queue + "}:"
	// Scheduled or pending, it is taken.
	if err := c.ZRem(ctx, prefix+"scheduled", id).Err(); err != nil {
		t.Fatal(err)
	}
	if err := c.LRem(ctx, prefix+"pending", 0, id).Err(); err != nil {
		t.Fatal(err)
	}
	if err := c.LPush(ctx, prefix+"active", id).Err(); err != nil {
		t.Fatal(err)
	}
	if err := c.HSet(ctx, prefix+"t:"+id, "state", "active").Err(); err != nil {
		t.Fatal(err)
	}
	if err := c.ZAdd(ctx, prefix+"lease", redis.Z{Score: float64(time.Now().Add(-leaseLeft).Unix()), Member: id}).Err(); err != nil {
		t.Fatal(err)
	}
}

// A reminder whose task a worker held when it was killed is sent by a
// copy of the task as soon as the dead worker's lease has run out, rather
// than a minute or more later by asynq's recoverer; reconcile could not
// enqueue it (the orphan holds its task id). A live worker's task is left
// alone, a rescue is queued once however often it is looked for, and the
// orphan, when asynq retries it in the end, sends nothing more.
func TestRescueOrphans_AReminderHeldByAKilledWorkerIsSent(t *testing.T) {
	h := newHarness(t, storagetest.SQLiteURL(t))
	h.register("R-1", h.clock.Now().Add(2*time.Hour+time.Minute))
	h.register("R-2", h.clock.Now().Add(2*time.Hour+time.Minute))
	h.drain() // the notices
	h.clock.Advance(time.Minute)
	pending, err := h.store.PendingRemindersDueBefore(h.ctx, h.clock.Now().Add(time.Second), 10)
	var due []duban.Reminder
	for _, r := range pending {
		if r.Kind == duban.KindReminder {
			due = append(due, r)
		}
	}
	if err != nil || len(due) != 2 {
		t.Fatalf("due reminders = %d, %v; want 2", len(due), err)
	}
	for _, r := range due {
		if err := h.queue.EnqueueReminder(h.ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	dead, live := jobs.ReminderTaskID(due[0]), jobs.ReminderTaskID(due[1])
	takeAndDie(t, h, jobs.QueueName, dead, time.Second)
	takeAndDie(t, h, jobs.QueueName, live, -20*time.Second) // its worker's lease runs another 20 s

	rc := jobs.NewReconciler(h.store, h.queue, jobs.ReconcilerConfig{Clock: h.clock, Log: h.log, Metrics: h.metrics})
	if _, err := rc.Reconcile(h.ctx); err != nil {
		t.Fatal(err)
	}
	if info, err := h.insp.GetTaskInfo(jobs.QueueName, dead); err != nil || info.State != asynq.TaskStateActive {
		t.Fatalf("after reconcile the orphan is %v, %v; want still active, with nothing else for its reminder", info, err)
	}

	n, err := h.queue.RescueOrphans(h.ctx)
	if err != nil || n != 1 {
		t.Fatalf("RescueOrphans = %d, %v; want 1 (the dead worker's task, not the live one's)", n, err)
	}
	if n, err := h.queue.RescueOrphans(h.ctx); err != nil || n != 0 {
		t.Fatalf("RescueOrphans again = %d, %v; want 0: it is queued already", n, err)
	}
	copied, err := h.insp.GetTaskInfo(jobs.QueueName, dead+"~rescued")
	if err != nil {
		t.Fatalf("the rescued copy: %v", err)
	}
	if copied.State != asynq.TaskStatePending || copied.Type != jobs.TypeReminderSend {
		t.Fatalf("the rescued copy is %s %s, want a pending %s", copied.State, copied.Type, jobs.TypeReminderSend)
	}
	if _, err := h.insp.GetTaskInfo(jobs.QueueName, live+"~rescued"); err == nil {
		t.Fatalf("a live worker's task was copied")
	}

	// A worker runs the copy: the head is reminded, once.
	if err := h.hs.HandleReminder(h.ctx, asynq.NewTask(copied.Type, copied.Payload)); err != nil {
		t.Fatal(err)
	}
	h.drain()
	if got := countKind(h.kinds(h.head.Name), duban.MsgReminder); got != 1 {
		t.Fatalf("head reminded %d times, want 1", got)
	}
	// asynq's recoverer retries the orphan in the end: nothing more leaves.
	orphan, err := h.insp.GetTaskInfo(jobs.QueueName, dead)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.hs.HandleReminder(h.ctx, asynq.NewTask(orphan.Type, orphan.Payload)); err != nil {
		t.Fatal(err)
	}
	h.drain()
	if got := countKind(h.kinds(h.head.Name), duban.MsgReminder); got != 1 {
		t.Fatalf("after the orphan ran too, head reminded %d times, want 1", got)
	}
}

// Redis flushed, or restarted empty, loses asynq's list of its queues,
// and asynq's client lists a queue there only with the first task it
// enqueues in its life: a worker killed afterwards left its reminder to
// asynq's own recoverer, minutes late, because the rescue found no queue
// to look in (the inspector answers "queue not found"). It finds it.
func TestRescueOrphans_FindsAnOrphanAfterRedisCameBackEmpty(t *testing.T) {
	h := newHarness(t, storagetest.SQLiteURL(t))
	h.register("R-1", h.clock.Now().Add(2*time.Hour+time.Minute))
	h.drain() // the notice
	h.clock.Advance(time.Minute)
	h.redis.Mini.FlushAll()
	rc := jobs.NewReconciler(h.store, h.queue, jobs.ReconcilerConfig{Clock: h.clock, Log: h.log, Metrics: h.metrics})
	if _, err := rc.Reconcile(h.ctx); err != nil {
		t.Fatal(err)
	}
	pending, err := h.store.PendingRemindersDueBefore(h.ctx, h.clock.Now().Add(time.Second), 10)
	if err != nil {
		t.Fatal(err)
	}
	var due []duban.Reminder
	for _, r := range pending {
		if r.Kind == duban.KindReminder {
			due = append(due, r)
		}
	}
	if len(due) != 1 {
		t.Fatalf("due reminders = %d, want 1", len(due))
	}
	dead := jobs.ReminderTaskID(due[0])
	if !h.redis.Mini.Exists("asynq:{default}:t:" + dead) {
		t.Fatalf("set-up: reconcile did not enqueue %s again", dead)
	}
	takeAndDie(t, h, jobs.QueueName, dead, time.Second)

	if n, err := h.queue.RescueOrphans(h.ctx); err != nil || n != 1 {
		t.Fatalf("RescueOrphans after Redis came back empty = %d, %v; want the dead worker's reminder rescued", n, err)
	}
	if !h.redis.Mini.Exists("asynq:{default}:t:" + dead + "~rescued") {
		t.Fatalf("no rescued copy of %s", dead)
	}
}

func countKind(ks []duban.MessageKind, k duban.MessageKind) int {
	n := 0
	for _, x := range ks {
		if x == k {
			n++
		}
	}
	return n
}
