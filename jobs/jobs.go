// Package jobs holds duban's background and timed work on asynq: the task
// types and their payloads, the handlers, scheduling and rescheduling,
// the reconcile pass that rebuilds tasks from the database, and the use
// cases (register, reschedule, answer…) that write rows and enqueue tasks.
// Tasks carry ids and times only; the database is the truth.
package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"

	"github.com/cityhall/duban"
)

// Task types, as asynq's README names them.
const (
	TypeReminderSend = "reminder:send"
	TypeDeliverySend = "delivery:send"
	TypeReconcile    = "reconcile"
)

// QueueName is the one queue duban uses.
const QueueName = "default"

// Retention keeps a finished task's id for a while, so a reconcile pass
// that races with a handler cannot enqueue the same work again.
const Retention = 2 * time.Hour

// ReminderPayload names a reminder row and the due time the task was made
// for; a task whose due time no longer matches the row is stale.
type ReminderPayload struct {
	ReminderID int64 `json:"reminder_id"`
	Due        int64 `json:"due"` // unix seconds
}

// DeliveryPayload names a delivery row.
type DeliveryPayload struct {
	DeliveryID int64 `json:"delivery_id"`
}

// ReconcilePayload names the period a reconcile pass runs for.
type ReconcilePayload struct {
	Period int64 `json:"period"` // unix seconds of the period start
}

// ReminderTaskID is the task id of a reminder: what makes it unique.
func ReminderTaskID(r duban.Reminder) string {
	return fmt.Sprintf("remind:%d:%d", r.ID, r.DueAt.Unix())
}

// DeliveryTaskID is the task id of a delivery; a resend is a new
// generation with a new id.
func DeliveryTaskID(d duban.Delivery) string {
	return fmt.Sprintf("deliver:%d:%d", d.ID, d.Resends)
}

// NewReminderSendTask makes the task that acts on a reminder row when due.
func NewReminderSendTask(r duban.Reminder) *asynq.Task {
	b, _ := json.Marshal(ReminderPayload{ReminderID: r.ID, Due: r.DueAt.Unix()})
	return asynq.NewTask(TypeReminderSend, b, asynq.TaskID(ReminderTaskID(r)), asynq.ProcessAt(r.DueAt),
		asynq.Retention(Retention), asynq.MaxRetry(10), asynq.Queue(QueueName))
}

// NewDeliverySendTask makes the task that sends one delivery row.
func NewDeliverySendTask(d duban.Delivery) *asynq.Task {
	b, _ := json.Marshal(DeliveryPayload{DeliveryID: d.ID})
	return asynq.NewTask(TypeDeliverySend, b, asynq.TaskID(DeliveryTaskID(d)), asynq.Retention(Retention),
		asynq.MaxRetry(MaxDeliveryAttempts), asynq.Timeout(time.Minute), asynq.Queue(QueueName))
}

// NewReconcileTask makes the reconcile task of the period starting at p:
// one id per period, so schedulers on several replicas never double it.
func NewReconcileTask(p time.Time, period time.Duration) *asynq.Task {
	b, _ := json.Marshal(ReconcilePayload{Period: p.Unix()})
	return asynq.NewTask(TypeReconcile, b, asynq.TaskID(fmt.Sprintf("reconcile:%d", p.Unix())),
		asynq.Retention(period+time.Minute), asynq.MaxRetry(1), asynq.Timeout(period), asynq.Queue(QueueName))
}

// MaxDeliveryAttempts bounds retries of one delivery for errors that are
// not rate limits (rate limits are waited out and not counted).
const MaxDeliveryAttempts = 8

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
	client    *asynq.Client
	inspector *asynq.Inspector
	clock     duban.Clock
}

// NewQueue wraps an asynq client and inspector. Due times are read on
// clock, and scheduled in asynq at the wall time when clock reaches them
// (duban.WallTime): the same instant in production, and the right delay in
// a test whose clock reads another date.
func NewQueue(c *asynq.Client, i *asynq.Inspector, clock duban.Clock) *Queue {
	if clock == nil {
		clock = duban.SystemClock{}
	}
	return &Queue{client: c, inspector: i, clock: clock}
}

// enqueue adds t; a task with the same id already there is success.
func (q *Queue) enqueue(ctx context.Context, t *asynq.Task, opts ...asynq.Option) error {
	_, err := q.client.EnqueueContext(ctx, t, opts...)
	if err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) && !errors.Is(err, asynq.ErrDuplicateTask) {
		return fmt.Errorf("jobs: enqueue %s: %w", t.Type(), err)
	}
	return nil
}

// EnqueueReminder schedules a reminder's task at its due time.
func (q *Queue) EnqueueReminder(ctx context.Context, r duban.Reminder) error {
	return q.enqueue(ctx, NewReminderSendTask(r), asynq.ProcessAt(duban.WallTime(q.clock, r.DueAt)))
}

// EnqueueDelivery queues a delivery's send task.
func (q *Queue) EnqueueDelivery(ctx context.Context, d duban.Delivery) error {
	return q.enqueue(ctx, NewDeliverySendTask(d))
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
