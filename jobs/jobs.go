// Package jobs holds duban's background and timed work on asynq: the task
// types and their payloads (tasks.go), the handlers (NewMux), scheduling
// and rescheduling, the periodic tasks' one schedule (schedule.go), the
// reconcile pass that rebuilds tasks from the database, and the use cases
// (register, reschedule, answer…) that write rows and enqueue tasks, each
// built by its own New… (NewOutbox, NewHearings, NewComplaints,
// NewReconciler). Tasks carry ids and times only; the database is the
// truth.
package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/cityhall/duban"
)

// The queues: conversation replies on a queue of their own, which workers
// serve strictly first (NewServer); posts to the supervision channel on
// theirs, served next, so that they do not wait behind a burst of
// reminders leaving at Telegram's 30 a second; everything else on the
// default one.
const (
	QueueName         = "default"
	QueueConversation = "conversation"
	QueueChannel      = "channel"
)

// The defaults of the use cases' optional dependencies.
func orClock(c duban.Clock) duban.Clock {
	if c == nil {
		return duban.SystemClock{}
	}
	return c
}

func orLog(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}

func orMetrics(m *Metrics) *Metrics {
	if m == nil {
		return NewMetrics(nil)
	}
	return m
}

// Queue enqueues and withdraws tasks.
type Queue struct {
	redis     redis.UniversalClient
	client    *asynq.Client
	inspector *asynq.Inspector
	clock     duban.Clock
}

// NewQueue makes the queue on the Redis client r, which it shares (asynq's
// client and inspector on a shared connection have nothing of their own
// to close; the caller closes r). Due times are read on
// clock, and scheduled in asynq at the wall time when clock reaches them
// (duban.WallTime): the same instant in production, and the right delay in
// a test whose clock reads another date.
func NewQueue(r redis.UniversalClient, clock duban.Clock) *Queue {
	if clock == nil {
		clock = duban.SystemClock{}
	}
	return &Queue{redis: r, client: asynq.NewClientFromRedisClient(r), inspector: asynq.NewInspectorFromRedisClient(r), clock: clock}
}

// allQueues is the set in which asynq lists its queues (its internal
// base.AllQueues); its inspector answers "queue not found" for a queue
// missing from it, whatever the queue holds.
const allQueues = "asynq:queues"

// publishQueues lists the served queues in asynq's set of queues again.
// asynq's client adds a queue to that set with its first task and, once
// it has, never again: after Redis was flushed, or restarted empty, the
// set stays empty for the rest of the process however many tasks it
// enqueues, and the inspector finds no queue — RescueOrphans no orphan
// (the reminders of a worker killed later would wait for asynq's own
// recoverer, minutes), WithdrawReminder no task, the queue monitor
// nothing.
func (q *Queue) publishQueues(ctx context.Context) error {
	if err := q.redis.SAdd(ctx, allQueues, servedQueues).Err(); err != nil {
		return fmt.Errorf("jobs: list the queues in %s: %w", allQueues, err)
	}
	return nil
}

// enqueue adds t; a task with the same id already there is success.
func (q *Queue) enqueue(ctx context.Context, t *asynq.Task, opts ...asynq.Option) error {
	_, err := q.client.EnqueueContext(ctx, t, opts...)
	if err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) && !errors.Is(err, asynq.ErrDuplicateTask) {
		return fmt.Errorf("jobs: enqueue %s: %w", t.Type(), err)
	}
	return nil
}

// reminderLead is how long before its due time a reminder's task is
// scheduled. asynq moves due tasks to its queue every 200 ms
// (DelayedTaskCheckInterval) and a worker must then pick the task: started
// a little early, the handler waits in place for the due time (within
// earlyGrace) and the message leaves on the dot.
const reminderLead = time.Second

// EnqueueReminder schedules a reminder's task just ahead of its due time
// (reminderLead).
func (q *Queue) EnqueueReminder(ctx context.Context, r duban.Reminder) error {
	return q.enqueue(ctx, NewReminderSendTask(r), asynq.ProcessAt(duban.WallTime(q.clock, r.DueAt).Add(-reminderLead)))
}

// EnqueueDelivery queues a delivery's send task: a conversation reply's
// on the conversation queue.
func (q *Queue) EnqueueDelivery(ctx context.Context, d duban.Delivery) error {
	if d.Kind == duban.MsgReply {
		return q.enqueue(ctx, NewReplySendTask(d))
	}
	return q.enqueue(ctx, NewDeliverySendTask(d))
}

// enqueueAgain queues the send of a delivery taken over from a sender
// that is gone.
func (q *Queue) enqueueAgain(ctx context.Context, d duban.Delivery) error {
	return q.enqueue(ctx, takenOverTask(d))
}

// WithdrawReminder deletes a reminder's task if it is still waiting. A task
// already gone, or running, is fine: its handler re-checks the row.
func (q *Queue) WithdrawReminder(r duban.Reminder) error {
	err := q.inspector.DeleteTask(QueueName, ReminderTaskID(r))
	if err != nil && !errors.Is(err, asynq.ErrTaskNotFound) && !errors.Is(err, asynq.ErrQueueNotFound) {
		return fmt.Errorf("jobs: withdraw %s: %w", ReminderTaskID(r), err)
	}
	return nil
}

// The queues RescueOrphans looks at: every queue a worker serves
// (NewServer).
var servedQueues = []string{QueueConversation, QueueChannel, QueueName}

// rescueSuffix marks the task id of a rescued task's copy: one copy per
// orphan, however many replicas find it, and a copy orphaned in turn gets
// a copy of its own.
const rescueSuffix = "~rescued"

// RescueOrphans queues again, each under a task id of its own, the tasks
// left active by a worker that died (a SIGKILL, a lost machine) and
// returns how many it queued; one rescued before is not queued again. asynq takes such a task for orphaned once
// its lease runs out, 30 s after the dead worker's last heartbeat, but its
// own recoverer looks only once a minute and only at leases out for 30 s
// more, and retries after the task's backoff: a reminder due at the kill
// left minutes late, and the harness counted it lost (docs/RELIABILITY.md,
// scenario 2). Reconcile cannot help: the orphan holds the task id it
// would enqueue. Every handler re-reads its rows first (a reminder done, a
// delivery no longer queued, a dedupe key taken), so the copy and the
// original, when asynq's recoverer retries it later, do the work once.
// The lease is a time on the dead worker's clock read on this one's: a
// replica whose clock ran far ahead (asynq's recoverer allows 30 s) would
// copy a live worker's task, and the same re-reads would make the copy do
// nothing twice.
func (q *Queue) RescueOrphans(ctx context.Context) (int, error) {
	if err := q.publishQueues(ctx); err != nil {
		return 0, err
	}
	n := 0
	for _, queue := range servedQueues {
		for page := 1; ; page++ {
			ts, err := q.inspector.ListActiveTasks(queue, asynq.Page(page), asynq.PageSize(rescuePage))
			if errors.Is(err, asynq.ErrQueueNotFound) {
				break
			}
			if err != nil {
				return n, fmt.Errorf("jobs: list active tasks of %s: %w", queue, err)
			}
			for _, t := range ts {
				if !t.IsOrphaned {
					continue
				}
				_, err := q.client.EnqueueContext(ctx, rescued(t))
				switch {
				case errors.Is(err, asynq.ErrTaskIDConflict):
					// rescued already, by this replica or another
				case err != nil:
					return n, fmt.Errorf("jobs: rescue %s: %w", t.ID, err)
				default:
					n++
				}
			}
			if len(ts) < rescuePage {
				break
			}
		}
	}
	return n, nil
}

// rescuePage is how many active tasks RescueOrphans reads at a time: more
// than the workers of a few replicas, so one page is the rule.
const rescuePage = 500

// rescued is the copy of an orphaned task: its type, payload, queue and
// limits, under the orphan's id marked rescued.
func rescued(t *asynq.TaskInfo) *asynq.Task {
	opts := []asynq.Option{asynq.TaskID(t.ID + rescueSuffix), asynq.Queue(t.Queue), asynq.MaxRetry(t.MaxRetry)}
	if t.Timeout > 0 {
		opts = append(opts, asynq.Timeout(t.Timeout))
	}
	if !t.Deadline.IsZero() {
		opts = append(opts, asynq.Deadline(t.Deadline))
	}
	if t.Retention > 0 {
		opts = append(opts, asynq.Retention(t.Retention))
	}
	return asynq.NewTask(t.Type, t.Payload, opts...)
}
