package duban

import (
	"crypto/rand"
	"encoding/binary"
	"strings"
	"unicode"
)

// A tracking code is how a reporter, anonymous or not, follows a complaint:
// exactly 12 symbols of Crockford's base32 (https://www.crockford.com/base32.html),
// 60 random bits, shown XXXX-XXXX-XXXX. Codes are stored and compared in
// canonical form: 12 upper-case symbols, no dashes.
const TrackingCodeLength = 12

// crockford is Crockford's base32 alphabet: digits and letters without I, L,
// O and U.
const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// maxTrackingInput bounds what ParseTrackingCode reads; a code with every
// separator people type is far shorter.
const maxTrackingInput = 100

// NewTrackingCode returns a fresh random tracking code in canonical form.
func NewTrackingCode() string {
	var b [8]byte
	// crypto/rand.Read never returns an error since Go 1.24; it crashes the
	// program if the system cannot supply randomness.
	_, _ = rand.Read(b[:])
	n := binary.BigEndian.Uint64(b[:]) >> 4 // keep 60 bits: 12 symbols of 5
	var out [TrackingCodeLength]byte
	for i := TrackingCodeLength - 1; i >= 0; i-- {
		out[i] = crockford[n&31]
		n >>= 5
	}
	return string(out[:])
}

// FormatTrackingCode shows a code as people read it, XXXX-XXXX-XXXX. It
// takes any form ParseTrackingCode reads; anything else comes back as it is.
func FormatTrackingCode(code string) string {
	c, err := ParseTrackingCode(code)
	if err != nil {
		return code
	}
	return c[0:4] + "-" + c[4:8] + "-" + c[8:12]
}

// ParseTrackingCode reads a tracking code as people type it and returns its
// canonical form. Case does not matter; dashes and spaces (also their
// full-width forms from a Chinese input method) may appear anywhere; O reads
// as 0, and I and L as 1. Anything else, U included, is invalid and matches
// ErrInvalid.
func ParseTrackingCode(s string) (string, error) {
	if len(s) > maxTrackingInput {
		return "", errTrackingCode()
	}
	var out [TrackingCodeLength]byte
	n := 0
	for _, r := range s {
		if r >= 0xFF01 && r <= 0xFF5E { // full-width ASCII: Ａ→A, －→-
			r -= 0xFEE0
		}
		if isCodeSeparator(r) {
			continue
		}
		if 'a' <= r && r <= 'z' {
			r -= 'a' - 'A'
		}
		switch r {
		case 'O':
			r = '0'
		case 'I', 'L':
			r = '1'
		}
		if r > unicode.MaxASCII || strings.IndexByte(crockford, byte(r)) < 0 || n == TrackingCodeLength {
			return "", errTrackingCode()
		}
		out[n] = byte(r)
		n++
	}
	if n != TrackingCodeLength {
		return "", errTrackingCode()
	}
	return string(out[:]), nil
}

func errTrackingCode() error {
	return Invalid("tracking_code", "must be 12 letters and digits, like ABCD-EFGH-JKMN")
}

// isCodeSeparator reports whether r is a dash or a space, which people put
// between the groups of a code.
func isCodeSeparator(r rune) bool {
	switch r {
	case '-', '\u2010', '\u2011', '\u2012', '\u2013', '\u2014', '\u2212': // hyphens, dashes, minus
		return true
	}
	return unicode.IsSpace(r)
}
