package notifier

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"github.com/redis/go-redis/v9"
	"golang.org/x/time/rate"
	"html"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
	"time"

	mail "github.com/wneessen/go-mail"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/icalendar"
)

// EmailConfig is what an Email sender is built from.
type EmailConfig struct {
	// URL is DUBAN_SMTP_URL: smtp://[user:pass@]host[:port] (STARTTLS
	// whenever the server offers it; port 587 by default) or
	// smtps://[user:pass@]host[:port] (TLS from the start; port 465).
	URL string
	// From is DUBAN_MAIL_FROM, the sender's address ("duban
	// <duban@example.gov.cn>" or a bare address).
	From string
	// T renders subjects and link labels in the recipient's locale.
	T icalendar.Translator
	// Loc is DUBAN_TIMEZONE, for times written in the attached event.
	Loc *time.Location
	// Hearing loads the hearing and agency of a head's message, for the
	// attached .ics event and the answer links; nil: neither.
	Hearing func(ctx context.Context, hearingAgencyID int64) (*duban.Hearing, *duban.HearingAgency, error)
	// PublicURL is DUBAN_PUBLIC_URL, the base of answer links; LinkKey
	// signs them (duban.AnswerKey). Either empty: no links.
	PublicURL string
	LinkKey   []byte
	// TLSConfig verifies the server (tests trust their own certificate);
	// nil: the system's roots, for the URL's host.
	TLSConfig *tls.Config
	// Timeout bounds connecting and each SMTP command; default 30s.
	Timeout time.Duration
	// Shared, when set, keeps the sending limit in Redis under keys
	// starting with Prefix, for every replica (as WithSharedLimits does
	// for Telegram); nil: in this process.
	Shared redis.UniversalClient
	Prefix string
}

// emailInterval spaces the mails duban hands to its SMTP server: relays
// limit senders (commonly to a few messages a second, and count bursts as
// abuse), so a bulletin to the whole office or a burst of reminders goes
// out evenly, as every other channel's does, and keeps the server's
// goodwill. 5 a second is well inside what a government mail relay takes.
const emailInterval = time.Second / 5

// Email sends messages by SMTP through go-mail: plain text and HTML, a
// subject from the message's kind, a head's hearing attached as an .ics
// event, and signed links through which a head answers without signing in.
type Email struct {
	cfg      EmailConfig
	limiter  *KeyedLimiter       // in this process
	shared   *sharedKeyedLimiter // when set, instead of limiter
	host     string
	port     int
	ssl      bool
	user     string
	password string
}

// NewEmail checks cfg and returns the sender. Errors name the setting and
// never carry the password.
func NewEmail(cfg EmailConfig) (*Email, error) {
	e := &Email{cfg: cfg, limiter: NewKeyedLimiter(rate.Every(emailInterval), 1)}
	if cfg.Shared != nil {
		e.shared = &sharedKeyedLimiter{rdb: cfg.Shared, prefix: cfg.Prefix + "smtp:", interval: emailInterval, sleepFor: sleep}
	}
	u, err := url.Parse(cfg.URL)
	if err != nil || u.Host == "" {
		return nil, errors.New("email: DUBAN_SMTP_URL is not a URL like smtp://user:pass@host:587")
	}
	switch u.Scheme {
	case "smtp":
		e.port = 587
	case "smtps":
		e.ssl, e.port = true, 465
	default:
		return nil, fmt.Errorf("email: DUBAN_SMTP_URL scheme %q: want smtp or smtps", u.Scheme)
	}
	e.host = u.Hostname()
	if p := u.Port(); p != "" {
		if e.port, err = strconv.Atoi(p); err != nil || e.port <= 0 || e.port > 65535 {
			return nil, fmt.Errorf("email: DUBAN_SMTP_URL port %q is not a port", p)
		}
	}
	if u.User != nil {
		e.user = u.User.Username()
		e.password, _ = u.User.Password()
	}
	if cfg.From == "" {
		return nil, errors.New("email: DUBAN_MAIL_FROM is required with DUBAN_SMTP_URL")
	}
	if err := mail.NewMsg().From(cfg.From); err != nil {
		return nil, fmt.Errorf("email: DUBAN_MAIL_FROM %q is not an address", cfg.From)
	}
	if e.cfg.Timeout <= 0 {
		e.cfg.Timeout = 30 * time.Second
	}
	if e.cfg.Loc == nil {
		e.cfg.Loc = time.Local
	}
	return e, nil
}

// Channel is duban.ChannelEmail.
func (e *Email) Channel() duban.Channel { return duban.ChannelEmail }

// Reachable reports whether addr has an e-mail address.
func (e *Email) Reachable(addr duban.Address) bool { return addr.Email != "" }

// Send renders msg as an e-mail to addr and sends it. SMTP 5xx answers
// (no such mailbox, relaying refused, bad credentials) are permanent;
// 4xx answers and network errors are worth a retry.
func (e *Email) Send(ctx context.Context, addr duban.Address, msg duban.Message) (string, error) {
	if !e.Reachable(addr) {
		return "", unreachable(duban.ChannelEmail)
	}
	m, err := e.render(ctx, addr, msg)
	if err != nil {
		return "", err
	}
	if err := e.wait(ctx); err != nil {
		return "", fmt.Errorf("email: wait for the sending limit: %w", err)
	}
	opts := []mail.Option{mail.WithPort(e.port), mail.WithTimeout(e.cfg.Timeout)}
	tc := e.cfg.TLSConfig
	if tc == nil {
		tc = &tls.Config{ServerName: e.host, MinVersion: tls.VersionTLS12}
	}
	opts = append(opts, mail.WithTLSConfig(tc))
	if e.ssl {
		opts = append(opts, mail.WithSSL())
	} else {
		opts = append(opts, mail.WithTLSPolicy(mail.TLSOpportunistic))
	}
	if e.user != "" {
		// PLAIN, which go-mail sends only over TLS (or to localhost): a
		// server that offers no STARTTLS never sees the password.
		opts = append(opts, mail.WithSMTPAuth(mail.SMTPAuthPlain), mail.WithUsername(e.user), mail.WithPassword(e.password))
	}
	c, err := mail.NewClient(e.host, opts...)
	if err != nil {
		return "", &PermanentError{Channel: duban.ChannelEmail, Err: fmt.Errorf("email: client: %w", err)}
	}
	if err := c.DialAndSendWithContext(ctx, m); err != nil {
		return "", classifySMTP(err)
	}
	return m.GetMessageID(), nil
}

// classifySMTP sorts an SMTP failure once: a 5xx reply is permanent, a
// 4xx reply or a failure to reach the server is worth a retry.
func classifySMTP(err error) error {
	wrapped := fmt.Errorf("email: %w", err)
	code := 0
	var se *mail.SendError
	var te *textproto.Error
	switch {
	case errors.As(err, &se):
		code = se.ErrorCode()
	case errors.As(err, &te):
		code = te.Code
	}
	if code == 0 {
		code = leadingCode(err.Error())
	}
	if code >= 500 && code < 600 {
		return &PermanentError{Channel: duban.ChannelEmail, Err: wrapped}
	}
	return wrapped
}

// leadingCode finds an SMTP reply code ("550 5.1.1 …") at the start of
// the last part of an error's text, where go-mail leaves the server's
// reply; 0 when there is none.
func leadingCode(s string) int {
	if i := strings.LastIndex(s, ": "); i >= 0 {
		s = s[i+2:]
	}
	if len(s) >= 4 && s[3] == ' ' {
		if n, err := strconv.Atoi(s[:3]); err == nil && n >= 200 && n < 600 {
			return n
		}
	}
	return 0
}

// render builds the e-mail: subject by kind, the text as plain text and as
// escaped HTML, answer links for a head, and the hearing as an event.
func (e *Email) render(ctx context.Context, addr duban.Address, msg duban.Message) (*mail.Msg, error) {
	locale := addr.Locale
	if locale == "" {
		locale = duban.LocaleZH
	}
	m := mail.NewMsg()
	if err := m.From(e.cfg.From); err != nil {
		return nil, &PermanentError{Channel: duban.ChannelEmail, Err: fmt.Errorf("email: from: %w", err)}
	}
	if err := m.AddToFormat(addr.Name, addr.Email); err != nil {
		return nil, &PermanentError{Channel: duban.ChannelEmail, Err: fmt.Errorf("email: to %q: %w", addr.Email, err)}
	}
	if msg.Subject != "" {
		m.Subject(msg.Subject)
	} else {
		m.Subject(e.subject(locale, msg))
	}
	m.SetDate()
	m.SetMessageID()

	var h *duban.Hearing
	var ha *duban.HearingAgency
	if msg.HearingAgencyID != 0 && e.cfg.Hearing != nil {
		var err error
		if h, ha, err = e.cfg.Hearing(ctx, msg.HearingAgencyID); err != nil {
			return nil, fmt.Errorf("email: hearing agency %d: %w", msg.HearingAgencyID, err)
		}
	}
	links := e.links(locale, addr, msg, h)

	var plain strings.Builder
	plain.WriteString(msg.Text)
	var rich strings.Builder
	rich.WriteString(`<!DOCTYPE html><html><body><p style="white-space:pre-wrap;font-family:sans-serif">`)
	rich.WriteString(strings.ReplaceAll(html.EscapeString(msg.Text), "\n", "<br>\n"))
	rich.WriteString("</p>")
	if len(links) > 0 {
		plain.WriteString("\n\n" + e.cfg.T.T(locale, "mail.answer.intro", nil) + "\n")
		rich.WriteString("<p>" + html.EscapeString(e.cfg.T.T(locale, "mail.answer.intro", nil)) + "</p><p>")
		for _, l := range links {
			plain.WriteString(l.label + ": " + l.url + "\n")
			rich.WriteString(`<a href="` + html.EscapeString(l.url) + `" style="margin-right:1em">` + html.EscapeString(l.label) + "</a>")
		}
		rich.WriteString("</p>")
	}
	rich.WriteString("</body></html>")
	m.SetBodyString(mail.TypeTextPlain, plain.String())
	if msg.HTML != "" {
		m.AddAlternativeString(mail.TypeTextHTML, msg.HTML)
	} else {
		m.AddAlternativeString(mail.TypeTextHTML, rich.String())
	}
	for _, a := range msg.Attachments {
		m.AttachReadSeeker(a.Name, bytes.NewReader(a.Data), mail.WithFileContentType(mail.ContentType(a.Type)))
	}

	if h != nil && ha != nil {
		var buf bytes.Buffer
		ev := icalendar.HearingEvent(e.cfg.T, locale, e.cfg.Loc, h, ha)
		if err := icalendar.Write(&buf, icalendar.Calendar{Method: icalendar.MethodPublish, Events: []icalendar.Event{ev}}); err != nil {
			return nil, fmt.Errorf("email: calendar: %w", err)
		}
		m.AttachReadSeeker("hearing.ics", bytes.NewReader(buf.Bytes()),
			mail.WithFileContentType(`text/calendar; charset=UTF-8; method=PUBLISH`))
	}
	return m, nil
}

// subject is the subject of msg's kind in locale, naming its reference.
func (e *Email) subject(locale string, msg duban.Message) string {
	ref := msg.Ref
	if msg.RefName != "" {
		ref = msg.RefName
	}
	data := map[string]any{"Ref": ref}
	id := "mail.subject." + string(msg.Kind)
	s := e.cfg.T.T(locale, id, data)
	if s == id || s == "" {
		s = e.cfg.T.T(locale, "mail.subject.other", data)
	}
	return s
}

type link struct{ label, url string }

// links are the signed answer links of a head's message: one for each
// answer button the message carries (a deputy's copy carries none), valid
// until the hearing starts.
func (e *Email) links(locale string, addr duban.Address, msg duban.Message, h *duban.Hearing) []link {
	if h == nil || e.cfg.PublicURL == "" || len(e.cfg.LinkKey) == 0 || addr.PersonID == 0 {
		return nil
	}
	var out []link
	for _, row := range msg.Buttons {
		for _, b := range row {
			cb, err := duban.ParseCallback(b.Data)
			if err != nil || cb.HearingAgencyID != msg.HearingAgencyID {
				continue
			}
			var id, action string
			switch cb.Verb {
			case duban.VerbConfirm:
				id, action = "mail.answer.confirm", "confirm"
			case duban.VerbDelegate:
				id, action = "mail.answer.delegate", "delegate"
			default:
				continue
			}
			tok := duban.AnswerToken{HearingAgencyID: cb.HearingAgencyID, PersonID: addr.PersonID, Expires: h.StartsAt}.Sign(e.cfg.LinkKey)
			out = append(out, link{label: e.cfg.T.T(locale, id, nil), url: AnswerURL(e.cfg.PublicURL, tok, action)})
		}
	}
	return out
}

// AnswerPath is where the answer page of a signed link is served.
const AnswerPath = "/answer"

// AnswerURL is the link to the answer page for token, opening on action
// (confirm or delegate).
func AnswerURL(publicURL, token, action string) string {
	v := url.Values{"t": {token}}
	if action != "" {
		v.Set("a", action)
	}
	return strings.TrimRight(publicURL, "/") + AnswerPath + "?" + v.Encode()
}

// wait blocks until the next mail may go to the SMTP server, or ctx ends.
func (e *Email) wait(ctx context.Context) error {
	if e.shared != nil {
		return e.shared.wait(ctx, "server")
	}
	return keyedWait(ctx, e.limiter, "server", time.Now)
}
