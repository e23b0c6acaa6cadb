package notifier

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
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

	client := &http.Client{Transport: TrackWrites(nil)}
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
