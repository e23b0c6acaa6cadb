package notifier

import (
	"errors"
	"net/http"
	"net/http/httptrace"
	"sync/atomic"
)

// ErrInDoubt is wrapped in the error of a call whose request was written
// to the provider but whose answer never came (the connection dropped, the
// client timed out): the provider may have the message. The outbox sends
// such a delivery again, marked as a possible repeat, and counts it.
var ErrInDoubt = errors.New("connection lost after the request was sent")

// InDoubt reports whether err is a call that may have reached the provider
// (see ErrInDoubt).
func InDoubt(err error) bool { return errors.Is(err, ErrInDoubt) }

// TrackWrites wraps rt (http.DefaultTransport when nil) so that an error
// after the request was written wraps ErrInDoubt; an error before it (a
// refused connection, a failed name look-up) means the provider has
// nothing. Senders' HTTP clients use it (app/app.go).
func TrackWrites(rt http.RoundTripper) http.RoundTripper {
	if rt == nil {
		rt = http.DefaultTransport
	}
	return writeTracker{rt}
}

type writeTracker struct{ rt http.RoundTripper }

func (w writeTracker) RoundTrip(req *http.Request) (*http.Response, error) {
	var wrote atomic.Bool
	trace := &httptrace.ClientTrace{WroteRequest: func(i httptrace.WroteRequestInfo) {
		if i.Err == nil {
			wrote.Store(true)
		}
	}}
	resp, err := w.rt.RoundTrip(req.WithContext(httptrace.WithClientTrace(req.Context(), trace)))
	if err != nil && wrote.Load() {
		return nil, &inDoubtError{err}
	}
	return resp, err
}

type inDoubtError struct{ err error }

func (e *inDoubtError) Error() string   { return e.err.Error() + " (" + ErrInDoubt.Error() + ")" }
func (e *inDoubtError) Unwrap() []error { return []error{e.err, ErrInDoubt} }
