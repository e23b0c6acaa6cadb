// Package slackfake is a fake Slack for tests, on httptest: the Web API
// methods duban calls (chat.postMessage, chat.update, chat.postEphemeral,
// views.open, auth.test, conversations.open, apps.connections.open), a
// response_url endpoint, and a Socket Mode WebSocket. It records every call
// and signs requests as Slack does. A test can script Slack's errors (Fail,
// Answer), hold the client to one token (RequireToken), enforce Slack's
// posting limit (EnforceLimits) and inject failures (SetFaults). Start
// serves it outside a test, as the load harness (cmd/dubanload) does.
package slackfake

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
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
)

// Call is one Web API request the fake received.
type Call struct {
	Method string
	Header http.Header
	Form   url.Values // form-encoded requests (chat.postMessage, …)
	Body   []byte     // the raw body (JSON for views.open)
}

// JSON decodes a JSON body; nil when the body is not JSON.
func (c Call) JSON() map[string]any {
	var m map[string]any
	if json.Unmarshal(c.Body, &m) != nil {
		return nil
	}
	return m
}

// Param is a parameter of the call, from the form or the top level of a
// JSON body.
func (c Call) Param(name string) string {
	if v := c.Form.Get(name); v != "" {
		return v
	}
	switch v := c.JSON()[name].(type) {
	case string:
		return v
	case nil:
		return ""
	default:
		b, _ := json.Marshal(v)
		return string(b)
	}
}

// Response is one post to a response_url.
type Response struct {
	Name string // the name given to ResponseURL
	Body map[string]any
}

// Text is the posted message's text.
func (r Response) Text() string { s, _ := r.Body["text"].(string); return s }

// Server is the fake Slack. Its zero value is not usable; use New.
type Server struct {
	srv       *httptest.Server
	mu        sync.Mutex
	changed   changes.Signal
	closed    chan struct{}
	calls     []Call
	responses []Response
	fail      map[string][]string
	answer    func(method string, form url.Values, w http.ResponseWriter)
	token     string // the one token accepted, "" for any
	ts        int
	socket    socketState
	limits    bool
	lastPost  map[string]time.Time // channel → when its last post was accepted
	faults    Faults
	rnd       *rand.Rand
	stats     Stats
	posts     map[string]int // channel → posts accepted
	accepted  []Call         // the chat.postMessage calls accepted, in order
}

// Faults are the failures SetFaults injects into chat.postMessage, each
// drawn at its rate from a seeded source.
type Faults struct {
	Seed      uint64
	ErrorRate float64       // answered 500 with an HTML page, nothing posted
	SlowRate  float64       // answered after Slow
	Slow      time.Duration // how slow a slow answer is
}

// Stats count what the fake did with chat.postMessage.
type Stats struct {
	Accepted int // posts accepted
	TooMany  int // refused 429 by the limit
	Errors   int // answered 5xx by SetFaults
	Slow     int // answered slowly
}

// New starts a fake, closed when the test ends.
func New(t testing.TB) *Server {
	s := Start()
	t.Cleanup(s.Close)
	return s
}

// EnforceLimits makes chat.postMessage refuse, as Slack does, more than
// one post a second to one channel: 429 with Retry-After: 1.
// https://api.slack.com/methods/chat.postMessage#rate_limiting
func (s *Server) EnforceLimits() {
	s.mu.Lock()
	s.limits = true
	s.mu.Unlock()
}

// SetFaults makes chat.postMessage fail as f says from now on; the zero
// Faults turns them off.
func (s *Server) SetFaults(f Faults) {
	s.mu.Lock()
	s.faults = f
	s.rnd = rand.New(rand.NewPCG(f.Seed, f.Seed^0x9e3779b97f4a7c15))
	s.mu.Unlock()
}

// Stats returns the counts of what chat.postMessage did.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// Posts returns the chat.postMessage calls the fake accepted, in order:
// unlike Calls, without those it refused (a fault, the limit).
func (s *Server) Posts() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.accepted...)
}

// Counts returns how many posts each channel was sent (a post to a user
// counted under the user's id).
func (s *Server) Counts() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]int{}
	for k, v := range s.posts {
		out[k] = v
	}
	return out
}

// Start starts a fake on a loopback port, outside a test; Close stops it.
func Start() *Server {
	s := &Server{closed: make(chan struct{}), fail: map[string][]string{},
		lastPost: map[string]time.Time{}, posts: map[string]int{}, rnd: rand.New(rand.NewPCG(1, 1))}
	s.socket.acks = map[string]json.RawMessage{}
	mux := http.NewServeMux()
	mux.HandleFunc("/api/{method}", s.api)
	mux.HandleFunc("/response/{name}", s.response)
	mux.HandleFunc("/socket", s.serveSocket)
	s.srv = httptest.NewServer(mux)
	return s
}

// Close stops the fake and its Socket Mode connections.
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
	s.srv.CloseClientConnections()
	s.srv.Close()
}

// URL is the fake's base URL.
func (s *Server) URL() string { return s.srv.URL }

// APIURL is the Web API base URL, as slack.OptionAPIURL takes it.
func (s *Server) APIURL() string { return s.srv.URL + "/api/" }

// ResponseURL is a response_url whose posts are recorded under name.
func (s *Server) ResponseURL(name string) string {
	return s.srv.URL + "/response/" + url.PathEscape(name)
}

// Fail makes the next call of method answer {"ok":false,"error":code}.
func (s *Server) Fail(method, code string) {
	s.mu.Lock()
	s.fail[method] = append(s.fail[method], code)
	s.mu.Unlock()
}

// Answer makes every later Web API call answered by fn, which writes the
// whole answer (a status, a Retry-After header, a body), for the answers a
// test needs beyond Fail's; nil restores the fake's own answers. Calls are
// recorded all the same.
func (s *Server) Answer(fn func(method string, form url.Values, w http.ResponseWriter)) {
	s.mu.Lock()
	s.answer = fn
	s.mu.Unlock()
}

// RequireToken makes every Web API call with another token, in the form or
// as a bearer token, fail as Slack fails it: {"ok":false,"error":"invalid_auth"}.
func (s *Server) RequireToken(token string) {
	s.mu.Lock()
	s.token = token
	s.mu.Unlock()
}

// AllCalls returns every Web API call, in order.
func (s *Server) AllCalls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.calls...)
}

// Calls returns every call of method, in order.
func (s *Server) Calls(method string) []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Call
	for _, c := range s.calls {
		if c.Method == method {
			out = append(out, c)
		}
	}
	return out
}

// WaitCalls waits until method was called at least n times and returns the
// calls, failing the test after timeout.
func (s *Server) WaitCalls(t testing.TB, method string, n int, timeout time.Duration) []Call {
	t.Helper()
	if !s.wait(timeout, func() bool { return countCalls(s.calls, method) >= n }) {
		t.Fatalf("slackfake: %s called %d times after %s, want %d", method, len(s.Calls(method)), timeout, n)
	}
	return s.Calls(method)
}

func countCalls(calls []Call, method string) int {
	n := 0
	for _, c := range calls {
		if c.Method == method {
			n++
		}
	}
	return n
}

// Responses returns the posts to the response_url of name, in order.
func (s *Server) Responses(name string) []Response {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Response
	for _, r := range s.responses {
		if r.Name == name {
			out = append(out, r)
		}
	}
	return out
}

// WaitResponses waits until the response_url of name got at least n posts
// and returns them, failing the test after timeout.
func (s *Server) WaitResponses(t testing.TB, name string, n int, timeout time.Duration) []Response {
	t.Helper()
	count := func() int {
		k := 0
		for _, r := range s.responses {
			if r.Name == name {
				k++
			}
		}
		return k
	}
	if !s.wait(timeout, func() bool { return count() >= n }) {
		t.Fatalf("slackfake: %d posts to response_url %q after %s, want %d", len(s.Responses(name)), name, timeout, n)
	}
	return s.Responses(name)
}

// wait reports whether cond, checked under the lock, held before timeout.
func (s *Server) wait(timeout time.Duration, cond func() bool) bool {
	return s.changed.Wait(&s.mu, timeout, cond)
}

func (s *Server) notifyLocked() { s.changed.Notify() }

// api answers a Web API method as Slack does: 200 with {"ok":…}.
func (s *Server) api(w http.ResponseWriter, r *http.Request) {
	method := r.PathValue("method")
	body, _ := io.ReadAll(r.Body)
	c := Call{Method: method, Header: r.Header.Clone(), Body: body}
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		c.Form, _ = url.ParseQuery(string(body))
	}
	s.mu.Lock()
	s.calls = append(s.calls, c)
	var failure string
	if f := s.fail[method]; len(f) > 0 {
		failure, s.fail[method] = f[0], f[1:]
	}
	if s.token != "" && c.Form.Get("token") != s.token && r.Header.Get("Authorization") != "Bearer "+s.token {
		failure = "invalid_auth"
	}
	answer := s.answer
	s.ts++
	ts := fmt.Sprintf("1700000000.%06d", s.ts)
	s.notifyLocked()
	s.mu.Unlock()
	if failure != "" {
		writeJSON(w, map[string]any{"ok": false, "error": failure})
		return
	}
	if method == "chat.postMessage" && answer == nil && !s.admitPost(w, c) {
		return
	}
	if answer != nil {
		answer(method, c.Form, w)
		return
	}
	switch method {
	case "auth.test":
		writeJSON(w, map[string]any{"ok": true, "url": "https://duban.slack.com/", "team": "duban", "user": "duban",
			"team_id": "T0DUBAN", "user_id": "U0BOT", "bot_id": "B0BOT"})
	case "chat.postMessage", "chat.update":
		channel := c.Param("channel")
		if strings.HasPrefix(channel, "U") || strings.HasPrefix(channel, "W") {
			channel = "D" + channel[1:] // a post to a user lands in the DM with them
		}
		if method == "chat.update" {
			ts = c.Param("ts")
		}
		writeJSON(w, map[string]any{"ok": true, "channel": channel, "ts": ts,
			"message": map[string]any{"type": "message", "text": c.Param("text"), "ts": ts}})
	case "chat.postEphemeral":
		writeJSON(w, map[string]any{"ok": true, "message_ts": ts})
	case "views.open", "views.push", "views.update":
		view := map[string]any{}
		if v, ok := c.JSON()["view"].(map[string]any); ok {
			view = v
		}
		view["id"], view["hash"] = "V"+strconv.Itoa(s.ts), "h"+strconv.Itoa(s.ts)
		writeJSON(w, map[string]any{"ok": true, "view": view})
	case "conversations.open":
		user, _, _ := strings.Cut(c.Param("users"), ",")
		writeJSON(w, map[string]any{"ok": true, "channel": map[string]any{"id": "D" + strings.TrimPrefix(user, "U")}})
	case "apps.connections.open":
		writeJSON(w, map[string]any{"ok": true, "url": "ws" + strings.TrimPrefix(s.srv.URL, "http") + "/socket"})
	default:
		writeJSON(w, map[string]any{"ok": false, "error": "unknown_method"})
	}
}

// admitPost applies the faults and the limit to a post c, and counts it
// when accepted; false when it has answered already.
func (s *Server) admitPost(w http.ResponseWriter, c Call) bool {
	channel := c.Param("channel")
	s.mu.Lock()
	f := s.faults
	fail := f.ErrorRate > 0 && s.rnd.Float64() < f.ErrorRate
	slow := f.SlowRate > 0 && s.rnd.Float64() < f.SlowRate
	if fail {
		s.stats.Errors++
		s.mu.Unlock()
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = io.WriteString(w, "<html><body>Internal Server Error</body></html>")
		return false
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
	defer s.mu.Unlock()
	now := time.Now()
	if last, ok := s.lastPost[channel]; s.limits && ok && now.Sub(last) < time.Second {
		s.stats.TooMany++
		w.Header().Set("Retry-After", "1")
		w.WriteHeader(http.StatusTooManyRequests)
		_, _ = io.WriteString(w, `{"ok":false,"error":"ratelimited"}`)
		return false
	}
	s.lastPost[channel] = now
	s.posts[channel]++
	s.accepted = append(s.accepted, c)
	s.stats.Accepted++
	return true
}

// response records a post to a response_url.
func (s *Server) response(w http.ResponseWriter, r *http.Request) {
	var body map[string]any
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		http.Error(w, "invalid_payload", http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	s.responses = append(s.responses, Response{Name: r.PathValue("name"), Body: body})
	s.notifyLocked()
	s.mu.Unlock()
	_, _ = io.WriteString(w, "ok")
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_ = json.NewEncoder(w).Encode(v)
}

// Sign returns the headers Slack sends with body at ts, signed with the
// app's signing secret.
// https://api.slack.com/authentication/verifying-requests-from-slack
func Sign(secret string, body []byte, ts time.Time) http.Header {
	stamp := strconv.FormatInt(ts.Unix(), 10)
	mac := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(mac, "v0:%s:", stamp)
	mac.Write(body)
	h := http.Header{}
	h.Set("X-Slack-Request-Timestamp", stamp)
	h.Set("X-Slack-Signature", "v0="+hex.EncodeToString(mac.Sum(nil)))
	return h
}
