package main

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/hibiken/asynq"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/internal/fakes/slackfake"
	"github.com/cityhall/duban/internal/fakes/tgfake"
	"github.com/cityhall/duban/jobs"
)

// caseRe finds the harness's case numbers in a message's text.
var caseRe = regexp.MustCompile(`LOAD-[A-Za-z0-9]+-\d+`)

// trackingRe finds a tracking code as the bot shows it (README.md).
var trackingRe = regexp.MustCompile(`\b[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}\b`)

// outMsg is one message a fake accepted: where it went and what it said.
type outMsg struct {
	To   string // "tg:<chat>" or "slack:<channel>"
	Text string
}

func collect(tg *tgfake.Server, sl *slackfake.Server) []outMsg {
	var out []outMsg
	if tg != nil {
		for _, m := range tg.Sent() {
			out = append(out, outMsg{To: fmt.Sprintf("tg:%d", m.ChatID), Text: m.Text})
		}
	}
	if sl != nil {
		for _, c := range sl.Posts() { // accepted ones: a refused call is no message
			out = append(out, outMsg{To: "slack:" + c.Param("channel"), Text: c.Param("text") + c.Param("blocks")})
		}
	}
	return out
}

// hearingTally is, for each case the harness registered, how many notices
// and reminders its head received.
type hearingTally struct {
	Notices, Reminders map[string]int
	Misdirected        int // a message about a case to someone not its head
}

// tallyHearings reads the messages about expected cases (case → the
// places its head may be reached, "tg:<chat>" or "slack:<id>").
func tallyHearings(msgs []outMsg, expected map[string][]string) hearingTally {
	t := hearingTally{Notices: map[string]int{}, Reminders: map[string]int{}}
	for _, m := range msgs {
		c := caseRe.FindString(m.Text)
		dest, ok := expected[c]
		if c == "" || !ok || strings.Contains(m.Text, "Escalation") {
			continue
		}
		if !contains(dest, m.To) {
			t.Misdirected++
			continue
		}
		switch {
		case strings.Contains(m.Text, "Court appearance reminder"):
			t.Reminders[c]++
		case strings.Contains(m.Text, "Court appearance notice"):
			t.Notices[c]++
		}
	}
	return t
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// lostRepeated counts, over every expected case, those with none and the
// copies beyond one.
func lostRepeated(expected map[string][]string, got map[string]int) (lost, repeated int, lostCases, repCases []string) {
	for c := range expected {
		switch n := got[c]; {
		case n == 0:
			lost++
			lostCases = append(lostCases, c)
		case n > 1:
			repeated += n - 1
			repCases = append(repCases, c)
		}
	}
	sort.Strings(lostCases)
	sort.Strings(repCases)
	return lost, repeated, lostCases, repCases
}

// deliveryLog is the state of the delivery log in the scenario's database.
type deliveryLog struct {
	ByStatus       map[string]int
	PossibleRepeat int // -1 when the column does not exist yet
	// Overdue counts the timed steps still pending more than overdueAfter
	// past their due time: a reminder whose task was lost has no delivery
	// row yet, so the log can look settled without it.
	Overdue int
}

// overdueAfter is how long past its due time a step may still be pending
// without being counted overdue: its task waits in place for the due
// time, then plans its messages.
const overdueAfter = 5 * time.Second

// settled: nothing planned is left to send, and no step overdue.
func (d deliveryLog) settled() bool {
	return d.ByStatus["queued"] == 0 && d.ByStatus["sending"] == 0 && d.Overdue == 0
}

func (d deliveryLog) String() string {
	keys := make([]string, 0, len(d.ByStatus))
	for k := range d.ByStatus {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%d ", k, d.ByStatus[k])
	}
	if d.PossibleRepeat >= 0 {
		fmt.Fprintf(&b, "possible_repeat=%d", d.PossibleRepeat)
	} else {
		b.WriteString("possible_repeat=(no column)")
	}
	if d.Overdue > 0 {
		fmt.Fprintf(&b, " steps_overdue=%d", d.Overdue)
	}
	return strings.TrimSpace(b.String())
}

func readDeliveryLog(ctx context.Context, dbURL string) (deliveryLog, error) {
	d := deliveryLog{ByStatus: map[string]int{}, PossibleRepeat: -1}
	db, err := sql.Open("postgres", dbURL)
	if err != nil {
		return d, err
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, "SELECT status, count(*) FROM deliveries GROUP BY status")
	if err != nil {
		return d, fmt.Errorf("delivery log: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var s string
		var n int
		if err := rows.Scan(&s, &n); err != nil {
			return d, err
		}
		d.ByStatus[s] = n
	}
	var has bool
	if err := db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM information_schema.columns
		WHERE table_name = 'deliveries' AND column_name = 'possible_repeat')`).Scan(&has); err == nil && has {
		_ = db.QueryRowContext(ctx, "SELECT count(*) FROM deliveries WHERE possible_repeat").Scan(&d.PossibleRepeat)
	}
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM reminders WHERE status = 'pending' AND due_at < $1",
		time.Now().Add(-overdueAfter)).Scan(&d.Overdue); err != nil {
		return d, fmt.Errorf("overdue steps: %w", err)
	}
	return d, rows.Err()
}

// queryInt runs a count on the scenario's database.
func queryInt(ctx context.Context, dbURL, q string, args ...any) (int, error) {
	db, err := sql.Open("postgres", dbURL)
	if err != nil {
		return 0, err
	}
	defer db.Close()
	var n int
	err = db.QueryRowContext(ctx, q, args...).Scan(&n)
	return n, err
}

// stuckTasks describes, for up to five deliveries still queued, the asynq
// task that should send each: its state, tries and last error, or that
// Redis has none. A row queued for good with its task archived, completed
// or gone is a loss the delivery log alone does not explain.
func stuckTasks(ctx context.Context, dbURL, redisAddr string) ([]string, error) {
	db, err := sql.Open("postgres", dbURL)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, "SELECT id, kind, resends, attempts, created_at FROM deliveries WHERE status = 'queued' ORDER BY id LIMIT 5")
	if err != nil {
		return nil, fmt.Errorf("queued deliveries: %w", err)
	}
	defer rows.Close()
	insp := asynq.NewInspector(asynq.RedisClientOpt{Addr: redisAddr})
	defer insp.Close()
	var out []string
	for rows.Next() {
		var d duban.Delivery
		var created time.Time
		if err := rows.Scan(&d.ID, &d.Kind, &d.Resends, &d.Attempts, &created); err != nil {
			return nil, err
		}
		queue, id := jobs.QueueName, jobs.DeliveryTaskID(d)
		if d.Kind == duban.MsgReply {
			queue, id = jobs.QueueConversation, jobs.ReplyTaskID(d)
		}
		desc := fmt.Sprintf("delivery %d (%s, created %s, %d attempts): task %s ", d.ID, d.Kind, created.Format("15:04:05.000"), d.Attempts, id)
		ti, err := insp.GetTaskInfo(queue, id)
		switch {
		case err != nil:
			desc += "not in Redis (" + err.Error() + ")"
		default:
			desc += fmt.Sprintf("%s, retried %d, next %s, last error %q", ti.State, ti.Retried, ti.NextProcessAt.Format("15:04:05"), ti.LastErr)
		}
		out = append(out, desc)
	}
	return out, rows.Err()
}
