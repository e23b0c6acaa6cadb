package api_test

import (
	"bytes"
	"fmt"
	"net/http"
	"testing"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/jobs"
	"github.com/cityhall/duban/password"
	"github.com/cityhall/duban/storage"
	"github.com/cityhall/duban/storage/storagetest"
)

func TestPutPassword_ThePersonOrAnAdminAtLeastTwelveCharacters(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, st *storage.Store) {
		e := newEnv(t, st)
		admin := storagetest.Person(t, e.store, duban.Person{Name: "管理员", Roles: duban.Roles{duban.RoleAdmin}})
		path := func(p *duban.Person) string { return fmt.Sprintf("/api/v1/people/%d/password", p.ID) }
		for _, tt := range []struct {
			name   string
			token  string
			target *duban.Person
			pw     string
			status int
		}{
			{"staff set a supervisor's", e.token(e.staff), e.sup, "a good long password", http.StatusForbidden},
			{"a supervisor sets a head's", e.token(e.sup), e.head, "a good long password", http.StatusForbidden},
			{"too short", e.token(e.sup), e.sup, "eleven char", http.StatusUnprocessableEntity},
			{"their own", e.token(e.sup), e.sup, "my own long password", http.StatusNoContent},
			{"an admin resets one", e.token(admin), e.head, "reset by the admin", http.StatusNoContent},
			{"the bootstrap admin too", adminToken, e.staff, "set by the operator", http.StatusNoContent},
		} {
			t.Run(tt.name, func(t *testing.T) {
				e.call("PUT", path(tt.target), tt.token, map[string]string{"password": tt.pw}).want(tt.status)
			})
		}
		e.call("PUT", "/api/v1/people/99999/password", adminToken, map[string]string{"password": "long enough password"}).want(http.StatusNotFound)
		hash, err := e.store.PasswordHash(e.ctx, e.sup.ID)
		if err != nil || password.Verify(hash, "my own long password") != nil {
			t.Errorf("the supervisor's password was not stored (%v)", err)
		}
		if h, _ := e.store.PasswordHash(e.ctx, e.head.ID); password.Verify(h, "reset by the admin") != nil {
			t.Error("the admin's reset was not stored")
		}
		if !e.hasAudit("person.password", fmt.Sprintf("person:%d", e.head.ID)) {
			t.Error("the reset is not in the audit log")
		}
		// The hash never leaves through the API.
		if body := e.call("GET", fmt.Sprintf("/api/v1/people/%d", e.sup.ID), e.token(e.sup), nil).want(http.StatusOK).Body; bytes.Contains(body, []byte("$argon2id")) {
			t.Errorf("the person's JSON carries the hash: %s", body)
		}
		// A login signs in with the password just set.
		if err := jobs.SetLogin(e.ctx, e.store, jobs.Actor{Name: "admin"}, e.sup.ID, "Zhao.Sup"); err != nil {
			t.Fatal(err)
		}
		if p, err := jobs.SignIn(e.ctx, e.store, "zhao.sup", "my own long password"); err != nil || p.ID != e.sup.ID {
			t.Errorf("SignIn = %v, %v", p, err)
		}
	})
}
