package web

import (
	"bytes"
	"net/http"
	"strconv"
	"strings"
)

// monitorPath is where asynq's web monitor (github.com/hibiken/asynqmon)
// is served, for admins only.
const monitorPath = "/admin/queues"

// monitorCSP keeps the monitor's page on this host: its scripts and
// styles are its own (some inline), its fonts duban's (static/vendor/).
const monitorCSP = "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
	"font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"

// fontLinks are the stylesheets asynqmon's page asks Google for, and the
// same fonts vendored from npm that duban serves instead (README,
// dependencies).
var fontLinks = strings.NewReplacer(
	"https://fonts.googleapis.com/css?family=Roboto:300,400,500,700&display=swap", "/static/vendor/roboto.css",
	"https://fonts.googleapis.com/icon?family=Material+Icons", "/static/vendor/material-icons.css",
)

// monitor serves asynq's monitor to admins: 403 for everyone else. Its
// own API calls (XHR from its page) carry no CSRF token, so a request
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
		rw.Header().Set("Content-Security-Policy", monitorCSP)
		rw.Header().Set("X-Frame-Options", "DENY")
		fw := &fontWriter{ResponseWriter: rw}
		w.Monitor.ServeHTTP(fw, r)
		fw.flush()
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

// fontWriter holds back an HTML answer of the monitor (its index page)
// to point its font links at duban's copies; anything else passes as is.
type fontWriter struct {
	http.ResponseWriter
	decided bool
	html    bool
	status  int
	buf     bytes.Buffer
}

func (f *fontWriter) WriteHeader(code int) {
	if f.status == 0 {
		f.status = code
	}
}

func (f *fontWriter) Write(b []byte) (int, error) {
	if !f.decided {
		f.decided = true
		ct := f.Header().Get("Content-Type")
		if ct == "" {
			ct = http.DetectContentType(b)
		}
		f.html = strings.HasPrefix(ct, "text/html")
		if !f.html {
			f.ResponseWriter.WriteHeader(f.code())
		}
	}
	if f.html {
		return f.buf.Write(b)
	}
	return f.ResponseWriter.Write(b)
}

func (f *fontWriter) code() int {
	if f.status == 0 {
		return http.StatusOK
	}
	return f.status
}

// flush sends what was held back, or the status of an answer without a
// body.
func (f *fontWriter) flush() {
	switch {
	case !f.decided:
		f.ResponseWriter.WriteHeader(f.code())
	case f.html:
		body := fontLinks.Replace(f.buf.String())
		f.Header().Set("Content-Type", "text/html; charset=utf-8")
		f.Header().Set("Content-Length", strconv.Itoa(len(body)))
		f.ResponseWriter.WriteHeader(f.code())
		_, _ = f.ResponseWriter.Write([]byte(body))
	}
}
