package web

import (
	"net/http"

	"github.com/cityhall/duban/jobs"
)

type mePage struct{ Error string }

// mePage: GET /me, who is signed in, and the form to change one's own
// password.
func (w *Web) mePage(rw http.ResponseWriter, r *http.Request, me *viewer) error {
	w.render(rw, r, me, http.StatusOK, "me", mePage{})
	return nil
}

// changePassword: POST /me/password (jobs.SetPassword). The new password
// ends every session of the person, this one too, so the next page asks
// to sign in again.
func (w *Web) changePassword(rw http.ResponseWriter, r *http.Request, me *viewer) error {
	if err := jobs.SetPassword(r.Context(), w.Store, me.Actor(), me.Person.ID, r.PostFormValue("password")); err != nil {
		if code := status(err); code == http.StatusUnprocessableEntity {
			w.render(rw, r, me, code, "me", mePage{Error: me.errorText(err)})
			return nil
		}
		return err
	}
	http.Redirect(rw, r, "/login", http.StatusSeeOther)
	return nil
}
