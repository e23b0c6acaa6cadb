// Package smtptest is an in-process SMTP server on 127.0.0.1 for tests
// (emersion/go-smtp), optionally offering STARTTLS or speaking TLS from the
// start, and a reader of the e-mails it takes.
package smtptest

import (
	"bytes"
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
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Received is one message the test SMTP server took.
type Received struct {
	From, To string
	TLS      bool
	User     string
	Data     []byte
}

// Server is an in-process SMTP server on 127.0.0.1 (emersion/go-smtp)
// that keeps what it receives and answers a recipient with rcptErr.
type Server struct {
	Addr     string
	mu       sync.Mutex
	got      []Received
	RcptErr  error
	Password string // with it, PLAIN auth is offered and required
}

func (s *Server) Messages() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Received(nil), s.got...)
}

type session struct {
	srv  *Server
	conn *smtp.Conn
	cur  Received
}

func (x *session) AuthMechanisms() []string {
	if x.srv.Password == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (x *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if pass != x.srv.Password {
			return &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "bad credentials"}
		}
		x.cur.User = user
		return nil
	}), nil
}

func (x *session) Mail(from string, _ *smtp.MailOptions) error {
	if x.srv.Password != "" && x.cur.User == "" {
		return &smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 0}, Message: "authentication required"}
	}
	x.cur.From = from
	return nil
}

func (x *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if x.srv.RcptErr != nil {
		return x.srv.RcptErr
	}
	x.cur.To = to
	return nil
}

func (x *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	_, x.cur.TLS = x.conn.TLSConnectionState()
	x.cur.Data = b
	x.srv.mu.Lock()
	x.srv.got = append(x.srv.got, x.cur)
	x.srv.mu.Unlock()
	return nil
}

func (x *session) Reset()        { x.cur = Received{User: x.cur.User} }
func (x *session) Logout() error { return nil }

// Start serves on 127.0.0.1: with cert it offers STARTTLS (or, with
// implicit, speaks TLS from the start); without, plain SMTP only.
func Start(t testing.TB, cert *tls.Certificate, implicit bool) *Server {
	t.Helper()
	s := &Server{}
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
	s.Addr = l.Addr().String()
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	return s
}

// SelfSigned makes a certificate for 127.0.0.1 and a client TLS config
// that trusts it.
func SelfSigned(t testing.TB) (*tls.Certificate, *tls.Config) {
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

// Mail is an e-mail read back: its subject and its parts by type.
type Mail struct {
	Subject string
	Parts   map[string][]byte // media type → decoded body
	CType   map[string]string // media type → full Content-Type
	Names   map[string]string // media type → attachment file name
}

// Parse reads an e-mail back: its subject and each part decoded.
func Parse(t testing.TB, data []byte) Mail {
	t.Helper()
	m, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("read mail: %v\n%s", err, data)
	}
	subj, err := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	if err != nil {
		t.Fatal(err)
	}
	p := Mail{Subject: subj, Parts: map[string][]byte{}, CType: map[string]string{}, Names: map[string]string{}}
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
		p.Parts[mt], p.CType[mt] = b, get("Content-Type")
		if _, dp, err := mime.ParseMediaType(get("Content-Disposition")); err == nil {
			p.Names[mt] = dp["filename"]
		}
	}
	walk(m.Header, m.Body)
	return p
}
