package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/cityhall/duban/internal/fakes/tgfake"
)

// client calls duban's HTTP API with the bootstrap admin token.
type client struct {
	base  string
	token string
	http  *http.Client
}

func newClient(base, token string) *client {
	return &client{base: base, token: token, http: &http.Client{Timeout: 120 * time.Second}}
}

// do sends body (JSON, or raw bytes with contentType) and decodes the
// answer into out; an answer outside 2xx is an error naming the status.
func (c *client) do(ctx context.Context, method, path, contentType string, body any, out any) (int, error) {
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		r = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			return 0, err
		}
		r, contentType = bytes.NewReader(j), "application/json"
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, r)
	if err != nil {
		return 0, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		return resp.StatusCode, fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, strings.TrimSpace(string(raw)))
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return resp.StatusCode, fmt.Errorf("%s %s: decode: %w", method, path, err)
		}
	}
	return resp.StatusCode, nil
}

// headChats is the first chat of the heads a scenario makes; the block of
// a Telegram chat in scenario 5 names head 0's.
const headChats = 10000

// head is an agency head the harness made: the agency's code and the chat
// reminders reach them in.
type head struct {
	Agency string
	Chat   int64
	Slack  string // slack_user_id, "" for none
}

// makeHeads creates n agencies, each with a head bound to a Telegram chat
// (chats+i: a chat is bound to one person, so two sets of heads in one
// deployment take chats of their own), speaking English so that the
// harness can read the messages; slackEvery > 0 gives every slackEvery-th
// head a Slack id too.
func (c *client) makeHeads(ctx context.Context, prefix string, chats int64, n, slackEvery int) ([]head, error) {
	heads := make([]head, n)
	err := parallel(ctx, 8, n, func(i int) error {
		h := head{Agency: fmt.Sprintf("%s%05d", prefix, i), Chat: chats + int64(i)}
		if slackEvery > 0 && i%slackEvery == 0 {
			h.Slack = fmt.Sprintf("U%s%05d", prefix, i)
		}
		if _, err := c.do(ctx, "POST", "/api/v1/agencies", "", map[string]any{"code": h.Agency, "name": "Agency " + h.Agency}, nil); err != nil {
			return err
		}
		p := map[string]any{"name": "Head " + h.Agency, "agency": h.Agency, "roles": []string{"agency_head"},
			"telegram_chat_id": h.Chat, "locale": "en"}
		if h.Slack != "" {
			p["slack_user_id"] = h.Slack
		}
		if _, err := c.do(ctx, "POST", "/api/v1/people", "", p, nil); err != nil {
			return err
		}
		heads[i] = h
		return nil
	})
	return heads, err
}

// hearing is one row of a hearing import.
type hearing struct {
	Case   string
	Agency string
	Starts time.Time
}

// importHearings registers hearings through POST /api/v1/hearings/import,
// in files of at most 500 rows.
func (c *client) importHearings(ctx context.Context, hs []hearing) error {
	for len(hs) > 0 {
		n := min(500, len(hs))
		var b strings.Builder
		b.WriteString("case_number,court,courtroom,agency,starts_at,plaintiff,cause\n")
		for _, h := range hs[:n] {
			fmt.Fprintf(&b, "%s,Load Court,Room 1,%s,%s,Plaintiff,Cause\n", h.Case, h.Agency, h.Starts.UTC().Format(time.RFC3339))
		}
		if _, err := c.do(ctx, "POST", "/api/v1/hearings/import", "text/csv", []byte(b.String()), nil); err != nil {
			return err
		}
		hs = hs[n:]
	}
	return nil
}

// parallel runs f(0..n-1) on workers goroutines, stopping at the first error.
func parallel(ctx context.Context, workers, n int, f func(i int) error) error {
	var (
		mu    sync.Mutex
		first error
		next  int
		wg    sync.WaitGroup
	)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				if first != nil || next >= n || ctx.Err() != nil {
					mu.Unlock()
					return
				}
				i := next
				next++
				mu.Unlock()
				if err := f(i); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	if first == nil {
		first = ctx.Err()
	}
	return first
}

// webhookPoster posts updates to replicas' /telegram/webhook as Telegram
// does: an update that is not answered 200 is posted again, until it is,
// and the call a 200 carries (a press's answer) is made on tg.
type webhookPoster struct {
	secret string
	tg     *tgfake.Server
	http   *http.Client
	mu     sync.Mutex
	status map[int]int // answers other than 200, by status (0: no answer; -1: a 200 carrying an unreadable call)
}

func newWebhookPoster(secret string, tg *tgfake.Server) *webhookPoster {
	return &webhookPoster{secret: secret, tg: tg, http: &http.Client{Timeout: 30 * time.Second}, status: map[int]int{}}
}

// post delivers u to one of urls (in turn), retrying until one answers 200
// or ctx ends.
func (w *webhookPoster) post(ctx context.Context, urls func() []string, u tgbotapi.Update) error {
	body, _ := json.Marshal(u)
	for attempt := 0; ; attempt++ {
		us := urls()
		if len(us) > 0 {
			url := us[(u.UpdateID+attempt)%len(us)] + "/telegram/webhook"
			req, _ := http.NewRequestWithContext(ctx, "POST", url, bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-Telegram-Bot-Api-Secret-Token", w.secret)
			resp, err := w.http.Do(req)
			code := 0
			var answer []byte
			if err == nil {
				answer, _ = io.ReadAll(resp.Body)
				resp.Body.Close()
				code = resp.StatusCode
			}
			if code == http.StatusOK {
				if err := w.tg.Carry(resp.Header, answer); err != nil {
					w.mu.Lock()
					w.status[-1]++
					w.mu.Unlock()
				}
				return nil
			}
			w.mu.Lock()
			w.status[code]++
			w.mu.Unlock()
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(min(attempt+1, 10)) * 100 * time.Millisecond):
		}
	}
}
