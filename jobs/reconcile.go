package jobs

import (
	"context"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/storage"
)

// Reconciler rebuilds tasks from the database: every pending step due
// soon and every queued delivery gets its task back, under the same
// deterministic id, so a flushed Redis loses nothing and nothing runs twice.
type Reconciler struct {
	Store    *storage.Store
	Queue    *Queue
	Clock    duban.Clock
	Interval time.Duration
	Log      *slog.Logger
	Metrics  *Metrics
}

// ReconcileStats says what a pass re-enqueued.
type ReconcileStats struct {
	Reminders, Deliveries, Uncertain int
}

const reconcileBatch = 5000

// Reconcile runs one pass. Steps due within two intervals are enqueued
// (farther ones were enqueued when planned, and a later pass catches them
// after a flush); the task-id conflict of one already there is success.
func (rc *Reconciler) Reconcile(ctx context.Context) (ReconcileStats, error) {
	var st ReconcileStats
	now := rc.Clock.Now()
	rs, err := rc.Store.PendingRemindersDueBefore(ctx, now.Add(2*rc.Interval), reconcileBatch)
	if err != nil {
		return st, err
	}
	for _, r := range rs {
		if err := rc.Queue.EnqueueReminder(ctx, r); err != nil {
			return st, err
		}
		st.Reminders++
	}
	ds, err := rc.Store.QueuedDeliveries(ctx, reconcileBatch)
	if err != nil {
		return st, err
	}
	for _, d := range ds {
		if err := rc.Queue.EnqueueDelivery(ctx, d); err != nil {
			return st, err
		}
		st.Deliveries++
	}
	if st.Uncertain, err = rc.Store.StaleSending(ctx, now.Add(-time.Minute)); err != nil {
		return st, err
	}
	rc.Metrics.Uncertain.Set(float64(st.Uncertain))
	rc.Metrics.Reconciled.WithLabelValues(TypeReminderSend).Add(float64(st.Reminders))
	rc.Metrics.Reconciled.WithLabelValues(TypeDeliverySend).Add(float64(st.Deliveries))
	if st.Uncertain > 0 {
		rc.Log.Warn("deliveries left sending by a crash; see GET /api/v1/deliveries?status=sending", slog.Int("count", st.Uncertain))
	}
	return st, nil
}

// HandleReconcile is the periodic task's handler.
func (rc *Reconciler) HandleReconcile(ctx context.Context, _ *asynq.Task) error {
	_, err := rc.Reconcile(ctx)
	return err
}

// RunSchedule enqueues the reconcile task of every period until ctx ends.
// The task id names the period, so schedulers on several replicas enqueue
// it once; the work itself runs on asynq like every other task.
func (rc *Reconciler) RunSchedule(ctx context.Context) {
	tick := time.NewTicker(rc.Interval / 4)
	defer tick.Stop()
	for {
		p := rc.Clock.Now().Truncate(rc.Interval)
		if err := rc.Queue.enqueue(ctx, NewReconcileTask(p, rc.Interval)); err != nil && ctx.Err() == nil {
			rc.Log.Warn("enqueue reconcile", slog.Any("error", err))
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
