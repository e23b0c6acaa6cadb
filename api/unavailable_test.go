package api_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/cityhall/duban/internal/testenv"
	"github.com/cityhall/duban/storage/storagetest"
)

// TestIntake_DatabaseDownIs503: with PostgreSQL unreachable, a report
// through Open311 or the API is answered 503 with Retry-After (the client
// should come back), not 500; once the database is back, the same post
// files the complaint.
func TestIntake_DatabaseDownIs503(t *testing.T) {
	base, err := url.Parse(storagetest.PostgresURL(t))
	if err != nil {
		t.Fatal(err)
	}
	proxy := testenv.NewProxy(t, base.Host)
	base.Host = proxy.Addr
	q := base.Query()
	q.Set("connect_timeout", "2")
	base.RawQuery = q.Encode()
	e := newEnv(t, storagetest.Open(t, base.String()))

	staff := e.token(e.staff)
	proxy.Cut()
	r := e.post311(request311())
	if r.Status != http.StatusServiceUnavailable || r.Header.Get("Retry-After") == "" {
		t.Errorf("Open311 post with the database down: %d Retry-After %q %s; want 503 with Retry-After", r.Status, r.Header.Get("Retry-After"), r.Body)
	}
	r = e.call("POST", "/api/v1/complaints", staff, hotlineCall("数据库停了也要有回应"))
	if r.Status != http.StatusServiceUnavailable || !strings.Contains(string(r.Body), "try again") {
		t.Errorf("API post with the database down: %d %s; want 503 saying to try again", r.Status, r.Body)
	}

	if err := proxy.Restore(); err != nil {
		t.Fatal(err)
	}
	e.post311(request311()).want(http.StatusCreated)
}
