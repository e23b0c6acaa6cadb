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
// Build it with NewReconciler.
type Reconciler struct {
	store    *storage.Store
	queue    *Queue
	interval time.Duration
	clock    duban.Clock
	log      *slog.Logger
	metrics  *Metrics
}

// ReconcilerConfig is what a Reconciler may be given beside its store and
// queue; every field has a default.
type ReconcilerConfig struct {
	// Interval is DUBAN_RECONCILE_INTERVAL: a pass enqueues the steps due
	// within two intervals. Default 2 minutes.
	Interval time.Duration
	Clock    duban.Clock  // default the wall clock
	Log      *slog.Logger // default discards
	Metrics  *Metrics     // default unregistered collectors
}

// NewReconciler makes the reconcile pass.
func NewReconciler(store *storage.Store, queue *Queue, cfg ReconcilerConfig) *Reconciler {
	if cfg.Interval <= 0 {
		cfg.Interval = 2 * time.Minute
	}
	return &Reconciler{store: store, queue: queue, interval: cfg.Interval,
		clock: orClock(cfg.Clock), log: orLog(cfg.Log), metrics: orMetrics(cfg.Metrics)}
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
	now := rc.clock.Now()
	rs, err := rc.store.PendingRemindersDueBefore(ctx, now.Add(2*rc.interval), reconcileBatch)
	if err != nil {
		return st, err
	}
	for _, r := range rs {
		if err := rc.queue.EnqueueReminder(ctx, r); err != nil {
			return st, err
		}
		st.Reminders++
	}
	ds, err := rc.store.QueuedDeliveries(ctx, reconcileBatch)
	if err != nil {
		return st, err
	}
	for _, d := range ds {
		if err := rc.queue.EnqueueDelivery(ctx, d); err != nil {
			return st, err
		}
		st.Deliveries++
	}
	if st.Uncertain, err = rc.store.StaleSending(ctx, now.Add(-time.Minute)); err != nil {
		return st, err
	}
	rc.metrics.Uncertain.Set(float64(st.Uncertain))
	rc.metrics.Reconciled.WithLabelValues(TypeReminderSend).Add(float64(st.Reminders))
	rc.metrics.Reconciled.WithLabelValues(TypeDeliverySend).Add(float64(st.Deliveries))
	if st.Uncertain > 0 {
		rc.log.Warn("deliveries left sending by a crash; see GET /api/v1/deliveries?status=sending", slog.Int("count", st.Uncertain))
	}
	return st, nil
}

// HandleReconcile is the periodic task's handler.
func (rc *Reconciler) HandleReconcile(ctx context.Context, _ *asynq.Task) error {
	_, err := rc.Reconcile(ctx)
	return err
}
