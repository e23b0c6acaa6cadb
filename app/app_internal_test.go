package app

import (
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
)

// The in-process Redis expires keys as the clock runs (asynq's locks and
// leases rely on it), on the tick of advanceTTLs.
func TestAdvanceTTLs_ExpiresKeysAsTheClockRuns(t *testing.T) {
	m := miniredis.RunT(t)
	stop := advanceTTLs(m, 10*time.Millisecond)
	defer stop()
	if err := m.Set("lease", "x"); err != nil {
		t.Fatal(err)
	}
	m.SetTTL("lease", 50*time.Millisecond)
	if err := m.Set("kept", "x"); err != nil {
		t.Fatal(err)
	}
	m.SetTTL("kept", time.Hour)
	deadline := time.Now().Add(10 * time.Second)
	for m.Exists("lease") {
		if time.Now().After(deadline) {
			t.Fatal("a key with a 50 ms TTL is still there after 10 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if !m.Exists("kept") {
		t.Error("a key with an hour to live expired")
	}
	stop() // twice, as Close may be called twice
}

// A provider's client keeps a connection for each caller at once: a second
// round of calls opens none.
func TestProviderTransport_KeepsAConnectionPerCaller(t *testing.T) {
	const callers = 8
	var opened atomic.Int32
	var arrived sync.WaitGroup
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived.Done()
		arrived.Wait() // all callers at once, each on a connection of its own
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			opened.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	client := &http.Client{Transport: providerTransport(callers, time.Minute)}
	for round := range 2 {
		arrived.Add(callers)
		var done sync.WaitGroup
		for range callers {
			done.Add(1)
			go func() {
				defer done.Done()
				resp, err := client.Post(srv.URL, "text/plain", nil)
				if err != nil {
					t.Error(err)
					return
				}
				resp.Body.Close()
			}()
		}
		done.Wait()
		if n := opened.Load(); n != callers {
			t.Fatalf("after round %d: %d connections opened, want %d", round+1, n, callers)
		}
	}
}
