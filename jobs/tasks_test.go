package jobs_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/cityhall/duban/jobs"
	"github.com/cityhall/duban/storage/storagetest"
)

// Task types are stored in Redis with every queued task: a deployment's
// queued tasks must find their handlers after an upgrade.
func TestTaskTypes_KeepTheNamesStoredInRedis(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{jobs.TypeReminderSend, "reminder:send"},
		{jobs.TypeDeliverySend, "delivery:send"},
		{jobs.TypeComplaintSync, "complaint:sync"},
		{jobs.TypeChannelEscalation, "hearing:escalation_post"},
		{jobs.TypeReconcile, "reconcile"},
		{jobs.TypeSLACheck, "complaint:sla"},
	} {
		if tc.got != tc.want {
			t.Errorf("task type %q, want %q as stored", tc.got, tc.want)
		}
	}
}

// Each periodic task names its period in its payload (and its id: see
// TestSchedule_EnqueuesEachPeriodicTaskOncePerPeriod); the SLA
// check's payload reads as it did when it borrowed the reconcile payload.
func TestPeriodicTasks_NameTheirPeriod(t *testing.T) {
	p := time.Date(2026, 12, 1, 9, 0, 0, 0, sh)
	for _, tc := range []struct {
		periodic      jobs.Periodic
		typ           string
		every, lookAt time.Duration
	}{
		{jobs.PeriodicReconcile(2 * time.Minute), jobs.TypeReconcile, 2 * time.Minute, 30 * time.Second},
		{jobs.PeriodicSLACheck(10 * time.Minute), jobs.TypeSLACheck, 10 * time.Minute, time.Minute},
	} {
		task := tc.periodic.Task(p)
		if task.Type() != tc.typ || tc.periodic.Type != tc.typ {
			t.Errorf("periodic %q makes a %q task, want %q", tc.periodic.Type, task.Type(), tc.typ)
		}
		if want := fmt.Sprintf(`{"period":%d}`, p.Unix()); string(task.Payload()) != want {
			t.Errorf("%s payload %s, want %s", tc.typ, task.Payload(), want)
		}
		if tc.periodic.Every != tc.every || tc.periodic.Look != tc.lookAt {
			t.Errorf("%s every %s looking every %s, want %s and %s", tc.typ, tc.periodic.Every, tc.periodic.Look, tc.every, tc.lookAt)
		}
	}
}

// One schedule enqueues every periodic task of the current period, under
// an id naming the period, once even with two replicas scheduling.
func TestSchedule_EnqueuesEachPeriodicTaskOncePerPeriod(t *testing.T) {
	h := newHarness(t, storagetest.SQLiteURL(t))
	h.clock.Set(time.Date(2026, 12, 1, 9, 0, 30, 0, sh))
	p := time.Date(2026, 12, 1, 9, 0, 0, 0, sh)
	ctx, cancel := context.WithCancel(h.ctx)
	var wg sync.WaitGroup
	for range 2 { // two replicas
		wg.Add(1)
		go func() {
			defer wg.Done()
			h.queue.Schedule(ctx, h.log, jobs.PeriodicReconcile(2*time.Minute), jobs.PeriodicSLACheck(10*time.Minute))
		}()
	}
	want := []string{fmt.Sprintf("reconcile:%d", p.Unix()), fmt.Sprintf("sla:%d", p.Unix())}
	var ids []string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		ids = ids[:0]
		tasks, err := h.insp.ListPendingTasks(jobs.QueueName)
		if errors.Is(err, asynq.ErrQueueNotFound) {
			continue // nothing enqueued yet
		}
		if err != nil {
			t.Fatal(err)
		}
		for _, ti := range tasks {
			ids = append(ids, ti.ID)
		}
		slices.Sort(ids)
		if len(ids) >= len(want) {
			break
		}
	}
	cancel()
	wg.Wait()
	tasks, _ := h.insp.ListPendingTasks(jobs.QueueName)
	ids = ids[:0]
	for _, ti := range tasks {
		ids = append(ids, ti.ID)
	}
	slices.Sort(ids)
	if !slices.Equal(ids, want) {
		t.Errorf("pending tasks %v, want %v", ids, want)
	}
}

// The housekeeping handed to NewMux (the Telegram bot's clean-up of idle
// drafts) runs with every SLA check, and its failure does not fail the
// check.
func TestMux_SLACheckRunsTheHousekeeping(t *testing.T) {
	h := newHarness(t, storagetest.SQLiteURL(t))
	rc := jobs.NewReconciler(h.store, h.queue, jobs.ReconcilerConfig{Clock: h.clock, Log: h.log, Metrics: h.metrics})
	var ran []string
	mux := jobs.NewMux(h.hs, h.outbox, rc, h.cs,
		func(context.Context) error { ran = append(ran, "drafts"); return errors.New("telegram down") },
		func(context.Context) error { ran = append(ran, "more"); return nil })
	if err := mux.ProcessTask(h.ctx, jobs.NewSLACheckTask(h.clock.Now(), 10*time.Minute)); err != nil {
		t.Fatalf("sla check: %v", err)
	}
	if !slices.Equal(ran, []string{"drafts", "more"}) {
		t.Errorf("housekeeping ran %v, want both in order", ran)
	}
}
