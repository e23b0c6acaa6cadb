package main

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/cityhall/duban/internal/fakes/slackfake"
	"github.com/cityhall/duban/internal/fakes/tgfake"
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
