package app_test

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/app"
	"github.com/cityhall/duban/configs"
	"github.com/cityhall/duban/i18n"
	"github.com/cityhall/duban/internal/fakes/tgfake"
	"github.com/cityhall/duban/internal/testenv"
)

var codeRE = regexp.MustCompile(`[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}`)

// TestEndToEnd_ComplaintFromTheHotlineBotToTheFollowUp: a member of the
// public reports through the Telegram bot; the complaint appears in the
// Slack supervision channel and the message is updated in place as it
// moves; the reporter hears each step; the agency's handler answers with
// a token that never shows who reported; a working day after closing the
// reporter rates it. It runs from each of testenv's clock dates: the
// time limit and the follow-up count working days, and a report filed on
// a Saturday, before National Day or on 31 December must come out the same.
func TestEndToEnd_ComplaintFromTheHotlineBotToTheFollowUp(t *testing.T) {
	testenv.EachClockDate(t, func(t *testing.T, at time.Time) {
		for _, b := range backends {
			t.Run(b.name, func(t *testing.T) { complaintFromTheHotlineBotToTheFollowUp(t, b, at) })
		}
	})
}

func complaintFromTheHotlineBotToTheFollowUp(t *testing.T, b backend, at time.Time) {
	clock := duban.NewManualClock(at)
	w := newWorldWith(t, b, func(c *configs.Config) { c.SlackSupervisionChannel = "CSUPER" }, app.Options{Clock: clock})
	handler := mustCall(t, w.r, "POST", "/api/v1/people", map[string]any{"name": "经办人小周", "agency": "GA", "roles": []string{"handler"}}, 201)
	htok := mustCall(t, w.r, "POST", fmt.Sprintf("/api/v1/people/%d/tokens", int(handler["id"].(float64))), nil, 201)["token"].(string)

	const reporter = 7001
	chatOnly := i18n.MustNew().T(duban.LocaleZH, "report.button.chat_only", nil)
	n := 9000
	next := func() int { n++; return n }
	press := func(data string) { w.tg.Queue(tgfake.CallbackUpdate(next(), reporter, reporter, 1, data)) }
	say := func(text string) { w.tg.Queue(tgfake.TextUpdate(next(), reporter, reporter, text)) }
	say("/report")
	press("r:cat:illegal_fine")
	press("r:ag:-")
	say("交警在路口无故开具罚单，拒绝出示执法证件。")
	press("r:done")
	press("r:skip")
	press("r:skip")
	say(chatOnly)
	press("r:ok")
	var code string
	eventually(t, 15*time.Second, "the tracking code", func() bool {
		for _, m := range w.telegramTo(reporter) {
			if c := codeRE.FindString(m.Text); c != "" {
				code = c
			}
		}
		return code != ""
	})
	// The supervision channel gets it, with buttons.
	w.sl.WaitCalls(t, "chat.postMessage", 1, 10*time.Second)
	var posted bool
	for _, c := range w.sl.Calls("chat.postMessage") {
		if c.Param("channel") == "CSUPER" && strings.Contains(c.Param("text"), code) && strings.Contains(c.Param("blocks"), "ca:") {
			posted = true
		}
	}
	if !posted {
		t.Fatalf("complaint %s not posted to the supervision channel with buttons", code)
	}

	told := func(sub string) {
		t.Helper()
		eventually(t, 10*time.Second, "the reporter told "+sub, func() bool {
			return countContaining(texts(w.telegramTo(reporter)), sub) > 0
		})
	}
	path := "/api/v1/complaints/" + code
	mustCall(t, w.r, "POST", path+"/actions", map[string]any{"action": "accept"}, 200)
	told("已受理")
	mustCall(t, w.r, "POST", path+"/actions", map[string]any{"action": "assign", "agency": "GA", "handler": handler["id"], "working_days": 5}, 200)
	eventually(t, 10*time.Second, "the supervision message updated in place", func() bool {
		if len(w.sl.Calls("chat.update")) > 0 {
			return true
		}
		if len(w.sl.Calls("chat.postMessage")) > 1 {
			t.Fatalf("the supervision message was posted twice: %d", len(w.sl.Calls("chat.postMessage")))
		}
		return false
	})

	// The handler sees the complaint but never the reporter.
	code1, got := callWith(t, w.r, htok, "GET", path, nil)
	if code1 != 200 || got["reporter"] != nil || strings.Contains(fmt.Sprint(got), fmt.Sprint(reporter)) {
		t.Fatalf("handler's view: %d %v", code1, got)
	}
	if c, _ := callWith(t, w.r, htok, "POST", path+"/actions", map[string]any{"action": "close"}); c != 403 {
		t.Errorf("handler closing: %d, want 403", c)
	}
	if c, _ := callWith(t, w.r, htok, "POST", path+"/actions", map[string]any{"action": "reply", "text": "经核查，罚单已撤销。"}); c != 200 {
		t.Fatalf("handler's reply: %d", c)
	}
	told("罚单已撤销")
	if c, body := call(t, w.r, "POST", path+"/actions", map[string]any{"action": "accept"}); c != 409 || body["allowed"] == nil {
		t.Errorf("accept after reply: %d %v, want 409 with allowed", c, body)
	}
	mustCall(t, w.r, "POST", path+"/actions", map[string]any{"action": "close", "text": "已撤销罚单并批评教育"}, 200)
	told("已办结")

	// /status answers the public part.
	say("/status " + strings.ToLower(strings.ReplaceAll(code, "-", "")))
	told(code)

	// Not on the day of closing, but on the next working day after it,
	// the SLA check asks for a rating.
	if st, err := w.r.Complaints.CheckSLA(t.Context()); err != nil || st.FollowedUp != 0 {
		t.Fatalf("SLA check on the day of closing: %+v %v, want no follow-up yet", st, err)
	}
	clock.Set(duban.NewCalendar(testenv.Shanghai()).NextWorkday(clock.Now()).Add(10 * time.Hour))
	if _, err := w.r.Complaints.CheckSLA(t.Context()); err != nil {
		t.Fatal(err)
	}
	var rate string
	eventually(t, 10*time.Second, "the follow-up", func() bool {
		for _, m := range w.telegramTo(reporter) {
			if i := strings.Index(m.ReplyMarkup, `"cr:`); i >= 0 {
				rate = m.ReplyMarkup[i+1 : i+1+strings.Index(m.ReplyMarkup[i+1:], `"`)]
				rate = rate[:strings.LastIndex(rate, ":")] + ":5"
			}
		}
		return rate != ""
	})
	press(rate)
	eventually(t, 10*time.Second, "the rating", func() bool {
		_, got := call(t, w.r, "GET", path, nil)
		return got["rating"] == float64(5)
	})
}
