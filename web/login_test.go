package web_test

import (
	"html"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/configs"
	"github.com/cityhall/duban/jobs"
	"github.com/cityhall/duban/storage/storagetest"
)

func TestSignIn_WrongThenRightThenSignOut(t *testing.T) {
	storagetest.EachURL(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL)
		b := e.browser()
		if p := b.get("/"); p.status != http.StatusSeeOther || p.header.Get("Location") != "/login" {
			t.Fatalf("a signed-out visitor at / gets %d %q, want a redirect to /login", p.status, p.header.Get("Location"))
		}
		if p := b.get("/complaints"); p.status != http.StatusSeeOther || !strings.HasPrefix(p.header.Get("Location"), "/login?next=") {
			t.Fatalf("/complaints signed out: %d %q", p.status, p.header.Get("Location"))
		}
		b.get("/login").want(t, http.StatusOK, `name="login"`, `name="password"`, `name="csrf_token"`)
		b.post("/login", "/login", url.Values{"login": {"sup"}, "password": {"not the password"}}).
			want(t, http.StatusUnauthorized, "登录名或密码不正确")
		b.post("/login", "/login", url.Values{"login": {"nobody"}, "password": {testPassword}}).
			want(t, http.StatusUnauthorized, "登录名或密码不正确")
		// Logins are found regardless of case.
		p := b.post("/login", "/login", url.Values{"login": {" SUP "}, "password": {testPassword}})
		if p.status != http.StatusSeeOther || p.header.Get("Location") != "/complaints" {
			t.Fatalf("sign in: %d %q\n%s", p.status, p.header.Get("Location"), p.body)
		}
		b.get("/complaints").want(t, http.StatusOK, "赵监督", "督办队列")
		b.post("/complaints", "/logout", nil).want(t, http.StatusSeeOther)
		if p := b.get("/complaints"); p.status != http.StatusSeeOther {
			t.Fatalf("after sign-out /complaints answers %d, want a redirect to sign in", p.status)
		}
	})
}

func TestSignIn_CookiesAreHttpOnlySameSiteAndSecureBehindHTTPS(t *testing.T) {
	for _, public := range []string{"", "https://duban.example.gov.cn"} {
		e := newEnv(t, storagetest.SQLiteURL(t), func(c *configs.Config) { c.PublicURL = public })
		// By hand, since a cookie jar keeps Secure cookies from plain HTTP:
		// behind a proxy that ends TLS, the browser speaks https.
		login, err := http.Get(e.srv.URL + "/login")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(login.Body)
		login.Body.Close()
		token := html.UnescapeString(csrfField.FindStringSubmatch(string(body))[1])
		form := url.Values{"login": {"sup"}, "password": {testPassword}, "csrf_token": {token}}
		req, _ := http.NewRequest("POST", e.srv.URL+"/login", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", e.srv.URL)
		if public != "" {
			req.Header.Set("Origin", public)
			req.Header.Set("Referer", public+"/login")
		}
		for _, c := range login.Cookies() {
			req.AddCookie(c)
		}
		res, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("public %q: sign in %d", public, res.StatusCode)
		}
		cookies := append(login.Header.Values("Set-Cookie"), res.Header.Values("Set-Cookie")...)
		for _, name := range []string{"duban_session=", "duban_csrf="} {
			var c string
			for _, x := range cookies {
				if strings.HasPrefix(x, name) {
					c = x
				}
			}
			for _, want := range []string{"HttpOnly", "SameSite=Lax"} {
				if !strings.Contains(c, want) {
					t.Errorf("public %q: cookie %q lacks %s", public, c, want)
				}
			}
			if secure := strings.Contains(c, "Secure"); secure != (public != "") {
				t.Errorf("public %q: cookie %q Secure=%v", public, c, secure)
			}
		}
	}
}

func TestSignIn_FiveWrongPasswordsLockThatLoginFromThatAddressOnly(t *testing.T) {
	e := newEnv(t, storagetest.SQLiteURL(t), func(c *configs.Config) { c.TrustedProxies = "127.0.0.1/32" })
	attacker := e.browser()
	attacker.addr = "203.0.113.9"
	for i := range 5 {
		attacker.post("/login", "/login", url.Values{"login": {"sup"}, "password": {"guess " + string(rune('a'+i))}}).want(t, http.StatusUnauthorized)
	}
	// The right password from the locked address is refused too.
	attacker.post("/login", "/login", url.Values{"login": {"sup"}, "password": {testPassword}}).want(t, http.StatusTooManyRequests, "15 分钟")
	// Another login from that address, and the supervisor from their own desk, still sign in.
	other := e.browser()
	other.addr = "203.0.113.9"
	other.signIn("staff")
	desk := e.browser()
	desk.addr = "198.51.100.7"
	desk.signIn("sup")
	// Fifteen minutes on, the pair is free again.
	e.redis.Mini.FastForward(15*time.Minute + time.Second)
	attacker.signIn("sup")
}

func TestSession_EndsWhenThePersonIsDeactivatedOrTheirRolesOrPasswordChange(t *testing.T) {
	storagetest.EachURL(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL)
		st := e.app.Store
		for _, tt := range []struct {
			name   string
			change func(p *duban.Person)
		}{
			{"deactivated", func(p *duban.Person) {
				p.Active = false
				if err := st.UpdatePerson(e.ctx, p); err != nil {
					t.Fatal(err)
				}
			}},
			{"roles changed", func(p *duban.Person) {
				p.Roles = duban.Roles{duban.RoleStaff}
				if err := st.UpdatePerson(e.ctx, p); err != nil {
					t.Fatal(err)
				}
			}},
			{"password changed", func(p *duban.Person) {
				if err := jobs.SetPassword(e.ctx, st, jobs.Actor{Name: "admin"}, p.ID, "someone reset it"); err != nil {
					t.Fatal(err)
				}
			}},
		} {
			t.Run(tt.name, func(t *testing.T) {
				p := e.person(duban.Person{Name: "临时" + tt.name, Roles: duban.Roles{duban.RoleSupervisor}}, "temp-"+strings.ReplaceAll(tt.name, " ", "-"))
				b := e.browser().signIn(p.Login)
				b.get("/complaints").want(t, http.StatusOK)
				tt.change(p)
				if got := b.get("/complaints"); got.status != http.StatusSeeOther {
					t.Fatalf("after %s the session still answers %d", tt.name, got.status)
				}
			})
		}
	})
}

func TestCSRF_APostWithoutItsTokenOrFromAnotherSiteIs403AndChangesNothing(t *testing.T) {
	e := newEnv(t, storagetest.SQLiteURL(t))
	c := e.complaint("乱罚款")
	b := e.browser().signIn("sup")
	from := path("/complaints/%d", c.ID)
	act := path("/complaints/%d/actions", c.ID)
	b.post(from, act, url.Values{"action": {"accept"}}, "-").want(t, http.StatusForbidden, "403")
	b.post(from, act, url.Values{"action": {"accept"}}, "forged-token").want(t, http.StatusForbidden)
	evil := e.browser()
	evil.c.Jar = b.c.Jar
	evil.origin = "https://evil.example"
	evil.post(from, act, url.Values{"action": {"accept"}}).want(t, http.StatusForbidden)
	// Signing in needs the token too.
	e.browser().post("/login", "/login", url.Values{"login": {"sup"}, "password": {testPassword}}, "-").want(t, http.StatusForbidden)
	if got, _ := e.app.Store.ComplaintByID(e.ctx, c.ID); got.Status != duban.ComplaintReceived {
		t.Errorf("a refused post changed the complaint to %s", got.Status)
	}
	b.post(from, act, url.Values{"action": {"accept"}}).want(t, http.StatusSeeOther)
	if got, _ := e.app.Store.ComplaintByID(e.ctx, c.ID); got.Status != duban.ComplaintAccepted {
		t.Errorf("the post with its token left the complaint %s", got.Status)
	}
}
