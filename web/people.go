package web

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/jobs"
	"github.com/cityhall/duban/storage"
)

// The office's people and agencies pages: the same use cases as the API
// and the command line (jobs.People, jobs.Agencies, jobs.Credentials),
// so the rule book decides here as there — staff add people and edit
// their contacts and mint bind codes for people with no chat yet; only
// admins give roles, re-bind, mint others' tokens and reset passwords.

func (w *Web) peopleCases() (*jobs.People, *jobs.Agencies, *jobs.Credentials) {
	pd := jobs.PeopleDeps{Store: w.Store, Clock: w.Clock}
	if w.Hearings != nil && w.Hearings.Outbox != nil {
		pd.Outbox, pd.T = w.Hearings.Outbox, w.T
	}
	return jobs.NewPeople(pd), jobs.NewAgencies(w.Store),
		jobs.NewCredentials(jobs.CredentialsDeps{Store: w.Store, Clock: w.Clock, Loc: w.Loc})
}

type peoplePage struct {
	Rows     []duban.Person
	Agencies []jobs.AgencyListing
	Roles    []duban.Role
}

// people: GET /people, everyone for the office, with the form that adds
// a person.
func (w *Web) people(rw http.ResponseWriter, r *http.Request, me *viewer) error {
	people, agencies, _ := w.peopleCases()
	rows, err := people.List(r.Context(), me.Actor(), jobs.PeopleQuery{Agency: r.URL.Query().Get("agency"), Role: r.URL.Query().Get("role")})
	if err != nil {
		return err
	}
	ags, err := agencies.List(r.Context(), me.Actor())
	if err != nil {
		return err
	}
	w.render(rw, r, me, http.StatusOK, "people", peoplePage{Rows: rows, Agencies: ags, Roles: duban.AllRoles})
	return nil
}

// addPerson: POST /people, a person added, then their page.
func (w *Web) addPerson(rw http.ResponseWriter, r *http.Request, me *viewer) error {
	people, _, _ := w.peopleCases()
	f := personForm(r) // parses the form
	roles := r.PostForm["roles"]
	f.Roles = &roles
	p, err := people.Add(r.Context(), me.Actor(), f)
	if err != nil {
		return err
	}
	http.Redirect(rw, r, fmt.Sprintf("/people/%d", p.ID), http.StatusSeeOther)
	return nil
}

// personForm reads the contact fields a form sends; absent ones are left
// alone.
func personForm(r *http.Request) jobs.PersonFields {
	_ = r.ParseForm()
	var f jobs.PersonFields
	str := func(name string) *string {
		if _, ok := r.PostForm[name]; !ok {
			return nil
		}
		v := strings.TrimSpace(r.PostFormValue(name))
		return &v
	}
	f.Name, f.Email, f.Phone, f.Locale = str("name"), str("email"), str("phone"), str("locale")
	if a := str("agency"); a != nil {
		f.Agency = &jobs.AgencyRef{Code: *a}
	}
	return f
}

type personPage struct {
	P        *duban.Person
	Tokens   []storage.APIToken
	Roles    []duban.Role
	BindCode *jobs.BindCode
	Secret   string // a token just minted, shown once
	Saved    bool
}

func pathPerson(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, fmt.Errorf("person %q: %w", r.PathValue("id"), duban.ErrNotFound)
	}
	return id, nil
}

// person: GET /people/{id}, a person's details and the forms the viewer
// may use on them.
func (w *Web) person(rw http.ResponseWriter, r *http.Request, me *viewer) error {
	return w.showPerson(rw, r, me, personPage{})
}

func (w *Web) showPerson(rw http.ResponseWriter, r *http.Request, me *viewer, pg personPage) error {
	id, err := pathPerson(r)
	if err != nil {
		return err
	}
	people, _, creds := w.peopleCases()
	if pg.P, err = people.Get(r.Context(), me.Actor(), id); err != nil {
		return err
	}
	if me.Actor().May(duban.PersonTokens, duban.OfPerson(pg.P)) {
		if pg.Tokens, err = creds.Tokens(r.Context(), me.Actor(), id); err != nil {
			return err
		}
	}
	pg.Roles = duban.AllRoles
	w.render(rw, r, me, http.StatusOK, "person", pg)
	return nil
}

// editPerson: POST /people/{id}, contact details (and the login).
func (w *Web) editPerson(rw http.ResponseWriter, r *http.Request, me *viewer) error {
	id, err := pathPerson(r)
	if err != nil {
		return err
	}
	people, _, _ := w.peopleCases()
	_ = r.ParseForm()
	login, setLogin := r.PostForm["login"]
	if setLogin {
		// Checked first, so a taken login changes nothing.
		if err := jobs.CheckLogin(r.Context(), w.Store, id, login[0]); err != nil {
			return err
		}
	}
	if _, err := people.Update(r.Context(), me.Actor(), id, personForm(r)); err != nil {
		return err
	}
	if setLogin {
		if err := jobs.SetLogin(r.Context(), w.Store, me.Actor(), id, login[0]); err != nil {
			return err
		}
	}
	return w.showPerson(rw, r, me, personPage{Saved: true})
}

// personRoles: POST /people/{id}/roles, an admin's.
func (w *Web) personRoles(rw http.ResponseWriter, r *http.Request, me *viewer) error {
	id, err := pathPerson(r)
	if err != nil {
		return err
	}
	people, _, _ := w.peopleCases()
	_ = r.ParseForm()
	roles := r.PostForm["roles"]
	if _, err := people.Update(r.Context(), me.Actor(), id, jobs.PersonFields{Roles: &roles}); err != nil {
		return err
	}
	return w.showPerson(rw, r, me, personPage{Saved: true})
}

// personBindCode: POST /people/{id}/bind-code, a /start code shown on the
// person's page.
func (w *Web) personBindCode(rw http.ResponseWriter, r *http.Request, me *viewer) error {
	id, err := pathPerson(r)
	if err != nil {
		return err
	}
	_, _, creds := w.peopleCases()
	bc, err := creds.BindCode(r.Context(), me.Actor(), id)
	if err != nil {
		return err
	}
	return w.showPerson(rw, r, me, personPage{BindCode: bc})
}

// personToken: POST /people/{id}/tokens, a token minted and shown once.
func (w *Web) personToken(rw http.ResponseWriter, r *http.Request, me *viewer) error {
	id, err := pathPerson(r)
	if err != nil {
		return err
	}
	_, _, creds := w.peopleCases()
	t, err := creds.MintToken(r.Context(), me.Actor(), id, jobs.TokenSpec{Name: r.PostFormValue("name"), ExpiresAt: r.PostFormValue("expires_at")})
	if err != nil {
		return err
	}
	return w.showPerson(rw, r, me, personPage{Secret: t.Secret})
}

// revokeToken: POST /people/{id}/tokens/{token}/revoke.
func (w *Web) revokeToken(rw http.ResponseWriter, r *http.Request, me *viewer) error {
	id, err := pathPerson(r)
	if err != nil {
		return err
	}
	tid, _ := strconv.ParseInt(r.PathValue("token"), 10, 64)
	_, _, creds := w.peopleCases()
	if err := creds.RevokeToken(r.Context(), me.Actor(), id, tid); err != nil {
		return err
	}
	return w.showPerson(rw, r, me, personPage{Saved: true})
}

// deactivatePerson: POST /people/{id}/deactivate.
func (w *Web) deactivatePerson(rw http.ResponseWriter, r *http.Request, me *viewer) error {
	id, err := pathPerson(r)
	if err != nil {
		return err
	}
	people, _, _ := w.peopleCases()
	if _, err := people.Deactivate(r.Context(), me.Actor(), id); err != nil {
		return err
	}
	return w.showPerson(rw, r, me, personPage{Saved: true})
}

// resetPassword: POST /people/{id}/password, an admin setting someone's
// password (the person changes their own on /me).
func (w *Web) resetPassword(rw http.ResponseWriter, r *http.Request, me *viewer) error {
	id, err := pathPerson(r)
	if err != nil {
		return err
	}
	if err := jobs.SetPassword(r.Context(), w.Store, me.Actor(), id, r.PostFormValue("password")); err != nil {
		return err
	}
	return w.showPerson(rw, r, me, personPage{Saved: true})
}

type agenciesPage struct {
	Rows []jobs.AgencyListing
}

// agencies: GET /agencies, every agency, with the forms that add and
// rename them (staff).
func (w *Web) agencies(rw http.ResponseWriter, r *http.Request, me *viewer) error {
	_, agencies, _ := w.peopleCases()
	rows, err := agencies.List(r.Context(), me.Actor())
	if err != nil {
		return err
	}
	w.render(rw, r, me, http.StatusOK, "agencies", agenciesPage{Rows: rows})
	return nil
}

// addAgency: POST /agencies.
func (w *Web) addAgency(rw http.ResponseWriter, r *http.Request, me *viewer) error {
	_, agencies, _ := w.peopleCases()
	if _, err := agencies.Add(r.Context(), me.Actor(), strings.TrimSpace(r.PostFormValue("code")),
		strings.TrimSpace(r.PostFormValue("name")), strings.TrimSpace(r.PostFormValue("parent"))); err != nil {
		return err
	}
	http.Redirect(rw, r, "/agencies", http.StatusSeeOther)
	return nil
}

// renameAgency: POST /agencies/{code}.
func (w *Web) renameAgency(rw http.ResponseWriter, r *http.Request, me *viewer) error {
	_, agencies, _ := w.peopleCases()
	name := strings.TrimSpace(r.PostFormValue("name"))
	if _, err := agencies.Update(r.Context(), me.Actor(), r.PathValue("code"), jobs.AgencyChange{Name: &name}); err != nil {
		return err
	}
	http.Redirect(rw, r, "/agencies", http.StatusSeeOther)
	return nil
}
