package jobs

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// Schedule enqueues the task of every period of each periodic task until
// ctx ends: one loop, run for each task. The task id names the period, so
// schedulers on several replicas enqueue it once; the work itself runs on
// asynq like every other task. Periods are read on the queue's clock.
func (q *Queue) Schedule(ctx context.Context, log *slog.Logger, tasks ...Periodic) {
	var wg sync.WaitGroup
	for _, p := range tasks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			q.schedule(ctx, orLog(log), p)
		}()
	}
	wg.Wait()
}

func (q *Queue) schedule(ctx context.Context, log *slog.Logger, p Periodic) {
	tick := time.NewTicker(p.Look)
	defer tick.Stop()
	for {
		var start time.Time
		if p.Start != nil {
			start = p.Start(q.clock.Now())
		} else {
			start = q.clock.Now().Truncate(p.Every)
		}
		if start.IsZero() {
			// No moment of the schedule yet.
		} else if err := q.enqueue(ctx, p.Task(start)); err != nil && ctx.Err() == nil {
			log.Warn("enqueue periodic task", slog.String("type", p.Type), slog.Any("error", err))
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
