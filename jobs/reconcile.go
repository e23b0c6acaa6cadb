package jobs

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"

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
	page     int
	clock    duban.Clock
	log      *slog.Logger
	metrics  *Metrics
	// running is set while a periodic pass runs in this process
	// (HandleReconcile).
	running atomic.Bool
}

// ReconcilerConfig is what a Reconciler may be given beside its store and
// queue; every field has a default.
type ReconcilerConfig struct {
	// Interval is DUBAN_RECONCILE_INTERVAL: a pass enqueues the steps due
	// within two intervals. Default 2 minutes.
	Interval time.Duration
	// Page is how many rows a pass reads at a time. Default
	// reconcilePage; tests make it small to cross pages with a few rows.
	Page    int
	Clock   duban.Clock  // default the wall clock
	Log     *slog.Logger // default discards
	Metrics *Metrics     // default unregistered collectors
}

// reconcilePage is how many rows a pass reads at a time: the pass holds
// one page being read and one being enqueued, never every row at once.
const reconcilePage = 1000

// reconcileWorkers is how many enqueues a pass has in flight at once.
// asynq enqueues a task per Redis round trip (there is no batch enqueue),
// and one at a time a pass waits on each: 100,000 took 19 s one at a
// time and 5.4 s eight at a time on two cores (docs/PERFORMANCE.md,
// "Reconcile of 100,000 pending reminders"; sixteen was a little faster
// in two runs, within the noise of a loaded machine). Eight leave most of
// the client's connections (go-redis: ten a CPU) to the senders and
// limiters that share it.
const reconcileWorkers = 8

// NewReconciler makes the reconcile pass.
func NewReconciler(store *storage.Store, queue *Queue, cfg ReconcilerConfig) *Reconciler {
	if cfg.Interval <= 0 {
		cfg.Interval = 2 * time.Minute
	}
	if cfg.Page <= 0 {
		cfg.Page = reconcilePage
	}
	return &Reconciler{store: store, queue: queue, interval: cfg.Interval, page: cfg.Page,
		clock: orClock(cfg.Clock), log: orLog(cfg.Log), metrics: orMetrics(cfg.Metrics)}
}

// ReconcileStats says what a pass re-enqueued.
type ReconcileStats struct {
	Reminders, Deliveries, Uncertain int
}

// Reconcile runs one pass over every pending step due within two
// intervals (farther ones were enqueued when planned, and a later pass
// catches them after a flush) and every queued delivery, however many:
// the rows are read a page at a time and enqueued reconcileWorkers at a
// time; the task-id conflict of one already there is success. The
// Reconciled counters count each task as it is enqueued, so a pass cut
// short still counts what it did.
func (rc *Reconciler) Reconcile(ctx context.Context) (ReconcileStats, error) {
	var st ReconcileStats
	now := rc.clock.Now()
	before := now.Add(2 * rc.interval)
	var err error
	st.Reminders, err = enqueueAll(ctx, rc.page,
		func(ctx context.Context, after int64) ([]duban.Reminder, int64, int, error) {
			rs, err := rc.store.PendingRemindersAfter(ctx, before, after, rc.page)
			if err != nil || len(rs) == 0 {
				return nil, after, 0, err
			}
			return rs, rs[len(rs)-1].ID, len(rs), nil
		},
		rc.queue.EnqueueReminder, rc.metrics.Reconciled.WithLabelValues(TypeReminderSend))
	if err != nil {
		return st, err
	}
	st.Deliveries, err = enqueueAll(ctx, rc.page,
		func(ctx context.Context, after int64) ([]sendChain, int64, int, error) {
			ds, err := rc.store.QueuedDeliveriesAfter(ctx, after, rc.page)
			if err != nil || len(ds) == 0 {
				return nil, after, 0, err
			}
			return chains(ds), ds[len(ds)-1].ID, len(ds), nil
		},
		rc.queue.enqueueChain, rc.metrics.Reconciled.WithLabelValues(TypeDeliverySend))
	if err != nil {
		return st, err
	}
	if st.Uncertain, err = rc.store.StaleSending(ctx, now.Add(-time.Minute)); err != nil {
		return st, err
	}
	rc.metrics.Uncertain.Set(float64(st.Uncertain))
	if st.Uncertain > 0 {
		rc.log.Warn("deliveries left sending by a crash; see GET /api/v1/deliveries?status=sending", slog.Int("count", st.Uncertain))
	}
	return st, nil
}

// enqueueAll walks rows a page at a time, each page the rows after the
// last id of the one before (page reads at most size rows and returns
// what to enqueue for them, the last row's id and how many it read), and
// enqueues each item, reconcileWorkers at a time, while the next page is
// read. It returns how many items were enqueued (or found already there),
// each counted in done as it goes, and the first error, which stops the
// walk.
func enqueueAll[T any](ctx context.Context, size int, page func(ctx context.Context, afterID int64) (items []T, lastID int64, read int, err error),
	enqueue func(context.Context, T) error, done prometheus.Counter) (int, error) {
	g, ctx := errgroup.WithContext(ctx)
	rows := make(chan T, size)
	var n atomic.Int64
	g.Go(func() error {
		defer close(rows)
		var after int64
		for {
			rs, last, read, err := page(ctx, after)
			if err != nil {
				return err
			}
			for _, r := range rs {
				select {
				case rows <- r:
				case <-ctx.Done():
					return ctx.Err()
				}
			}
			if read < size {
				return nil
			}
			after = last
		}
	})
	for range reconcileWorkers {
		g.Go(func() error {
			for r := range rows {
				if err := ctx.Err(); err != nil {
					return err
				}
				if err := enqueue(ctx, r); err != nil {
					return err
				}
				n.Add(1)
				done.Inc()
			}
			return nil
		})
	}
	err := g.Wait()
	return int(n.Load()), err
}

// HandleReconcile is the periodic task's handler. At scale a pass can
// outlast its period (NewReconcileTask gives it longer than one): a
// period's task that finds a pass still running in this process returns
// at once, rather than pile a second walk over the same rows onto the
// same round trips. The running pass was planned from an earlier moment,
// so a step coming into the window meanwhile waits for the next pass.
func (rc *Reconciler) HandleReconcile(ctx context.Context, _ *asynq.Task) error {
	if !rc.running.CompareAndSwap(false, true) {
		rc.log.Info("reconcile pass still running; this period's is left out")
		return nil
	}
	defer rc.running.Store(false)
	start := time.Now()
	st, err := rc.Reconcile(ctx)
	if took := time.Since(start); took > rc.interval {
		rc.log.Warn("reconcile pass outlasted its period", slog.Duration("took", took), slog.Duration("period", rc.interval),
			slog.Int("reminders", st.Reminders), slog.Int("deliveries", st.Deliveries))
	}
	return err
}

// sendChain is what reconcile enqueues for queued deliveries: one row, or
// the queued replies to one update, sent in order by one task.
type sendChain struct {
	first duban.Delivery
	then  []int64
}

// chains groups the queued deliveries ds (in id order) for reconcile: the
// replies to one update — their dedupe keys the update's key and their
// place, "tg:<update>:<i>" (bot/telegram) — become one chain, in order,
// under the first's task id, as the webhook and EnqueueReplies hand them
// over; every other row goes alone. A task for each reply would let a
// reply held back by a 429, its chain waiting for retry_after, be
// overtaken by the ones after it: the next prompt before the edit that
// takes the pressed buttons away. A chain still waiting keeps its id, so
// the pass enqueues nothing new for it. The replies of one update are
// planned in one transaction, so a page splits them only at its edge.
func chains(ds []duban.Delivery) []sendChain {
	var out []sendChain
	at := map[string]int{} // an update's key: its chain in out
	for _, d := range ds {
		if d.Kind == duban.MsgReply {
			if key, ok := updateKey(d.DedupeKey); ok {
				if i, ok := at[key]; ok {
					out[i].then = append(out[i].then, d.ID)
					continue
				}
				at[key] = len(out)
			}
		}
		out = append(out, sendChain{first: d})
	}
	return out
}

// updateKey is the key of the update a reply's dedupe key names, its
// place in the update's replies cut off: "tg:42" of "tg:42:1".
func updateKey(dedupe string) (string, bool) {
	i := strings.LastIndexByte(dedupe, ':')
	if i <= 0 {
		return "", false
	}
	if _, err := strconv.Atoi(dedupe[i+1:]); err != nil {
		return "", false
	}
	return dedupe[:i], true
}

// enqueueChain enqueues c's task: a row alone as EnqueueDelivery does, or
// a chain of replies as one reply task.
func (q *Queue) enqueueChain(ctx context.Context, c sendChain) error {
	if len(c.then) == 0 {
		return q.EnqueueDelivery(ctx, c.first)
	}
	return q.enqueue(ctx, NewReplySendTask(c.first, c.then...))
}
