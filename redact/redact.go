// Package redact keeps secrets out of logs and errors. Telegram puts the bot
// token in every request URL, and Go's HTTP client quotes the URL in its
// errors, so every error that crosses a provider boundary is passed through
// here before it is logged, stored or returned.
package redact

import "strings"

// Mask replaces every non-empty secret in s.
func Mask(s string, secrets ...string) string {
	for _, sec := range secrets {
		if sec != "" {
			s = strings.ReplaceAll(s, sec, "<redacted>")
		}
	}
	return s
}

// Error returns err with every secret masked from its text. errors.Is and
// errors.As still see the original chain.
func Error(err error, secrets ...string) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	masked := Mask(msg, secrets...)
	if masked == msg {
		return err
	}
	return &redacted{msg: masked, err: err}
}

type redacted struct {
	msg string
	err error
}

func (r *redacted) Error() string { return r.msg }
func (r *redacted) Unwrap() error { return r.err }

// Leaks reports whether err's text contains any of the secrets; tests use
// it to assert that nothing leaks.
func Leaks(err error, secrets ...string) bool {
	if err == nil {
		return false
	}
	for _, s := range secrets {
		if s != "" && strings.Contains(err.Error(), s) {
			return true
		}
	}
	return false
}
