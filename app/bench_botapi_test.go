package app_test

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
)

// benchBotAPI is the Bot API of the intake benchmark: it answers the
// calls duban makes there (getMe and setWebhook at boot; sendMessage and
// editMessageReplyMarkup for the replies) in the Bot API's wire format,
// with the headers and the message api.telegram.org answers with, and
// counts them; it does nothing else. Its work is Telegram's, which in
// production runs on Telegram's machines; here it shares the benchmark's
// two cores with duban, so it takes as little of them as it can: each
// connection is served on one goroutine, requests read with net/http's
// parser and answers written whole, with none of an http.Server's
// per-request machinery. tgfake, which records every call and can break
// like Telegram under load, and Go's HTTP client posting the updates
// (see telegramConn) took together about 8% of the CPU the bot side
// spends (docs/PERFORMANCE.md, the webhook intake); the scenarios that
// need tgfake's faults (cmd/dubanload) and every other test use it.
type benchBotAPI struct {
	ln    net.Listener
	wg    sync.WaitGroup
	mu    sync.Mutex
	conns map[net.Conn]bool
	// messages and edits count the sendMessage and editMessageReplyMarkup
	// calls answered ok; bad counts the calls it could not take (no
	// chat_id, an unknown method), each an error of the benchmark.
	messages, edits, bad atomic.Int64
	nextID               atomic.Int64
}

func newBenchBotAPI(b *testing.B) *benchBotAPI {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	s := &benchBotAPI{ln: ln, conns: map[net.Conn]bool{}}
	s.wg.Add(1)
	go s.accept()
	b.Cleanup(s.close)
	return s
}

// answerDate is the Date of every answer: the client reads past it, and
// the tests never take their dates from the wall clock
// (internal/testenv).
const answerDate = "Thu, 03 Dec 2026 00:00:00 GMT"

// Endpoint is the API endpoint as configs.Config.TelegramAPIEndpoint takes it.
func (s *benchBotAPI) Endpoint() string { return "http://" + s.ln.Addr().String() + "/bot%s/%s" }

func (s *benchBotAPI) accept() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		s.conns[c] = true
		s.mu.Unlock()
		s.wg.Add(1)
		go s.serve(c)
	}
}

func (s *benchBotAPI) close() {
	s.ln.Close()
	s.mu.Lock()
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

// serve answers the calls on c, one after another, until the client
// closes it.
func (s *benchBotAPI) serve(c net.Conn) {
	defer s.wg.Done()
	defer func() {
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
		c.Close()
	}()
	r, w := bufio.NewReader(c), bufio.NewWriter(c)
	for {
		req, err := http.ReadRequest(r)
		if err != nil {
			return
		}
		body, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return
		}
		status, answer := s.answer(path.Base(req.URL.Path), body)
		// The headers api.telegram.org answers with, for the client to
		// read through as it does there.
		fmt.Fprintf(w, "HTTP/1.1 %d %s\r\nServer: nginx/1.18.0\r\nDate: %s\r\nContent-Type: application/json\r\n"+
			"Content-Length: %d\r\nConnection: keep-alive\r\n"+
			"Strict-Transport-Security: max-age=31536000; includeSubDomains; preload\r\n"+
			"Access-Control-Allow-Origin: *\r\nAccess-Control-Allow-Methods: GET, POST, OPTIONS\r\n"+
			"Access-Control-Expose-Headers: Content-Length,Content-Type,Date,Server,Connection\r\n\r\n%s",
			status, http.StatusText(status), answerDate, len(answer), answer)
		if w.Flush() != nil {
			return
		}
	}
}

// answer is the Bot API's answer to method called with the form body.
func (s *benchBotAPI) answer(method string, body []byte) (int, string) {
	switch method {
	case "getMe":
		return 200, `{"ok":true,"result":{"id":777,"is_bot":true,"first_name":"bench","username":"bench_bot"}}`
	case "setWebhook", "deleteWebhook":
		return 200, `{"ok":true,"result":true}`
	}
	form, err := url.ParseQuery(string(body))
	chat, cerr := strconv.ParseInt(form.Get("chat_id"), 10, 64)
	if err := errors.Join(err, cerr); err != nil {
		s.bad.Add(1)
		return 400, `{"ok":false,"error_code":400,"description":"Bad Request: chat_id"}`
	}
	// The message sent or edited, as Telegram answers with it: what the
	// client decodes is as long as there.
	from := `"from":{"id":777,"is_bot":true,"first_name":"bench","username":"bench_bot"}`
	const at = 1764720000 // its date: the client reads past it
	switch method {
	case "sendMessage":
		s.messages.Add(1)
		text, _ := json.Marshal(form.Get("text"))
		markup := ""
		if m := form.Get("reply_markup"); m != "" {
			markup = `,"reply_markup":` + m
		}
		return 200, fmt.Sprintf(`{"ok":true,"result":{"message_id":%d,%s,"chat":{"id":%d,"first_name":"user%d","type":"private"},"date":%d,"text":%s%s}}`,
			s.nextID.Add(1), from, chat, chat, at, text, markup)
	case "editMessageReplyMarkup":
		id, err := strconv.Atoi(form.Get("message_id"))
		if err != nil {
			break
		}
		s.edits.Add(1)
		return 200, fmt.Sprintf(`{"ok":true,"result":{"message_id":%d,%s,"chat":{"id":%d,"first_name":"user%d","type":"private"},"date":%d,"edit_date":%d}}`,
			id, from, chat, chat, at, at)
	}
	s.bad.Add(1)
	return 400, `{"ok":false,"error_code":400,"description":"Bad Request"}`
}
