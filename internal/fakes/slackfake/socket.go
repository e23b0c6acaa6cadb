package slackfake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// socketState is the Socket Mode side of the fake: envelopes waiting for a
// connection, and the acknowledgements received.
type socketState struct {
	pending     []envelope
	acks        map[string]json.RawMessage
	connections int
	seq         int
}

// envelope is one Socket Mode request, as Slack frames it.
// https://api.slack.com/apis/connections/socket-implement
type envelope struct {
	EnvelopeID             string `json:"envelope_id"`
	Type                   string `json:"type"`
	Payload                any    `json:"payload"`
	AcceptsResponsePayload bool   `json:"accepts_response_payload"`
}

var upgrader = websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}

// SocketSend queues a Socket Mode request of typ ("slash_commands",
// "interactive", "events_api") with payload for the connected client, and
// returns its envelope id.
func (s *Server) SocketSend(typ string, payload any) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.socket.seq++
	id := fmt.Sprintf("env-%d", s.socket.seq)
	s.socket.pending = append(s.socket.pending, envelope{EnvelopeID: id, Type: typ, Payload: payload, AcceptsResponsePayload: true})
	s.notifyLocked()
	return id
}

// WaitConnected waits until the client made at least n Socket Mode
// connections, failing the test after timeout.
func (s *Server) WaitConnected(t testing.TB, n int, timeout time.Duration) {
	t.Helper()
	if !s.wait(timeout, func() bool { return s.socket.connections >= n }) {
		s.mu.Lock()
		got := s.socket.connections
		s.mu.Unlock()
		t.Fatalf("slackfake: %d socket mode connections after %s, want %d", got, timeout, n)
	}
}

// WaitAck waits for the acknowledgement of envelope id and returns its
// payload, nil when it carried none; it fails the test after timeout.
func (s *Server) WaitAck(t testing.TB, id string, timeout time.Duration) json.RawMessage {
	t.Helper()
	var payload json.RawMessage
	ok := s.wait(timeout, func() bool {
		p, ok := s.socket.acks[id]
		payload = p
		return ok
	})
	if !ok {
		t.Fatalf("slackfake: envelope %s not acknowledged after %s", id, timeout)
	}
	return payload
}

// serveSocket is the Socket Mode WebSocket: hello, then the queued
// envelopes, with a ping every second, recording every acknowledgement.
func (s *Server) serveSocket(w http.ResponseWriter, r *http.Request) {
	conn, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	defer conn.Close()
	s.mu.Lock()
	s.socket.connections++
	s.notifyLocked()
	s.mu.Unlock()
	hello := map[string]any{"type": "hello", "num_connections": 1,
		"connection_info": map[string]any{"app_id": "A0DUBAN"}, "debug_info": map[string]any{"host": "slackfake"}}
	if conn.WriteJSON(hello) != nil {
		return
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			var ack struct {
				EnvelopeID string          `json:"envelope_id"`
				Payload    json.RawMessage `json:"payload"`
			}
			if err := conn.ReadJSON(&ack); err != nil {
				return
			}
			s.mu.Lock()
			s.socket.acks[ack.EnvelopeID] = ack.Payload
			s.notifyLocked()
			s.mu.Unlock()
		}
	}()
	ping := time.NewTicker(time.Second)
	defer ping.Stop()
	for {
		s.mu.Lock()
		var next *envelope
		if len(s.socket.pending) > 0 {
			next, s.socket.pending = &s.socket.pending[0], s.socket.pending[1:]
		}
		changed := s.changed.C()
		s.mu.Unlock()
		if next != nil {
			if conn.WriteJSON(next) != nil {
				return
			}
			continue
		}
		select {
		case <-changed:
		case <-ping.C:
			if conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(time.Second)) != nil {
				return
			}
		case <-done:
			return
		case <-s.closed:
			_ = conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseGoingAway, ""), time.Now().Add(time.Second))
			return
		}
	}
}
