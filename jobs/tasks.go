package jobs

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/hibiken/asynq"
	"github.com/robfig/cron/v3"

	"github.com/cityhall/duban"
)

// Task types, as asynq's README names them: every task duban enqueues, one
// constructor each below, one handler each in NewMux. The strings are
// stored in Redis with every queued task, so a task enqueued by a running
// deployment must still find its handler after an upgrade: never change
// one.
const (
	TypeReminderSend      = "reminder:send"           // a timed step of a hearing is due
	TypeDeliverySend      = "delivery:send"           // one planned message is sent
	TypeReplySend         = "delivery:reply"          // one conversation reply is sent, ahead of bulk messages
	TypeComplaintSync     = "complaint:sync"          // a complaint's message in the supervision channel
	TypeChannelEscalation = "hearing:escalation_post" // a hearing's escalation in the supervision channel
	TypeReconcile         = "reconcile"               // periodic: tasks rebuilt from the database
	TypeSLACheck          = "complaint:sla"           // periodic: complaints' time limits
	TypeBulletin          = "report:bulletin"         // periodic (cron): the bulletin (通报)
)

// Retention keeps a finished task's id for a while, so a reconcile pass
// that races with a handler cannot enqueue the same work again.
const Retention = 2 * time.Hour

// MaxDeliveryAttempts bounds retries of one delivery for errors that are
// not rate limits (rate limits are waited out and not counted).
const MaxDeliveryAttempts = 8

// ReminderPayload names a reminder row and the due time the task was made
// for; a task whose due time no longer matches the row is stale.
type ReminderPayload struct {
	ReminderID int64 `json:"reminder_id"`
	Due        int64 `json:"due"` // unix seconds
}

// DeliveryPayload names a delivery row, and for the replies to one update
// the rows sent after it, in order.
type DeliveryPayload struct {
	DeliveryID int64   `json:"delivery_id"`
	Then       []int64 `json:"then,omitempty"`
}

// ComplaintPayload names a complaint.
type ComplaintPayload struct {
	ComplaintID int64 `json:"complaint_id"`
}

// EscalationPayload names the escalated agency of a hearing and why.
type EscalationPayload struct {
	HearingAgencyID int64 `json:"hearing_agency_id"`
	NoChannel       bool  `json:"no_channel"`
}

// ReconcilePayload names the period a reconcile pass runs for.
type ReconcilePayload struct {
	Period int64 `json:"period"` // unix seconds of the period start
}

// SLACheckPayload names the period an SLA check runs for. It reads as the
// reconcile payload did when the check borrowed it, so checks queued then
// still decode.
type SLACheckPayload struct {
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

// ReplyTaskID is the task id of a conversation reply.
func ReplyTaskID(d duban.Delivery) string {
	return fmt.Sprintf("reply:%d:%d", d.ID, d.Resends)
}

// NewReplySendTask makes the task that sends one conversation reply, and
// then the replies then (to the same update, in order), on the
// conversation queue that workers serve first.
func NewReplySendTask(d duban.Delivery, then ...int64) *asynq.Task {
	b, _ := json.Marshal(DeliveryPayload{DeliveryID: d.ID, Then: then})
	return asynq.NewTask(TypeReplySend, b, asynq.TaskID(ReplyTaskID(d)), asynq.Retention(Retention),
		asynq.MaxRetry(MaxDeliveryAttempts), asynq.Timeout(time.Minute), asynq.Queue(QueueConversation))
}

// takenOverTask is the task of a delivery taken over from a sender that
// is gone (Outbox.TakeOver): an id of its own, since the first task's id
// may still be held by its retention, so that the send is not lost to a
// "task id conflict".
func takenOverTask(d duban.Delivery) *asynq.Task {
	t := NewDeliverySendTask(d)
	if d.Kind == duban.MsgReply {
		t = NewReplySendTask(d)
	}
	return asynq.NewTask(t.Type(), t.Payload(), asynq.TaskID(fmt.Sprintf("again:%d:%d:%d", d.ID, d.Resends, d.Attempts)),
		asynq.Retention(Retention), asynq.MaxRetry(MaxDeliveryAttempts), asynq.Timeout(time.Minute), asynq.Queue(queueOf(d)))
}

// queueOf is the queue a delivery's task goes on.
func queueOf(d duban.Delivery) string {
	if d.Kind == duban.MsgReply {
		return QueueConversation
	}
	return QueueName
}

// NewComplaintSyncTask makes the update of complaint id's message in the
// supervision channel: one task per complaint and moment (the id carries
// the wall time only to be unique), and the handler renders what is
// current.
func NewComplaintSyncTask(id int64) *asynq.Task {
	b, _ := json.Marshal(ComplaintPayload{ComplaintID: id})
	return asynq.NewTask(TypeComplaintSync, b, asynq.TaskID(fmt.Sprintf("csync:%d:%d", id, time.Now().UnixNano())),
		asynq.MaxRetry(8), asynq.Queue(QueueChannel), asynq.Timeout(time.Minute))
}

// NewChannelEscalationTask makes the supervision channel's post of an
// escalation; its id names the step (key), so a retried or reconciled
// escalation posts once.
func NewChannelEscalationTask(haID int64, key string, noChannel bool) *asynq.Task {
	b, _ := json.Marshal(EscalationPayload{HearingAgencyID: haID, NoChannel: noChannel})
	return asynq.NewTask(TypeChannelEscalation, b, asynq.TaskID("hesc:"+key), asynq.Retention(Retention),
		asynq.MaxRetry(8), asynq.Queue(QueueChannel), asynq.Timeout(time.Minute))
}

// reconcileTimeout is how long a periodic reconcile pass may run, when
// its period is shorter. A pass walks every pending step in its window
// and every queued delivery, so at scale it outlasts a period (10 s in
// the fault harness, 2 minutes by default). Cut off at the period, it
// would fail and be retried from the first row, and so would every
// period's pass after it, so the last rows would never be reached; so it
// is given longer, and the pass still running keeps the next periods' out
// (Reconciler.HandleReconcile). Half an hour is some 300 times the pass
// of 100,000 reminders measured in docs/PERFORMANCE.md.
const reconcileTimeout = 30 * time.Minute

// NewReconcileTask makes the reconcile task of the period starting at p:
// one id per period, so schedulers on several replicas never double it.
func NewReconcileTask(p time.Time, period time.Duration) *asynq.Task {
	b, _ := json.Marshal(ReconcilePayload{Period: p.Unix()})
	return asynq.NewTask(TypeReconcile, b, asynq.TaskID(fmt.Sprintf("reconcile:%d", p.Unix())),
		asynq.Retention(period+time.Minute), asynq.MaxRetry(1), asynq.Timeout(max(period, reconcileTimeout)), asynq.Queue(QueueName))
}

// NewSLACheckTask makes the check of the period starting at p, one id a
// period so replicas never double it.
func NewSLACheckTask(p time.Time, period time.Duration) *asynq.Task {
	b, _ := json.Marshal(SLACheckPayload{Period: p.Unix()})
	return asynq.NewTask(TypeSLACheck, b, asynq.TaskID(fmt.Sprintf("sla:%d", p.Unix())),
		asynq.Retention(period+time.Minute), asynq.MaxRetry(2), asynq.Timeout(period), asynq.Queue(QueueName))
}

// BulletinPayload names the moment a bulletin was scheduled for; it
// covers the last whole period before it.
type BulletinPayload struct {
	At int64 `json:"at"` // unix seconds
}

// NewBulletinTask makes the bulletin of the schedule's moment at: one id
// a moment, kept longer than the schedule's longest gap, so replicas and
// restarts enqueue it once (and its mails are written ahead under the
// bulletin's key besides).
func NewBulletinTask(at time.Time) *asynq.Task {
	b, _ := json.Marshal(BulletinPayload{At: at.Unix()})
	return asynq.NewTask(TypeBulletin, b, asynq.TaskID(fmt.Sprintf("bulletin:%d", at.Unix())),
		asynq.Retention(100*24*time.Hour), asynq.MaxRetry(8), asynq.Timeout(5*time.Minute), asynq.Queue(QueueName))
}

// Periodic is a task enqueued once a period by Queue.Schedule.
type Periodic struct {
	Type  string        // the task type, for the log
	Every time.Duration // the period; or Start says when the current one began
	// Start, when set, returns the start of the period now falls in (the
	// latest moment of a cron schedule), zero when there is none yet.
	Start func(now time.Time) time.Time
	// Look is how often the schedule looks for a new period: a new
	// period's task is enqueued at most Look after the period starts.
	Look time.Duration
	// Task makes the task of the period starting at p; its id names the
	// period, so schedulers on several replicas enqueue it once.
	Task func(p time.Time) *asynq.Task
}

// PeriodicReconcile is the reconcile pass every period (a quarter period's
// look).
func PeriodicReconcile(every time.Duration) Periodic {
	return Periodic{Type: TypeReconcile, Every: every, Look: every / 4,
		Task: func(p time.Time) *asynq.Task { return NewReconcileTask(p, every) }}
}

// cronGrace is how late a moment of a cron schedule is still acted on: a
// replica that starts within it (a restart, a deploy) sends what was due;
// one that starts later leaves it (a new installation does not send last
// week's bulletin on its first start), and staff send it on demand.
const cronGrace = time.Hour

// PeriodicCron is task at each moment of the cron schedule spec (read in
// loc), looked for every minute, once (the task id names the moment).
func PeriodicCron(typ string, spec cron.Schedule, loc *time.Location, task func(at time.Time) *asynq.Task) Periodic {
	return Periodic{Type: typ, Look: time.Minute, Task: task, Start: func(now time.Time) time.Time {
		last := latestFire(spec, now.In(loc))
		if last.IsZero() || now.Sub(last) > cronGrace {
			return time.Time{}
		}
		return last
	}}
}

// latestFire is the latest moment of spec not after now, zero when there
// is none within two of its gaps before now.
func latestFire(spec cron.Schedule, now time.Time) time.Time {
	next := spec.Next(now)
	gap := spec.Next(next).Sub(next)
	var last time.Time
	for t := spec.Next(now.Add(-2 * gap)); !t.After(now); t = spec.Next(t) {
		last = t
	}
	return last
}

// PeriodicSLACheck is the SLA check every period (a quarter period's look,
// at most a minute).
func PeriodicSLACheck(every time.Duration) Periodic {
	return Periodic{Type: TypeSLACheck, Every: every, Look: min(every/4, time.Minute),
		Task: func(p time.Time) *asynq.Task { return NewSLACheckTask(p, every) }}
}
