package api

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/jobs"
	"github.com/cityhall/duban/storage"
)

// errorBody is the one shape of every error answer (docs/API.md, Errors).
type errorBody struct {
	Error   string             `json:"error"`
	Details []duban.FieldError `json:"details,omitempty"`
	Allowed *[]string          `json:"allowed,omitempty"`
}

// apiError is an error whose status and sentence a handler chose itself,
// for the cases a domain error cannot say well (a taken code, a bad query
// parameter, a body that is not JSON).
type apiError struct {
	status  int
	msg     string
	details []duban.FieldError
	cause   error // kept for errors.Is, never shown
}

func (e *apiError) Error() string { return e.msg }
func (e *apiError) Unwrap() error { return e.cause }

// errorf is an apiError of status with a formatted sentence.
func errorf(status int, format string, args ...any) *apiError {
	return &apiError{status: status, msg: fmt.Sprintf(format, args...)}
}

// badField is a 400 naming a field of the request body.
func badField(field, format string, args ...any) *apiError {
	msg := fmt.Sprintf(format, args...)
	return &apiError{status: http.StatusBadRequest, msg: msg,
		details: []duban.FieldError{{Field: field, Message: msg}}}
}

// limitedError is a 429: a limit on a public door is used up until retry.
type limitedError struct {
	retry time.Duration
	msg   string
}

func (e *limitedError) Error() string { return e.msg }

// tooMany is a 429 whose Retry-After says when to come back.
func tooMany(retry time.Duration, format string, args ...any) error {
	return &limitedError{retry: retry, msg: fmt.Sprintf(format, args...)}
}

// unavailableRetry is when a client should try again after the database
// could not be reached: a restart or a fail-over takes seconds.
const unavailableRetry = 5 * time.Second

// setRetryAfter sets Retry-After, in whole seconds rounded up, on the
// answer to a limitedError, or to a request the database could not serve.
func setRetryAfter(w http.ResponseWriter, err error) {
	if storage.Unreachable(err) {
		w.Header().Set("Retry-After", strconv.Itoa(int(unavailableRetry.Seconds())))
		return
	}
	var le *limitedError
	if errors.As(err, &le) {
		secs := int64(math.Ceil(le.retry.Seconds()))
		if secs < 1 {
			secs = 1
		}
		w.Header().Set("Retry-After", strconv.FormatInt(secs, 10))
	}
}

// notFound turns a storage ErrNotFound into a 404 naming what is missing;
// any other error passes through unchanged.
func notFound(err error, format string, args ...any) error {
	if errors.Is(err, duban.ErrNotFound) {
		return &apiError{status: http.StatusNotFound, msg: fmt.Sprintf(format, args...) + " does not exist", cause: err}
	}
	return err
}

// conflict turns a storage ErrConflict (a unique constraint) into a 409 with
// a sentence the caller can act on; any other error passes through.
func conflict(err error, format string, args ...any) error {
	if errors.Is(err, duban.ErrConflict) {
		var se *duban.StateError
		if errors.As(err, &se) {
			return err
		}
		return &apiError{status: http.StatusConflict, msg: fmt.Sprintf(format, args...), cause: err}
	}
	return err
}

// fail answers err. This is the one place where errors become statuses:
// validation 422 with details, state 409 with allowed, not found 404,
// forbidden 403, unauthorized 401, conflict 409, a body over its limit 413,
// a used-up limit 429 with Retry-After, an unreachable database 503 with
// Retry-After (logged), and everything else 500 "internal error", logged
// and never echoed.
func (s *server) fail(w http.ResponseWriter, r *http.Request, err error) {
	status, body := s.classify(err)
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="duban"`)
	}
	setRetryAfter(w, err)
	if status >= http.StatusInternalServerError {
		s.log.Error("request failed", slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Any("error", err))
	}
	writeJSON(w, status, body)
}

func (s *server) classify(err error) (int, errorBody) {
	var (
		ae  *apiError
		ve  *duban.ValidationError
		se  *duban.StateError
		mbe *http.MaxBytesError
		le  *limitedError
		nf  *jobs.NotFoundError
	)
	switch {
	case errors.As(err, &le):
		return http.StatusTooManyRequests, errorBody{Error: le.msg}
	case errors.As(err, &ae):
		return ae.status, errorBody{Error: ae.msg, Details: ae.details}
	case errors.As(err, &mbe):
		return http.StatusRequestEntityTooLarge, errorBody{Error: fmt.Sprintf("the request body is over %s", sizeName(mbe.Limit))}
	case errors.As(err, &ve):
		return http.StatusUnprocessableEntity, errorBody{Error: validationSentence(ve), Details: ve.Details}
	case errors.As(err, &se):
		allowed := se.Allowed
		if allowed == nil {
			allowed = []string{}
		}
		return http.StatusConflict, errorBody{Error: se.Error(), Allowed: &allowed}
	case errors.As(err, &nf):
		return http.StatusNotFound, errorBody{Error: nf.Error()}
	case errors.Is(err, duban.ErrNotFound):
		return http.StatusNotFound, errorBody{Error: "not found"}
	case errors.Is(err, duban.ErrForbidden):
		return http.StatusForbidden, errorBody{Error: "your role does not allow this"}
	case errors.Is(err, duban.ErrUnauthorized):
		return http.StatusUnauthorized, errorBody{Error: "a valid bearer token is required"}
	case errors.Is(err, duban.ErrConflict):
		return http.StatusConflict, errorBody{Error: "this conflicts with an existing record"}
	case errors.Is(err, duban.ErrInvalid):
		return http.StatusUnprocessableEntity, errorBody{Error: "the request is invalid"}
	case storage.Unreachable(err):
		return http.StatusServiceUnavailable, errorBody{Error: "the database cannot be reached; try again shortly"}
	}
	return http.StatusInternalServerError, errorBody{Error: "internal error"}
}

// validationSentence summarises a ValidationError in one sentence; the
// details say the rest.
func validationSentence(ve *duban.ValidationError) string {
	rows := map[int]bool{}
	for _, d := range ve.Details {
		if d.Row > 0 {
			rows[d.Row] = true
		}
	}
	switch {
	case len(rows) == 1:
		return "1 row is invalid; nothing was imported"
	case len(rows) > 1:
		return fmt.Sprintf("%d rows are invalid; nothing was imported", len(rows))
	case len(ve.Details) == 1 && ve.Details[0].Field != "":
		return fmt.Sprintf("%s %s", ve.Details[0].Field, ve.Details[0].Message)
	}
	return "the request has invalid fields"
}

func sizeName(n int64) string {
	if n >= 1<<20 && n%(1<<20) == 0 {
		return fmt.Sprintf("%d MB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}
