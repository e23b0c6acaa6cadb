package telegram

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestSplitDelegate_SplitsAtTheFirstSeparator(t *testing.T) {
	tests := []struct {
		in           string
		name, reason string
		ok           bool
	}{
		{"李四，出差", "李四", "出差", true},
		{"Li Si, on a trip, abroad", "Li Si", "on a trip, abroad", true},
		{" 李四 ；参加会议", "李四", "参加会议", true},
		{"李四;病假", "李四", "病假", true},
		{"李四\n出差，三天", "李四", "出差，三天", true},
		{"李四", "", "", false},
		{"李四，", "", "", false},
		{"，出差", "", "", false},
		{"", "", "", false},
	}
	for _, tt := range tests {
		name, reason, ok := splitDelegate(tt.in)
		if name != tt.name || reason != tt.reason || ok != tt.ok {
			t.Errorf("splitDelegate(%q) = %q, %q, %v; want %q, %q, %v", tt.in, name, reason, ok, tt.name, tt.reason, tt.ok)
		}
	}
}

func TestCommand_ReadsNameAndArguments(t *testing.T) {
	tests := []struct{ in, cmd, args string }{
		{"/start ABC123", "start", "ABC123"},
		{"/START@duban_bot  abc ", "start", "abc"},
		{"/help", "help", ""},
		{"/start\nABC", "start", "ABC"},
		{"hello /start", "", "hello /start"},
		{"  李四，出差 ", "", "李四，出差"},
	}
	for _, tt := range tests {
		if cmd, args := command(tt.in); cmd != tt.cmd || args != tt.args {
			t.Errorf("command(%q) = %q, %q; want %q, %q", tt.in, cmd, args, tt.cmd, tt.args)
		}
	}
}

func FuzzSplitDelegate(f *testing.F) {
	for _, s := range []string{"李四，出差", "a,b", "；", "\n\n", "\xff，\xfe"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		name, reason, ok := splitDelegate(s)
		if ok && (name == "" || reason == "" || strings.TrimSpace(name) != name || strings.TrimSpace(reason) != reason) {
			t.Errorf("splitDelegate(%q) = %q, %q, true", s, name, reason)
		}
		if ok && strings.ContainsAny(name, delegateSeparators) {
			t.Errorf("name %q holds a separator", name)
		}
		if utf8.ValidString(s) && (!utf8.ValidString(name) || !utf8.ValidString(reason)) {
			t.Errorf("split %q inside a character", s)
		}
	})
}

func FuzzCommand(f *testing.F) {
	for _, s := range []string{"/start ABC", "/x@y z", "/", "text", "/\u3000a"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		cmd, args := command(s)
		if strings.ContainsAny(cmd, " \t\n@") || strings.TrimSpace(args) != args {
			t.Errorf("command(%q) = %q, %q", s, cmd, args)
		}
	})
}
