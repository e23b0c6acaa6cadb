package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/text/encoding/simplifiedchinese"
)

// cli runs duban with args against the database of env.
func cli(t *testing.T, env map[string]string, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	err := dispatch(context.Background(), args, func(k string) string { return env[k] }, &out)
	return out.String(), err
}

func TestCLI_AdministersAndImportsHearingsAllOrNothing(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"DUBAN_DATABASE_URL": "sqlite:" + filepath.Join(dir, "duban.db")}
	steps := [][]string{
		{"migrate"},
		{"agency", "add", "GA", "市公安局"},
		{"agency", "add", "--parent", "GA", "GA-JJ", "交警支队"},
		{"person", "add", "--name", "张局长", "--roles", "agency_head", "--agency", "GA", "--telegram-chat-id", "1001"},
	}
	for _, s := range steps {
		if out, err := cli(t, env, s...); err != nil {
			t.Fatalf("duban %s: %v\n%s", strings.Join(s, " "), err, out)
		}
	}
	if out, _ := cli(t, env, "agency", "list"); !strings.Contains(out, "交警支队") {
		t.Errorf("agency list:\n%s", out)
	}
	if out, err := cli(t, env, "person", "add", "--name", "x", "--roles", "chief"); err == nil {
		t.Errorf("unknown role accepted:\n%s", out)
	}
	if out, err := cli(t, env, "person", "bind-code", "1"); err != nil || !strings.Contains(out, "/start ") {
		t.Errorf("bind-code: %v\n%s", err, out)
	}
	if out, err := cli(t, env, "person", "token", "1"); err != nil || !strings.HasPrefix(out, "dbn_") {
		t.Errorf("token: %v\n%s", err, out)
	}

	// The CLI runs on the wall clock and takes only hearings still to
	// come: a Monday morning long after any day this suite runs on.
	const start = "2099-06-01 09:30"
	good := "case_number,court,courtroom,agency,starts_at,plaintiff,cause\n" +
		"(2026)沪01行初7号,市中级人民法院,第三法庭,GA;GA-JJ," + start + ",王某,行政处罚\n"
	gb, err := simplifiedchinese.GB18030.NewEncoder().String(good)
	if err != nil {
		t.Fatal(err)
	}
	bad := good + "(2026)沪01行初8号,市中级人民法院,,NOPE," + start + ",李某,行政许可\n"
	for name, body := range map[string]string{"bad.csv": bad, "gb.csv": gb} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	out, err := cli(t, env, "import", "hearings", filepath.Join(dir, "bad.csv"))
	if err == nil || !strings.Contains(out, "row 3") || !strings.Contains(out, "NOPE") {
		t.Fatalf("bad CSV: %v\n%s", err, out)
	}
	out, err = cli(t, env, "import", "hearings", filepath.Join(dir, "gb.csv"))
	if err != nil || !strings.Contains(out, "1 new") {
		t.Fatalf("GB18030 CSV after a refused one: %v\n%s", err, out)
	}
	out, err = cli(t, env, "import", "hearings", filepath.Join(dir, "gb.csv"))
	if err != nil || !strings.Contains(out, "0 new, 1 already") {
		t.Fatalf("the same file again: %v\n%s", err, out)
	}
}

func TestCLI_BadConfigurationIsOneLineNamingTheKey(t *testing.T) {
	_, err := cli(t, map[string]string{"DUBAN_REMINDER_OFFSETS": "3x"}, "migrate")
	if err == nil || !strings.HasPrefix(err.Error(), "DUBAN_REMINDER_OFFSETS") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("err = %v", err)
	}
}
