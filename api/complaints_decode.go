package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/cityhall/duban"
)

// decodeText is decode for bodies that carry what people typed: it refuses
// strings that are not valid UTF-8 (or hold a lone UTF-16 surrogate
// escape), naming the field, before encoding/json would silently turn them
// into U+FFFD and the damaged text were stored.
func decodeText(w http.ResponseWriter, r *http.Request, dst any) error {
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		return err
	}
	if bad := badTextFields(raw, ""); len(bad) > 0 {
		v := duban.ValidationError{}
		for _, f := range bad {
			v.Add(f, "is not valid UTF-8 text")
		}
		return &v
	}
	if !utf8.Valid(raw) {
		return errorf(http.StatusBadRequest, "the request body is not valid UTF-8")
	}
	r.Body = io.NopCloser(bytes.NewReader(raw))
	return decode(w, r, dst)
}

// badTextFields lists the members of the JSON object raw, nested objects
// included (as "reporter.name"), whose string value is not valid text. A
// body that is not an object yields nothing: decode says what is wrong.
func badTextFields(raw []byte, prefix string) []string {
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return nil
	}
	var out []string
	for k, v := range m {
		v = bytes.TrimSpace(v)
		if len(v) == 0 {
			continue
		}
		switch v[0] {
		case '"':
			if !validJSONString(v) {
				out = append(out, prefix+k)
			}
		case '{':
			out = append(out, badTextFields(v, prefix+k+".")...)
		}
	}
	slices.Sort(out)
	return out
}

// validJSONString reports whether a JSON string literal decodes to exactly
// the text it holds: valid UTF-8, no U+FFFD that encoding/json made of a
// lone surrogate escape such as \ud800, and no NUL.
func validJSONString(lit []byte) bool {
	if !utf8.Valid(lit) {
		return false
	}
	var s string
	if json.Unmarshal(lit, &s) != nil {
		return true // not a string after all; decode reports it
	}
	if strings.ContainsRune(s, 0) {
		return false // PostgreSQL cannot store NUL in text
	}
	made := strings.Count(s, "\uFFFD")
	if made == 0 {
		return true
	}
	had := bytes.Count(lit, []byte("\uFFFD")) + bytes.Count(bytes.ToLower(lit), []byte(`\ufffd`))
	return made <= had
}

// renameFields rewrites the field names of a validation error, for the
// jobs' names that differ from the API's (lat → latitude).
func renameFields(err error, names map[string]string) error {
	var ve *duban.ValidationError
	if !errors.As(err, &ve) {
		return err
	}
	out := &duban.ValidationError{Details: slices.Clone(ve.Details)}
	for i, d := range out.Details {
		if n, ok := names[d.Field]; ok {
			out.Details[i].Field = n
		}
	}
	return out
}
