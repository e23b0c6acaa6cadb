package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/hibiken/asynq"

	"github.com/cityhall/duban/internal/fakes/slackfake"
	"github.com/cityhall/duban/internal/fakes/tgfake"
	"github.com/cityhall/duban/jobs"
)

// waveRun is the common shape of scenarios 3 to 6: heads, one wave of
// hearings whose reminders fall due once the notices have left, a fault
// at a seeded moment, and the tally.
func waveRun(ctx context.Context, d *deployment, r *result, tag string, chats int64, n, m, slackEvery int) (*wave, error) {
	heads, err := d.api.makeHeads(ctx, tag, chats, m, slackEvery)
	if err != nil {
		return nil, err
	}
	due := time.Now().Add(time.Duration(n)*2*time.Millisecond + noticesDrained(n)).Truncate(time.Second).Add(time.Second)
	w, err := registerWave(ctx, d, tag, heads, n, due)
	if err != nil {
		return nil, err
	}
	r.info("%s: %d hearings for %d heads; reminders due at %s", tag, n, m, due.Format("15:04:05"))
	return w, nil
}

// sleepUntil waits for t or ctx.
func sleepUntil(ctx context.Context, t time.Time) {
	select {
	case <-ctx.Done():
	case <-time.After(time.Until(t)):
	}
}

// finish waits for a wave's 2n messages and the delivery log to settle,
// then tallies.
func finish(ctx context.Context, h *harness, d *deployment, r *result, w *wave) {
	// Full size, the supervision channel's posts of 100 complaints take
	// Slack's one a second per channel after the wave's thousands of
	// messages ahead of them in the queue.
	finishWithin(ctx, d, r, w, h.dur(90*time.Second, 6*time.Minute))
}

func finishWithin(ctx context.Context, d *deployment, r *result, w *wave, recovery time.Duration) {
	limitTime := time.Duration(float64(2*w.n) / providerRate * float64(time.Second))
	if !d.await(ctx, w.before+2*w.n, time.Until(w.due)+2*limitTime+time.Minute, 0) {
		r.info("not every message arrived in twice the time the limit allows")
	} else if sent := d.tg.Sent(); len(sent) > 0 {
		r.info("the wave's last Telegram message arrived at %s", sent[len(sent)-1].At.Format("15:04:05.000"))
	}
	d.recover(ctx, r, recovery)
	tallyWave(ctx, d, r, w)
	checkLog(ctx, d, r)
}

// redisFaults is scenario 3: Redis flushed while reminders wait to fall
// due; and (full run) Redis stopped for a minute under load. Nothing may
// be lost once it is back: the database is the truth.
func redisFaults(ctx context.Context, h *harness, r *result) error {
	n, m := h.size(100, 2000), h.size(50, 400)
	d, err := h.deploy(ctx, deployOpts{name: "s3_redis", replicas: 1})
	if err != nil {
		return err
	}
	defer d.close()
	w, err := waveRun(ctx, d, r, "RF", headChats, n, m, 0)
	if err != nil {
		return err
	}
	// Flush at a seeded moment while the notices leave and the reminder
	// tasks wait in Redis.
	flushAt := time.Now().Add(time.Duration(h.rnd.Int64N(int64(time.Until(w.due) - time.Second))))
	sleepUntil(ctx, flushAt)
	if err := h.redis.Flush(ctx); err != nil {
		return err
	}
	r.info("FLUSHALL at %s (%.1f s before the due time)", time.Now().Format("15:04:05.000"), time.Until(w.due).Seconds())
	finish(ctx, h, d, r, w)
	if h.short {
		return nil
	}

	w2, err := waveRun(ctx, d, r, "RS", headChats+int64(m), n, m, 0) // after the first wave's heads
	if err != nil {
		return err
	}
	sleepUntil(ctx, w2.due.Add(-2*time.Second))
	h.redis.Stop()
	r.info("Redis stopped at %s for 60 s, under the reminders' due time", time.Now().Format("15:04:05.000"))
	sleepUntil(ctx, time.Now().Add(60*time.Second))
	if err := h.redis.Start(ctx); err != nil {
		return err
	}
	r.info("Redis back (empty) at %s", time.Now().Format("15:04:05.000"))
	finish(ctx, h, d, r, w2)
	r.info("the timed reconcile of 100,000 pending reminders is a benchmark: BenchmarkReconcile100k in jobs (docs/PERFORMANCE.md)")
	return nil
}

// databaseStop is scenario 4: PostgreSQL stopped while reminders fall due
// and reports arrive through the webhook. /readyz and intake must answer
// 503 (so Telegram and clients retry), nothing be half-written, and
// everything resume without restarting duban.
func databaseStop(ctx context.Context, h *harness, r *result) error {
	n, m := h.size(100, 1000), h.size(50, 200)
	stop := h.dur(10*time.Second, 30*time.Second)
	d, err := h.deploy(ctx, deployOpts{name: "s4_database", replicas: 1, webhook: true})
	if err != nil {
		return err
	}
	defer d.close()
	w, err := waveRun(ctx, d, r, "DB", headChats, n, m, 0)
	if err != nil {
		return err
	}
	rs := newReports(h.size(10, 100))
	sleepUntil(ctx, w.due.Add(-time.Second))
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); rs.viaWebhook(ctx, d) }()
	time.Sleep(time.Duration(h.rnd.Int64N(int64(2 * time.Second))))
	h.pg.Stop()
	downAt := time.Now()
	r.info("PostgreSQL stopped at %s for %s", downAt.Format("15:04:05.000"), stop)
	time.Sleep(2 * time.Second)
	base := d.replicas[0].URL()
	probe := func(method, path, ctype, body string) int {
		req, _ := http.NewRequestWithContext(ctx, method, base+path, strings.NewReader(body))
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		req.Header.Set("Authorization", "Bearer "+h.token)
		req.Header.Set("X-Telegram-Bot-Api-Secret-Token", webhookSecret)
		req.Header.Set("Idempotency-Key", "dubanload-s4-probe")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	answers := map[string]int{
		"GET /readyz":             probe("GET", "/readyz", "", ""),
		"POST /telegram/webhook":  probe("POST", "/telegram/webhook", "application/json", `{"update_id":99999999,"message":{"message_id":1,"date":1,"chat":{"id":999999,"type":"private"},"from":{"id":999999,"first_name":"p"},"text":"/help"}}`),
		"POST /api/v1/complaints": probe("POST", "/api/v1/complaints", "application/json", `{"source":"hotline_call","category":"other","description":"dubanload probe while the database is down","reporter":{"anonymous":true}}`),
		"POST /open311/v2/requests.json": probe("POST", "/open311/v2/requests.json", "application/x-www-form-urlencoded",
			url.Values{"service_code": {"other"}, "lat": {"31.2"}, "long": {"121.5"}, "description": {"dubanload probe while the database is down"}}.Encode()),
	}
	for k, v := range answers {
		r.info("while the database is down: %s answers %d", k, v)
		r.check(v == http.StatusServiceUnavailable, "%s answered %d while the database was down, want 503", k, v)
	}
	sleepUntil(ctx, downAt.Add(stop))
	if err := h.pg.Start(ctx); err != nil {
		return err
	}
	upAt := time.Now()
	r.info("PostgreSQL back at %s", upAt.Format("15:04:05.000"))
	ready := waitUntil(ctx, time.Minute, func() bool { return probe("GET", "/readyz", "", "") == http.StatusOK })
	r.check(ready, "/readyz not 200 within a minute of the database's return (without a restart)")
	r.info("/readyz 200 again %s after the database's return", time.Since(upAt).Round(100*time.Millisecond))
	wg.Wait()
	finish(ctx, h, d, r, w)
	tallyReports(ctx, d, r, rs)
	// The probes filed nothing while the database was down; retried now,
	// the API complaint is filed once.
	if c := probe("POST", "/api/v1/complaints", "application/json", `{"source":"hotline_call","category":"other","description":"dubanload probe while the database is down","reporter":{"anonymous":true}}`); c/100 != 2 {
		r.fail("the API complaint retried after the database's return answered %d", c)
	}
	if k, err := queryInt(ctx, d.db, "SELECT count(*) FROM complaints WHERE source = 'hotline_call'"); err == nil {
		r.check(k == 1, "%d hotline complaints after one retried post, want 1", k)
	}
	r.check(d.replicas[0].Running(), "duban exited while the database was down")
	return nil
}

// providerFaults is scenario 5: Telegram answers 20%% 5xx, 10%% slowly and
// drops 1%% of connections after accepting; one head blocked the bot; Slack
// answers 20%% 5xx. Every head must be reached (the blocked one by Slack),
// repeats only for dropped connections, and the delivery log be right.
func providerFaults(ctx context.Context, h *harness, r *result) error {
	n, m := h.size(100, 2000), h.size(30, 400)
	d, err := h.deploy(ctx, deployOpts{name: "s5_providers", replicas: 1})
	if err != nil {
		return err
	}
	defer d.close()
	seed := h.rnd.Uint64()
	d.tg.SetFaults(tgfake.Faults{Seed: seed, ErrorRate: 0.2, SlowRate: 0.1, Slow: 2 * time.Second, DropRate: 0.01})
	d.sl.SetFaults(slackfake.Faults{Seed: seed + 1, ErrorRate: 0.2, SlowRate: 0.1, Slow: time.Second})
	d.tg.Block(headChats) // head 0, who has Slack too
	w, err := waveRun(ctx, d, r, "PF", headChats, n, m, 5)
	if err != nil {
		return err
	}
	// Head 0 is reached only on Slack.
	for c, dest := range w.expected {
		if dest[0] == fmt.Sprintf("tg:%d", headChats) {
			w.expected[c] = dest[1:]
		}
	}
	// Notices leave at ~70% of the limit through the faults.
	w.due = w.due.Add(noticesDrained(n) / 2)
	finishWithin(ctx, d, r, w, 6*time.Minute) // a send's 8 tries end within 319 s (jobs.RetryDelay)
	tg, sl := d.tg.Stats(), d.sl.Stats()
	r.info("Telegram: accepted %d, 5xx %d, slow %d, dropped after accepting %d, accepted after the client gave up %d, blocked %d, 429 %d",
		tg.Accepted, tg.Errors, tg.Slow, tg.Dropped, tg.Abandoned, tg.Blocked, tg.TooMany)
	r.info("Slack: accepted %d, 5xx %d, slow %d, 429 %d", sl.Accepted, sl.Errors, sl.Slow, sl.TooMany)
	// Allowed repeats: messages the sender could not know were sent.
	r.Allowed += tg.Dropped + tg.Abandoned
	failed, _ := queryInt(ctx, d.db, "SELECT count(*) FROM deliveries WHERE status = 'failed' AND channel = 'telegram'")
	r.info("failed Telegram deliveries (the blocked chat's, before falling back to Slack): %d", failed)
	return nil
}

// replicas is scenario 6: several replicas on one database and Redis.
// Each reminder once, each periodic task once per period, polling by one
// replica, and all under one provider limit: zero 429s.
func replicas(ctx context.Context, h *harness, r *result) error {
	k := h.size(2, 3)
	n, m := h.size(200, 3000), h.size(50, 600)
	d, err := h.deploy(ctx, deployOpts{name: "s6_replicas", replicas: k})
	if err != nil {
		return err
	}
	defer d.close()
	start := time.Now()
	w, err := waveRun(ctx, d, r, "RP", headChats, n, m, 0)
	if err != nil {
		return err
	}
	rs := newReports(h.size(10, 100))
	sleepUntil(ctx, w.due)
	rs.viaPolling(ctx, d.tg)
	finish(ctx, h, d, r, w)
	tallyReports(ctx, d, r, rs)
	st := d.tg.Stats()
	r.info("%d replicas; arrivals: %s", k, arrivals(d.tg))
	for _, l := range refusals(d.tg) {
		r.info("%s", l)
	}
	checkProviderLimit(r, st, st.Accepted)

	holders, waiters := 0, 0
	for _, rep := range d.replicas {
		holders += rep.LogContains("polling lease taken")
		if rep.LogContains("another replica polls") > 0 {
			waiters++
		}
	}
	r.info("polling: %d replica took the lease, %d waited", holders, waiters)
	r.check(holders == 1 && waiters == k-1, "polling lease taken %d times and waited for by %d replicas, want 1 and %d", holders, waiters, k-1)

	// Periodic tasks: one per period whatever the replicas. Each finished
	// task's payload names its period (jobs.ReconcilePayload; the SLA
	// check's reads the same); a period done twice, under whatever id, is
	// the failure. Counting the tasks finished within a window instead
	// miscounted: the periods' tasks wait behind a wave's sends on the
	// default queue and finish together once it drains (seed 105: 17
	// finished within 70 s, each of a period of its own).
	insp := asynq.NewInspector(asynq.RedisClientOpt{Addr: h.redis.Addr()})
	defer insp.Close()
	per := map[string]map[int64]int{jobs.TypeReconcile: {}, jobs.TypeSLACheck: {}} // type → period → finished
	for page := 1; ; page++ {
		ts, err := insp.ListCompletedTasks(jobs.QueueName, asynq.PageSize(1000), asynq.Page(page))
		if err != nil || len(ts) == 0 {
			break
		}
		for _, t := range ts {
			if _, ok := per[t.Type]; !ok {
				continue
			}
			var p jobs.ReconcilePayload
			if err := json.Unmarshal(t.Payload, &p); err != nil || p.Period == 0 {
				r.fail("periodic task %s names no period: %s", t.ID, t.Payload)
				continue
			}
			per[t.Type][p.Period]++
		}
	}
	// Finished tasks are kept a period and a minute (jobs/tasks.go): the
	// periods that began within the last 70 s are all there.
	window := min(time.Since(start), 70*time.Second)
	most := int(window/(10*time.Second)) + 2
	recent := 0
	for period := range per[jobs.TypeReconcile] {
		if time.Since(time.Unix(period, 0)) <= window {
			recent++
		}
	}
	twice := 0
	for typ, periods := range per {
		for period, n := range periods {
			if n > 1 {
				twice++
				r.fail("%s of the period starting %s finished %d times, want once", typ, time.Unix(period, 0).Format("15:04:05"), n)
			}
		}
	}
	r.info("finished periodic tasks kept in Redis: reconcile for %d periods, the SLA check for %d, %d periods done more than once; %d reconcile periods began in the last %s (every 10 s allows at most %d)",
		len(per[jobs.TypeReconcile]), len(per[jobs.TypeSLACheck]), twice, recent, window.Round(time.Second), most)
	r.check(recent <= most, "%d reconcile periods began within %s: more than one a period", recent, window.Round(time.Second))
	return nil
}
