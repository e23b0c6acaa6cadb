package duban_test

import (
	"testing"
	"unicode/utf8"

	"github.com/cityhall/duban"
)

func TestTruncate(t *testing.T) {
	for _, tt := range []struct {
		s    string
		n    int
		want string
	}{
		{"", 5, ""},
		{"abc", 3, "abc"},
		{"abcd", 3, "ab…"},
		{"执法人员未出示证件", 5, "执法人员…"},
		{"执法人员", 4, "执法人员"},
		{"ab", 1, "…"},
		{"ab", 0, ""},
		{"👮🏻‍♂️罚款", 3, "👮🏻…"},
	} {
		got := duban.Truncate(tt.s, tt.n)
		if got != tt.want {
			t.Errorf("Truncate(%q, %d) = %q, want %q", tt.s, tt.n, got, tt.want)
		}
		if n := utf8.RuneCountInString(got); n > max(tt.n, 0) {
			t.Errorf("Truncate(%q, %d) is %d characters long", tt.s, tt.n, n)
		}
	}
}

func FuzzTruncate(f *testing.F) {
	f.Add("执法人员未出示证件即罚款", 5)
	f.Add("abc", 0)
	f.Fuzz(func(t *testing.T, s string, n int) {
		got := duban.Truncate(s, n)
		if utf8.RuneCountInString(got) > max(n, 0) {
			t.Fatalf("Truncate(%q, %d) = %q: over the limit", s, n, got)
		}
		if utf8.RuneCountInString(s) <= n && got != s {
			t.Fatalf("Truncate(%q, %d) = %q: cut a text within the limit", s, n, got)
		}
	})
}
