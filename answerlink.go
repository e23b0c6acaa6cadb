package duban

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// AnswerToken is what a signed answer link in an e-mail stands for: head
// PersonID may answer for hearing agency HearingAgencyID until Expires.
// The link is the credential, so it is signed and expires (at the
// hearing's start: no answer is taken after it).
type AnswerToken struct {
	HearingAgencyID int64
	PersonID        int64
	Expires         time.Time
}

// Errors of a refused answer token; both match ErrUnauthorized.
var (
	ErrTokenInvalid = fmt.Errorf("answer link is not valid: %w", ErrUnauthorized)
	ErrTokenExpired = fmt.Errorf("answer link has expired: %w", ErrUnauthorized)
)

// answerTokenLen is the length of a token's body: two ids and the expiry,
// 8 bytes each, before the 32 bytes of its HMAC-SHA256.
const answerTokenLen = 24

// AnswerKey derives the key that signs answer links from a configured
// secret, so that the secret itself signs nothing else's way.
func AnswerKey(secret string) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte("duban answer link v1"))
	return m.Sum(nil)
}

// Sign returns t as a URL-safe string signed with key.
func (t AnswerToken) Sign(key []byte) string {
	b := make([]byte, answerTokenLen, answerTokenLen+sha256.Size)
	binary.BigEndian.PutUint64(b[0:], uint64(t.HearingAgencyID))
	binary.BigEndian.PutUint64(b[8:], uint64(t.PersonID))
	binary.BigEndian.PutUint64(b[16:], uint64(t.Expires.Unix()))
	m := hmac.New(sha256.New, key)
	m.Write(b)
	return base64.RawURLEncoding.EncodeToString(m.Sum(b))
}

// ParseAnswerToken checks s's signature with key and its expiry against
// now: a tampered or foreign token is ErrTokenInvalid, an expired one
// ErrTokenExpired.
func ParseAnswerToken(key []byte, s string, now time.Time) (AnswerToken, error) {
	b, err := base64.RawURLEncoding.Strict().DecodeString(s)
	if err != nil || len(b) != answerTokenLen+sha256.Size {
		return AnswerToken{}, ErrTokenInvalid
	}
	m := hmac.New(sha256.New, key)
	m.Write(b[:answerTokenLen])
	if !hmac.Equal(m.Sum(nil), b[answerTokenLen:]) {
		return AnswerToken{}, ErrTokenInvalid
	}
	t := AnswerToken{
		HearingAgencyID: int64(binary.BigEndian.Uint64(b[0:])),
		PersonID:        int64(binary.BigEndian.Uint64(b[8:])),
		Expires:         time.Unix(int64(binary.BigEndian.Uint64(b[16:])), 0),
	}
	if !now.Before(t.Expires) {
		return t, ErrTokenExpired
	}
	return t, nil
}

// IsTokenError reports whether err is a refused answer token.
func IsTokenError(err error) bool {
	return errors.Is(err, ErrTokenInvalid) || errors.Is(err, ErrTokenExpired)
}
