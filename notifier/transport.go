package notifier

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptrace"
	"sync/atomic"
	"time"
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
//
// It also bounds each call to timeout (0: no bound), its answer's body
// included, as http.Client.Timeout does. The bound is kept here, with the
// client's Timeout left at 0: over a RoundTripper net/http does not know,
// a client's Timeout starts a goroutine and a timer for every call, which
// cost the webhook 3% of its CPU for the Bot API calls its replies make
// (docs/PERFORMANCE.md, the webhook intake).
func TrackWrites(rt http.RoundTripper, timeout time.Duration) http.RoundTripper {
	if rt == nil {
		rt = http.DefaultTransport
	}
	return writeTracker{rt, timeout}
}

type writeTracker struct {
	rt      http.RoundTripper
	timeout time.Duration
}

func (w writeTracker) RoundTrip(req *http.Request) (*http.Response, error) {
	var wrote atomic.Bool
	trace := &httptrace.ClientTrace{WroteRequest: func(i httptrace.WroteRequestInfo) {
		if i.Err == nil {
			wrote.Store(true)
		}
	}}
	ctx, cancel := req.Context(), context.CancelFunc(func() {})
	if w.timeout > 0 {
		ctx, cancel = context.WithTimeout(ctx, w.timeout)
	}
	resp, err := w.rt.RoundTrip(req.WithContext(httptrace.WithClientTrace(ctx, trace)))
	if err != nil {
		cancel()
		if wrote.Load() {
			return nil, &inDoubtError{err}
		}
		return nil, err
	}
	// The bound runs until the body is read or closed, as a client's
	// Timeout does.
	resp.Body = &boundBody{ReadCloser: resp.Body, cancel: cancel}
	return resp, nil
}

// boundBody is an answer's body whose call's bound ends with it.
type boundBody struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (b *boundBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err == io.EOF {
		b.cancel()
	}
	return n, err
}

func (b *boundBody) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}

type inDoubtError struct{ err error }

func (e *inDoubtError) Error() string   { return e.err.Error() + " (" + ErrInDoubt.Error() + ")" }
func (e *inDoubtError) Unwrap() []error { return []error{e.err, ErrInDoubt} }
