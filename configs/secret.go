package configs

import (
	"encoding/json"
	"fmt"
	"log/slog"
)

// masked is what a non-empty Secret prints as.
const masked = "<secret>"

// Secret is a string that never prints: fmt (every verb, %#v included), slog,
// JSON, YAML and text encoders all see <secret>, and an empty Secret prints
// as empty so a missing value stays visible. Reveal is the one way to read it,
// and should be called only where the value is handed to its consumer.
type Secret string

// Reveal returns the secret value.
func (s Secret) Reveal() string { return string(s) }

// String returns <secret>, or "" when s is empty.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return masked
}

// GoString returns the masked value as a Go string literal, for %#v.
func (s Secret) GoString() string { return fmt.Sprintf("%q", s.String()) }

// Format prints the masked value for every verb, so that no verb, width or
// flag reaches the value itself.
func (s Secret) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		fmt.Fprint(f, s.GoString())
		return
	}
	fmt.Fprintf(f, fmt.FormatString(f, verb), s.String())
}

// LogValue masks the secret in slog output.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalJSON writes the masked value.
func (s Secret) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// MarshalText writes the masked value, for encoders that use
// encoding.TextMarshaler.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// MarshalYAML writes the masked value.
func (s Secret) MarshalYAML() (any, error) { return s.String(), nil }
