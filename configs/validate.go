package configs

import (
	"cmp"
	"fmt"
	"github.com/robfig/cron/v3"
	"net"
	"net/netip"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/ratelimit"
)

// Limits of the values Validate accepts.
const (
	maxConcurrency       = 1000
	maxReportsPerChat    = 1000
	minReconcileInterval = 10 * time.Second
	minBindCodeTTL       = time.Minute
	maxBindCodeTTL       = 30 * 24 * time.Hour // a code is a key to someone's identity
	// MinAdminTokenLen is the shortest DUBAN_ADMIN_TOKEN accepted: the
	// bootstrap admin may do everything, so its token must not be
	// guessable (32 random characters are far beyond any search).
	MinAdminTokenLen = 32
)

// webhookSecretRE is Telegram's rule for secret_token.
// https://core.telegram.org/bots/api#setwebhook
var webhookSecretRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,256}$`)

// Validate checks every value and the rules between them, and sets the
// derived fields: Location from Timezone, Quiet from QuietHours, and
// ReminderOffsets sorted longest first. Its error holds every problem, each
// naming the key as its environment variable, joined with "; " on one line;
// it matches duban.ErrInvalid. Error texts never quote a secret or a URL that
// may carry credentials.
func (c *Config) Validate() error {
	var p problems
	c.checkServer(&p)
	c.checkTelegram(&p)
	c.checkSlack(&p)
	c.checkWebhook(&p)
	c.checkMail(&p)
	c.checkSchedule(&p)
	c.checkRuntime(&p)
	c.checkSecrets(&p)
	return p.err()
}

func (c *Config) checkServer(p *problems) {
	if _, port, err := net.SplitHostPort(c.HTTPAddr); err != nil {
		p.add("DUBAN_HTTP_ADDR", "%q is not host:port (want like 127.0.0.1:8080, or :8080 for every interface)", c.HTTPAddr)
	} else if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		p.add("DUBAN_HTTP_ADDR", "port %q is not a number from 0 to 65535", port)
	}

	const wantDB = "want postgres://user:password@host:5432/duban or sqlite:data/duban.db"
	switch db := c.DatabaseURL.Reveal(); {
	case strings.HasPrefix(db, "postgres://"), strings.HasPrefix(db, "postgresql://"):
		if _, err := url.Parse(db); err != nil {
			p.add("DUBAN_DATABASE_URL", "not a valid URL (percent-encode special characters in the password)")
		}
	case strings.HasPrefix(db, "sqlite:"):
		if path, _ := c.SQLitePath(); strings.TrimSpace(path) == "" {
			p.add("DUBAN_DATABASE_URL", "sqlite: needs a file path, like sqlite:data/duban.db")
		}
	case db == "":
		p.add("DUBAN_DATABASE_URL", "empty (%s)", wantDB)
	default:
		p.add("DUBAN_DATABASE_URL", "%s is not supported (%s)", describeScheme(db), wantDB)
	}

	if c.RedisURL != "" {
		u, err := url.Parse(c.RedisURL.Reveal())
		switch {
		case err != nil:
			p.add("DUBAN_REDIS_URL", "not a valid URL (percent-encode special characters in the password)")
		case u.Scheme != "redis" && u.Scheme != "rediss":
			p.add("DUBAN_REDIS_URL", "%s is not supported (want redis://host:6379/0 or rediss://…, or empty for in-process)", describeScheme(c.RedisURL.Reveal()))
		case u.Host == "":
			p.add("DUBAN_REDIS_URL", "has no host (want redis://host:6379/0)")
		}
	}

	if n := utf8.RuneCountInString(c.AdminToken.Reveal()); n > 0 && n < MinAdminTokenLen &&
		!strings.ContainsFunc(c.AdminToken.Reveal(), unicode.IsSpace) { // checkSecrets says what is wrong then
		p.add("DUBAN_ADMIN_TOKEN", "%d characters is too short (want at least %d, e.g. from openssl rand -hex 32)", n, MinAdminTokenLen)
	}
	c.Proxies = nil
	for _, raw := range strings.Split(c.TrustedProxies, ",") {
		if raw = strings.TrimSpace(raw); raw == "" {
			continue
		}
		pfx, err := netip.ParsePrefix(raw)
		if err != nil {
			addr, aerr := netip.ParseAddr(raw)
			if aerr != nil {
				p.add("DUBAN_TRUSTED_PROXIES", "%q is not a CIDR like 10.0.0.0/8 or an address", raw)
				continue
			}
			pfx = netip.PrefixFrom(addr, addr.BitLen())
		}
		c.Proxies = append(c.Proxies, pfx.Masked())
	}
	if r, err := ratelimit.ParseRate(c.Open311Rate); err != nil {
		p.add("DUBAN_OPEN311_RATE", "%v", err)
	} else {
		c.Open311Limit = r
	}

	loc := time.UTC
	if c.Timezone == "" {
		p.add("DUBAN_TIMEZONE", "empty (want an IANA name like Asia/Shanghai)")
	} else if l, err := time.LoadLocation(c.Timezone); err != nil {
		p.add("DUBAN_TIMEZONE", "unknown time zone %q (want an IANA name like Asia/Shanghai)", c.Timezone)
	} else {
		loc = l
	}
	c.Location = loc

	if c.PublicURL != "" {
		if msg := checkHTTPURL(c.PublicURL); msg != "" {
			p.add("DUBAN_PUBLIC_URL", "%s, like https://duban.example.gov.cn", msg)
		}
	}
}

func (c *Config) checkTelegram(p *problems) {
	e := c.TelegramAPIEndpoint
	if strings.Count(e, "%s") != 2 || strings.Count(e, "%") != 2 {
		p.add("DUBAN_TELEGRAM_API_ENDPOINT", "want two %%s, for the token and the method, like https://api.telegram.org/bot%%s/%%s")
	} else if msg := checkHTTPURL(fmt.Sprintf(e, "TOKEN", "getMe")); msg != "" {
		p.add("DUBAN_TELEGRAM_API_ENDPOINT", "%s, like https://api.telegram.org/bot%%s/%%s", msg)
	}
	if c.TelegramWebhookURL != "" {
		if msg := checkHTTPURL(c.TelegramWebhookURL); msg != "" {
			p.add("DUBAN_TELEGRAM_WEBHOOK_URL", "%s", msg)
		}
	}
	if s := c.TelegramWebhookSecret; s != "" && !webhookSecretRE.MatchString(string(s)) {
		p.add("DUBAN_TELEGRAM_WEBHOOK_SECRET", "Telegram allows only 1 to 256 of A-Z, a-z, 0-9, _ and -")
	}
	switch c.TelegramMode {
	case TelegramPolling:
	case TelegramWebhook:
		const why = "required when DUBAN_TELEGRAM_MODE is webhook"
		if c.TelegramToken == "" {
			p.add("DUBAN_TELEGRAM_TOKEN", "%s", why)
		}
		if c.TelegramWebhookURL == "" {
			p.add("DUBAN_TELEGRAM_WEBHOOK_URL", "%s (the public URL Telegram posts to)", why)
		}
		if c.TelegramWebhookSecret == "" {
			p.add("DUBAN_TELEGRAM_WEBHOOK_SECRET", "%s, so that posts not from Telegram are refused", why)
		}
	default:
		p.add("DUBAN_TELEGRAM_MODE", "%q is not polling or webhook", c.TelegramMode)
	}
}

func (c *Config) checkSlack(p *problems) {
	if strings.HasPrefix(string(c.SlackBotToken), "xapp-") {
		p.add("DUBAN_SLACK_BOT_TOKEN", "holds an app-level token (xapp-); the bot token starts with xoxb-")
	}
	if c.SlackAppToken != "" && !strings.HasPrefix(string(c.SlackAppToken), "xapp-") {
		p.add("DUBAN_SLACK_APP_TOKEN", "want an app-level token starting with xapp-")
	}
	if c.SlackEnabled() && c.SlackAppToken == "" && c.SlackSigningSecret == "" {
		p.add("DUBAN_SLACK_SIGNING_SECRET", "required when DUBAN_SLACK_BOT_TOKEN is set without DUBAN_SLACK_APP_TOKEN, to verify requests from Slack")
	}
	if msg := checkHTTPURL(c.SlackAPIURL); msg != "" {
		p.add("DUBAN_SLACK_API_URL", "%s, like https://slack.com/api/", msg)
	} else if !strings.HasSuffix(c.SlackAPIURL, "/") {
		p.add("DUBAN_SLACK_API_URL", "%q must end with /", c.SlackAPIURL)
	}
}

func (c *Config) checkWebhook(p *problems) {
	if c.WebhookURL == "" {
		return
	}
	if msg := checkHTTPURL(c.WebhookURL); msg != "" {
		p.add("DUBAN_WEBHOOK_URL", "%s", msg)
	}
	if c.WebhookSecret == "" {
		p.add("DUBAN_WEBHOOK_SECRET", "required when DUBAN_WEBHOOK_URL is set; it signs every body")
	}
}

func (c *Config) checkSchedule(p *problems) {
	offsets := slices.Clone(c.ReminderOffsets)
	slices.SortFunc(offsets, func(a, b time.Duration) int { return cmp.Compare(b, a) })
	switch {
	case len(offsets) == 0:
		p.add("DUBAN_REMINDER_OFFSETS", "empty (want Go durations like 168h,72h,24h,2h)")
	case offsets[len(offsets)-1] <= 0:
		p.add("DUBAN_REMINDER_OFFSETS", "%s is not a positive lead time", short(offsets[len(offsets)-1]))
	default:
		for i := 1; i < len(offsets); i++ {
			if offsets[i] == offsets[i-1] {
				p.add("DUBAN_REMINDER_OFFSETS", "%s appears twice", short(offsets[i]))
				break
			}
		}
	}
	c.ReminderOffsets = offsets

	if c.EscalateBefore <= 0 {
		p.add("DUBAN_ESCALATE_BEFORE", "%s is not positive", short(c.EscalateBefore))
	} else if len(offsets) > 0 && c.EscalateBefore >= offsets[0] {
		p.add("DUBAN_ESCALATE_BEFORE", "%s is not shorter than the first reminder (%s in DUBAN_REMINDER_OFFSETS), so nobody could answer in time",
			short(c.EscalateBefore), short(offsets[0]))
	}
	if c.OutcomeAfter <= 0 {
		p.add("DUBAN_OUTCOME_AFTER", "%s is not positive", short(c.OutcomeAfter))
	}
	q, err := duban.ParseQuietHours(c.QuietHours, c.Location)
	if err != nil {
		p.add("DUBAN_QUIET_HOURS", "%s (want like 22:00-07:00, or off)", oneLine(err.Error()))
	}
	c.Quiet = q
}

func (c *Config) checkRuntime(p *problems) {
	if s, err := cron.ParseStandard(c.BulletinSchedule); err != nil {
		p.add("DUBAN_BULLETIN_SCHEDULE", "%q is not a cron line (want minute hour day month weekday, like 0 9 * * 1): %s",
			c.BulletinSchedule, oneLine(err.Error()))
	} else {
		c.Bulletin = s
	}
	if !slices.Contains([]string{"week", "month", "quarter"}, c.BulletinPeriod) { // bulletin.ParsePeriod
		p.add("DUBAN_BULLETIN_PERIOD", "%q is not week, month or quarter", c.BulletinPeriod)
	}
	if c.ReportsPerChat < 1 || c.ReportsPerChat > maxReportsPerChat {
		p.add("DUBAN_REPORTS_PER_CHAT", "%d is out of range (want 1 to %d)", c.ReportsPerChat, maxReportsPerChat)
	}
	if c.Concurrency < 1 || c.Concurrency > maxConcurrency {
		p.add("DUBAN_CONCURRENCY", "%d is out of range (want 1 to %d)", c.Concurrency, maxConcurrency)
	}
	if c.ReconcileInterval < minReconcileInterval {
		p.add("DUBAN_RECONCILE_INTERVAL", "%s is too short (want at least %s)", short(c.ReconcileInterval), short(minReconcileInterval))
	}
	if c.BindCodeTTL < minBindCodeTTL || c.BindCodeTTL > maxBindCodeTTL {
		p.add("DUBAN_BIND_CODE_TTL", "%s is out of range (want %s to %s)", short(c.BindCodeTTL), short(minBindCodeTTL), short(maxBindCodeTTL))
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		p.add("DUBAN_LOG_LEVEL", "%q is not debug, info, warn or error", c.LogLevel)
	}
	switch c.LogFormat {
	case "text", "json":
	default:
		p.add("DUBAN_LOG_FORMAT", "%q is not text or json", c.LogFormat)
	}
	if c.ContactRetention < 24*time.Hour {
		p.add("DUBAN_CONTACT_RETENTION", "%s is under a day", short(c.ContactRetention))
	}
	if c.SLAInterval < 10*time.Second {
		p.add("DUBAN_SLA_INTERVAL", "%s is under 10s", short(c.SLAInterval))
	}
	if hs, err := duban.ParseDayOverrides(c.HolidayOverrides); err != nil {
		p.add("DUBAN_HOLIDAY_OVERRIDES", "%s (want 2027-01-01=off,2027-01-04=work)", strings.TrimPrefix(err.Error(), "invalid: "))
	} else {
		c.Holidays = hs
	}
	if c.ShutdownTimeout <= 0 {
		p.add("DUBAN_SHUTDOWN_TIMEOUT", "%s is not positive", short(c.ShutdownTimeout))
	}
}

// checkSecrets refuses whitespace in secrets: no token holds any, and a
// pasted newline or space would fail far from its cause.
func (c *Config) checkSecrets(p *problems) {
	v := reflect.ValueOf(c).Elem()
	for _, k := range keys {
		if k.secret && strings.ContainsFunc(v.Field(k.index).String(), unicode.IsSpace) {
			p.add(k.env, "holds a space or line break (pasted with the value?)")
		}
	}
}

// checkHTTPURL returns what is wrong with an absolute http(s) URL, or "". It
// never quotes the URL, which may carry a token.
func checkHTTPURL(s string) string {
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return "not a valid URL"
	case u.Scheme != "http" && u.Scheme != "https":
		return "want an http:// or https:// URL"
	case u.Host == "":
		return "has no host (want an absolute URL)"
	}
	return ""
}

// describeScheme names the scheme of a URL the hub cannot use, without
// quoting the rest, which may hold a password.
func describeScheme(s string) string {
	scheme, _, ok := strings.Cut(s, "://")
	if !ok || scheme == "" || strings.ContainsFunc(scheme, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '+' || r == '-' || r == '.')
	}) {
		return "this kind of URL"
	}
	return fmt.Sprintf("scheme %q", scheme)
}

// short prints a duration without trailing zero units: 24h, not 24h0m0s.
func short(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

// problems collects one line per bad key.
type problems []string

func (p *problems) add(key, format string, args ...any) {
	*p = append(*p, key+": "+fmt.Sprintf(format, args...))
}

func (p problems) err() error {
	if len(p) == 0 {
		return nil
	}
	return invalidError(slices.Clone(p))
}

func invalid(line string) error { return invalidError{line} }

// invalidError is the error of a bad configuration: every problem on one
// line, joined with "; ".
type invalidError []string

func (e invalidError) Error() string { return strings.Join(e, "; ") }

// Is makes errors.Is(err, duban.ErrInvalid) true.
func (e invalidError) Is(target error) bool { return target == duban.ErrInvalid }
