// Package configs holds the one Config of the duban hub: its defaults, its
// loading from a YAML file and the environment (which wins), and its
// validation, so that a bad value stops start-up with one line naming the key.
package configs

import (
	"github.com/robfig/cron/v3"
	"net/netip"
	"slices"
	"strings"
	"time"

	_ "time/tzdata" // Courts keep local time; hosts without zoneinfo must still load Asia/Shanghai.

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/ratelimit"
)

// Config is every setting of the hub. Each key is one line: its YAML name in
// the yaml tag and its environment variable in the env tag, which is always
// DUBAN_ followed by the YAML name in upper case. Fields tagged yaml:"-" are
// derived by Validate and cannot be set from outside.
type Config struct {
	// HTTPAddr is the listen address of the API, the webhooks and /metrics.
	HTTPAddr string `yaml:"http_addr" env:"DUBAN_HTTP_ADDR"`
	// DatabaseURL is postgres://…, postgresql://… or sqlite:PATH; a secret,
	// since a PostgreSQL URL carries a password.
	DatabaseURL Secret `yaml:"database_url" env:"DUBAN_DATABASE_URL"`
	// RedisURL is redis://… or rediss://…; empty runs an in-process Redis.
	// A secret, since it may carry a password.
	RedisURL Secret `yaml:"redis_url" env:"DUBAN_REDIS_URL"`
	// Timezone is the IANA name of the local time of courts and offices.
	Timezone string `yaml:"timezone" env:"DUBAN_TIMEZONE"`
	// Location is Timezone loaded; set by Default and Validate.
	Location *time.Location `yaml:"-"`
	// AdminToken is the bearer token of a bootstrap admin, at least
	// MinAdminTokenLen characters; empty closes the API to everyone without
	// a personal token.
	AdminToken Secret `yaml:"admin_token" env:"DUBAN_ADMIN_TOKEN"`
	// TrustedProxies are CIDRs (comma-separated) of reverse proxies whose
	// X-Forwarded-For is believed for per-address limits.
	TrustedProxies string `yaml:"trusted_proxies" env:"DUBAN_TRUSTED_PROXIES"`
	// Proxies is TrustedProxies parsed; set by Validate.
	Proxies []netip.Prefix `yaml:"-"`
	// Open311Rate is how many Open311 posts one client address may make,
	// as N/s, N/m, N/h or N/DURATION.
	Open311Rate string `yaml:"open311_rate" env:"DUBAN_OPEN311_RATE"`
	// Open311Limit is Open311Rate parsed; set by Default and Validate.
	Open311Limit ratelimit.Rate `yaml:"-"`

	// TelegramToken is the bot token; empty turns Telegram off.
	TelegramToken Secret `yaml:"telegram_token" env:"DUBAN_TELEGRAM_TOKEN"`
	// TelegramAPIEndpoint is the Bot API endpoint as telegram-bot-api takes
	// it: two %s, for the token and the method.
	TelegramAPIEndpoint string `yaml:"telegram_api_endpoint" env:"DUBAN_TELEGRAM_API_ENDPOINT"`
	// TelegramFileEndpoint is where the files of reports are downloaded
	// from, with the token and the file path for %s and %s.
	TelegramFileEndpoint string `yaml:"telegram_file_endpoint" env:"DUBAN_TELEGRAM_FILE_ENDPOINT"`
	// TelegramMode is polling or webhook.
	TelegramMode string `yaml:"telegram_mode" env:"DUBAN_TELEGRAM_MODE"`
	// TelegramWebhookURL is the public URL Telegram posts updates to.
	TelegramWebhookURL string `yaml:"telegram_webhook_url" env:"DUBAN_TELEGRAM_WEBHOOK_URL"`
	// TelegramWebhookSecret is sent by Telegram as secret_token with every
	// update and checked on every post.
	TelegramWebhookSecret Secret `yaml:"telegram_webhook_secret" env:"DUBAN_TELEGRAM_WEBHOOK_SECRET"`

	// SlackBotToken is the xoxb- bot token; empty turns Slack off.
	SlackBotToken Secret `yaml:"slack_bot_token" env:"DUBAN_SLACK_BOT_TOKEN"`
	// SlackAppToken is the xapp- app-level token; set, Slack runs in Socket
	// Mode instead of posting to the HTTP endpoints.
	SlackAppToken Secret `yaml:"slack_app_token" env:"DUBAN_SLACK_APP_TOKEN"`
	// SlackSigningSecret verifies every HTTP request from Slack.
	SlackSigningSecret Secret `yaml:"slack_signing_secret" env:"DUBAN_SLACK_SIGNING_SECRET"`
	// SlackAPIURL is the Web API base URL as slack-go's OptionAPIURL takes it.
	SlackAPIURL string `yaml:"slack_api_url" env:"DUBAN_SLACK_API_URL"`
	// SlackSupervisionChannel receives new complaints and escalations.
	SlackSupervisionChannel string `yaml:"slack_supervision_channel" env:"DUBAN_SLACK_SUPERVISION_CHANNEL"`

	// WebhookURL is the generic JSON channel; empty turns it off.
	WebhookURL string `yaml:"webhook_url" env:"DUBAN_WEBHOOK_URL"`
	// WebhookSecret keys the HMAC-SHA256 of every body, sent in
	// X-Duban-Signature.
	WebhookSecret Secret `yaml:"webhook_secret" env:"DUBAN_WEBHOOK_SECRET"`

	// SMTPURL is smtp://user:pass@host:587 (STARTTLS whenever the server
	// offers it) or smtps://user:pass@host:465 (TLS from the start); empty
	// turns e-mail off. A secret: it carries the password.
	SMTPURL Secret `yaml:"smtp_url" env:"DUBAN_SMTP_URL"`
	// MailFrom is the sender of every e-mail, "duban <duban@example.gov.cn>"
	// or a bare address; required with SMTPURL.
	MailFrom string `yaml:"mail_from" env:"DUBAN_MAIL_FROM"`
	// LinkSecret keys the HMAC of the answer links in e-mails (at least 32
	// characters); empty: a key kept in the database (storage.KeptSecret).
	LinkSecret Secret `yaml:"link_secret" env:"DUBAN_LINK_SECRET"`

	// ReminderOffsets are the lead times of reminders before a hearing,
	// longest first, without duplicates.
	ReminderOffsets []time.Duration `yaml:"reminder_offsets" env:"DUBAN_REMINDER_OFFSETS"`
	// EscalateBefore escalates a hearing nobody has answered this long
	// before it starts.
	EscalateBefore time.Duration `yaml:"escalate_before" env:"DUBAN_ESCALATE_BEFORE"`
	// OutcomeAfter asks staff for the outcome this long after the start.
	OutcomeAfter time.Duration `yaml:"outcome_after" env:"DUBAN_OUTCOME_AFTER"`
	// QuietHours is HH:MM-HH:MM in local time, or off.
	QuietHours string `yaml:"quiet_hours" env:"DUBAN_QUIET_HOURS"`
	// Quiet is QuietHours parsed in Location; set by Default and Validate.
	Quiet duban.QuietHours `yaml:"-"`

	// BulletinSchedule is when the bulletin (通报) is sent: a cron line
	// (minute hour day-of-month month day-of-week) in local time.
	BulletinSchedule string `yaml:"bulletin_schedule" env:"DUBAN_BULLETIN_SCHEDULE"`
	// Bulletin is BulletinSchedule parsed; set by Default and Validate.
	Bulletin cron.Schedule `yaml:"-"`
	// BulletinPeriod is what the bulletin covers: the last whole week,
	// month or quarter.
	BulletinPeriod string `yaml:"bulletin_period" env:"DUBAN_BULLETIN_PERIOD"`

	// Console prints every message on stdout as the console channel; serve
	// --demo turns it on.
	Console bool `yaml:"console" env:"DUBAN_CONSOLE"`
	// Concurrency is the number of asynq workers. Sending is I/O bound, so it
	// is not tied to the number of CPUs.
	Concurrency int `yaml:"concurrency" env:"DUBAN_CONCURRENCY"`
	// ReconcileInterval is how often due reminders missing from the queue
	// are found and enqueued again.
	ReconcileInterval time.Duration `yaml:"reconcile_interval" env:"DUBAN_RECONCILE_INTERVAL"`
	// BindCodeTTL is how long a /start code for linking a chat stays valid.
	BindCodeTTL time.Duration `yaml:"bind_code_ttl" env:"DUBAN_BIND_CODE_TTL"`
	// LogLevel is debug, info, warn or error.
	LogLevel string `yaml:"log_level" env:"DUBAN_LOG_LEVEL"`
	// LogFormat is text or json.
	LogFormat string `yaml:"log_format" env:"DUBAN_LOG_FORMAT"`
	// PublicURL is the base URL people reach the hub at, used in links;
	// empty leaves links out.
	PublicURL string `yaml:"public_url" env:"DUBAN_PUBLIC_URL"`
	// ShutdownTimeout bounds the graceful drain of work on stop.
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout" env:"DUBAN_SHUTDOWN_TIMEOUT"`

	// HolidayOverrides corrects or extends the official working-day
	// calendar: "2027-01-01=off,2027-01-04=work".
	HolidayOverrides string `yaml:"holiday_overrides" env:"DUBAN_HOLIDAY_OVERRIDES"`
	// Holidays is HolidayOverrides parsed; set by Validate.
	Holidays []duban.DayOverride `yaml:"-"`
	// ContactRetention is how long after closing a reporter's identity and
	// contact are kept before they are erased.
	ContactRetention time.Duration `yaml:"contact_retention" env:"DUBAN_CONTACT_RETENTION"`
	// SLAInterval is how often complaints' time limits are checked (urges,
	// escalations, follow-ups, erasure).
	SLAInterval time.Duration `yaml:"sla_interval" env:"DUBAN_SLA_INTERVAL"`
	// ReportsPerChat is how many guided reports one Telegram chat may file
	// in 24 hours (README.md, DUBAN_REPORTS_PER_CHAT); past it the bot
	// files nothing.
	ReportsPerChat int `yaml:"reports_per_chat" env:"DUBAN_REPORTS_PER_CHAT"`
}

// Telegram modes.
const (
	TelegramPolling = "polling"
	TelegramWebhook = "webhook"
)

// Default returns the configuration of a fresh machine: SQLite under data/,
// in-process Redis, every channel off, Shanghai time. Its derived fields are
// set, so it is ready to use without Validate.
func Default() Config {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		panic("configs: time/tzdata is embedded, yet " + err.Error())
	}
	quiet, err := duban.ParseQuietHours("22:00-07:00", loc)
	if err != nil {
		panic("configs: default quiet hours: " + err.Error())
	}
	bulletin, err := cron.ParseStandard(defaultBulletinSchedule)
	if err != nil {
		panic("configs: default bulletin schedule: " + err.Error())
	}
	return Config{
		BulletinSchedule:     defaultBulletinSchedule,
		Bulletin:             bulletin,
		BulletinPeriod:       "week",
		HTTPAddr:             "127.0.0.1:8080",
		DatabaseURL:          "sqlite:data/duban.db",
		Timezone:             "Asia/Shanghai",
		Location:             loc,
		TelegramAPIEndpoint:  "https://api.telegram.org/bot%s/%s",
		TelegramFileEndpoint: "https://api.telegram.org/file/bot%s/%s",
		TelegramMode:         TelegramPolling,
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
		Open311Rate:          "10/m",
		Open311Limit:         ratelimit.Rate{Limit: 10, Window: time.Minute},
		ContactRetention:     3 * 365 * 24 * time.Hour,
		SLAInterval:          10 * time.Minute,
		ReportsPerChat:       10,
	}
}

// defaultBulletinSchedule sends the bulletin on Mondays at 09:00.
const defaultBulletinSchedule = "0 9 * * 1"

// TelegramEnabled reports whether the Telegram bot runs.
func (c Config) TelegramEnabled() bool { return c.TelegramToken != "" }

// SlackEnabled reports whether the Slack app runs.
func (c Config) SlackEnabled() bool { return c.SlackBotToken != "" }

// WebhookEnabled reports whether the generic JSON webhook channel runs.
func (c Config) WebhookEnabled() bool { return c.WebhookURL != "" }

// SlackSocketMode reports whether Slack is reached over Socket Mode rather
// than by Slack posting to the HTTP endpoints.
func (c Config) SlackSocketMode() bool { return c.SlackEnabled() && c.SlackAppToken != "" }

// Policy returns how the reminders of a hearing are timed.
func (c Config) Policy() duban.Policy {
	return duban.Policy{
		Offsets:        slices.Clone(c.ReminderOffsets),
		EscalateBefore: c.EscalateBefore,
		OutcomeAfter:   c.OutcomeAfter,
		Quiet:          c.Quiet,
	}
}

// SQLitePath returns the file of a sqlite: database URL, and false for
// PostgreSQL. Both sqlite:PATH and sqlite://PATH are read, so
// sqlite:///var/lib/duban.db is the absolute /var/lib/duban.db.
func (c Config) SQLitePath() (string, bool) {
	rest, ok := strings.CutPrefix(c.DatabaseURL.Reveal(), "sqlite:")
	if !ok {
		return "", false
	}
	return strings.TrimPrefix(rest, "//"), true
}
