package jobs

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/password"
	"github.com/cityhall/duban/storage"
)

// maxLogin bounds a login, in characters.
const maxLogin = 64

// SetPassword sets a person's web password: the person themself or an
// admin (the rule book's person.password), at least password.MinLength
// characters. It is audited, and every web session of the person ends,
// since a session carries a stamp of the password it was opened with
// (web/session.go). `PUT /api/v1/people/{id}/password`, the web's
// password form and `duban person password ID` all call it.
func SetPassword(ctx context.Context, st *storage.Store, actor Actor, personID int64, pw string) error {
	p, err := st.PersonByID(ctx, personID)
	if err != nil {
		return err
	}
	if err := actor.Check(duban.PersonPassword, duban.OfPerson(p)); err != nil {
		return err
	}
	if err := password.Check(pw); err != nil {
		return duban.Invalid("password", "%s", err)
	}
	hash, err := password.Hash(pw)
	if err != nil {
		return err
	}
	return st.InTx(ctx, func(tx *storage.Store) error {
		if err := tx.SetPasswordHash(ctx, personID, hash); err != nil {
			return err
		}
		return tx.Audit(ctx, actor.String(), "person.password", fmt.Sprintf("person:%d", personID), "")
	})
}

// SetLogin gives a person a web login, or takes it away with "": part of
// the person's details (the rule book's person.edit). A login is unique
// regardless of case; one held by another person is refused by name.
func SetLogin(ctx context.Context, st *storage.Store, actor Actor, personID int64, login string) error {
	p, err := st.PersonByID(ctx, personID)
	if err != nil {
		return err
	}
	if err := actor.Check(duban.PersonEdit, duban.OfPerson(p)); err != nil {
		return err
	}
	login = strings.TrimSpace(login)
	if err := checkLogin(login); err != nil {
		return err
	}
	return st.InTx(ctx, func(tx *storage.Store) error {
		err := tx.SetLogin(ctx, personID, login)
		if errors.Is(err, duban.ErrConflict) {
			return duban.Invalid("login", "is taken by another person")
		}
		if err != nil {
			return err
		}
		return tx.Audit(ctx, actor.String(), "person.login", fmt.Sprintf("person:%d", personID), login)
	})
}

// CheckLogin refuses, before anything changes, a login that SetLogin
// would refuse for person id (0: a person yet to be added): unreadable,
// or held by someone else.
func CheckLogin(ctx context.Context, st *storage.Store, id int64, login string) error {
	login = strings.TrimSpace(login)
	if err := checkLogin(login); err != nil || login == "" {
		return err
	}
	p, _, err := st.PersonByLogin(ctx, login)
	switch {
	case errors.Is(err, duban.ErrNotFound):
		return nil
	case err != nil:
		return err
	case p.ID != id:
		return duban.Invalid("login", "is taken by another person")
	}
	return nil
}

// checkLogin refuses a login that cannot be typed on a sign-in form.
func checkLogin(login string) error {
	if login == "" {
		return nil
	}
	if !utf8.ValidString(login) || utf8.RuneCountInString(login) > maxLogin {
		return duban.Invalid("login", "must be at most %d characters of UTF-8", maxLogin)
	}
	for _, r := range login {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			return duban.Invalid("login", "must not contain spaces or control characters")
		}
	}
	return nil
}

// SignIn checks a login and password and returns the person, active and
// holding a password. Whatever is wrong — an unknown login, a wrong
// password, a deactivated person, no password set — is the same
// ErrForbidden, so the answer tells nobody which logins exist. Limits
// on attempts are the caller's (web/login.go).
func SignIn(ctx context.Context, st *storage.Store, login, pw string) (*duban.Person, error) {
	refused := fmt.Errorf("sign in: %w", duban.ErrForbidden)
	p, hash, err := st.PersonByLogin(ctx, login)
	if errors.Is(err, duban.ErrNotFound) || (err == nil && hash == "") {
		// Hash anyway, so an unknown login takes as long as a known one.
		_ = password.Verify(dummyHash(), pw)
		return nil, refused
	}
	if err != nil {
		return nil, err
	}
	if err := password.Verify(hash, pw); err != nil || !p.Active {
		return nil, refused
	}
	return p, nil
}

// dummyHash is checked against when there is no hash to check, to spend
// the same time.
var dummyHash = sync.OnceValue(func() string {
	h, _ := password.Hash("no one's password, only for timing")
	return h
})
