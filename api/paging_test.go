package api_test

import (
	"fmt"
	"net/http"
	"regexp"
	"testing"

	"github.com/cityhall/duban/storage"
	"github.com/cityhall/duban/storage/storagetest"
)

var linkNext = regexp.MustCompile(`^<(/[^>]+)>; rel="next"$`)

// walk follows Link rel="next" from path and returns every page's answer.
func (e *env) walk(path, token string) []resp {
	e.t.Helper()
	var out []resp
	for range 20 {
		r := e.call("GET", path, token, nil).want(http.StatusOK)
		out = append(out, r)
		link := r.Header.Get("Link")
		if link == "" {
			return out
		}
		m := linkNext.FindStringSubmatch(link)
		if m == nil {
			e.t.Fatalf("Link %q is not rel=next", link)
		}
		path = m[1]
	}
	e.t.Fatal("the pages do not end")
	return nil
}

func TestLists_PageWithCursorsAndLinkNext(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, st *storage.Store) {
		e := newEnv(t, st)
		for i := range 5 {
			e.file(hotlineCall(fmt.Sprintf("第%d件", i)))
			e.register(fmt.Sprintf("(2026)沪0101行初%d号", i))
		}
		var ids []float64
		pages := e.walk("/api/v1/complaints?limit=2&source=hotline_call", e.token(e.sup))
		for i, p := range pages {
			body := p.obj()
			for _, c := range body["complaints"].([]any) {
				ids = append(ids, c.(map[string]any)["id"].(float64))
			}
			next, has := body["next_cursor"]
			if last := i == len(pages)-1; has == last {
				t.Errorf("page %d: next_cursor %v present=%v on the last page=%v", i, next, has, last)
			}
		}
		if len(pages) != 3 || len(ids) != 5 {
			t.Fatalf("%d pages, %d complaints; want 3 pages of 5 complaints", len(pages), len(ids))
		}
		for i := 1; i < len(ids); i++ {
			if ids[i] >= ids[i-1] {
				t.Errorf("complaints not newest first across pages: %v", ids)
			}
		}
		for _, list := range []string{"/api/v1/hearings?limit=2", "/api/v1/deliveries?limit=2", "/api/v1/audit?limit=2"} {
			if n := len(e.walk(list, adminToken)); n < 3 {
				t.Errorf("%s: %d pages, want at least 3", list, n)
			}
		}
		// A limit above 1000 is clamped, not refused.
		var all map[string]any
		e.call("GET", "/api/v1/complaints?limit=5000", e.token(e.sup), nil).want(http.StatusOK).decode(&all)
		if n := len(all["complaints"].([]any)); n != 5 {
			t.Errorf("limit=5000 answered %d complaints, want all 5", n)
		}
		for _, list := range []string{"/api/v1/complaints", "/api/v1/hearings", "/api/v1/deliveries", "/api/v1/audit"} {
			e.call("GET", list+"?cursor=garbage", adminToken, nil).want(http.StatusUnprocessableEntity)
		}
	})
}
