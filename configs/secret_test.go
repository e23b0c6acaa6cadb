package configs

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

func TestSecret_NeverPrints(t *testing.T) {
	const value = "123456:ABC-very-secret"
	c := Default()
	c.TelegramToken = Secret(value)
	s := c.TelegramToken

	logged := func(h func(*bytes.Buffer) slog.Handler, args ...any) string {
		var buf bytes.Buffer
		slog.New(h(&buf)).Info("config", args...)
		return buf.String()
	}
	text := func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) }
	jsonh := func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) }
	marshal := func(f func(any) ([]byte, error), v any) string {
		b, err := f(v)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}

	tests := []struct {
		name string
		out  string
		mask bool // the output must show <secret>
	}{
		{"%v", fmt.Sprintf("%v", s), true},
		{"%+v", fmt.Sprintf("%+v", s), true},
		{"%#v", fmt.Sprintf("%#v", s), true},
		{"%s", fmt.Sprintf("%s", s), true},
		{"%q", fmt.Sprintf("%q", s), true},
		{"%x", fmt.Sprintf("%x", s), false},
		{"%30s", fmt.Sprintf("%30s", s), true},
		{"Sprint", fmt.Sprint(s), true},
		{"String", s.String(), true},
		{"config %v", fmt.Sprintf("%v", c), true},
		{"config %+v", fmt.Sprintf("%+v", c), true},
		{"config %#v", fmt.Sprintf("%#v", c), true},
		{"config pointer %+v", fmt.Sprintf("%+v", &c), true},
		{"error wrapping", fmt.Errorf("telegram: token %v: %w", s, fmt.Errorf("bad")).Error(), true},
		{"json secret", marshal(json.Marshal, s), true},
		{"json config", marshal(json.Marshal, c), true},
		{"yaml config", marshal(yaml.Marshal, c), true},
		{"slog text secret", logged(text, "token", s), true},
		{"slog text config", logged(text, "config", c), true},
		{"slog text pointer", logged(text, "config", &c), true},
		{"slog json secret", logged(jsonh, "token", s), true},
		{"slog json config", logged(jsonh, "config", c), true},
		{"slog group", logged(text, slog.Group("telegram", "token", s)), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if strings.Contains(tt.out, value) || strings.Contains(tt.out, "very-secret") {
				t.Errorf("shows the secret: %s", tt.out)
			}
			// encoding/json escapes < and > for HTML.
			shown := strings.Contains(tt.out, "<secret>") || strings.Contains(tt.out, `\u003csecret\u003e`)
			if tt.mask && !shown {
				t.Errorf("does not show <secret>: %s", tt.out)
			}
		})
	}
	if s.Reveal() != value {
		t.Errorf("Reveal() = %q, want %q", s.Reveal(), value)
	}
}

func TestSecret_EmptyPrintsEmpty(t *testing.T) {
	var s Secret
	b, _ := json.Marshal(s)
	got := []string{fmt.Sprintf("%v|%s|%#v", s, s, s), string(b)}
	want := []string{`||""`, `""`}
	for i := range got {
		if got[i] != want[i] {
			t.Errorf("got %s, want %s", got[i], want[i])
		}
	}
}
