// Package tgfake is a fake Telegram Bot API on httptest for tests: it speaks
// the real wire format (form-encoded requests, {"ok":…,"result":…}
// answers), serves the updates a test queues through getUpdates with
// Telegram's offset semantics, and records every call. A test can script
// Telegram's errors (Fail, Answer), hold the client to one token
// (RequireToken), enforce Telegram's rate limits (EnforceLimits), and break
// like a provider under load (SetFaults, Block). Start serves it outside a
// test, as the load harness (cmd/dubanload) does.
package tgfake

import (
	"encoding/json"
	"fmt"
	"github.com/cityhall/duban/internal/fakes/changes"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
)

// Call is one request the fake received.
type Call struct {
	Method string
	Token  string
	Path   string // /bot<token>/<method>
	Form   url.Values
}

// Message is one message the bot sent (sendMessage).
type Message struct {
	ChatID      int64
	Text        string
	ReplyMarkup string    // the reply_markup JSON as sent, "" for none
	At          time.Time // when the fake received it
}

// Server is the fake Bot API. Its zero value is not usable; use New.
type Server struct {
	srv     *httptest.Server
	mu      sync.Mutex
	changed changes.Signal // closed and replaced whenever state changes
	closed  chan struct{}
	updates []tgbotapi.Update
	calls   []Call
	sent    []Message
	nextID  int
	fail    map[string][]apiError
	answer  func(method string, form url.Values) (status int, body string)
	token   string              // the one token accepted, "" for any
	limits  bool                // Telegram's rate limits enforced on sendMessage
	tooMany int                 // sendMessage calls refused by the limits
	chatTAT map[int64]time.Time // per chat: when its bucket is full again (see overLimitLocked)
	faults  Faults
	rnd     *rand.Rand
	blocked map[int64]bool
	stats   Stats
}

// Faults are the failures SetFaults injects into sendMessage, each drawn
// at its rate from a seeded source so that a run can be repeated.
type Faults struct {
	Seed       uint64
	ErrorRate  float64       // answered 500 Internal Server Error, nothing sent
	SlowRate   float64       // answered after Slow
	Slow       time.Duration // how slow a slow answer is
	DropRate   float64       // accepted, then the connection is dropped unanswered
	RetryAfter int           // the retry_after of a 429, in seconds; 0 means 1
}

// Stats count what the fake did with sendMessage.
type Stats struct {
	Accepted int // messages accepted (sent), those whose answer was dropped included
	TooMany  int // refused 429 by the limits: TooManyChat + TooManyOverall
	// TooManyChat were refused for their chat's limit, TooManyOverall for
	// the 30 a second of all chats.
	TooManyChat, TooManyOverall int
	// Crowded is, over the refusals for the overall limit, the shortest
	// time in which 31 messages arrived (30 accepted and the refused one):
	// a little under a second says the sender kept the limit and the
	// arrivals jittered; much less says it did not.
	Crowded time.Duration
	// Refused are the messages refused 429, as they arrived.
	Refused []Message
	Errors  int // answered 5xx by SetFaults
	Slow    int // answered slowly
	Dropped int // accepted, then the connection dropped: the sender cannot know it was sent
	Blocked int // refused 403 because the chat blocked the bot
	// Abandoned are messages accepted after the client had given up on
	// the request (a slow answer past its deadline): the sender cannot
	// know they were sent either.
	Abandoned int
}

type apiError struct {
	code int
	desc string
	raw  string // when set, the whole body of the answer
}

// New starts a fake, closed when the test ends.
func New(t testing.TB) *Server {
	s := Start()
	t.Cleanup(s.Close)
	return s
}

// Start starts a fake on a loopback port, outside a test; Close stops it.
func Start() *Server {
	s := &Server{closed: make(chan struct{}), fail: map[string][]apiError{}, nextID: 100,
		blocked: map[int64]bool{}, chatTAT: map[int64]time.Time{}, rnd: rand.New(rand.NewPCG(1, 1))}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// SetFaults makes sendMessage fail as f says from now on; the zero Faults
// turns them off.
func (s *Server) SetFaults(f Faults) {
	s.mu.Lock()
	s.faults = f
	s.rnd = rand.New(rand.NewPCG(f.Seed, f.Seed^0x9e3779b97f4a7c15))
	s.mu.Unlock()
}

// Block makes chat refuse every message as a user who blocked the bot
// does: 403 "Forbidden: bot was blocked by the user".
func (s *Server) Block(chat int64) {
	s.mu.Lock()
	s.blocked[chat] = true
	s.mu.Unlock()
}

// Stats returns the counts of what sendMessage did.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	st.Refused = append([]Message(nil), s.stats.Refused...)
	st.TooMany = s.tooMany
	return st
}

// Close stops the fake, ending any getUpdates it is holding open.
func (s *Server) Close() {
	s.mu.Lock()
	select {
	case <-s.closed:
		s.mu.Unlock()
		return
	default:
		close(s.closed)
	}
	s.mu.Unlock()
	s.srv.Close()
}

// URL is the fake's base URL.
func (s *Server) URL() string { return s.srv.URL }

// Endpoint is the API endpoint as tgbotapi.NewBotAPIWithAPIEndpoint takes it.
func (s *Server) Endpoint() string { return s.srv.URL + "/bot%s/%s" }

// Queue adds updates for getUpdates to deliver.
func (s *Server) Queue(updates ...tgbotapi.Update) {
	s.mu.Lock()
	s.updates = append(s.updates, updates...)
	s.notifyLocked()
	s.mu.Unlock()
}

// Pending is how many queued updates are not yet confirmed by a later
// getUpdates offset.
func (s *Server) Pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.updates)
}

// Fail makes the next call of method fail with an API error of code.
func (s *Server) Fail(method string, code int, description string) {
	s.mu.Lock()
	s.fail[method] = append(s.fail[method], apiError{code: code, desc: description})
	s.mu.Unlock()
}

// FailRaw makes the next call of method answer status with body as it
// stands: a 429 with its retry_after parameter, a proxy's 502 page.
func (s *Server) FailRaw(method string, status int, body string) {
	s.mu.Lock()
	s.fail[method] = append(s.fail[method], apiError{code: status, raw: body})
	s.mu.Unlock()
}

// Answer makes every later call but getMe answer what fn returns, an HTTP
// status and a raw body, for the answers a test needs beyond Fail's (a
// retry_after parameter, a proxy's HTML page); nil restores the fake's own
// answers. Calls are recorded all the same.
func (s *Server) Answer(fn func(method string, form url.Values) (status int, body string)) {
	s.mu.Lock()
	s.answer = fn
	s.mu.Unlock()
}

// RequireToken makes every call with another bot token fail as Telegram
// fails it: 401 Unauthorized.
func (s *Server) RequireToken(token string) {
	s.mu.Lock()
	s.token = token
	s.mu.Unlock()
}

// EnforceLimits makes sendMessage refuse, as Telegram does, more than 30
// messages in any second overall, or more than about one a second to a
// chat beyond a short burst (ChatBurst): 429 with retry_after 1.
// https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this
func (s *Server) EnforceLimits() {
	s.mu.Lock()
	s.limits = true
	s.mu.Unlock()
}

// TooMany is how many messages the limits refused.
func (s *Server) TooMany() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tooMany
}

// Calls returns the forms of every call of method, in order.
func (s *Server) Calls(method string) []url.Values {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []url.Values
	for _, c := range s.calls {
		if c.Method == method {
			out = append(out, c.Form)
		}
	}
	return out
}

// AllCalls returns every call, in order.
func (s *Server) AllCalls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.calls...)
}

// Sent returns the messages sent, in order.
func (s *Server) Sent() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.sent...)
}

// WaitSent waits until at least n messages were sent and returns them all,
// failing the test after timeout.
func (s *Server) WaitSent(t testing.TB, n int, timeout time.Duration) []Message {
	t.Helper()
	if !s.wait(timeout, func() bool { return len(s.sent) >= n }) {
		t.Fatalf("tgfake: %d messages sent after %s, want %d: %+v", len(s.Sent()), timeout, n, s.Sent())
	}
	return s.Sent()
}

// WaitCalls waits until method was called at least n times and returns
// the forms, failing the test after timeout.
func (s *Server) WaitCalls(t testing.TB, method string, n int, timeout time.Duration) []url.Values {
	t.Helper()
	count := func() int {
		k := 0
		for _, c := range s.calls {
			if c.Method == method {
				k++
			}
		}
		return k
	}
	if !s.wait(timeout, func() bool { return count() >= n }) {
		t.Fatalf("tgfake: %s called %d times after %s, want %d", method, len(s.Calls(method)), timeout, n)
	}
	return s.Calls(method)
}

// wait reports whether cond, checked under the lock, held before timeout.
func (s *Server) wait(timeout time.Duration, cond func() bool) bool {
	return s.changed.Wait(&s.mu, timeout, cond)
}

func (s *Server) notifyLocked() { s.changed.Notify() }

// serve answers POST /bot<token>/<method>, as the Bot API's clients send.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.Path, "/bot")
	token, method, ok2 := strings.Cut(rest, "/")
	if !ok || !ok2 || r.Method != http.MethodPost {
		reply(w, http.StatusNotFound, nil, "Not Found")
		return
	}
	if err := r.ParseForm(); err != nil {
		reply(w, http.StatusBadRequest, nil, "Bad Request: "+err.Error())
		return
	}
	s.mu.Lock()
	s.calls = append(s.calls, Call{Method: method, Token: token, Path: r.URL.Path, Form: r.PostForm})
	var failure *apiError
	if f := s.fail[method]; len(f) > 0 {
		failure, s.fail[method] = &f[0], f[1:]
	}
	if s.token != "" && token != s.token {
		failure = &apiError{code: http.StatusUnauthorized, desc: "Unauthorized"}
	}
	answer := s.answer
	s.notifyLocked()
	s.mu.Unlock()
	if failure != nil && failure.raw != "" {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(failure.code)
		_, _ = io.WriteString(w, failure.raw)
		return
	}
	if failure != nil {
		reply(w, failure.code, nil, failure.desc)
		return
	}
	if answer != nil && method != "getMe" {
		status, body := answer(method, r.PostForm)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
		return
	}
	switch method {
	case "getMe":
		reply(w, http.StatusOK, tgbotapi.User{ID: 1, IsBot: true, FirstName: "duban", UserName: "duban_bot"}, "")
	case "getUpdates":
		s.getUpdates(w, r)
	case "sendMessage":
		s.sendMessage(w, r)
	case "editMessageReplyMarkup", "editMessageText":
		chat, _ := strconv.ParseInt(r.PostForm.Get("chat_id"), 10, 64)
		id, _ := strconv.Atoi(r.PostForm.Get("message_id"))
		reply(w, http.StatusOK, tgbotapi.Message{MessageID: id, Chat: &tgbotapi.Chat{ID: chat, Type: "private"}}, "")
	case "answerCallbackQuery", "setWebhook", "deleteWebhook":
		reply(w, http.StatusOK, true, "")
	default:
		reply(w, http.StatusNotFound, nil, "Not Found: method "+method)
	}
}

// Carry makes the call a webhook's answer to an update carries, as
// Telegram does with the 200's body (the Bot API lets it name one method
// and its parameters, form-encoded or JSON): the call is served and
// recorded as one made by request, and its result is lost, as Telegram
// gives the bot none. An empty body carries no call.
func (s *Server) Carry(h http.Header, body []byte) error {
	if len(body) == 0 {
		return nil
	}
	form := url.Values{}
	switch ct, _, _ := strings.Cut(h.Get("Content-Type"), ";"); strings.TrimSpace(ct) {
	case "application/x-www-form-urlencoded":
		var err error
		if form, err = url.ParseQuery(string(body)); err != nil {
			return fmt.Errorf("tgfake: webhook answer: %w", err)
		}
	case "application/json":
		var m map[string]json.RawMessage
		if err := json.Unmarshal(body, &m); err != nil {
			return fmt.Errorf("tgfake: webhook answer: %w", err)
		}
		for k, v := range m {
			var str string
			if json.Unmarshal(v, &str) != nil {
				str = string(v)
			}
			form.Set(k, str)
		}
	default:
		return fmt.Errorf("tgfake: webhook answer of type %q", h.Get("Content-Type"))
	}
	method := form.Get("method")
	if method == "" {
		return fmt.Errorf("tgfake: webhook answer without a method: %s", body)
	}
	form.Del("method")
	token := s.token
	if token == "" {
		token = "webhook"
	}
	req := httptest.NewRequest(http.MethodPost, "/bot"+token+"/"+method, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	s.serve(httptest.NewRecorder(), req)
	return nil
}

func (s *Server) sendMessage(w http.ResponseWriter, r *http.Request) {
	form := r.PostForm
	chat, err := strconv.ParseInt(form.Get("chat_id"), 10, 64)
	if err != nil || form.Get("text") == "" {
		reply(w, http.StatusBadRequest, nil, "Bad Request: chat_id and text are required")
		return
	}
	s.mu.Lock()
	if s.blocked[chat] {
		s.stats.Blocked++
		s.mu.Unlock()
		// https://core.telegram.org/api/errors#403-forbidden
		reply(w, http.StatusForbidden, nil, "Forbidden: bot was blocked by the user")
		return
	}
	f := s.faults
	fail, slow, drop := s.roll(f.ErrorRate), s.roll(f.SlowRate), s.roll(f.DropRate)
	if fail {
		s.stats.Errors++
		s.mu.Unlock()
		reply(w, http.StatusInternalServerError, nil, "Internal Server Error")
		return
	}
	if slow {
		s.stats.Slow++
	}
	s.mu.Unlock()
	if slow {
		select {
		case <-time.After(f.Slow):
		case <-s.closed:
		}
	}
	s.mu.Lock()
	now := time.Now() // under the lock, so that sent stays in order
	if s.limits && s.overLimitLocked(chat, now) {
		s.tooMany++
		s.stats.Refused = append(s.stats.Refused, Message{ChatID: chat, Text: form.Get("text"), At: now})
		s.mu.Unlock()
		after := max(f.RetryAfter, 1)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusTooManyRequests)
		_ = json.NewEncoder(w).Encode(map[string]any{"ok": false, "error_code": http.StatusTooManyRequests,
			"description": fmt.Sprintf("Too Many Requests: retry after %d", after), "parameters": map[string]any{"retry_after": after}})
		return
	}
	s.nextID++
	id := s.nextID
	s.sent = append(s.sent, Message{ChatID: chat, Text: form.Get("text"), ReplyMarkup: form.Get("reply_markup"), At: now})
	s.stats.Accepted++
	if r.Context().Err() != nil {
		s.stats.Abandoned++ // the client gave up on a slow answer; Telegram sends it all the same
	}
	if drop {
		s.stats.Dropped++
	}
	s.notifyLocked()
	s.mu.Unlock()
	if drop {
		dropConnection(w)
		return
	}
	reply(w, http.StatusOK, tgbotapi.Message{MessageID: id, Date: int(now.Unix()),
		Chat: &tgbotapi.Chat{ID: chat, Type: "private"}, Text: form.Get("text")}, "")
}

// roll draws whether a fault of rate happens; under the lock.
func (s *Server) roll(rate float64) bool { return rate > 0 && s.rnd.Float64() < rate }

// dropConnection closes the request's connection without an answer, as a
// network failure after the request arrived does.
func dropConnection(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if c, _, err := hj.Hijack(); err == nil {
			c.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}

// Counts returns how many messages each chat was sent.
func (s *Server) Counts() map[int64]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[int64]int{}
	for _, m := range s.sent {
		out[m.ChatID]++
	}
	return out
}

// ChatBurst is how many messages a chat may take at once before its one a
// second holds: Telegram "may allow short bursts that go over this limit"
// (https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this)
// without saying how short; the fake allows three.
const ChatBurst = 3

// overLimitLocked reports whether a message to chat at now would break
// Telegram's limits, counting it as sent when it would not: 30 messages in
// any second overall; per chat a bucket of ChatBurst refilled one a second.
func (s *Server) overLimitLocked(chat int64, now time.Time) bool {
	n := 0
	for i := len(s.sent) - 1; i >= 0 && now.Sub(s.sent[i].At) < time.Second; i-- {
		n++
	}
	if n >= 30 {
		span := now.Sub(s.sent[len(s.sent)-30].At)
		if s.stats.TooManyOverall == 0 || span < s.stats.Crowded {
			s.stats.Crowded = span
		}
		s.stats.TooManyOverall++
		return true
	}
	// The bucket as a theoretical arrival time: full again at tat; a
	// message fits while tat is at most ChatBurst-1 seconds ahead.
	tat := s.chatTAT[chat]
	if tat.Before(now) {
		tat = now
	}
	if tat.Sub(now) > (ChatBurst-1)*time.Second {
		s.stats.TooManyChat++
		return true
	}
	s.chatTAT[chat] = tat.Add(time.Second)
	return false
}

// getUpdates answers the unconfirmed updates from offset on, holding the
// call open up to timeout seconds while there are none. Asking for an
// offset confirms every update before it, which Telegram then forgets.
func (s *Server) getUpdates(w http.ResponseWriter, r *http.Request) {
	offset, _ := strconv.Atoi(r.PostForm.Get("offset"))
	timeout, _ := strconv.Atoi(r.PostForm.Get("timeout"))
	limit, _ := strconv.Atoi(r.PostForm.Get("limit"))
	if limit <= 0 || limit > 100 {
		limit = 100
	}
	deadline := time.NewTimer(time.Duration(timeout) * time.Second)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		if offset > 0 {
			kept := s.updates[:0]
			for _, u := range s.updates {
				if u.UpdateID >= offset {
					kept = append(kept, u)
				}
			}
			s.updates = kept
		}
		out := append([]tgbotapi.Update{}, s.updates[:min(limit, len(s.updates))]...)
		ch := s.changed.C()
		s.mu.Unlock()
		if len(out) > 0 || timeout <= 0 {
			reply(w, http.StatusOK, out, "")
			return
		}
		select {
		case <-ch:
		case <-deadline.C:
			reply(w, http.StatusOK, out, "")
			return
		case <-r.Context().Done():
			return
		case <-s.closed:
			reply(w, http.StatusOK, out, "")
			return
		}
	}
}

// reply writes a Bot API answer: result when code is 200, else an error.
func reply(w http.ResponseWriter, code int, result any, description string) {
	w.Header().Set("Content-Type", "application/json")
	if code != http.StatusOK {
		w.WriteHeader(code)
		_ = json.NewEncoder(w).Encode(map[string]any{"ok": false, "error_code": code, "description": description})
		return
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"ok": true, "result": result})
}

// TextUpdate is a private-chat text message from user in chat, a
// bot_command entity included when text starts with "/".
func TextUpdate(updateID int, chatID, userID int64, text string) tgbotapi.Update {
	m := &tgbotapi.Message{MessageID: updateID, Date: int(time.Now().Unix()), Text: text,
		From: &tgbotapi.User{ID: userID, FirstName: fmt.Sprintf("user%d", userID)},
		Chat: &tgbotapi.Chat{ID: chatID, Type: "private"}}
	if strings.HasPrefix(text, "/") {
		n := strings.IndexAny(text, " \n")
		if n < 0 {
			n = len(text)
		}
		m.Entities = []tgbotapi.MessageEntity{{Type: "bot_command", Offset: 0, Length: n}}
	}
	return tgbotapi.Update{UpdateID: updateID, Message: m}
}

// CallbackUpdate is a press by user of a button with data under message
// messageID in chat.
func CallbackUpdate(updateID int, chatID, userID int64, messageID int, data string) tgbotapi.Update {
	return tgbotapi.Update{UpdateID: updateID, CallbackQuery: &tgbotapi.CallbackQuery{
		ID:   fmt.Sprintf("cq%d", updateID),
		From: &tgbotapi.User{ID: userID, FirstName: fmt.Sprintf("user%d", userID)},
		Message: &tgbotapi.Message{MessageID: messageID, Date: int(time.Now().Unix()),
			Chat: &tgbotapi.Chat{ID: chatID, Type: "private"}},
		ChatInstance: "1",
		Data:         data,
	}}
}
