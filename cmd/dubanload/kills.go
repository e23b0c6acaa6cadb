package main

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/cityhall/duban/i18n"
	"github.com/cityhall/duban/internal/fakes/tgfake"
)

// reporterBase is the first chat id of the public's reporters.
const reporterBase = 900000

// chatOnly is the label of the contact step's "updates in this chat" key.
var chatOnly = i18n.MustNew().T("zh-CN", "report.button.chat_only", nil)

// reportSteps is one whole report through the hotline bot, as Telegram
// would deliver it: nine updates from /report to the confirmation.
// Their update ids are set when they are sent (round), since Telegram
// numbers updates in the order they arrive.
func reportSteps(chat int64) []tgbotapi.Update {
	press := func(data string) tgbotapi.Update { return tgfake.CallbackUpdate(0, chat, chat, 1, data) }
	say := func(text string) tgbotapi.Update { return tgfake.TextUpdate(0, chat, chat, text) }
	return []tgbotapi.Update{
		say("/report"), press("r:cat:illegal_fee"), press("r:ag:-"), say("收费站多收了 50 元，没有票据。"),
		press("r:done"), press("r:skip"), press("r:skip"), say(chatOnly), press("r:ok"),
	}
}

// reports are the public's reports one scenario sends, step by step.
type reports struct {
	steps [][]tgbotapi.Update // per reporter
	ids   atomic.Int64
}

func newReports(n int) *reports {
	rs := &reports{}
	for i := range n {
		rs.steps = append(rs.steps, reportSteps(int64(reporterBase+i)))
	}
	return rs
}

// round is step k of every report, numbered in order.
func (rs *reports) round(k int) []tgbotapi.Update {
	out := make([]tgbotapi.Update, len(rs.steps))
	for i, s := range rs.steps {
		out[i] = s[k]
		out[i].UpdateID = int(rs.ids.Add(1))
	}
	return out
}

// count is the number of updates in all.
func (rs *reports) count() int { return len(rs.steps) * 9 }

// viaPolling queues each round of steps (step k of every report) for
// getUpdates once the previous round is confirmed and a second has passed
// (a person answers a bot no faster), until all are sent or ctx ends.
func (rs *reports) viaPolling(ctx context.Context, tg *tgfake.Server) {
	for k := range 9 {
		tg.Queue(rs.round(k)...)
		waitUntil(ctx, time.Hour, func() bool { return tg.Pending() == 0 })
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
}

// viaWebhook posts each round of steps to the replicas, every update
// retried until answered 200 as Telegram does.
func (rs *reports) viaWebhook(ctx context.Context, d *deployment) {
	for k := range 9 {
		round := rs.round(k)
		_ = parallel(ctx, 8, len(round), func(i int) error { return d.webhook.post(ctx, d.urls, round[i]) })
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
}

// tallyReports counts the reports into r: each must end as one complaint
// and one message with its tracking code to its reporter.
func tallyReports(ctx context.Context, d *deployment, r *result, rs *reports) {
	complaints, err := queryInt(ctx, d.db, "SELECT count(*) FROM complaints WHERE source = 'telegram'")
	if err != nil {
		r.fail("count complaints: %v", err)
	}
	codes := map[string]int{}
	for _, m := range collect(d.tg, nil) {
		if strings.Contains(m.Text, "您的查询码") {
			codes[m.To]++
		}
	}
	lostCodes, repCodes := 0, 0
	for i := range rs.steps {
		switch n := codes[fmt.Sprintf("tg:%d", reporterBase+i)]; {
		case n == 0:
			lostCodes++
		case n > 1:
			repCodes += n - 1
		}
	}
	n := len(rs.steps)
	r.info("reports: %d sent (%d updates); %d complaints filed; tracking codes: %d reporters told, %d never told, %d told twice or more",
		n, rs.count(), complaints, n-lostCodes, lostCodes, repCodes)
	if complaints < n {
		r.Lost += n - complaints
		r.fail("%d reports never became a complaint", n-complaints)
	}
	if complaints > n {
		r.Repeated += complaints - n
		r.fail("%d complaints filed twice (an update handled twice)", complaints-n)
	}
	if lostCodes > 0 {
		r.Lost += lostCodes
		r.fail("%d reporters never got their tracking code (conversation replies are sent directly, outside the delivery log: a 429, 5xx or crash loses them)", lostCodes)
	}
	r.Repeated += repCodes
}

// killer SIGKILLs a replica at the given moments and restarts it at once.
func killer(ctx context.Context, rep *replica, at []time.Time, r *result, mu *sync.Mutex) {
	for _, t := range at {
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Until(t)):
		}
		rep.Kill()
		mu.Lock()
		r.info("SIGKILL %s at %s", rep.name, time.Now().Format("15:04:05.000"))
		mu.Unlock()
		start := time.Now()
		if err := rep.Start(ctx); err != nil {
			mu.Lock()
			r.fail("restart after SIGKILL: %v", err)
			mu.Unlock()
			return
		}
		mu.Lock()
		r.info("restarted in %s", time.Since(start).Round(time.Millisecond))
		mu.Unlock()
	}
}

// kills is scenario 2: SIGKILL at seeded random moments while Telegram
// updates (by polling, then by webhook) and reminders are in flight, each
// time restarted. Every update must end as one complaint or answer,
// every reminder be sent; repeats are counted, and allowed only for sends
// in flight at a kill.
func kills(ctx context.Context, h *harness, r *result) error {
	modes := []bool{false, true}
	if h.short {
		modes = modes[:1] // polling: the kill also hands the polling lease over
	}
	for _, webhook := range modes {
		mode := map[bool]string{false: "polling", true: "webhook"}[webhook]
		if err := killRun(ctx, h, r, webhook, mode); err != nil {
			return fmt.Errorf("%s: %w", mode, err)
		}
	}
	return nil
}

func killRun(ctx context.Context, h *harness, r *result, webhook bool, mode string) error {
	nRem, nHeads := h.size(60, 2000), h.size(30, 500)
	nReports := h.size(20, 5000/2/9)
	nKills := h.size(1, 3)
	d, err := h.deploy(ctx, deployOpts{name: "s2_kill_" + mode, replicas: 1, webhook: webhook})
	if err != nil {
		return err
	}
	defer d.close()
	heads, err := d.api.makeHeads(ctx, "K", headChats, nHeads, 0)
	if err != nil {
		return err
	}
	due := time.Now().Add(noticesDrained(nRem) + time.Duration(nRem)*2*time.Millisecond).Truncate(time.Second).Add(time.Second)
	w, err := registerWave(ctx, d, "K"+mode[:1], heads, nRem, due)
	if err != nil {
		return err
	}
	rs := newReports(nReports)
	// The kills fall while reminders are due and reports arrive: seeded
	// moments in the seconds the reminders take to leave. The first falls
	// within half a second of the due time, while the reminder tasks,
	// started a second early, wait in place for it: a task a dead worker
	// held then is queued again only once its lease runs out
	// (jobs.Queue.RescueOrphans); before that rescue, one such reminder
	// stayed pending for good in a CI run.
	window := time.Duration(float64(nRem)/providerRate*float64(time.Second)) + 2*time.Second
	at := []time.Time{due.Add(-500*time.Millisecond + time.Duration(h.rnd.Int64N(int64(time.Second))))}
	for i := 1; i < nKills; i++ {
		slot := window / time.Duration(nKills)
		at = append(at, due.Add(time.Duration(i)*slot+time.Duration(h.rnd.Int64N(int64(slot)))))
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); killer(ctx, d.replicas[0], at, r, &mu) }()
	go func() {
		defer wg.Done()
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Until(due)):
		}
		if webhook {
			rs.viaWebhook(ctx, d)
		} else {
			rs.viaPolling(ctx, d.tg)
		}
	}()
	wg.Wait()
	limitTime := time.Duration(float64(2*nRem+rs.count()) / providerRate * float64(time.Second))
	if !d.await(ctx, 2*nRem, limitTime+time.Minute, 3*time.Second) {
		mu.Lock()
		r.info("%s: not every reminder arrived: %d messages accepted in all", mode, d.tg.Stats().Accepted)
		mu.Unlock()
	}
	// A send cut by a kill waits for its task's rescue (30 s), or for a
	// resend; full size, the supervision channel's 277 posts take Slack's
	// one a second per channel, five minutes, and start only once the
	// workers are through Telegram's backlog (about 8,000 messages at 30 a
	// second, from the due time): seed 97's polling run was 30 posts short
	// at six minutes.
	d.recover(ctx, r, h.dur(90*time.Second, 10*time.Minute))
	mu.Lock()
	defer mu.Unlock()
	r.info("-- %s: %d reminders to %d heads, %d reports by %d updates, %d kills", mode, nRem, nHeads, nReports, rs.count(), nKills)
	tallyWave(ctx, d, r, w)
	tallyReports(ctx, d, r, rs)
	checkLog(ctx, d, r)
	st := d.tg.Stats()
	r.info("%s: provider 429s %d (%d for a chat's limit, %d for the overall; 31 arrivals within %s at the most crowded); webhook answers other than 200: %v",
		mode, st.TooMany, st.TooManyChat, st.TooManyOverall, st.Crowded.Round(time.Millisecond), d.webhook.status)
	// Sends in flight at a kill may repeat: at most one per worker and
	// the bot's own reply in flight.
	r.Allowed += nKills * (40 + 1)
	return nil
}
