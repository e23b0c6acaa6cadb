package notifier_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"io"
	"math/big"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/i18n"
	"github.com/cityhall/duban/internal/icstest"
	"github.com/cityhall/duban/notifier"
)

// received is one message the test SMTP server took.
type received struct {
	from, to string
	tls      bool
	user     string
	data     []byte
}

// smtpServer is an in-process SMTP server on 127.0.0.1 (emersion/go-smtp)
// that keeps what it receives and answers a recipient with rcptErr.
type smtpServer struct {
	addr     string
	mu       sync.Mutex
	got      []received
	rcptErr  error
	password string // with it, PLAIN auth is offered and required
}

func (s *smtpServer) messages() []received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]received(nil), s.got...)
}

type session struct {
	srv  *smtpServer
	conn *smtp.Conn
	cur  received
}

func (x *session) AuthMechanisms() []string {
	if x.srv.password == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (x *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if pass != x.srv.password {
			return &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "bad credentials"}
		}
		x.cur.user = user
		return nil
	}), nil
}

func (x *session) Mail(from string, _ *smtp.MailOptions) error {
	if x.srv.password != "" && x.cur.user == "" {
		return &smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 0}, Message: "authentication required"}
	}
	x.cur.from = from
	return nil
}

func (x *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if x.srv.rcptErr != nil {
		return x.srv.rcptErr
	}
	x.cur.to = to
	return nil
}

func (x *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	_, x.cur.tls = x.conn.TLSConnectionState()
	x.cur.data = b
	x.srv.mu.Lock()
	x.srv.got = append(x.srv.got, x.cur)
	x.srv.mu.Unlock()
	return nil
}

func (x *session) Reset()        { x.cur = received{user: x.cur.user} }
func (x *session) Logout() error { return nil }

// startSMTP serves on 127.0.0.1: with cert it offers STARTTLS (or, with
// implicit, speaks TLS from the start); without, plain SMTP only.
func startSMTP(t *testing.T, cert *tls.Certificate, implicit bool) *smtpServer {
	t.Helper()
	s := &smtpServer{}
	be := smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) { return &session{srv: s, conn: c}, nil })
	srv := smtp.NewServer(be)
	srv.Domain = "127.0.0.1"
	srv.AllowInsecureAuth = true
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if cert != nil {
		tc := &tls.Config{Certificates: []tls.Certificate{*cert}}
		if implicit {
			l = tls.NewListener(l, tc)
		} else {
			srv.TLSConfig = tc
		}
	}
	s.addr = l.Addr().String()
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	return s
}

// selfSigned makes a certificate for 127.0.0.1 and a client TLS config
// that trusts it.
func selfSigned(t *testing.T) (*tls.Certificate, *tls.Config) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, NotBefore: time.Unix(0, 0), NotAfter: time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf},
		&tls.Config{RootCAs: pool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}
}

var linkKey = duban.AnswerKey("a-test-secret-of-at-least-32-characters")

func testHearing() (*duban.Hearing, *duban.HearingAgency) {
	start := time.Date(2026, 12, 1, 1, 30, 0, 0, time.UTC)
	h := &duban.Hearing{ID: 7, CaseNumber: "(2026)沪0101行初12号", Court: "黄浦区人民法院", Courtroom: "第三法庭", StartsAt: start,
		Plaintiff: "李四", Cause: "行政处罚", Status: duban.HearingScheduled, UpdatedAt: start.Add(-time.Hour), Sequence: 1}
	ha := &duban.HearingAgency{ID: 3, HearingID: 7, AgencyID: 11, AgencyName: "市公安局"}
	return h, ha
}

func newEmail(t *testing.T, rawURL string, tc *tls.Config) *notifier.Email {
	t.Helper()
	loc, _ := time.LoadLocation("Asia/Shanghai")
	e, err := notifier.NewEmail(notifier.EmailConfig{URL: rawURL, From: "督办 <duban@example.gov.cn>", T: i18n.MustNew(), Loc: loc,
		PublicURL: "https://duban.example.gov.cn/", LinkKey: linkKey, TLSConfig: tc, Timeout: 10 * time.Second,
		Hearing: func(_ context.Context, id int64) (*duban.Hearing, *duban.HearingAgency, error) {
			h, ha := testHearing()
			if id != ha.ID {
				return nil, nil, duban.ErrNotFound
			}
			return h, ha, nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// reminder is a head's reminder with its answer buttons, as jobs renders it.
func reminder() duban.Message {
	return duban.Message{Kind: duban.MsgReminder, Ref: "(2026)沪0101行初12号", HearingAgencyID: 3,
		Text: "出庭应诉提醒 <b>不是标签</b>\n案号：(2026)沪0101行初12号",
		Buttons: [][]duban.Button{{
			{Label: "确认出庭", Data: duban.Callback{Verb: duban.VerbConfirm, HearingAgencyID: 3}.Encode()},
			{Label: "委托", Data: duban.Callback{Verb: duban.VerbDelegate, HearingAgencyID: 3}.Encode()},
		}, {{Label: "详情", Data: duban.Callback{Verb: duban.VerbDetails, HearingAgencyID: 3}.Encode()}}}}
}

var head = duban.Address{PersonID: 42, Name: "张局长", Email: "zhang@example.gov.cn", Locale: duban.LocaleZH}

// parsed is an e-mail read back: its subject and its parts by type.
type parsed struct {
	subject string
	parts   map[string][]byte // media type → decoded body
	ctype   map[string]string // media type → full Content-Type
	names   map[string]string // media type → attachment file name
}

func parseMail(t *testing.T, data []byte) parsed {
	t.Helper()
	m, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("read mail: %v\n%s", err, data)
	}
	subj, err := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	if err != nil {
		t.Fatal(err)
	}
	p := parsed{subject: subj, parts: map[string][]byte{}, ctype: map[string]string{}, names: map[string]string{}}
	var walk func(h map[string][]string, body io.Reader)
	walk = func(h map[string][]string, body io.Reader) {
		get := func(k string) string {
			if v := h[k]; len(v) > 0 {
				return v[0]
			}
			return ""
		}
		mt, params, err := mime.ParseMediaType(get("Content-Type"))
		if err != nil {
			t.Fatalf("content type %q: %v", get("Content-Type"), err)
		}
		if strings.HasPrefix(mt, "multipart/") {
			mr := multipart.NewReader(body, params["boundary"])
			for {
				part, err := mr.NextRawPart()
				if errors.Is(err, io.EOF) {
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				walk(part.Header, part)
			}
		}
		var r io.Reader = body
		switch strings.ToLower(get("Content-Transfer-Encoding")) {
		case "base64":
			r = base64.NewDecoder(base64.StdEncoding, body)
		case "quoted-printable":
			r = quotedprintable.NewReader(body)
		}
		b, err := io.ReadAll(r)
		if err != nil {
			t.Fatal(err)
		}
		p.parts[mt], p.ctype[mt] = b, get("Content-Type")
		if _, dp, err := mime.ParseMediaType(get("Content-Disposition")); err == nil {
			p.names[mt] = dp["filename"]
		}
	}
	walk(m.Header, m.Body)
	return p
}

func TestEmail_SendsTextHTMLAndTheHearingAsAnEvent(t *testing.T) {
	cert, tc := selfSigned(t)
	tests := []struct {
		name     string
		cert     *tls.Certificate
		implicit bool
		scheme   string
		wantTLS  bool
	}{
		{"STARTTLS offered: used", cert, false, "smtp", true},
		{"STARTTLS not offered: plain", nil, false, "smtp", false},
		{"smtps: TLS from the start", cert, true, "smtps", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startSMTP(t, tt.cert, tt.implicit)
			srv.password = "s3cr3t"
			e := newEmail(t, tt.scheme+"://duban:s3cr3t@"+srv.addr, tc)
			id, err := e.Send(context.Background(), head, reminder())
			if err != nil {
				t.Fatalf("send: %v", err)
			}
			if id == "" {
				t.Error("no message id")
			}
			got := srv.messages()
			if len(got) != 1 {
				t.Fatalf("%d messages, want 1", len(got))
			}
			m := got[0]
			if m.tls != tt.wantTLS || m.user != "duban" || m.to != head.Email || m.from != "duban@example.gov.cn" {
				t.Errorf("tls=%v user=%q to=%q from=%q", m.tls, m.user, m.to, m.from)
			}
			p := parseMail(t, m.data)
			if p.subject != "【出庭应诉提醒】(2026)沪0101行初12号" {
				t.Errorf("subject %q", p.subject)
			}
			plain, html := string(p.parts["text/plain"]), string(p.parts["text/html"])
			if !strings.Contains(plain, "出庭应诉提醒 <b>不是标签</b>") {
				t.Errorf("plain text:\n%s", plain)
			}
			if !strings.Contains(html, "&lt;b&gt;不是标签&lt;/b&gt;") || strings.Contains(html, "<b>") {
				t.Errorf("HTML does not escape the text:\n%s", html)
			}
			links := answerLinks(t, html)
			if len(links) != 2 {
				t.Fatalf("answer links %v, want confirm and delegate", links)
			}
			h, _ := testHearing()
			for _, l := range links {
				tok, err := duban.ParseAnswerToken(linkKey, l.Query().Get("t"), h.StartsAt.Add(-time.Hour))
				if err != nil || tok.PersonID != 42 || tok.HearingAgencyID != 3 || !tok.Expires.Equal(h.StartsAt) {
					t.Errorf("link %s: token %+v %v", l, tok, err)
				}
				if l.Host != "duban.example.gov.cn" || l.Path != "/answer" {
					t.Errorf("link %s not on the public URL", l)
				}
			}
			if !strings.Contains(plain, links[0].String()) {
				t.Errorf("plain text lacks the links:\n%s", plain)
			}
			if p.names["text/calendar"] != "hearing.ics" || !strings.Contains(p.ctype["text/calendar"], "method=PUBLISH") {
				t.Errorf("attachment %q, %q", p.names["text/calendar"], p.ctype["text/calendar"])
			}
			cal := icstest.Parse(t, p.parts["text/calendar"])
			ev := icstest.Event(t, cal, "hearing-7-agency-11@duban")
			if !icstest.Start(t, ev).Equal(h.StartsAt) || icstest.Text(ev.Component, "SEQUENCE") != "1" {
				t.Errorf("event start %v sequence %s", icstest.Start(t, ev), icstest.Text(ev.Component, "SEQUENCE"))
			}
		})
	}
}

// answerLinks finds the answer links in an HTML body.
func answerLinks(t *testing.T, html string) []*url.URL {
	t.Helper()
	var out []*url.URL
	for _, part := range strings.Split(html, `href="`)[1:] {
		raw, _, _ := strings.Cut(part, `"`)
		u, err := url.Parse(strings.ReplaceAll(raw, "&amp;", "&"))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, u)
	}
	return out
}

func TestEmail_ADeputysCopyAndOtherMessagesCarryNoLinks(t *testing.T) {
	srv := startSMTP(t, nil, false)
	e := newEmail(t, "smtp://"+srv.addr, nil)
	msgs := []duban.Message{
		{Kind: duban.MsgEscalation, Ref: "(2026)沪0101行初12号", Text: "督办"},
		{Kind: duban.MsgReminder, Ref: "(2026)沪0101行初12号", Text: "副职", HearingAgencyID: 3,
			Buttons: [][]duban.Button{{{Label: "详情", Data: duban.Callback{Verb: duban.VerbDetails, HearingAgencyID: 3}.Encode()}}}},
	}
	for _, m := range msgs {
		if _, err := e.Send(context.Background(), head, m); err != nil {
			t.Fatal(err)
		}
	}
	got := srv.messages()
	esc, dep := parseMail(t, got[0].data), parseMail(t, got[1].data)
	if esc.subject != "【督办】(2026)沪0101行初12号 负责人尚未答复" || esc.parts["text/calendar"] != nil {
		t.Errorf("escalation: subject %q, calendar %v", esc.subject, esc.parts["text/calendar"] != nil)
	}
	if len(answerLinks(t, string(dep.parts["text/html"]))) != 0 || dep.parts["text/calendar"] == nil {
		t.Errorf("deputy's copy: links %v, calendar %v", answerLinks(t, string(dep.parts["text/html"])), dep.parts["text/calendar"] != nil)
	}
}

func TestEmail_ClassifiesSMTPReplies(t *testing.T) {
	tests := []struct {
		name      string
		rcptErr   error
		permanent bool
	}{
		{"550 no such mailbox: permanent", &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}, true},
		{"451 try later: transient", &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try again later"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startSMTP(t, nil, false)
			srv.rcptErr = tt.rcptErr
			_, err := newEmail(t, "smtp://"+srv.addr, nil).Send(context.Background(), head, reminder())
			if err == nil {
				t.Fatal("no error")
			}
			if notifier.IsPermanent(err) != tt.permanent {
				t.Errorf("permanent = %v, want %v: %v", notifier.IsPermanent(err), tt.permanent, err)
			}
		})
	}
	t.Run("wrong password: permanent, and the password is not in the error", func(t *testing.T) {
		srv := startSMTP(t, nil, false)
		srv.password = "right-password"
		_, err := newEmail(t, "smtp://duban:wrong-password@"+srv.addr, nil).Send(context.Background(), head, reminder())
		if err == nil || !notifier.IsPermanent(err) || strings.Contains(err.Error(), "wrong-password") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("server down: transient", func(t *testing.T) {
		l, _ := net.Listen("tcp", "127.0.0.1:0")
		addr := l.Addr().String()
		l.Close()
		_, err := newEmail(t, "smtp://"+addr, nil).Send(context.Background(), head, reminder())
		if err == nil || notifier.IsPermanent(err) {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("no address: unreachable", func(t *testing.T) {
		e := newEmail(t, "smtp://127.0.0.1:1", nil)
		if e.Reachable(duban.Address{Name: "x"}) {
			t.Error("reachable without an address")
		}
		if _, err := e.Send(context.Background(), duban.Address{Name: "x"}, reminder()); !errors.Is(err, notifier.ErrUnreachable) {
			t.Errorf("err = %v", err)
		}
	})
}

func TestNewEmail_RefusesBadSettings(t *testing.T) {
	for _, tt := range []struct{ url, from string }{
		{"http://host", "a@b.c"}, {"smtp://host:99999", "a@b.c"}, {"smtp://host", ""}, {"smtp://host", "not an address"}, {"::", "a@b.c"},
	} {
		if _, err := notifier.NewEmail(notifier.EmailConfig{URL: tt.url, From: tt.from, T: i18n.MustNew()}); err == nil {
			t.Errorf("%q %q accepted", tt.url, tt.from)
		}
	}
}
