package main

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// lead is the one reminder offset every deployment runs with
// (DUBAN_REMINDER_OFFSETS=1h in deploy.go).
const lead = time.Hour

// providerRate is the messages a second the fake Telegram accepts.
const providerRate = 30.0

// wave is a set of hearings the harness registered: each case's head, and
// when their reminders fall due.
type wave struct {
	expected map[string][]string // case → where its head may be reached
	due      time.Time
	n        int
	// before is what the fakes had accepted when the wave was registered:
	// a deployment's second wave waits for its own messages, not for as
	// many as the first wave's already make.
	before int
}

// registerWave registers n hearings over heads in turn (case numbers
// LOAD-<tag>-<i>), each with one reminder due at due; every head is also
// told of each hearing at once, so 2n messages in all.
func registerWave(ctx context.Context, d *deployment, tag string, heads []head, n int, due time.Time) (*wave, error) {
	w := &wave{expected: map[string][]string{}, due: due, n: n, before: d.accepted()}
	hs := make([]hearing, n)
	for i := range n {
		hd := heads[i%len(heads)]
		c := fmt.Sprintf("LOAD-%s-%06d", tag, i)
		hs[i] = hearing{Case: c, Agency: hd.Agency, Starts: due.Add(lead)}
		w.expected[c] = []string{fmt.Sprintf("tg:%d", hd.Chat)}
		if hd.Slack != "" {
			w.expected[c] = append(w.expected[c], "slack:"+hd.Slack, "slack:D"+strings.TrimPrefix(hd.Slack, "U"))
		}
	}
	return w, d.api.importHearings(ctx, hs)
}

// noticesDrained is how long from now the notices of n hearings take to
// leave at the provider's rate, plus a margin: a due time after it finds
// the queue empty.
func noticesDrained(n int) time.Duration {
	return time.Duration(float64(n)/29*float64(time.Second)) + 5*time.Second
}

// await waits until the fake Telegram accepted at least want messages, or
// timeout; then it waits settle longer for any repeat to arrive.
func (d *deployment) await(ctx context.Context, want int, timeout, settle time.Duration) bool {
	ok := waitUntil(ctx, timeout, func() bool { return d.accepted() >= want })
	if settle > 0 {
		select {
		case <-ctx.Done():
		case <-time.After(settle):
		}
	}
	return ok
}

// accepted is how many messages the fakes have accepted in all.
func (d *deployment) accepted() int { return d.tg.Stats().Accepted + d.sl.Stats().Accepted }

// tallyWave counts w's notices and reminders into r, and checks the
// delivery log holds nothing unfinished.
func tallyWave(ctx context.Context, d *deployment, r *result, w *wave) hearingTally {
	t := tallyHearings(collect(d.tg, d.sl), w.expected)
	ln, rn, lostN, repN := lostRepeated(w.expected, t.Notices)
	lr, rr, lostR, repR := lostRepeated(w.expected, t.Reminders)
	r.Lost += ln + lr
	r.Repeated += rn + rr
	r.info("notices: %d of %d delivered, %d repeated; reminders: %d of %d delivered, %d repeated",
		len(w.expected)-ln, len(w.expected), rn, len(w.expected)-lr, len(w.expected), rr)
	if len(lostN)+len(lostR) > 0 {
		r.info("first cases missing: notices %v, reminders %v", first(lostN, 5), first(lostR, 5))
	}
	if len(repN)+len(repR) > 0 {
		r.info("first cases repeated: notices %v, reminders %v (grep the replica logs for them)", first(repN, 5), first(repR, 5))
	}
	r.check(t.Misdirected == 0, "%d messages reached someone other than the case's head", t.Misdirected)
	return t
}

func checkLog(ctx context.Context, d *deployment, r *result) deliveryLog {
	// A periodic task's message may be in flight as the load ends (a
	// supervision post waiting its channel's slot, queued a few seconds):
	// what is still queued or sending 20 s on is left for good.
	var log deliveryLog
	var err error
	waitUntil(ctx, 20*time.Second, func() bool {
		log, err = readDeliveryLog(ctx, d.db)
		return err == nil && log.settled()
	})
	if err != nil {
		r.fail("read delivery log: %v", err)
		return log
	}
	r.info("delivery log: %s", log)
	if n := log.ByStatus["sending"]; n > 0 {
		r.fail("%d deliveries left `sending` and never sent (the crash policy of issue 9 — resend once as a possible repeat — is not in this build)", n)
	}
	if log.Overdue > 0 {
		r.fail("%d timed steps still pending more than %s past their due time", log.Overdue, overdueAfter)
	}
	if n := log.ByStatus["queued"]; n > 0 {
		r.fail("%d deliveries still `queued` at the end", n)
		stuck, err := stuckTasks(ctx, d.db, d.h.redis.Addr())
		if err != nil {
			r.info("their tasks: %v", err)
		}
		for _, s := range stuck {
			r.info("  %s", s)
		}
	}
	return log
}

// recover waits until the delivery log holds nothing queued or sending
// (everything planned has left) and no timed step is overdue, up to timeout, and records how long that
// took.
func (d *deployment) recover(ctx context.Context, r *result, timeout time.Duration) bool {
	start := time.Now()
	ok := waitUntil(ctx, timeout, func() bool {
		log, err := readDeliveryLog(ctx, d.db)
		return err == nil && log.settled()
	})
	if ok {
		r.info("delivery log settled (nothing queued or sending, no step overdue) %s after the load", time.Since(start).Round(100*time.Millisecond))
	} else {
		r.info("delivery log still holds queued or sending rows, or a step is overdue, %s after the load", timeout)
	}
	time.Sleep(2 * time.Second) // a repeat in flight arrives
	return ok
}

func first(xs []string, n int) []string { return xs[:min(n, len(xs))] }

// burst is scenario 1: N reminders due at the same moment for M heads.
// All must be delivered, with no 429, in about the time the provider's
// limit allows.
func burst(ctx context.Context, h *harness, r *result) error {
	n, m := h.size(300, 10000), h.size(60, 2000)
	d, err := h.deploy(ctx, deployOpts{name: "s1_burst", replicas: 1})
	if err != nil {
		return err
	}
	defer d.close()
	heads, err := d.api.makeHeads(ctx, "B", headChats, m, 0)
	if err != nil {
		return err
	}
	regStart := time.Now()
	// The reminders fall due once the notices have left, so the burst
	// starts on an empty queue (import takes ~2 s per 1,000 rows).
	due := time.Now().Add(time.Duration(n)*2*time.Millisecond + noticesDrained(n)).Truncate(time.Second).Add(time.Second)
	w, err := registerWave(ctx, d, "B", heads, n, due)
	if err != nil {
		return err
	}
	r.info("%d hearings for %d heads registered in %s; reminders due at %s", n, m, time.Since(regStart).Round(time.Millisecond), due.Format("15:04:05"))
	if time.Now().After(due) {
		r.fail("registration took past the due time; the burst is not measured from an empty queue")
	}
	limitTime := time.Duration(float64(2*n) / providerRate * float64(time.Second))
	if !d.await(ctx, 2*n, time.Until(due)+3*limitTime+time.Minute, 3*time.Second) {
		r.fail("not everything delivered in time: %d of %d messages accepted", d.tg.Stats().Accepted, 2*n)
	}
	tallyWave(ctx, d, r, w)
	checkLog(ctx, d, r)

	st := d.tg.Stats()
	r.info("arrivals: %s", arrivals(d.tg))
	for _, l := range refusals(d.tg) {
		r.info("%s", l)
	}
	checkProviderLimit(r, st, st.Accepted)
	// Timing, for the record: from the due time to the last reminder,
	// against what 30/s allows for every message sent in that window.
	var firstAt, lastAt time.Time
	inWindow := 0
	for _, msg := range d.tg.Sent() {
		if msg.At.Before(due) {
			continue
		}
		inWindow++
		if strings.Contains(msg.Text, "Court appearance reminder") {
			if firstAt.IsZero() {
				firstAt = msg.At
			}
			lastAt = msg.At
		}
	}
	if !lastAt.IsZero() {
		took := lastAt.Sub(due)
		allowed := time.Duration(float64(inWindow-1) / providerRate * float64(time.Second))
		r.info("429s %d; first reminder %.2f s after the due time, last %.1f s; the limit allows %.1f s for the %d messages from the due time on: ratio %.3f",
			st.TooMany, firstAt.Sub(due).Seconds(), took.Seconds(), allowed.Seconds(), inWindow, allowed.Seconds()/took.Seconds())
	}
	return nil
}
