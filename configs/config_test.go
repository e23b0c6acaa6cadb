package configs

import (
	"github.com/robfig/cron/v3"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"gopkg.in/yaml.v3"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/ratelimit"
)

// cmpOpts compares locations by name: time.Location has only unexported
// fields.
var cmpOpts = cmp.Options{
	cmp.Comparer(func(a, b *time.Location) bool { return a.String() == b.String() }),
}

// env returns a getenv backed by m.
func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// writeFile writes content to name in a fresh temporary directory.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestDefault_MatchesTheContract(t *testing.T) {
	sh, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	quiet, err := duban.ParseQuietHours("22:00-07:00", sh)
	if err != nil {
		t.Fatal(err)
	}
	want := Config{
		HTTPAddr:             "127.0.0.1:8080",
		DatabaseURL:          "sqlite:data/duban.db",
		Timezone:             "Asia/Shanghai",
		Location:             sh,
		TelegramAPIEndpoint:  "https://api.telegram.org/bot%s/%s",
		TelegramFileEndpoint: "https://api.telegram.org/file/bot%s/%s",
		TelegramMode:         "polling",
		SlackAPIURL:          "https://slack.com/api/",
		ReminderOffsets:      []time.Duration{168 * time.Hour, 72 * time.Hour, 24 * time.Hour, 2 * time.Hour},
		EscalateBefore:       24 * time.Hour,
		OutcomeAfter:         4 * time.Hour,
		QuietHours:           "22:00-07:00",
		Quiet:                quiet,
		Concurrency:          20,
		ReconcileInterval:    2 * time.Minute,
		BindCodeTTL:          24 * time.Hour,
		LogLevel:             "info",
		LogFormat:            "text",
		ShutdownTimeout:      30 * time.Second,
		ContactRetention:     3 * 365 * 24 * time.Hour,
		SLAInterval:          10 * time.Minute,
		ReportsPerChat:       10,
		Open311Rate:          "10/m",
		Open311Limit:         ratelimit.Rate{Limit: 10, Window: time.Minute},
		BulletinSchedule:     "0 9 * * 1",
		BulletinPeriod:       "week",
	}
	want.Bulletin, err = cron.ParseStandard("0 9 * * 1")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, Default(), cmpOpts); diff != "" {
		t.Errorf("Default() (-want +got):\n%s", diff)
	}
}

func TestDefault_IsValidAndUnchangedByValidate(t *testing.T) {
	c := Default()
	if err := c.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	if diff := cmp.Diff(Default(), c, cmpOpts); diff != "" {
		t.Errorf("Validate changed the defaults (-want +got):\n%s", diff)
	}
	if c.TelegramEnabled() || c.SlackEnabled() || c.WebhookEnabled() {
		t.Error("a channel is on by default")
	}
}

func TestLoad_ReadsNothingButGetenv(t *testing.T) {
	t.Setenv("DUBAN_HTTP_ADDR", ":1")
	t.Setenv("DUBAN_CONFIG", "/nonexistent.yaml")
	got, err := Load("", env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(Default(), got, cmpOpts); diff != "" {
		t.Errorf("Load read the process environment (-want +got):\n%s", diff)
	}
}

func TestLoad_EnvironmentWinsOverYAML(t *testing.T) {
	path := writeFile(t, "duban.yaml", `
http_addr: ":9000"
timezone: UTC
reminder_offsets: "24h, 2h"
escalate_before: 12h
console: true
concurrency: 5
admin_token: from-yaml-0123456789abcdef0123456789abcdef
telegram_token: from-yaml
`)
	got, err := Load(path, env(map[string]string{
		"DUBAN_HTTP_ADDR":        ":9100",
		"DUBAN_REMINDER_OFFSETS": "2h,72h",
		"DUBAN_LOG_FORMAT":       "json",
		"DUBAN_ADMIN_TOKEN":      "from-env-0123456789abcdef0123456789abcdef",
	}))
	if err != nil {
		t.Fatal(err)
	}
	want := Default()
	want.HTTPAddr = ":9100"
	want.Timezone = "UTC"
	want.Location = time.UTC
	want.Quiet.Loc = time.UTC
	want.ReminderOffsets = []time.Duration{72 * time.Hour, 2 * time.Hour}
	want.EscalateBefore = 12 * time.Hour
	want.Console = true
	want.Concurrency = 5
	want.LogFormat = "json"
	want.AdminToken = "from-env-0123456789abcdef0123456789abcdef"
	want.TelegramToken = "from-yaml"
	if diff := cmp.Diff(want, got, cmpOpts); diff != "" {
		t.Errorf("Load (-want +got):\n%s", diff)
	}
}

func TestLoad_ConfigPathFromDubanConfigUnlessGiven(t *testing.T) {
	fromEnv := writeFile(t, "env.yaml", "http_addr: :7001\n")
	given := writeFile(t, "given.yaml", "http_addr: :7002\n")
	tests := []struct {
		name, path, want string
	}{
		{"DUBAN_CONFIG when no path", "", ":7001"},
		{"the path given wins", given, ":7002"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Load(tt.path, env(map[string]string{"DUBAN_CONFIG": fromEnv}))
			if err != nil {
				t.Fatal(err)
			}
			if got.HTTPAddr != tt.want {
				t.Errorf("HTTPAddr = %q, want %q", got.HTTPAddr, tt.want)
			}
		})
	}
}

func TestLoad_ReminderOffsetsSortedFromListOrString(t *testing.T) {
	want := []time.Duration{72 * time.Hour, 24 * time.Hour, 90 * time.Minute}
	tests := []struct {
		name string
		yaml string
		env  string
	}{
		{name: "yaml list", yaml: "reminder_offsets: [24h, 90m, 72h]\n"},
		{name: "yaml block list", yaml: "reminder_offsets:\n  - 90m\n  - 72h\n  - 24h\n"},
		{name: "yaml string", yaml: "reminder_offsets: 24h,72h,90m\n"},
		{name: "env", env: " 90m, 24h ,72h"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := ""
			if tt.yaml != "" {
				path = writeFile(t, "duban.yaml", tt.yaml)
			}
			got, err := Load(path, env(map[string]string{"DUBAN_REMINDER_OFFSETS": tt.env}))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got.ReminderOffsets); diff != "" {
				t.Errorf("ReminderOffsets (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLoad_EverySecretFromFile(t *testing.T) {
	vars := map[string]string{}
	want := map[string]string{}
	for _, k := range keys {
		if !k.secret {
			continue
		}
		value := "s3cr3t_" + k.yaml
		switch k.env {
		case "DUBAN_SLACK_APP_TOKEN":
			value = "xapp-1-" + k.yaml
		case "DUBAN_ADMIN_TOKEN":
			value = "s3cr3t_" + k.yaml + "_0123456789abcdef0123456789"
		case "DUBAN_DATABASE_URL":
			value = "postgres://duban:s3cr3t@db:5432/duban"
		case "DUBAN_REDIS_URL":
			value = "redis://:s3cr3t@redis:6379/0"
		case "DUBAN_SMTP_URL":
			value = "smtp://duban:s3cr3t@mail.example.gov.cn:587"
			vars["DUBAN_MAIL_FROM"] = "duban@example.gov.cn"
		case "DUBAN_LINK_SECRET":
			value = "s3cr3t_" + k.yaml + "_0123456789abcdef0123456789"
		}
		want[k.env] = value
		vars[k.env+"_FILE"] = writeFile(t, k.yaml, value+"\n")
	}
	if len(want) != 11 {
		t.Errorf("%d secrets, want 11", len(want))
	}
	got, err := Load("", env(vars))
	if err != nil {
		t.Fatal(err)
	}
	v := reflect.ValueOf(got)
	for _, k := range keys {
		if k.secret {
			if s := v.Field(k.index).Interface().(Secret).Reveal(); s != want[k.env] {
				t.Errorf("%s = %q, want %q", k.env, s, want[k.env])
			}
		}
	}
}

func TestLoad_SecretFileProblemsNameTheVariable(t *testing.T) {
	secretFile := writeFile(t, "token", "from-file\n")
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{
			name: "both set",
			env:  map[string]string{"DUBAN_ADMIN_TOKEN": "from-env", "DUBAN_ADMIN_TOKEN_FILE": secretFile},
			want: "DUBAN_ADMIN_TOKEN: both DUBAN_ADMIN_TOKEN and DUBAN_ADMIN_TOKEN_FILE are set; set one",
		},
		{
			name: "missing file",
			env:  map[string]string{"DUBAN_TELEGRAM_TOKEN_FILE": filepath.Join(t.TempDir(), "absent")},
			want: "DUBAN_TELEGRAM_TOKEN_FILE: open ",
		},
		{
			name: "empty file",
			env:  map[string]string{"DUBAN_WEBHOOK_SECRET_FILE": writeFile(t, "empty", "\n")},
			want: "DUBAN_WEBHOOK_SECRET_FILE: ",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load("", env(tt.env))
			assertOneLine(t, err, tt.want)
			for _, leak := range []string{"from-env", "from-file"} {
				if strings.Contains(err.Error(), leak) {
					t.Errorf("error %q shows the secret", err)
				}
			}
		})
	}
}

func TestLoad_BadYAMLFileNamesKeyAndLine(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		{"unknown key", "http_addr: :1\ncolour: red\n", `line 2: unknown key "colour"`},
		{"typo suggests the key", "telegram_tokn: x\n", `unknown key "telegram_tokn" (did you mean telegram_token?)`},
		{"env spelling suggests the key", "DUBAN_HTTP_ADDR: :1\n", `(did you mean http_addr?)`},
		{"_file key points to the environment", "telegram_token_file: /run/t\n", "DUBAN_TELEGRAM_TOKEN_FILE"},
		{"key set twice", "console: true\nconsole: false\n", "line 2: console is already set on line 1"},
		{"bad value", "\n\nescalate_before: soon\n", `duban.yaml line 3): "soon" is not a duration (want a Go duration like 24h or 90m)`},
		{"list for a plain key", "http_addr: [a, b]\n", "line 1): want one value, got a list"},
		{"mapping for a key", "timezone: {name: UTC}\n", "line 1): want a plain value, got a mapping"},
		{"not a mapping", "- http_addr\n", "line 1: want key: value lines at the top level"},
		{"syntax", "http_addr: :1\n  bad: [\n", "yaml: "},
		{"two documents", "console: true\n---\nconsole: false\n", "more than one YAML document"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(writeFile(t, "duban.yaml", tt.yaml), env(nil))
			assertOneLine(t, err, tt.want)
			if strings.Contains(tt.want, "):") && !strings.HasPrefix(err.Error(), "DUBAN_") {
				t.Errorf("error %q does not start with the variable", err)
			}
		})
	}
}

func TestLoad_EmptyYAMLFileMeansDefaults(t *testing.T) {
	for _, content := range []string{"", "# nothing set\n", "---\n"} {
		got, err := Load(writeFile(t, "duban.yaml", content), env(nil))
		if err != nil {
			t.Fatalf("%q: %v", content, err)
		}
		if diff := cmp.Diff(Default(), got, cmpOpts); diff != "" {
			t.Errorf("%q (-want +got):\n%s", content, diff)
		}
	}
}

func TestLoad_MissingConfigFileIsAnError(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.yaml"), env(nil))
	assertOneLine(t, err, "config file: open ")
}

func TestExample_LoadsToDefault(t *testing.T) {
	got, err := Load("duban.example.yaml", env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(Default(), got, cmpOpts); diff != "" {
		t.Errorf("the example documents other values than Default (-default +example):\n%s", diff)
	}
}

func TestExample_DocumentsEveryKey(t *testing.T) {
	var doc yaml.Node
	if err := yaml.Unmarshal(Example, &doc); err != nil {
		t.Fatal(err)
	}
	comments := map[string]string{}
	m := doc.Content[0]
	for i := 0; i < len(m.Content); i += 2 {
		comments[m.Content[i].Value] = m.Content[i].HeadComment
	}
	for _, f := range reflect.VisibleFields(reflect.TypeFor[Config]()) {
		y := f.Tag.Get("yaml")
		if y == "-" {
			continue
		}
		comment, ok := comments[y]
		switch {
		case !ok:
			t.Errorf("%s (%s) is missing from duban.example.yaml", y, f.Name)
		case comment == "":
			t.Errorf("%s has no comment saying what it means", y)
		case f.Type == reflect.TypeFor[Secret]() && !strings.Contains(comment, f.Tag.Get("env")+"_FILE"):
			t.Errorf("the comment of secret %s does not mention %s_FILE", y, f.Tag.Get("env"))
		}
	}
}

func TestKeys_FollowTheNamingRule(t *testing.T) {
	seen := map[string]bool{}
	for _, f := range reflect.VisibleFields(reflect.TypeFor[Config]()) {
		y, e := f.Tag.Get("yaml"), f.Tag.Get("env")
		if y == "-" {
			if e != "" {
				t.Errorf("%s: derived field has env tag %q", f.Name, e)
			}
			continue
		}
		if e != "DUBAN_"+strings.ToUpper(y) {
			t.Errorf("%s: env tag %q, want DUBAN_%s", f.Name, e, strings.ToUpper(y))
		}
		if seen[y] {
			t.Errorf("%s: yaml key %q used twice", f.Name, y)
		}
		seen[y] = true
	}
	if len(keys) != len(seen) {
		t.Errorf("keys holds %d, want %d", len(keys), len(seen))
	}
}

func TestHelpers_ReportWhatIsOn(t *testing.T) {
	tests := []struct {
		name        string
		change      func(*Config)
		tg, sl, wh  bool
		sqlite      string
		isSQLite    bool
		socketSlack bool
	}{
		{name: "defaults", change: func(*Config) {}, sqlite: "data/duban.db", isSQLite: true},
		{name: "telegram", change: func(c *Config) { c.TelegramToken = "1:x" }, tg: true, sqlite: "data/duban.db", isSQLite: true},
		{name: "slack over HTTP", change: func(c *Config) { c.SlackBotToken = "xoxb-1" }, sl: true, sqlite: "data/duban.db", isSQLite: true},
		{name: "slack socket mode", change: func(c *Config) { c.SlackBotToken, c.SlackAppToken = "xoxb-1", "xapp-1" }, sl: true, socketSlack: true, sqlite: "data/duban.db", isSQLite: true},
		{name: "webhook", change: func(c *Config) { c.WebhookURL = "https://oa.example/hook" }, wh: true, sqlite: "data/duban.db", isSQLite: true},
		{name: "absolute sqlite path", change: func(c *Config) { c.DatabaseURL = "sqlite:///var/lib/duban.db" }, sqlite: "/var/lib/duban.db", isSQLite: true},
		{name: "postgres", change: func(c *Config) { c.DatabaseURL = "postgres://u:p@db/duban" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Default()
			tt.change(&c)
			path, ok := c.SQLitePath()
			got := []any{c.TelegramEnabled(), c.SlackEnabled(), c.WebhookEnabled(), c.SlackSocketMode(), path, ok}
			want := []any{tt.tg, tt.sl, tt.wh, tt.socketSlack, tt.sqlite, tt.isSQLite}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("[telegram slack webhook socket sqlitePath isSQLite] (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPolicy_CarriesTheSchedule(t *testing.T) {
	c := Default()
	p := c.Policy()
	want := duban.Policy{Offsets: c.ReminderOffsets, EscalateBefore: 24 * time.Hour, OutcomeAfter: 4 * time.Hour, Quiet: c.Quiet}
	if diff := cmp.Diff(want, p, cmpOpts); diff != "" {
		t.Errorf("Policy (-want +got):\n%s", diff)
	}
}

// assertOneLine fails unless err is a single line containing want.
func assertOneLine(t *testing.T, err error, want string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want one containing %q", want)
	}
	msg := err.Error()
	if strings.ContainsAny(msg, "\r\n") {
		t.Errorf("error spans lines: %q", msg)
	}
	if !strings.Contains(msg, want) {
		t.Errorf("error %q does not contain %q", msg, want)
	}
}
