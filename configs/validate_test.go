package configs

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/ratelimit"
)

func TestLoad_BadValueIsOneLineNamingTheKey(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want string // the whole message when it starts with the key
		hide string // a credential the message must not show
	}{
		{"offset not a duration", map[string]string{"DUBAN_REMINDER_OFFSETS": "72h,3x"},
			`DUBAN_REMINDER_OFFSETS: "3x" is not a duration (want Go durations like 72h,24h)`, ""},
		{"offset twice", map[string]string{"DUBAN_REMINDER_OFFSETS": "72h,24h,72h"},
			"DUBAN_REMINDER_OFFSETS: 72h appears twice", ""},
		{"offset not positive", map[string]string{"DUBAN_REMINDER_OFFSETS": "72h,-2h"},
			"DUBAN_REMINDER_OFFSETS: -2h is not a positive lead time", ""},
		{"offsets empty item", map[string]string{"DUBAN_REMINDER_OFFSETS": "72h,,2h"},
			`DUBAN_REMINDER_OFFSETS: "72h,,2h" has an empty item (want Go durations like 72h,24h)`, ""},
		{"days are not Go durations", map[string]string{"DUBAN_ESCALATE_BEFORE": "7d"},
			`DUBAN_ESCALATE_BEFORE: "7d" is not a duration (Go durations stop at hours: write 168h)`, ""},
		{"escalation before the first reminder", map[string]string{"DUBAN_ESCALATE_BEFORE": "200h"},
			"DUBAN_ESCALATE_BEFORE: 200h is not shorter than the first reminder (168h in DUBAN_REMINDER_OFFSETS), so nobody could answer in time", ""},
		{"outcome not positive", map[string]string{"DUBAN_OUTCOME_AFTER": "0s"},
			"DUBAN_OUTCOME_AFTER: 0s is not positive", ""},
		{"listen address without host", map[string]string{"DUBAN_HTTP_ADDR": "8080"},
			`DUBAN_HTTP_ADDR: "8080" is not host:port (want like 127.0.0.1:8080, or :8080 for every interface)`, ""},
		{"database of another kind", map[string]string{"DUBAN_DATABASE_URL": "mysql://root:hunter2@db/duban"},
			`DUBAN_DATABASE_URL: scheme "mysql" is not supported (want postgres://user:password@host:5432/duban or sqlite:data/duban.db)`, "hunter2"},
		{"sqlite without path", map[string]string{"DUBAN_DATABASE_URL": "sqlite:"},
			"DUBAN_DATABASE_URL: sqlite: needs a file path, like sqlite:data/duban.db", ""},
		{"redis of another kind", map[string]string{"DUBAN_REDIS_URL": "http://:hunter2@cache:6379"},
			`DUBAN_REDIS_URL: scheme "http" is not supported (want redis://host:6379/0 or rediss://…, or empty for in-process)`, "hunter2"},
		{"unknown time zone", map[string]string{"DUBAN_TIMEZONE": "Asia/Shangai"},
			`DUBAN_TIMEZONE: unknown time zone "Asia/Shangai" (want an IANA name like Asia/Shanghai)`, ""},
		{"endpoint with one %s", map[string]string{"DUBAN_TELEGRAM_API_ENDPOINT": "https://api.telegram.org/bot%s"},
			"DUBAN_TELEGRAM_API_ENDPOINT: want two %s, for the token and the method, like https://api.telegram.org/bot%s/%s", ""},
		{"unknown telegram mode", map[string]string{"DUBAN_TELEGRAM_MODE": "push"},
			`DUBAN_TELEGRAM_MODE: "push" is not polling or webhook`, ""},
		{"webhook mode without URL", map[string]string{"DUBAN_TELEGRAM_MODE": "webhook", "DUBAN_TELEGRAM_TOKEN": "1:tok", "DUBAN_TELEGRAM_WEBHOOK_SECRET": "s3cr3t"},
			"DUBAN_TELEGRAM_WEBHOOK_URL: required when DUBAN_TELEGRAM_MODE is webhook (the public URL Telegram posts to)", "1:tok"},
		{"webhook mode without secret", map[string]string{"DUBAN_TELEGRAM_MODE": "webhook", "DUBAN_TELEGRAM_TOKEN": "1:tok", "DUBAN_TELEGRAM_WEBHOOK_URL": "https://duban.example/telegram/webhook"},
			"DUBAN_TELEGRAM_WEBHOOK_SECRET: required when DUBAN_TELEGRAM_MODE is webhook, so that posts not from Telegram are refused", "1:tok"},
		{"webhook secret Telegram refuses", map[string]string{"DUBAN_TELEGRAM_WEBHOOK_SECRET": "bad!secret"},
			"DUBAN_TELEGRAM_WEBHOOK_SECRET: Telegram allows only 1 to 256 of A-Z, a-z, 0-9, _ and -", "bad!secret"},
		{"slack app token of another kind", map[string]string{"DUBAN_SLACK_BOT_TOKEN": "xoxb-1", "DUBAN_SLACK_APP_TOKEN": "xoxb-2"},
			"DUBAN_SLACK_APP_TOKEN: want an app-level token starting with xapp-", "xoxb-2"},
		{"slack over HTTP without signing secret", map[string]string{"DUBAN_SLACK_BOT_TOKEN": "xoxb-1"},
			"DUBAN_SLACK_SIGNING_SECRET: required when DUBAN_SLACK_BOT_TOKEN is set without DUBAN_SLACK_APP_TOKEN, to verify requests from Slack", "xoxb-1"},
		{"slack API URL without slash", map[string]string{"DUBAN_SLACK_API_URL": "https://slack.com/api"},
			`DUBAN_SLACK_API_URL: "https://slack.com/api" must end with /`, ""},
		{"webhook URL without secret", map[string]string{"DUBAN_WEBHOOK_URL": "https://oa.example/hook"},
			"DUBAN_WEBHOOK_SECRET: required when DUBAN_WEBHOOK_URL is set; it signs every body", ""},
		{"webhook URL not http", map[string]string{"DUBAN_WEBHOOK_URL": "ftp://oa.example/tok3n", "DUBAN_WEBHOOK_SECRET": "k"},
			"DUBAN_WEBHOOK_URL: want an http:// or https:// URL", "tok3n"},
		{"quiet hours without end", map[string]string{"DUBAN_QUIET_HOURS": "22:00"},
			`DUBAN_QUIET_HOURS: want HH:MM-HH:MM or off, got "22:00" (want like 22:00-07:00, or off)`, ""},
		{"bulletin schedule not cron", map[string]string{"DUBAN_BULLETIN_SCHEDULE": "every monday"},
			`DUBAN_BULLETIN_SCHEDULE: "every monday" is not a cron line (want minute hour day month weekday, like 0 9 * * 1): expected exactly 5 fields, found 2: [every monday]`, ""},
		{"bulletin period unknown", map[string]string{"DUBAN_BULLETIN_PERIOD": "fortnight"},
			`DUBAN_BULLETIN_PERIOD: "fortnight" is not week, month or quarter`, ""},
		{"console not a boolean", map[string]string{"DUBAN_CONSOLE": "yes please"},
			`DUBAN_CONSOLE: "yes please" is not true or false`, ""},
		{"concurrency not a number", map[string]string{"DUBAN_CONCURRENCY": "many"},
			`DUBAN_CONCURRENCY: "many" is not a whole number`, ""},
		{"concurrency zero", map[string]string{"DUBAN_CONCURRENCY": "0"},
			"DUBAN_CONCURRENCY: 0 is out of range (want 1 to 1000)", ""},
		{"reconcile too often", map[string]string{"DUBAN_RECONCILE_INTERVAL": "5s"},
			"DUBAN_RECONCILE_INTERVAL: 5s is too short (want at least 10s)", ""},
		{"bind code forever", map[string]string{"DUBAN_BIND_CODE_TTL": "8760h"},
			"DUBAN_BIND_CODE_TTL: 8760h is out of range (want 1m to 720h)", ""},
		{"log level", map[string]string{"DUBAN_LOG_LEVEL": "verbose"},
			`DUBAN_LOG_LEVEL: "verbose" is not debug, info, warn or error`, ""},
		{"log format", map[string]string{"DUBAN_LOG_FORMAT": "xml"},
			`DUBAN_LOG_FORMAT: "xml" is not text or json`, ""},
		{"public URL without scheme", map[string]string{"DUBAN_PUBLIC_URL": "duban.example.gov.cn"},
			"DUBAN_PUBLIC_URL: want an http:// or https:// URL, like https://duban.example.gov.cn", ""},
		{"shutdown timeout", map[string]string{"DUBAN_SHUTDOWN_TIMEOUT": "-1s"},
			"DUBAN_SHUTDOWN_TIMEOUT: -1s is not positive", ""},
		{"admin token too short", map[string]string{"DUBAN_ADMIN_TOKEN": "admin123"},
			"DUBAN_ADMIN_TOKEN: 8 characters is too short (want at least 32, e.g. from openssl rand -hex 32)", "admin123"},
		{"trusted proxy not a CIDR", map[string]string{"DUBAN_TRUSTED_PROXIES": "10.0.0.0/8, proxy.local"},
			`DUBAN_TRUSTED_PROXIES: "proxy.local" is not a CIDR like 10.0.0.0/8 or an address`, ""},
		{"open311 rate without window", map[string]string{"DUBAN_OPEN311_RATE": "10"},
			`DUBAN_OPEN311_RATE: "10" is not N/window (want like 10/m)`, ""},
		{"open311 rate of nothing", map[string]string{"DUBAN_OPEN311_RATE": "0/m"},
			`DUBAN_OPEN311_RATE: "0/m": "0" is not a positive whole number (want like 10/m)`, ""},
		{"secret with a pasted space", map[string]string{"DUBAN_ADMIN_TOKEN": "abc def"},
			"DUBAN_ADMIN_TOKEN: holds a space or line break (pasted with the value?)", "abc def"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load("", env(tt.env))
			if err == nil {
				t.Fatal("no error")
			}
			if got := err.Error(); got != tt.want {
				t.Errorf("error\n got %q\nwant %q", got, tt.want)
			}
			if tt.hide != "" && strings.Contains(err.Error(), tt.hide) {
				t.Errorf("error shows %q", tt.hide)
			}
			if !errors.Is(err, duban.ErrInvalid) {
				t.Error("error does not match duban.ErrInvalid")
			}
		})
	}
}

func TestValidate_JoinsEveryProblemOnOneLine(t *testing.T) {
	c := Default()
	c.HTTPAddr = "nowhere"
	c.LogLevel = "loud"
	c.Concurrency = 5000
	err := c.Validate()
	want := `DUBAN_HTTP_ADDR: "nowhere" is not host:port (want like 127.0.0.1:8080, or :8080 for every interface); ` +
		"DUBAN_CONCURRENCY: 5000 is out of range (want 1 to 1000); " +
		`DUBAN_LOG_LEVEL: "loud" is not debug, info, warn or error`
	if err == nil || err.Error() != want {
		t.Errorf("Validate() = %v\nwant %s", err, want)
	}
}

func TestValidate_SetsDerivedFields(t *testing.T) {
	c := Default()
	c.Timezone = "Europe/Berlin"
	c.QuietHours = "off"
	c.ReminderOffsets = []time.Duration{time.Hour, 48 * time.Hour, 30 * time.Minute}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	berlin, _ := time.LoadLocation("Europe/Berlin")
	want := Default()
	want.Timezone, want.Location = "Europe/Berlin", berlin
	want.QuietHours, want.Quiet = "off", duban.QuietHours{Loc: berlin}
	want.ReminderOffsets = []time.Duration{48 * time.Hour, time.Hour, 30 * time.Minute}
	if diff := cmp.Diff(want, c, cmpOpts); diff != "" {
		t.Errorf("after Validate (-want +got):\n%s", diff)
	}
}

func TestValidate_AcceptsWorkingSetups(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
	}{
		{"postgres and redis", map[string]string{
			"DUBAN_DATABASE_URL": "postgresql://duban:p%40ss@db:5432/duban?sslmode=disable",
			"DUBAN_REDIS_URL":    "rediss://:pw@cache:6380/1",
		}},
		{"telegram webhook", map[string]string{
			"DUBAN_TELEGRAM_TOKEN":          "123456:ABC-def",
			"DUBAN_TELEGRAM_MODE":           "webhook",
			"DUBAN_TELEGRAM_WEBHOOK_URL":    "https://duban.example.gov.cn/telegram/webhook",
			"DUBAN_TELEGRAM_WEBHOOK_SECRET": "Abc_123-xyz",
		}},
		{"slack socket mode", map[string]string{"DUBAN_SLACK_BOT_TOKEN": "xoxb-1", "DUBAN_SLACK_APP_TOKEN": "xapp-1"}},
		{"slack over HTTP", map[string]string{"DUBAN_SLACK_BOT_TOKEN": "xoxb-1", "DUBAN_SLACK_SIGNING_SECRET": "abc"}},
		{"test servers", map[string]string{
			"DUBAN_TELEGRAM_API_ENDPOINT": "http://127.0.0.1:4000/bot%s/%s",
			"DUBAN_SLACK_API_URL":         "http://127.0.0.1:4001/api/",
			"DUBAN_HTTP_ADDR":             ":0",
		}},
		{"demo", map[string]string{"DUBAN_CONSOLE": "true", "DUBAN_QUIET_HOURS": "off"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Load("", env(tt.env)); err != nil {
				t.Error(err)
			}
		})
	}
}

// FuzzLoadYAML feeds arbitrary files to the YAML reader: it must not panic,
// and whatever it refuses it refuses in one line.
func FuzzLoadYAML(f *testing.F) {
	f.Add(Example)
	f.Add([]byte("reminder_offsets: [1h, 2h]\nconsole: true\n"))
	f.Add([]byte("a: &x [1]\nb: *x\n"))
	f.Add([]byte("http_addr: {a: b}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c := Default()
		err := applyYAML(&c, "f.yaml", data)
		if err == nil {
			err = c.Validate()
		}
		if err != nil && strings.ContainsAny(err.Error(), "\r\n") {
			t.Errorf("error spans lines: %q", err)
		}
	})
}

func TestLoad_TrustedProxiesAndOpen311Rate(t *testing.T) {
	got, err := Load("", env(map[string]string{"DUBAN_TRUSTED_PROXIES": "10.0.0.0/8, 192.168.1.7 ,fd00::/8", "DUBAN_OPEN311_RATE": "30/10m",
		"DUBAN_ADMIN_TOKEN": strings.Repeat("x", MinAdminTokenLen)}))
	if err != nil {
		t.Fatal(err)
	}
	want := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.168.1.7/32"), netip.MustParsePrefix("fd00::/8")}
	if !slices.Equal(got.Proxies, want) {
		t.Errorf("Proxies = %v, want %v", got.Proxies, want)
	}
	if got.Open311Limit != (ratelimit.Rate{Limit: 30, Window: 10 * time.Minute}) {
		t.Errorf("Open311Limit = %v", got.Open311Limit)
	}
}

func TestLoad_DatabaseAndRedisURLsAreSecrets(t *testing.T) {
	dir := t.TempDir()
	db, rd := filepath.Join(dir, "db"), filepath.Join(dir, "redis")
	if err := os.WriteFile(db, []byte("postgres://duban:pa55word@db/duban\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(rd, []byte("redis://:pa55word@redis:6379/0\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := Load("", env(map[string]string{"DUBAN_DATABASE_URL_FILE": db, "DUBAN_REDIS_URL_FILE": rd}))
	if err != nil {
		t.Fatal(err)
	}
	if got.DatabaseURL.Reveal() != "postgres://duban:pa55word@db/duban" || got.RedisURL.Reveal() != "redis://:pa55word@redis:6379/0" {
		t.Errorf("read %q and %q", got.DatabaseURL.Reveal(), got.RedisURL.Reveal())
	}
	if s := fmt.Sprintf("%v %+v", got, got); strings.Contains(s, "pa55word") {
		t.Errorf("a printed Config shows the password: %s", s)
	}
}
