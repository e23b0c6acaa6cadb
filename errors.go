package duban

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors shared by every adapter; the HTTP layer maps them to
// statuses in one place (api/errors.go).
var (
	ErrNotFound     = errors.New("not found")
	ErrConflict     = errors.New("conflict")
	ErrInvalid      = errors.New("invalid")
	ErrUnauthorized = errors.New("unauthorized")
	ErrForbidden    = errors.New("forbidden")
)

// FieldError names one bad field, and the CSV row it came from when there is
// one (rows count from 1 for the first data row after the header).
type FieldError struct {
	Field   string `json:"field,omitempty"`
	Row     int    `json:"row,omitempty"`
	Message string `json:"message"`
}

func (e FieldError) String() string {
	var b strings.Builder
	if e.Row > 0 {
		fmt.Fprintf(&b, "row %d: ", e.Row)
	}
	if e.Field != "" {
		b.WriteString(e.Field + ": ")
	}
	b.WriteString(e.Message)
	return b.String()
}

// ValidationError carries every field that failed validation. It matches
// ErrInvalid with errors.Is.
type ValidationError struct {
	Details []FieldError
}

func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Details))
	for i, d := range e.Details {
		parts[i] = d.String()
	}
	return "invalid: " + strings.Join(parts, "; ")
}

// Is makes errors.Is(err, ErrInvalid) true.
func (e *ValidationError) Is(target error) bool { return target == ErrInvalid }

// Add appends a field error.
func (e *ValidationError) Add(field, format string, args ...any) {
	e.Details = append(e.Details, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

// Err returns e when it holds at least one detail, nil otherwise.
func (e *ValidationError) Err() error {
	if e == nil || len(e.Details) == 0 {
		return nil
	}
	return e
}

// Invalid is a shorthand for a ValidationError of one field.
func Invalid(field, format string, args ...any) error {
	return &ValidationError{Details: []FieldError{{Field: field, Message: fmt.Sprintf(format, args...)}}}
}

// StateError says an action is not allowed in the current state, and which
// actions are. It matches ErrConflict.
type StateError struct {
	Action  string
	State   string
	Allowed []string
}

func (e *StateError) Error() string {
	return fmt.Sprintf("%s is not allowed while %s", e.Action, e.State)
}

// Is makes errors.Is(err, ErrConflict) true.
func (e *StateError) Is(target error) bool { return target == ErrConflict }
