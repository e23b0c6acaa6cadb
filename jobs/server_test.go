package jobs_test

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/internal/testenv"
	"github.com/cityhall/duban/jobs"
)

// TestServer_ServesAReplyThenTheSupervisionChannelThenTheBulk: behind a
// backlog of bulk sends (a burst of reminders leaving at Telegram's 30 a
// second), a worker takes a reporter's reply first, then the supervision
// channel's posts (a new complaint, an escalation), and the backlog after
// them: a supervisor no longer learns of a complaint minutes late because
// heads are being reminded.
func TestServer_ServesAReplyThenTheSupervisionChannelThenTheBulk(t *testing.T) {
	r := testenv.MiniRedis(t)
	opt := asynq.RedisClientOpt{Addr: r.Addr}
	client := asynq.NewClient(opt)
	t.Cleanup(func() { client.Close() })
	const bulk = 20
	tasks := []*asynq.Task{}
	for i := range bulk {
		tasks = append(tasks, jobs.NewDeliverySendTask(duban.Delivery{ID: int64(i + 1)}))
	}
	tasks = append(tasks, jobs.NewComplaintSyncTask(7), jobs.NewChannelEscalationTask(9, "9:24h", false),
		jobs.NewReplySendTask(duban.Delivery{ID: 100}))
	for _, task := range tasks {
		if _, err := client.Enqueue(task); err != nil {
			t.Fatal(err)
		}
	}

	var mu sync.Mutex
	var order []string
	record := func(_ context.Context, task *asynq.Task) error {
		mu.Lock()
		defer mu.Unlock()
		order = append(order, task.Type())
		return nil
	}
	mux := asynq.NewServeMux()
	for _, typ := range []string{jobs.TypeDeliverySend, jobs.TypeComplaintSync, jobs.TypeChannelEscalation, jobs.TypeReplySend} {
		mux.HandleFunc(typ, record)
	}
	srv := jobs.NewServer(opt, jobs.ServerConfig{Concurrency: 1, ShutdownTimeout: time.Second}, slog.New(slog.DiscardHandler))
	if err := srv.Start(mux); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)

	deadline := time.Now().Add(20 * time.Second)
	for {
		mu.Lock()
		n := len(order)
		mu.Unlock()
		if n == len(tasks) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d tasks served", n, len(tasks))
		}
		time.Sleep(10 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	want := []string{jobs.TypeReplySend, jobs.TypeComplaintSync, jobs.TypeChannelEscalation}
	if got := order[:3]; !slices.Equal(got, want) {
		t.Errorf("first served %v, want the reply, then the channel's two posts, before the %d bulk sends", got, bulk)
	}
}
