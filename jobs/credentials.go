package jobs

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/storage"
)

// Credentials holds the use cases of a person's credentials: the bind
// code that links their chat (/start CODE) and their personal API tokens.
// Each asks the rule book and audits in the transaction of its change; the
// API and the command line call them alike, and this file is the one place
// tokens and codes are made.
type Credentials struct {
	store       *storage.Store
	clock       duban.Clock
	loc         *time.Location
	bindCodeTTL time.Duration
}

// CredentialsDeps are what Credentials needs.
type CredentialsDeps struct {
	Store *storage.Store
	// Clock says when codes and tokens expire; default the wall clock.
	Clock duban.Clock
	// Loc is DUBAN_TIMEZONE: an expiry without an offset is read in it,
	// and the audit log shows times in it; default time.Local.
	Loc *time.Location
	// BindCodeTTL is how long a bind code stays valid (DUBAN_BIND_CODE_TTL);
	// default DefaultBindCodeTTL.
	BindCodeTTL time.Duration
}

// DefaultBindCodeTTL is DUBAN_BIND_CODE_TTL's default.
const DefaultBindCodeTTL = 24 * time.Hour

// NewCredentials returns the credential use cases on d.
func NewCredentials(d CredentialsDeps) *Credentials {
	c := &Credentials{store: d.Store, clock: d.Clock, loc: d.Loc, bindCodeTTL: d.BindCodeTTL}
	if c.clock == nil {
		c.clock = duban.SystemClock{}
	}
	if c.loc == nil {
		c.loc = time.Local
	}
	if c.bindCodeTTL <= 0 {
		c.bindCodeTTL = DefaultBindCodeTTL
	}
	return c
}

// TokenPrefix marks duban's personal API tokens, so a leaked one is
// recognisable (secret scanners key on such prefixes).
const TokenPrefix = "dbn_"

// tokenBytes is the randomness of a personal token: 256 bits.
const tokenBytes = 32

// crockford is Crockford's base32 alphabet: no I, L, O or U, so a code read
// aloud or typed from a screen is not misread.
const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// bindCodeLen is the length of a chat bind code: 40 random bits, used once
// within the bind code's time to live.
const bindCodeLen = 8

// MaxTokenName bounds a token's name: a label like "laptop" or "OA sync".
const MaxTokenName = duban.MaxNameRunes

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
		return "", fmt.Errorf("credentials: token: %w", err)
	}
	return TokenPrefix + base64.RawURLEncoding.EncodeToString(b), nil
}

// newBindCode makes a bind code of Crockford base32 symbols. 256 is a
// multiple of 32, so taking each byte modulo 32 is unbiased.
func newBindCode() (string, error) {
	b := make([]byte, bindCodeLen)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("credentials: bind code: %w", err)
	}
	for i := range b {
		b[i] = crockford[b[i]%32]
	}
	return string(b), nil
}

// of loads person id and asks the rule book whether actor may do d to
// them; active requires them to be active (action names the refusal).
func (c *Credentials) of(ctx context.Context, actor Actor, id int64, d duban.Do, action string, active bool) (*duban.Person, error) {
	p, err := c.store.PersonByID(ctx, id)
	if err != nil {
		return nil, missing(err, "person %d", id)
	}
	if err := actor.Check(d, duban.OfPerson(p)); err != nil {
		return nil, err
	}
	if active && !p.Active {
		return nil, &duban.StateError{Action: action, State: "deactivated", Allowed: []string{}}
	}
	return p, nil
}

// show is t as the audit log shows it.
func (c *Credentials) show(t time.Time) string { return t.In(c.loc).Format(time.RFC3339) }

// BindCode is a code a person sends the bot as /start CODE.
type BindCode struct {
	Code      string
	ExpiresAt time.Time
}

// BindCode makes a bind code for person id. Admins make codes for anyone;
// office staff only for a person with no chat bound yet
// (duban.PersonBindCode). Audited in the same transaction.
func (c *Credentials) BindCode(ctx context.Context, actor Actor, id int64) (*BindCode, error) {
	p, err := c.of(ctx, actor, id, duban.PersonBindCode, "bind-code", true)
	if err != nil {
		return nil, err
	}
	code, err := newBindCode()
	if err != nil {
		return nil, err
	}
	expires := c.clock.Now().Add(c.bindCodeTTL)
	err = c.store.InTx(ctx, func(tx *storage.Store) error {
		if err := tx.CreateBindCode(ctx, p.ID, code, expires); err != nil {
			return err
		}
		return tx.Audit(ctx, actor.String(), "person.bind_code", personTarget(p.ID), "expires "+c.show(expires))
	})
	if err != nil {
		return nil, err
	}
	return &BindCode{Code: code, ExpiresAt: expires}, nil
}

// TokenSpec is what a caller may say of a token: a name, and when it
// expires ("" never; RFC 3339 or 2006-01-02 15:04 in DUBAN_TIMEZONE).
type TokenSpec struct {
	Name      string
	ExpiresAt string
}

// MintedToken is a token just made: Secret is shown once, and only its
// hash is kept.
type MintedToken struct {
	storage.APIToken
	Secret string
}

// MayMint answers the error MintToken would refuse actor with for person
// id before reading a spec (an unknown or deactivated person, the rule
// book's refusal), or the person; a caller reading a request body asks
// first.
func (c *Credentials) MayMint(ctx context.Context, actor Actor, id int64) (*duban.Person, error) {
	return c.of(ctx, actor, id, duban.PersonTokens, "token", true)
}

// MintToken makes a personal API token for person id, minted by the
// person themself or an admin (duban.PersonTokens). Audited in the same
// transaction.
func (c *Credentials) MintToken(ctx context.Context, actor Actor, id int64, spec TokenSpec) (*MintedToken, error) {
	p, err := c.MayMint(ctx, actor, id)
	if err != nil {
		return nil, err
	}
	t := storage.APIToken{PersonID: p.ID, Name: strings.TrimSpace(spec.Name)}
	var v duban.ValidationError
	if utf8.RuneCountInString(t.Name) > MaxTokenName {
		v.Add("name", "is over %d characters", MaxTokenName)
	}
	if spec.ExpiresAt != "" {
		exp, err := duban.ParseTime(spec.ExpiresAt, c.loc)
		switch {
		case err != nil:
			v.Add("expires_at", "is not a time (RFC 3339 or 2006-01-02 15:04)")
		case !exp.After(c.clock.Now()):
			v.Add("expires_at", "is not in the future")
		default:
			t.ExpiresAt = &exp
		}
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	secret, err := newToken()
	if err != nil {
		return nil, err
	}
	err = c.store.InTx(ctx, func(tx *storage.Store) error {
		if err := tx.AddToken(ctx, &t, HashToken(secret)); err != nil {
			return err
		}
		detail := fmt.Sprintf("token:%d name=%q", t.ID, t.Name)
		if t.ExpiresAt != nil {
			detail += " expires " + c.show(*t.ExpiresAt)
		}
		return tx.Audit(ctx, actor.String(), "person.token", personTarget(p.ID), detail)
	})
	if err != nil {
		return nil, err
	}
	return &MintedToken{APIToken: t, Secret: secret}, nil
}

// Tokens lists person id's tokens, oldest first, without secrets: for the
// person and admins.
func (c *Credentials) Tokens(ctx context.Context, actor Actor, id int64) ([]storage.APIToken, error) {
	p, err := c.of(ctx, actor, id, duban.PersonTokens, "tokens", false)
	if err != nil {
		return nil, err
	}
	return c.store.Tokens(ctx, p.ID)
}

// RevokeToken deletes token tokenID of person id; it answers 401 from then
// on. Audited in the same transaction.
func (c *Credentials) RevokeToken(ctx context.Context, actor Actor, id, tokenID int64) error {
	p, err := c.of(ctx, actor, id, duban.PersonTokens, "revoke", false)
	if err != nil {
		return err
	}
	if tokenID <= 0 {
		return &NotFoundError{What: fmt.Sprintf("token %d of person %d", tokenID, p.ID)}
	}
	return c.store.InTx(ctx, func(tx *storage.Store) error {
		if err := tx.RevokeToken(ctx, p.ID, tokenID); err != nil {
			return missing(err, "token %d of person %d", tokenID, p.ID)
		}
		return tx.Audit(ctx, actor.String(), "person.token_revoke", personTarget(p.ID), fmt.Sprintf("token:%d", tokenID))
	})
}
