package duban

import (
	"errors"
	"strings"
	"testing"
)

func TestNewTrackingCode_IsCanonicalAndRandom(t *testing.T) {
	seen := map[string]bool{}
	var used [256]bool
	for range 10000 {
		c := NewTrackingCode()
		if len(c) != TrackingCodeLength {
			t.Fatalf("%q is not 12 symbols", c)
		}
		if got, err := ParseTrackingCode(c); err != nil || got != c {
			t.Fatalf("ParseTrackingCode(%q) = %q, %v", c, got, err)
		}
		if seen[c] {
			t.Fatalf("%q came twice in 10,000 codes of 60 bits", c)
		}
		seen[c] = true
		for i := range len(c) {
			used[c[i]] = true
		}
	}
	for i := range len(crockford) {
		if !used[crockford[i]] {
			t.Errorf("symbol %c never used in 10,000 codes", crockford[i])
		}
	}
}

func TestParseTrackingCode(t *testing.T) {
	tests := []struct {
		in   string
		want string // "" for invalid
	}{
		{"ABCD-EFGH-JKMN", "ABCDEFGHJKMN"},
		{"ABCDEFGHJKMN", "ABCDEFGHJKMN"},
		{"abcd-efgh-jkmn", "ABCDEFGHJKMN"},
		{"  abcd efgh jkmn\n", "ABCDEFGHJKMN"},
		{"a-b-c-d-e-f-g-h-j-k-m-n", "ABCDEFGHJKMN"},
		{"OOOO-IIII-LLLL", "000011111111"},
		{"oooo-iiii-llll", "000011111111"},
		{"PQRS-TVWX-YZ98", "PQRSTVWXYZ98"},
		{"ＡＢＣＤ－ＥＦＧＨ－ＪＫＭＮ", "ABCDEFGHJKMN"}, // full-width, from a Chinese input method
		{"ABCD\u3000EFGH\u3000JKMN", "ABCDEFGHJKMN"},
		{"ABCD–EFGH—JKMN", "ABCDEFGHJKMN"}, // en and em dashes
		{"ABCD-EFGH-JKMU", ""},             // U is not a symbol
		{"ABCD-EFGH-JKM", ""},              // 11
		{"ABCD-EFGH-JKMNP", ""},            // 13
		{"", ""},
		{"------------", ""},
		{"ABCD_EFGH_JKMN", ""},
		{"ABCD.EFGH.JKMN", ""},
		{"ABCD-EFGH-JKM*", ""},
		{"ÀBCD-EFGH-JKMN", ""},
		{"ſBCD-EFGH-JKMN", ""}, // long s upper-cases to S in Unicode, but is not ASCII
		{"ıBCD-EFGH-JKMN", ""}, // dotless i
		{"ABCD-EFGH-JKMN\xff", ""},
		{strings.Repeat(" ", 100) + "ABCDEFGHJKMN", ""},
	}
	for _, tt := range tests {
		got, err := ParseTrackingCode(tt.in)
		if tt.want == "" {
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("ParseTrackingCode(%q) = %q, %v; want ErrInvalid", tt.in, got, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseTrackingCode(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestFormatTrackingCode(t *testing.T) {
	for in, want := range map[string]string{
		"ABCDEFGHJKMN":   "ABCD-EFGH-JKMN",
		"abcd efgh jkmn": "ABCD-EFGH-JKMN",
		"oiLx-0000-0000": "011X-0000-0000",
		"not a code":     "not a code",
		"":               "",
	} {
		if got := FormatTrackingCode(in); got != want {
			t.Errorf("FormatTrackingCode(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzParseTrackingCode(f *testing.F) {
	for _, s := range []string{
		"ABCD-EFGH-JKMN", "abcd efgh jkmn", "OOOO-IIII-LLLL", "ABCD-EFGH-JKMU", "", "-",
		"ＡＢＣＤ－ＥＦＧＨ－ＪＫＭＮ", "ſſſſ-ſſſſ-ſſſſ", "\xff\xfe", NewTrackingCode(),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		code, err := ParseTrackingCode(s)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("ParseTrackingCode(%q) = %v, not ErrInvalid", s, err)
			}
			if got := FormatTrackingCode(s); got != s {
				t.Fatalf("FormatTrackingCode(%q) = %q, want the input back", s, got)
			}
			return
		}
		if len(code) != TrackingCodeLength || strings.Trim(code, crockford) != "" {
			t.Fatalf("ParseTrackingCode(%q) = %q, not canonical", s, code)
		}
		shown := FormatTrackingCode(code)
		if len(shown) != 14 || shown[4] != '-' || shown[9] != '-' {
			t.Fatalf("FormatTrackingCode(%q) = %q", code, shown)
		}
		for _, again := range []string{code, shown, strings.ToLower(shown), FormatTrackingCode(s)} {
			if got, err := ParseTrackingCode(again); err != nil || got != code {
				t.Fatalf("ParseTrackingCode(%q) = %q, %v; want %q (from %q)", again, got, err, code, s)
			}
		}
	})
}
