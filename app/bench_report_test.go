package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
	"github.com/jmoiron/sqlx"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/app"
	"github.com/cityhall/duban/configs"
	"github.com/cityhall/duban/i18n"
	"github.com/cityhall/duban/internal/fakes/tgfake"
)

const webhookSecret = "bench-webhook-secret"

// chatOnly is the label of the contact step's "updates in this chat" key.
var chatOnly = i18n.MustNew().T(duban.LocaleZH, "report.button.chat_only", nil)

// reportUpdates is one whole report through the hotline bot, as Telegram
// would post it: nine updates from /report to the confirmation.
func reportUpdates(next func() int, chat int64) []tgbotapi.Update {
	press := func(data string) tgbotapi.Update { return tgfake.CallbackUpdate(next(), chat, chat, 1, data) }
	say := func(text string) tgbotapi.Update { return tgfake.TextUpdate(next(), chat, chat, text) }
	return []tgbotapi.Update{
		say("/report"), press("r:cat:illegal_fee"), press("r:ag:-"), say("收费站多收了 50 元，没有票据。"),
		press("r:done"), press("r:skip"), press("r:skip"), say(chatOnly), press("r:ok"),
	}
}

// webhookBench is duban on PostgreSQL in webhook mode, and a client that
// posts updates and times each answer.
type webhookBench struct {
	r   *running
	url string
	mu  sync.Mutex
	lat []time.Duration
}

func newWebhookBench(b *testing.B) *webhookBench {
	tg := tgfake.New(b)
	cfg := testConfig(b, backends[1], func(c *configs.Config) {
		c.TelegramToken = "777:bench"
		c.TelegramAPIEndpoint = tg.Endpoint()
		c.TelegramMode = configs.TelegramWebhook
		c.TelegramWebhookURL = "https://duban.example/telegram/webhook"
		c.TelegramWebhookSecret = webhookSecret
		c.Concurrency = 10
	})
	r := boot(b, cfg, app.Options{})
	return &webhookBench{r: r, url: "http://" + r.Addr() + "/telegram/webhook"}
}

func (w *webhookBench) post(b *testing.B, u tgbotapi.Update) {
	body, _ := json.Marshal(u)
	req, _ := http.NewRequest("POST", w.url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Telegram-Bot-Api-Secret-Token", webhookSecret)
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Error(err)
		return
	}
	resp.Body.Close()
	d := time.Since(start)
	if resp.StatusCode != 200 {
		b.Errorf("update %d: %d", u.UpdateID, resp.StatusCode)
	}
	w.mu.Lock()
	w.lat = append(w.lat, d)
	w.mu.Unlock()
}

// run posts reports (each its own chat) from 8 clients at once and reports
// updates/s, reports/s and the p50/p99 time to answer an update.
func (w *webhookBench) run(b *testing.B, reports int) (updatesPerSec, reportsPerSec float64) {
	var id atomic.Int64
	next := func() int { return int(id.Add(1)) }
	jobs := make(chan int64)
	var wg sync.WaitGroup
	start := time.Now()
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for chat := range jobs {
				for _, u := range reportUpdates(next, chat) {
					w.post(b, u)
				}
			}
		}()
	}
	base := time.Now().UnixNano() % 1e9
	for i := range reports {
		jobs <- base + int64(i)
	}
	close(jobs)
	wg.Wait()
	el := time.Since(start).Seconds()
	return float64(id.Load()) / el, float64(reports) / el
}

// directReports issues, from 8 clients, the same statements the bot's
// transactions issue for a whole report — nine update marks, the draft
// saved eight times, the complaint with its first event, idempotency key
// and audit row — each update in its own transaction, straight through
// sqlx: the ceiling the bot is compared with.
func directReports(b *testing.B, db *sqlx.DB, reports int) (updatesPerSec, reportsPerSec float64) {
	var id atomic.Int64
	ctx := context.Background()
	jobs := make(chan int64)
	var wg sync.WaitGroup
	start := time.Now()
	draft := `{"step":"text","category":"illegal_fee","text":"收费站多收了 50 元，没有票据。"}`
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for chat := range jobs {
				key := fmt.Sprintf("tg:%d", chat)
				for step := range 9 {
					tx, err := db.BeginTxx(ctx, nil)
					if err != nil {
						b.Error(err)
						return
					}
					now := time.Now().UTC()
					u := id.Add(1)
					mustExec(b, tx, `INSERT INTO processed_updates (source, update_id, processed_at) VALUES ('bench', $1, $2) ON CONFLICT DO NOTHING`, fmt.Sprint(u), now)
					var n int
					_ = tx.GetContext(ctx, &n, `SELECT COUNT(*) FROM people WHERE telegram_user_id = $1`, chat)
					_ = tx.GetContext(ctx, &n, `SELECT COUNT(*) FROM chat_states WHERE chat_key = $1`, key)
					mustExec(b, tx, `DELETE FROM chat_states WHERE chat_key = $1`, key)
					if step < 8 {
						mustExec(b, tx, `INSERT INTO chat_states (chat_key, kind, data, updated_at) VALUES ($1, 'report', $2, $3)`, key, draft, now)
					} else {
						var cid int64
						code := duban.NewTrackingCode()
						if err := tx.QueryRowxContext(ctx, `INSERT INTO complaints (tracking_code, status, source, category, description,
							reporter_chat_id, reporter_locale, anonymous, created_at, updated_at) VALUES ($1, 'received', 'telegram', 'illegal_fee',
							'收费站多收了 50 元，没有票据。', $2, 'zh-CN', false, $3, $3) RETURNING id`, code, chat, now).Scan(&cid); err != nil {
							b.Error(err)
						}
						mustExec(b, tx, `INSERT INTO idempotency_keys (key, complaint_id, created_at) VALUES ($1, $2, $3)`, fmt.Sprintf("bench:%d", u), cid, now)
						mustExec(b, tx, `INSERT INTO complaint_events (complaint_id, action, actor, at, text, public) VALUES ($1, 'receive', 'telegram', $2, 'telegram', true)`, cid, now)
						mustExec(b, tx, `INSERT INTO audit_log (actor, action, target, detail, at) VALUES ('telegram', 'complaint.create', $1, 'telegram', $2)`, fmt.Sprint(cid), now)
					}
					if err := tx.Commit(); err != nil {
						b.Error(err)
					}
				}
			}
		}()
	}
	base := time.Now().UnixNano() % 1e9
	for i := range reports {
		jobs <- base + int64(i)
	}
	close(jobs)
	wg.Wait()
	el := time.Since(start).Seconds()
	return float64(id.Load()) / el, float64(reports) / el
}

func mustExec(b *testing.B, tx *sqlx.Tx, q string, args ...any) {
	if _, err := tx.Exec(q, args...); err != nil {
		b.Error(err)
	}
}

// BenchmarkWebhookReports: whole reports through the Telegram webhook on
// PostgreSQL, 8 reporters at a time, against the same statements issued
// directly. Target: at least half the direct rate.
func BenchmarkWebhookReports(b *testing.B) {
	const reports = 200
	for range b.N {
		w := newWebhookBench(b)
		ups, rps := w.run(b, reports)
		var n int
		if err := w.r.Store.DB().Get(&n, `SELECT COUNT(*) FROM complaints`); err != nil || n != reports {
			b.Fatalf("%d complaints after %d reports (%v)", n, reports, err)
		}
		dups, drps := directReports(b, w.r.Store.DB(), reports)
		slices.Sort(w.lat)
		b.ReportMetric(ups, "updates/s")
		b.ReportMetric(rps, "reports/s")
		b.ReportMetric(dups, "direct_updates/s")
		b.ReportMetric(drps, "direct_reports/s")
		b.ReportMetric(ups/dups, "ratio")
		b.ReportMetric(float64(w.lat[len(w.lat)/2].Microseconds())/1000, "p50_ms")
		b.ReportMetric(float64(w.lat[len(w.lat)*99/100].Microseconds())/1000, "p99_ms")
		w.r.shutdown(b)
	}
}
