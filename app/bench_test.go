package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/app"
	"github.com/cityhall/duban/configs"
	"github.com/cityhall/duban/jobs"
	"github.com/cityhall/duban/storage"
)

// limitedTelegram is a Bot API fake that enforces Telegram's limits the
// way the provider does: more than 30 messages in any second overall, or
// two to one chat within a second, is answered 429 with retry_after.
type limitedTelegram struct {
	mu       sync.Mutex
	accepted []time.Time
	lastChat map[string]time.Time
	got      map[string][]time.Time // chat → receive times
	tooMany  int
}

func newLimitedTelegram() (*limitedTelegram, *httptest.Server) {
	f := &limitedTelegram{lastChat: map[string]time.Time{}, got: map[string][]time.Time{}}
	srv := httptest.NewServer(http.HandlerFunc(f.serve))
	return f, srv
}

func (f *limitedTelegram) serve(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	w.Header().Set("Content-Type", "application/json")
	switch path := r.URL.Path; {
	case len(path) > 6 && path[len(path)-6:] == "/getMe":
		fmt.Fprint(w, `{"ok":true,"result":{"id":1,"is_bot":true,"first_name":"duban","username":"duban_bot"}}`)
	case len(path) > 12 && path[len(path)-12:] == "/sendMessage":
		now := time.Now()
		chat := r.PostForm.Get("chat_id")
		f.mu.Lock()
		n := 0
		for i := len(f.accepted) - 1; i >= 0 && now.Sub(f.accepted[i]) < time.Second; i-- {
			n++
		}
		last, seen := f.lastChat[chat]
		if n >= 30 || (seen && now.Sub(last) < time.Second) {
			f.tooMany++
			f.mu.Unlock()
			w.WriteHeader(http.StatusTooManyRequests)
			fmt.Fprint(w, `{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 1","parameters":{"retry_after":1}}`)
			return
		}
		f.accepted = append(f.accepted, now)
		f.lastChat[chat] = now
		f.got[chat] = append(f.got[chat], now)
		id := len(f.accepted)
		f.mu.Unlock()
		c, _ := strconv.ParseInt(chat, 10, 64)
		fmt.Fprintf(w, `{"ok":true,"result":{"message_id":%d,"date":%d,"chat":{"id":%d,"type":"private"},"text":"ok"}}`, id, now.Unix(), c)
	default:
		fmt.Fprint(w, `{"ok":true,"result":true}`)
	}
}

func (f *limitedTelegram) snapshot() (times []time.Time, tooMany int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.accepted), f.tooMany
}

// benchApp boots duban against the fake with n heads, one agency each.
func benchApp(b *testing.B, srv *httptest.Server, n int, offsets []time.Duration) (*running, []string) {
	b.Helper()
	cfg := testConfig(b, backends[0], func(c *configs.Config) {
		c.TelegramToken = "123456:bench"
		c.TelegramAPIEndpoint = srv.URL + "/bot%s/%s"
		c.ReminderOffsets = offsets
		c.EscalateBefore = time.Second
		c.OutcomeAfter = time.Hour
		c.Concurrency = 40
	})
	r := boot(b, cfg, app.Options{})
	ctx := context.Background()
	codes := make([]string, n)
	for i := range n {
		a := &duban.Agency{Code: fmt.Sprintf("A%04d", i), Name: fmt.Sprintf("机关%d", i)}
		if err := r.Store.CreateAgency(ctx, a); err != nil {
			b.Fatal(err)
		}
		chat := int64(10000 + i)
		if err := r.Store.CreatePerson(ctx, &duban.Person{Name: fmt.Sprintf("负责人%d", i), AgencyID: &a.ID,
			Roles: duban.Roles{duban.RoleAgencyHead}, TelegramChatID: &chat, TelegramUserID: &chat, Locale: duban.LocaleZH}); err != nil {
			b.Fatal(err)
		}
		codes[i] = a.Code
	}
	return r, codes
}

func waitSent(b *testing.B, s *storage.Store, n int, timeout time.Duration) {
	b.Helper()
	deadline := time.Now().Add(timeout)
	for {
		c, err := s.CountDeliveries(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		if c[duban.DeliverySent] >= n {
			return
		}
		if time.Now().After(deadline) {
			b.Fatalf("only %d of %d delivered after %s (%v)", c[duban.DeliverySent], n, timeout, c)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// BenchmarkBurstThroughput: many reminders come due at the same second
// for many heads, through a fake Telegram that enforces its limits.
// Reported: messages per second as a ratio to Telegram's 30/s, and the
// 429s received (targets: ≥ 0.95, zero).
func BenchmarkBurstThroughput(b *testing.B) {
	const heads = 150
	for range b.N {
		fake, srv := newLimitedTelegram()
		notices := time.Duration(heads/30+3) * time.Second
		r, codes := benchApp(b, srv, heads, []time.Duration{2 * time.Hour})
		start := time.Now().Add(2*time.Hour + notices).Truncate(time.Second)
		if _, _, err := r.Hearings.Register(context.Background(), jobs.Actor{Name: "bench"}, duban.Notice{CaseNumber: "BENCH-1",
			Court: "c", Agencies: codes, StartsAt: start, Plaintiff: "p", Cause: "c"}); err != nil {
			b.Fatal(err)
		}
		waitSent(b, r.Store, heads, time.Minute) // the notices
		before, _ := fake.snapshot()
		due := start.Add(-2 * time.Hour)
		waitSent(b, r.Store, 2*heads, time.Minute) // the reminders, all due at once
		all, tooMany := fake.snapshot()
		burst := all[len(before):]
		span := burst[len(burst)-1].Sub(burst[0]).Seconds()
		perSec := float64(len(burst)-1) / span
		b.ReportMetric(perSec/30, "ratio_to_limit")
		b.ReportMetric(perSec, "msgs/s")
		b.ReportMetric(float64(tooMany), "429s")
		b.ReportMetric(burst[0].Sub(due).Seconds(), "first_late_s")
		r.shutdown(b)
		srv.Close()
	}
}

// BenchmarkReminderLateness: reminders spread over time, each due at its
// own second; reported is how long after its due time each reached the
// provider, p50 and p99 (target p99 < 1.5 s), and the earliest (must not
// be negative: nothing early).
func BenchmarkReminderLateness(b *testing.B) {
	const heads = 40 // 4 a second for 10 seconds
	for range b.N {
		fake, srv := newLimitedTelegram()
		r, codes := benchApp(b, srv, heads, []time.Duration{time.Hour})
		base := time.Now().Add(time.Hour + 5*time.Second).Truncate(time.Second)
		dues := map[string]time.Time{}
		for i, code := range codes {
			start := base.Add(time.Duration(i/4) * time.Second)
			if _, _, err := r.Hearings.Register(context.Background(), jobs.Actor{Name: "bench"}, duban.Notice{CaseNumber: "LATE-" + code,
				Court: "c", Agencies: []string{code}, StartsAt: start, Plaintiff: "p", Cause: "c"}); err != nil {
				b.Fatal(err)
			}
			dues[strconv.Itoa(10000+i)] = start.Add(-time.Hour)
		}
		waitSent(b, r.Store, 2*heads, 2*time.Minute)
		fake.mu.Lock()
		var late []float64
		for chat, times := range fake.got {
			late = append(late, times[len(times)-1].Sub(dues[chat]).Seconds())
		}
		tooMany := fake.tooMany
		fake.mu.Unlock()
		slices.Sort(late)
		b.ReportMetric(late[len(late)/2], "p50_late_s")
		b.ReportMetric(late[len(late)*99/100], "p99_late_s")
		b.ReportMetric(late[0], "min_late_s")
		b.ReportMetric(float64(tooMany), "429s")
		r.shutdown(b)
		srv.Close()
	}
}

var _ = json.Marshal
