package notifier

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestTrackWrites_TellsALostAnswerFromARequestThatNeverLeft: a connection
// dropped after the request was read is in doubt (the provider may have the
// message); a connection refused is not.
func TestTrackWrites_TellsALostAnswerFromARequestThatNeverLeft(t *testing.T) {
	drop := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.ReadAll(r.Body)
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
	}))
	defer drop.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := "http://" + ln.Addr().String()
	ln.Close()

	client := &http.Client{Transport: TrackWrites(nil, 0)}
	tests := []struct {
		name    string
		url     string
		inDoubt bool
	}{
		{"dropped after the request", drop.URL, true},
		{"refused", refused, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := client.Post(tt.url+"/bot1:x/sendMessage", "application/x-www-form-urlencoded", strings.NewReader("chat_id=1&text=hi"))
			if err == nil {
				resp.Body.Close()
				t.Fatal("no error")
			}
			if got := InDoubt(err); got != tt.inDoubt {
				t.Errorf("InDoubt(%v) = %v, want %v", err, got, tt.inDoubt)
			}
		})
	}
}

// TestTrackWrites_BoundsACallAndItsAnswer: a provider that does not answer
// within the bound fails the call, in doubt (it has the request); one that
// answers in time has its whole answer read, however slowly its body comes
// after the headers, as long as it ends within the bound.
func TestTrackWrites_BoundsACallAndItsAnswer(t *testing.T) {
	const bound = 300 * time.Millisecond
	release := make(chan struct{})
	defer close(release)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.ReadAll(r.Body)
		switch r.URL.Path {
		case "/hang":
			select { // long past the bound: an unbounded call gets its answer
			case <-time.After(20 * bound):
			case <-release:
			case <-r.Context().Done():
			}
		case "/slow-body":
			_, _ = io.WriteString(w, `{"ok":`)
			w.(http.Flusher).Flush()
			time.Sleep(bound / 3)
			_, _ = io.WriteString(w, `true}`)
		}
	}))
	defer srv.Close()
	client := &http.Client{Transport: TrackWrites(nil, bound)}

	resp, err := client.Post(srv.URL+"/hang", "text/plain", strings.NewReader("x"))
	if err == nil {
		resp.Body.Close()
		t.Fatal("a provider that never answers: no error")
	}
	if !InDoubt(err) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("a provider that never answers: %v, want in doubt and past the deadline", err)
	}

	resp, err = client.Post(srv.URL+"/slow-body", "text/plain", strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || string(body) != `{"ok":true}` {
		t.Errorf("an answer within the bound: %q, %v; want the whole body", body, err)
	}
}
