package configs

import (
	"net/mail"
	"net/url"
	"strconv"
)

// MinLinkSecretLen is the shortest DUBAN_LINK_SECRET accepted: 32
// characters, as `openssl rand -hex 16` prints.
const MinLinkSecretLen = 32

// MailEnabled reports whether e-mail is on.
func (c Config) MailEnabled() bool { return c.SMTPURL != "" }

// checkMail checks the e-mail settings without quoting the URL, which
// carries a password.
func (c *Config) checkMail(p *problems) {
	if s := c.LinkSecret; s != "" && len(s) < MinLinkSecretLen {
		p.add("DUBAN_LINK_SECRET", "is %d characters; want at least %d (openssl rand -hex 32)", len(s), MinLinkSecretLen)
	}
	if !c.MailEnabled() {
		if c.MailFrom != "" {
			p.add("DUBAN_MAIL_FROM", "is set but DUBAN_SMTP_URL is not; set both to turn e-mail on")
		}
		return
	}
	u, err := url.Parse(c.SMTPURL.Reveal())
	switch {
	case err != nil:
		p.add("DUBAN_SMTP_URL", "not a valid URL (want smtp://user:pass@host:587 or smtps://user:pass@host:465)")
	case u.Scheme != "smtp" && u.Scheme != "smtps":
		p.add("DUBAN_SMTP_URL", "%s: want smtp:// (STARTTLS when offered) or smtps:// (TLS from the start)", describeScheme(c.SMTPURL.Reveal()))
	case u.Hostname() == "":
		p.add("DUBAN_SMTP_URL", "has no host (want smtp://user:pass@host:587)")
	case u.Port() != "":
		if n, err := strconv.Atoi(u.Port()); err != nil || n <= 0 || n > 65535 {
			p.add("DUBAN_SMTP_URL", "has a port that is not 1-65535")
		}
	}
	if c.MailFrom == "" {
		p.add("DUBAN_MAIL_FROM", "required when DUBAN_SMTP_URL is set (e.g. \"duban <duban@example.gov.cn>\")")
	} else if _, err := mail.ParseAddress(c.MailFrom); err != nil {
		p.add("DUBAN_MAIL_FROM", "%q is not an e-mail address (want like \"duban <duban@example.gov.cn>\")", c.MailFrom)
	}
}
