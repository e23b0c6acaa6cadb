package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/cityhall/duban"
)

// Body limits.
const (
	// MaxBodyBytes bounds every JSON request body.
	MaxBodyBytes = 1 << 20
	// MaxImportBytes bounds a CSV import (jobs.MaxImportBytes).
	MaxImportBytes = 10 << 20
)

const contentTypeJSON = "application/json; charset=utf-8"

// writeJSON answers v with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		// Every answer is built from plain structs; this is a bug.
		http.Error(w, `{"error":"internal error"}`, http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", contentTypeJSON)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// decode reads one JSON object of at most MaxBodyBytes into dst, refusing
// unknown fields. Its errors are 400s naming the field, or a 413.
func decode(w http.ResponseWriter, r *http.Request, dst any) error {
	body := http.MaxBytesReader(w, r.Body, MaxBodyBytes)
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return err
		}
		return errorf(http.StatusBadRequest, "the request body must hold exactly one JSON object")
	}
	return nil
}

// jsonError says what is wrong with a body encoding/json refused.
func jsonError(err error) error {
	var (
		syn *json.SyntaxError
		typ *json.UnmarshalTypeError
		mbe *http.MaxBytesError
	)
	switch {
	case errors.As(err, &mbe):
		return err
	case errors.Is(err, io.EOF):
		return errorf(http.StatusBadRequest, "the request body is empty; send a JSON object")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errorf(http.StatusBadRequest, "malformed JSON: the body ends too early")
	case errors.As(err, &syn):
		return errorf(http.StatusBadRequest, "malformed JSON at byte %d: %s", syn.Offset, syn.Error())
	case errors.As(err, &typ):
		if typ.Field == "" {
			return errorf(http.StatusBadRequest, "the request body must be a JSON object, not %s", typ.Value)
		}
		return badField(typ.Field, "%s must be %s, not %s", typ.Field, kindName(typ.Type), typ.Value)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field, _ := strconv.Unquote(strings.TrimPrefix(err.Error(), "json: unknown field "))
		return badField(field, "unknown field %q", field)
	}
	return errorf(http.StatusBadRequest, "malformed JSON")
}

// kindName names a Go type as a JSON type, for error messages.
func kindName(t reflect.Type) string {
	if t == nil {
		return "a value"
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Map, reflect.Struct:
		return "an object"
	}
	return "a " + t.Kind().String()
}

// rfc3339 formats t in loc as the API answers times.
func rfc3339(t time.Time, loc *time.Location) string { return t.In(loc).Format(time.RFC3339) }

// rfc3339p formats a time that may be absent; nil stays null.
func rfc3339p(t *time.Time, loc *time.Location) *string {
	if t == nil {
		return nil
	}
	s := rfc3339(*t, loc)
	return &s
}

// pathID reads the {id} of a route.
func pathID(r *http.Request) (int64, error) {
	raw := r.PathValue("id")
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id <= 0 {
		return 0, errorf(http.StatusNotFound, "%q is not an id", raw)
	}
	return id, nil
}

// queryInt reads an optional positive integer query parameter.
func queryInt(r *http.Request, name string) (int, error) {
	raw := r.URL.Query().Get(name)
	if raw == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n <= 0 {
		return 0, duban.Invalid(name, "must be a positive integer")
	}
	return n, nil
}
