package web

import (
	"net/http"
)

// monitorPath is where asynq's web monitor is served, for admins only.
const monitorPath = "/admin/queues"

// monitor serves asynq's monitor to admins: 403 for everyone else. Its
// own API calls (fetch from its page) carry no CSRF token, so a request
// that changes something must also come from this site: Sec-Fetch-Site
// same-origin, or an Origin that is ours.
func (w *Web) monitor() http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		me, ok := w.signedIn(rw, r)
		if !ok {
			if r.Method == http.MethodGet {
				http.Redirect(rw, r, "/login?next="+monitorPath, http.StatusSeeOther)
				return
			}
			w.fail(rw, r, w.visitor(r), errSignIn)
			return
		}
		if !me.May("queue.monitor") {
			w.fail(rw, r, me, errForbidden)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead && !w.sameOrigin(r) {
			w.fail(rw, r, me, errForbidden)
			return
		}
		w.Monitor.ServeHTTP(rw, r)
	})
}

// sameOrigin reports whether a request comes from a page of this site.
func (w *Web) sameOrigin(r *http.Request) bool {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "same-origin":
		return true
	case "":
	default:
		return false
	}
	origin := r.Header.Get("Origin")
	if origin == "" {
		return false
	}
	if w.origin != "" && origin == w.origin {
		return true
	}
	scheme := "http"
	if w.secure || r.TLS != nil {
		scheme = "https"
	}
	return origin == scheme+"://"+r.Host
}
