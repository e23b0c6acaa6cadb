package notifier_test

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/redis/go-redis/v9"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/i18n"
	"github.com/cityhall/duban/internal/icstest"
	"github.com/cityhall/duban/internal/smtptest"
	"github.com/cityhall/duban/internal/testenv"
	"github.com/cityhall/duban/notifier"
)

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

func TestEmail_SendsTextHTMLAndTheHearingAsAnEvent(t *testing.T) {
	cert, tc := smtptest.SelfSigned(t)
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
			srv := smtptest.Start(t, tt.cert, tt.implicit)
			srv.Password = "s3cr3t"
			e := newEmail(t, tt.scheme+"://duban:s3cr3t@"+srv.Addr, tc)
			id, err := e.Send(context.Background(), head, reminder())
			if err != nil {
				t.Fatalf("send: %v", err)
			}
			if id == "" {
				t.Error("no message id")
			}
			got := srv.Messages()
			if len(got) != 1 {
				t.Fatalf("%d messages, want 1", len(got))
			}
			m := got[0]
			if m.TLS != tt.wantTLS || m.User != "duban" || m.To != head.Email || m.From != "duban@example.gov.cn" {
				t.Errorf("tls=%v user=%q to=%q from=%q", m.TLS, m.User, m.To, m.From)
			}
			p := smtptest.Parse(t, m.Data)
			if p.Subject != "【出庭应诉提醒】(2026)沪0101行初12号" {
				t.Errorf("subject %q", p.Subject)
			}
			plain, html := string(p.Parts["text/plain"]), string(p.Parts["text/html"])
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
			if p.Names["text/calendar"] != "hearing.ics" || !strings.Contains(p.CType["text/calendar"], "method=PUBLISH") {
				t.Errorf("attachment %q, %q", p.Names["text/calendar"], p.CType["text/calendar"])
			}
			cal := icstest.Parse(t, p.Parts["text/calendar"])
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
	srv := smtptest.Start(t, nil, false)
	e := newEmail(t, "smtp://"+srv.Addr, nil)
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
	got := srv.Messages()
	esc, dep := smtptest.Parse(t, got[0].Data), smtptest.Parse(t, got[1].Data)
	if esc.Subject != "【督办】(2026)沪0101行初12号 负责人尚未答复" || esc.Parts["text/calendar"] != nil {
		t.Errorf("escalation: subject %q, calendar %v", esc.Subject, esc.Parts["text/calendar"] != nil)
	}
	if len(answerLinks(t, string(dep.Parts["text/html"]))) != 0 || dep.Parts["text/calendar"] == nil {
		t.Errorf("deputy's copy: links %v, calendar %v", answerLinks(t, string(dep.Parts["text/html"])), dep.Parts["text/calendar"] != nil)
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
			srv := smtptest.Start(t, nil, false)
			srv.RcptErr = tt.rcptErr
			_, err := newEmail(t, "smtp://"+srv.Addr, nil).Send(context.Background(), head, reminder())
			if err == nil {
				t.Fatal("no error")
			}
			if notifier.IsPermanent(err) != tt.permanent {
				t.Errorf("permanent = %v, want %v: %v", notifier.IsPermanent(err), tt.permanent, err)
			}
		})
	}
	t.Run("wrong password: permanent, and the password is not in the error", func(t *testing.T) {
		srv := smtptest.Start(t, nil, false)
		srv.Password = "right-password"
		_, err := newEmail(t, "smtp://duban:wrong-password@"+srv.Addr, nil).Send(context.Background(), head, reminder())
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

// TestEmail_KeepsOneSendingLimitAcrossReplicas: with Redis shared, each
// mail takes its slot of the SMTP server's limit there, where every
// replica takes theirs: the next may leave 200 ms later (5 a second).
func TestEmail_KeepsOneSendingLimitAcrossReplicas(t *testing.T) {
	srv := smtptest.Start(t, nil, false)
	r := testenv.MiniRedis(t)
	r.Mini.SetTime(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)) // Redis's clock stands still: slots are plain to read
	rdb := redis.NewClient(&redis.Options{Addr: r.Addr})
	t.Cleanup(func() { rdb.Close() })
	e, err := notifier.NewEmail(notifier.EmailConfig{URL: "smtp://" + srv.Addr, From: "duban@example.gov.cn", T: i18n.MustNew(),
		Loc: time.UTC, Shared: rdb, Prefix: "test:"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Send(context.Background(), head, reminder()); err != nil {
		t.Fatal(err)
	}
	next, err := rdb.Get(context.Background(), "test:smtp:server").Int64()
	if err != nil {
		t.Fatalf("no slot taken in Redis: %v", err)
	}
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC).UnixMicro()
	if next-now != (200 * time.Millisecond).Microseconds() {
		t.Errorf("the next mail may leave %d µs later, want 200 ms (5 a second)", next-now)
	}
	if len(srv.Messages()) != 1 {
		t.Errorf("%d mails", len(srv.Messages()))
	}
}

// TestEmail_AComplaintsSubjectNamesItsTrackingCode: a complaint's message
// is keyed "complaint:<id>" inside duban; the subject a supervisor reads
// names the complaint by its tracking code instead.
func TestEmail_AComplaintsSubjectNamesItsTrackingCode(t *testing.T) {
	srv := smtptest.Start(t, nil, false)
	e := newEmail(t, "smtp://"+srv.Addr, nil)
	msg := duban.Message{Kind: duban.MsgComplaint, Ref: "complaint:42", RefName: "TS-7K3M-9QXA", Text: "新投诉"}
	if _, err := e.Send(context.Background(), head, msg); err != nil {
		t.Fatalf("send: %v", err)
	}
	got := srv.Messages()
	if len(got) != 1 {
		t.Fatalf("%d messages, want 1", len(got))
	}
	if p := smtptest.Parse(t, got[0].Data); p.Subject != "【新投诉】TS-7K3M-9QXA" {
		t.Errorf("subject %q, want the tracking code", p.Subject)
	}
}
