package main

import (
	"context"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cityhall/duban/password"
	"github.com/cityhall/duban/storage"
)

// closedAddr is a loopback address nothing listens on: a connection to it
// is refused at once.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// withStore opens the database at path for the length of fn.
func withStore(t *testing.T, path string, fn func(st *storage.Store)) {
	t.Helper()
	st, err := storage.Open(context.Background(), "sqlite:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	fn(st)
}

func audits(t *testing.T, st *storage.Store) []storage.AuditEntry {
	t.Helper()
	log, err := st.AuditLog(context.Background(), 1000)
	if err != nil {
		t.Fatal(err)
	}
	return log
}

func TestCLI_AdministrationNeedsNeitherRedisNorTelegram(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{
		"DUBAN_DATABASE_URL": "sqlite:" + filepath.Join(dir, "duban.db"),
		// Both down: any command that dialled them would fail.
		"DUBAN_REDIS_URL":             "redis://" + closedAddr(t) + "/0",
		"DUBAN_TELEGRAM_TOKEN":        "123456:test-token",
		"DUBAN_TELEGRAM_API_ENDPOINT": "http://" + closedAddr(t) + "/bot%s/%s",
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"migrate"}, "migrations applied"},
		{[]string{"agency", "add", "GA", "市公安局"}, "agency GA created"},
		{[]string{"agency", "list"}, "市公安局"},
		{[]string{"person", "add", "--name", "张局长", "--roles", "agency_head", "--agency", "GA"}, "person 1 created"},
		{[]string{"person", "list"}, "张局长"},
		{[]string{"person", "list", "--role", "agency_head", "--agency", "GA"}, "张局长"},
		{[]string{"person", "bind-code", "1"}, "/start "},
		{[]string{"person", "token", "1"}, "dbn_"},
		{[]string{"person", "deactivate", "1"}, "person 1 deactivated"},
	} {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			out, err := cli(t, env, tt.args...)
			if err != nil || !strings.Contains(out, tt.want) {
				t.Fatalf("err %v, out:\n%s\nwant %q", err, out, tt.want)
			}
		})
	}

	// The premise: a command that must schedule opens Redis and Telegram,
	// and with them down it says so.
	csv := filepath.Join(dir, "h.csv")
	if err := os.WriteFile(csv, []byte("case_number,court,courtroom,agency,starts_at,plaintiff,cause\n"+
		"(2026)沪01行初7号,市中级人民法院,第三法庭,GA,2099-06-01 09:30,王某,行政处罚\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := cli(t, env, "import", "hearings", csv); err == nil || !strings.Contains(err.Error(), "telegram") {
		t.Errorf("import with Telegram down: %v\n%s", err, out)
	}
}

func TestCLI_PersonAddAuditsInTheSameTransaction(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "duban.db")
	env := map[string]string{"DUBAN_DATABASE_URL": "sqlite:" + db}
	for _, s := range [][]string{{"agency", "add", "GA", "市公安局"}, {"person", "add", "--name", "张局长", "--roles", "agency_head", "--agency", "GA", "--telegram-chat-id", "1001"}} {
		if out, err := cli(t, env, s...); err != nil {
			t.Fatalf("duban %s: %v\n%s", strings.Join(s, " "), err, out)
		}
	}
	var before int
	withStore(t, db, func(st *storage.Store) {
		log := audits(t, st)
		if len(log) != 2 || log[0].Actor != "cli" || log[0].Action != "person.create" || log[0].Target != "person:1" {
			t.Fatalf("audit %+v, want the cli's person.create of person 1 on top", log)
		}
		before = len(log)
	})

	// A failing insert (the chat is someone else's) leaves no audit row.
	if out, err := cli(t, env, "person", "add", "--name", "李局长", "--roles", "agency_head", "--agency", "GA", "--telegram-chat-id", "1001"); err == nil ||
		!strings.Contains(err.Error(), "already bound") {
		t.Fatalf("a taken chat: %v\n%s", err, out)
	}
	withStore(t, db, func(st *storage.Store) {
		if n := len(audits(t, st)); n != before {
			t.Errorf("%d audit rows after a refused insert, want %d", n, before)
		}
	})

	// A refused audit row takes the person with it.
	withStore(t, db, func(st *storage.Store) {
		if _, err := st.DB().Exec(`CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_log BEGIN SELECT RAISE(ABORT, 'audit refused'); END`); err != nil {
			t.Fatal(err)
		}
	})
	if out, err := cli(t, env, "person", "add", "--name", "王局长", "--roles", "agency_head", "--agency", "GA"); err == nil {
		t.Fatalf("person added though its audit row was refused:\n%s", out)
	}
	withStore(t, db, func(st *storage.Store) {
		people, err := st.People(context.Background(), storage.PeopleFilter{})
		if err != nil || len(people) != 1 {
			t.Errorf("people %+v, %v: want only 张局长", people, err)
		}
	})
}

func TestCLI_PersonTokenTakesANameAndAnExpiry(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "duban.db")
	env := map[string]string{"DUBAN_DATABASE_URL": "sqlite:" + db}
	for _, s := range [][]string{{"agency", "add", "GA", "市公安局"}, {"person", "add", "--name", "张局长", "--roles", "agency_head", "--agency", "GA"}} {
		if out, err := cli(t, env, s...); err != nil {
			t.Fatalf("duban %s: %v\n%s", strings.Join(s, " "), err, out)
		}
	}
	// The CLI runs on the wall clock: expiries far after any day this
	// suite runs on, and one long before.
	for _, tt := range []struct {
		args []string
		ok   bool
	}{
		{[]string{"person", "token", "1", "--name", "laptop", "--expires", "2099-06-30"}, true},
		{[]string{"person", "token", "--expires", "2099-06-30 18:00", "1"}, true},
		{[]string{"person", "token", "1", "--expires", "2001-01-01"}, false},
		{[]string{"person", "token", "1", "--expires", "soon"}, false},
		{[]string{"person", "token", "1", "--name", strings.Repeat("x", 101)}, false},
		{[]string{"person", "token", "99"}, false},
		{[]string{"person", "token", "1", "2"}, false},
	} {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			out, err := cli(t, env, tt.args...)
			if tt.ok != (err == nil) || tt.ok != strings.HasPrefix(out, "dbn_") {
				t.Fatalf("err %v, out %q; want ok %v", err, out, tt.ok)
			}
		})
	}
	withStore(t, db, func(st *storage.Store) {
		tokens, err := st.Tokens(context.Background(), 1)
		if err != nil || len(tokens) != 2 {
			t.Fatalf("tokens %+v, %v: want the two minted", tokens, err)
		}
		sh, _ := time.LoadLocation("Asia/Shanghai")
		for i, want := range []struct {
			name    string
			expires time.Time
		}{
			{"laptop", time.Date(2099, 7, 1, 0, 0, 0, 0, sh)}, // through 30 June
			{"", time.Date(2099, 6, 30, 18, 0, 0, 0, sh)},
		} {
			if got := tokens[i]; got.Name != want.name || got.ExpiresAt == nil || !got.ExpiresAt.Equal(want.expires) {
				t.Errorf("token %d: name %q, expires %v; want %q, %v", i, got.Name, got.ExpiresAt, want.name, want.expires)
			}
		}
		var minted int
		for _, a := range audits(t, st) {
			if a.Action == "person.token" && a.Actor == "cli" && a.Target == "person:1" {
				minted++
			}
		}
		if minted != 2 {
			t.Errorf("%d token audit rows by the cli, want 2", minted)
		}
	})
}

// TestCLI_PersonPasswordReadsStandardInput: the password comes from one
// line of standard input, is checked as the API checks it, and the person
// can then sign in with it (the stored hash verifies).
func TestCLI_PersonPasswordReadsStandardInput(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "duban.db")
	env := map[string]string{"DUBAN_DATABASE_URL": "sqlite:" + db}
	for _, s := range [][]string{{"person", "add", "--name", "赵监督", "--roles", "supervisor"}, {"person", "login", "1", "zhao"}} {
		if out, err := cli(t, env, s...); err != nil {
			t.Fatalf("duban %s: %v\n%s", strings.Join(s, " "), err, out)
		}
	}
	defer func(in io.Reader) { stdin = in }(stdin)
	for _, tt := range []struct {
		input string
		ok    bool
	}{
		{"short\n", false},
		{"correct horse battery staple\n", true},
	} {
		stdin = strings.NewReader(tt.input)
		out, err := cli(t, env, "person", "password", "1")
		if tt.ok != (err == nil) {
			t.Fatalf("password %q: err %v, out %q", tt.input, err, out)
		}
		if strings.Contains(out, strings.TrimSpace(tt.input)) {
			t.Errorf("the password was echoed: %q", out)
		}
	}
	withStore(t, db, func(st *storage.Store) {
		p, hash, err := st.PersonByLogin(context.Background(), "ZHAO")
		if err != nil || p.ID != 1 {
			t.Fatalf("by login: %v %v", p, err)
		}
		if err := password.Verify(hash, "correct horse battery staple"); err != nil {
			t.Errorf("the stored password does not verify: %v", err)
		}
		if a := audits(t, st); a[0].Action != "person.password" || a[0].Actor != "cli" {
			t.Errorf("newest audit %+v, want the cli's person.password", a[0])
		}
	})
}
