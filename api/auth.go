package api

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/jobs"
)

// adminActor is the bootstrap admin of DUBAN_ADMIN_TOKEN: a system actor,
// allowed everything.
const adminActor = "admin"

// tokenPrefix marks duban's personal API tokens, so a leaked one is
// recognisable (secret scanners key on such prefixes).
const tokenPrefix = "dbn_"

// tokenBytes is the randomness of a personal token: 256 bits.
const tokenBytes = 32

// crockford is Crockford's base32 alphabet: no I, L, O or U, so a code read
// aloud or typed from a screen is not misread.
const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// bindCodeLen is the length of a chat bind code: 40 random bits, used once
// within BindCodeTTL.
const bindCodeLen = 8

// authenticate finds the actor of a request's bearer token: the bootstrap
// admin, or the active person who owns the token.
func (s *server) authenticate(r *http.Request) (jobs.Actor, error) {
	h := r.Header.Get("Authorization")
	scheme, token, ok := strings.Cut(h, " ")
	token = strings.TrimSpace(token)
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return jobs.Actor{}, errorf(http.StatusUnauthorized, "send a token as Authorization: Bearer <token>")
	}
	if s.AdminToken != "" && equalSecret(token, s.AdminToken) {
		return jobs.Actor{Name: adminActor}, nil
	}
	p, err := s.Store.PersonByTokenHash(r.Context(), HashToken(token))
	if errors.Is(err, duban.ErrNotFound) {
		return jobs.Actor{}, errorf(http.StatusUnauthorized, "the token is unknown or its owner is deactivated")
	}
	if err != nil {
		return jobs.Actor{}, err
	}
	return jobs.Actor{Person: p}, nil
}

// equalSecret compares in constant time; hashing first hides the length.
func equalSecret(a, b string) bool {
	ha, hb := sha256.Sum256([]byte(a)), sha256.Sum256([]byte(b))
	return subtle.ConstantTimeCompare(ha[:], hb[:]) == 1
}

// HashToken is what the store keeps of a personal token: its SHA-256 in hex.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// newToken makes a personal API token: "dbn_" and 32 random bytes in
// base64url.
func newToken() (string, error) {
	b := make([]byte, tokenBytes)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("api: token: %w", err)
	}
	return tokenPrefix + base64.RawURLEncoding.EncodeToString(b), nil
}

// newBindCode makes a bind code of Crockford base32 symbols. 256 is a
// multiple of 32, so taking each byte modulo 32 is unbiased.
func newBindCode() (string, error) {
	b := make([]byte, bindCodeLen)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("api: bind code: %w", err)
	}
	for i := range b {
		b[i] = crockford[b[i]%32]
	}
	return string(b), nil
}

// can reports whether a holds any of roles: system actors and admins always;
// with no roles given, admins only.
func can(a jobs.Actor, roles ...duban.Role) bool {
	return a.Person == nil || a.Person.Can(roles...)
}

// isAdmin reports whether a is the bootstrap admin or holds the admin role.
func isAdmin(a jobs.Actor) bool { return can(a) }

// require answers 403 unless a holds one of roles.
func require(a jobs.Actor, roles ...duban.Role) error {
	if !can(a, roles...) {
		return duban.ErrForbidden
	}
	return nil
}

// agencyScope is the agency whose hearings a is limited to: heads,
// deputies and handlers who are not office staff, supervisors or admins see
// only their own agency's. limited false: a sees everything.
func agencyScope(a jobs.Actor) (agencyID *int64, limited bool) {
	if can(a, duban.RoleStaff, duban.RoleSupervisor) {
		return nil, false
	}
	return a.Person.AgencyID, true
}
