package jobs_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/i18n"
	"github.com/cityhall/duban/internal/icstest"
	"github.com/cityhall/duban/internal/smtptest"
	"github.com/cityhall/duban/jobs"
	"github.com/cityhall/duban/notifier"
	"github.com/cityhall/duban/storage"
	"github.com/cityhall/duban/storage/storagetest"
)

var testLinkKey = duban.AnswerKey("a-test-secret-of-at-least-32-characters")

// withEmail adds the real e-mail channel, sending to an in-process SMTP
// server, to h's outbox.
func (h *harness) withEmail() *smtptest.Server {
	h.t.Helper()
	srv := smtptest.Start(h.t, nil, false)
	e, err := notifier.NewEmail(notifier.EmailConfig{URL: "smtp://" + srv.Addr, From: "duban@example.gov.cn", T: i18n.MustNew(), Loc: sh,
		PublicURL: "https://duban.example.gov.cn", LinkKey: testLinkKey,
		Hearing: func(ctx context.Context, id int64) (*duban.Hearing, *duban.HearingAgency, error) {
			ha, err := h.store.HearingAgencyByID(ctx, id)
			if err != nil {
				return nil, nil, err
			}
			hr, err := h.store.HearingByID(ctx, ha.HearingID)
			return hr, ha, err
		}})
	if err != nil {
		h.t.Fatal(err)
	}
	h.senders[duban.ChannelEmail] = e
	return srv
}

func TestOutbox_AHeadWithOnlyEmailIsRemindedByEmail(t *testing.T) {
	storagetest.EachURL(t, func(t *testing.T, url string) {
		h := newHarness(t, url)
		srv := h.withEmail()
		jt := storagetest.Agency(t, h.store, "JT", "市交通局")
		head := storagetest.Person(t, h.store, duban.Person{Name: "钱局长", AgencyID: &jt.ID, Roles: duban.Roles{duban.RoleAgencyHead},
			Email: "qian@example.gov.cn"})
		// Not the console, which reaches everyone: e-mail is this head's
		// only channel of their own.
		delete(h.senders, duban.ChannelConsole)

		start := h.clock.Now().Add(72*time.Hour + time.Hour)
		hr := h.register("(2026)沪0101行初88号", start, "JT")
		h.drain()
		h.clock.Set(start.Add(-72 * time.Hour))
		h.fire()

		got := srv.Messages()
		if len(got) != 2 {
			t.Fatalf("%d e-mails, want the notice and the 72h reminder", len(got))
		}
		var subjects []string
		for _, m := range got {
			if m.To != head.Email {
				t.Errorf("mail to %s", m.To)
			}
			p := smtptest.Parse(t, m.Data)
			subjects = append(subjects, p.Subject)
			cal := icstest.Parse(t, p.Parts["text/calendar"])
			ev := icstest.Event(t, cal, "hearing-"+itoa(hr.ID)+"-agency-"+itoa(jt.ID)+"@duban")
			if !icstest.Start(t, ev).Equal(start) {
				t.Errorf("event starts %v", icstest.Start(t, ev))
			}
			if !strings.Contains(string(p.Parts["text/html"]), "/answer?") {
				t.Errorf("no answer link in %s", p.Subject)
			}
		}
		if subjects[0] != "【出庭应诉通知】(2026)沪0101行初88号" || subjects[1] != "【出庭应诉提醒】(2026)沪0101行初88号" {
			t.Errorf("subjects %q", subjects)
		}
		ds, err := h.store.Deliveries(h.ctx, storage.DeliveryFilter{Ref: "(2026)沪0101行初88号"})
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range ds {
			if d.PersonID == head.ID && (d.Channel != duban.ChannelEmail || d.Status != duban.DeliverySent) {
				t.Errorf("delivery %d: %s %s", d.ID, d.Channel, d.Status)
			}
		}
	})
}

func TestOutbox_APersonsChannelOrderComesFirst(t *testing.T) {
	storagetest.EachURL(t, func(t *testing.T, url string) {
		h := newHarness(t, url)
		srv := h.withEmail()
		h.head.Email = "zhang@example.gov.cn"
		h.head.Channels = duban.ChannelList{duban.ChannelEmail, duban.ChannelTelegram}
		if err := h.store.UpdatePerson(h.ctx, h.head); err != nil {
			t.Fatal(err)
		}
		h.register("(2026)沪0101行初89号", h.clock.Now().Add(100*time.Hour))
		h.drain()
		if n := len(srv.Messages()); n != 1 {
			t.Errorf("%d e-mails to the head who put e-mail first, want 1", n)
		}
		for _, s := range h.rec.all() {
			if s.To == h.head.Name && s.Channel == duban.ChannelTelegram {
				t.Errorf("Telegram used before e-mail")
			}
		}

		// The SMTP server refuses the mailbox (550): the next channel in
		// the head's order takes the message.
		srv.RcptErr = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
		h.register("(2026)沪0101行初90号", h.clock.Now().Add(100*time.Hour))
		h.drain()
		var tg bool
		for _, s := range h.rec.all() {
			tg = tg || (s.To == h.head.Name && s.Channel == duban.ChannelTelegram && s.Msg.Ref == "(2026)沪0101行初90号")
		}
		if !tg {
			t.Error("no fallback to Telegram after a permanent SMTP failure")
		}
	})
}

func TestLinkAnswers_ASignedLinkAnswersAsTheHead(t *testing.T) {
	storagetest.EachURL(t, func(t *testing.T, url string) {
		h := newHarness(t, url)
		la := jobs.NewLinkAnswers(h.store, h.hs, testLinkKey, h.clock)
		start := h.clock.Now().Add(48 * time.Hour)
		hr := h.register("(2026)沪0101行初91号", start)
		haID := hr.Agencies[0].ID
		sign := func(p *duban.Person, exp time.Time, key []byte) string {
			return duban.AnswerToken{HearingAgencyID: haID, PersonID: p.ID, Expires: exp}.Sign(key)
		}
		good := sign(h.head, start, testLinkKey)
		tampered := []byte(good)
		tampered[5] ^= 1

		refused := []struct {
			name  string
			token string
			want  error
		}{
			{"tampered", string(tampered), duban.ErrTokenInvalid},
			{"signed with another key", sign(h.head, start, duban.AnswerKey("another-secret-of-at-least-32-chars!")), duban.ErrTokenInvalid},
			{"expired", sign(h.head, h.clock.Now().Add(-time.Minute), testLinkKey), duban.ErrTokenExpired},
			{"for someone who is not the head", sign(h.other, start, testLinkKey), duban.ErrForbidden},
			{"garbage", "not-a-token", duban.ErrTokenInvalid},
		}
		for _, tt := range refused {
			_, err := la.Answer(h.ctx, tt.token, jobs.AnswerRequest{Answer: duban.AnswerConfirmed})
			if !errors.Is(err, tt.want) {
				t.Errorf("%s: err = %v, want %v", tt.name, err, tt.want)
			}
		}
		if ha, _ := h.store.HearingAgencyByID(h.ctx, haID); ha.Answer != duban.AnswerNone {
			t.Fatalf("a refused link changed the answer to %s", ha.Answer)
		}

		got, err := la.Answer(h.ctx, good, jobs.AnswerRequest{Answer: duban.AnswerConfirmed, HearingAgencyID: 999})
		if err != nil {
			t.Fatal(err)
		}
		ha, _ := h.store.HearingAgencyByID(h.ctx, haID)
		if ha.Answer != duban.AnswerConfirmed || ha.AnsweredBy == nil || *ha.AnsweredBy != h.head.ID || got.Agency.ID != haID {
			t.Errorf("answer %s by %v", ha.Answer, ha.AnsweredBy)
		}
		if _, err := la.Answer(h.ctx, good, jobs.AnswerRequest{Answer: duban.AnswerDelegated}); !errors.Is(err, duban.ErrInvalid) {
			t.Errorf("a delegation without a name: %v", err)
		}
		if _, err := la.Answer(h.ctx, good, jobs.AnswerRequest{Answer: duban.AnswerDelegated, DelegateName: "李副局长", DelegateReason: "出差"}); err != nil {
			t.Fatal(err)
		}
		if ha, _ := h.store.HearingAgencyByID(h.ctx, haID); ha.Answer != duban.AnswerDelegated || ha.DelegateName != "李副局长" {
			t.Errorf("answer %s %q", ha.Answer, ha.DelegateName)
		}

		// Once the hearing starts the link has expired too.
		h.clock.Set(start)
		if _, err := la.Answer(h.ctx, good, jobs.AnswerRequest{Answer: duban.AnswerConfirmed}); !errors.Is(err, duban.ErrTokenExpired) {
			t.Errorf("after the start: %v", err)
		}
	})
}

func newCalendars(h *harness) *jobs.Calendars {
	return jobs.NewCalendars(jobs.CalendarsDeps{Store: h.store, T: i18n.MustNew(), Loc: sh, PublicURL: "https://duban.example.gov.cn/",
		Alarms: []time.Duration{72 * time.Hour, 2 * time.Hour}, Clock: h.clock})
}

// feedToken takes the token out of a feed URL.
func feedToken(t *testing.T, u string) string {
	t.Helper()
	tok, ok := strings.CutPrefix(u, "https://duban.example.gov.cn/calendar/")
	if !ok || !strings.HasSuffix(tok, ".ics") {
		t.Fatalf("feed URL %q", u)
	}
	return strings.TrimSuffix(tok, ".ics")
}

func TestCalendars_FeedFollowsMovesAndCancellations(t *testing.T) {
	storagetest.EachURL(t, func(t *testing.T, url string) {
		h := newHarness(t, url)
		cs := newCalendars(h)
		head := jobs.Actor{Person: h.head}
		u, err := cs.MintPerson(h.ctx, head, h.head.ID)
		if err != nil {
			t.Fatal(err)
		}
		tok := feedToken(t, u)
		storagetest.Agency(t, h.store, "JT", "市交通局")
		start := h.clock.Now().Add(48 * time.Hour)
		hr := h.register("(2026)沪0101行初92号", start)
		h.register("(2026)沪0101行初93号", start, "JT") // not the head's agency
		uid := "hearing-" + itoa(hr.ID) + "-agency-" + itoa(h.agency.ID) + "@duban"

		read := func() ([]byte, string, string) {
			t.Helper()
			b, err := cs.Feed(h.ctx, tok)
			if err != nil {
				t.Fatal(err)
			}
			cal := icstest.Parse(t, b)
			if n := len(cal.Events()); n != 1 {
				t.Fatalf("%d events, want the head's agency's one", n)
			}
			ev := icstest.Event(t, cal, uid)
			return b, icstest.Text(ev.Component, "SEQUENCE"), icstest.Text(ev.Component, "STATUS")
		}
		b, seq, status := read()
		if seq != "0" || status != "CONFIRMED" || !strings.Contains(string(b), "TRIGGER:-PT72H") || !strings.Contains(string(b), "LOCATION:市中级人民法院 第三法庭") {
			t.Errorf("as registered: SEQUENCE %s STATUS %s\n%s", seq, status, b)
		}

		h.clock.Advance(time.Hour)
		if _, err := h.hs.Reschedule(h.ctx, staffActor(h), hr.ID, start.Add(24*time.Hour)); err != nil {
			t.Fatal(err)
		}
		b2, seq, _ := read()
		cal := icstest.Parse(t, b2)
		if ev := icstest.Event(t, cal, uid); !icstest.Start(t, ev).Equal(start.Add(24*time.Hour)) || seq != "1" {
			t.Errorf("moved: start %v SEQUENCE %s", icstest.Start(t, ev), seq)
		}
		stamp := func(b []byte) string {
			return icstest.Text(icstest.Event(t, icstest.Parse(t, b), uid).Component, "LAST-MODIFIED")
		}
		if stamp(b) == stamp(b2) {
			t.Error("LAST-MODIFIED did not change with the move")
		}

		if _, err := h.hs.Cancel(h.ctx, staffActor(h), hr.ID); err != nil {
			t.Fatal(err)
		}
		if _, seq, status := read(); status != "CANCELLED" || seq != "2" {
			t.Errorf("cancelled: STATUS %s SEQUENCE %s", status, seq)
		}
	})
}

func TestCalendars_MintingRotatesAndRevokingEnds(t *testing.T) {
	storagetest.EachURL(t, func(t *testing.T, url string) {
		h := newHarness(t, url)
		cs := newCalendars(h)
		head := jobs.Actor{Person: h.head}
		first, err := cs.MintPerson(h.ctx, head, h.head.ID)
		if err != nil {
			t.Fatal(err)
		}
		second, err := cs.MintPerson(h.ctx, head, h.head.ID)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := cs.Feed(h.ctx, feedToken(t, first)); !errors.Is(err, duban.ErrNotFound) {
			t.Errorf("the rotated URL still works: %v", err)
		}
		if _, err := cs.Feed(h.ctx, feedToken(t, second)); err != nil {
			t.Errorf("the new URL: %v", err)
		}
		if err := cs.RevokePerson(h.ctx, head, h.head.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := cs.Feed(h.ctx, feedToken(t, second)); !errors.Is(err, duban.ErrNotFound) {
			t.Errorf("the revoked URL still works: %v", err)
		}
		if err := cs.RevokePerson(h.ctx, head, h.head.ID); err != nil {
			t.Errorf("revoking twice: %v", err)
		}

		agency, err := cs.MintAgency(h.ctx, staffActor(h), "GA")
		if err != nil {
			t.Fatal(err)
		}
		again, err := cs.MintAgency(h.ctx, staffActor(h), "GA")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := cs.Feed(h.ctx, feedToken(t, agency)); !errors.Is(err, duban.ErrNotFound) {
			t.Errorf("the agency's rotated URL still works: %v", err)
		}
		b, err := cs.Feed(h.ctx, feedToken(t, again))
		if err != nil || !strings.Contains(string(b), "X-WR-CALNAME:市公安局出庭应诉日程") {
			t.Errorf("agency feed: %v\n%s", err, b)
		}
		if err := cs.RevokeAgency(h.ctx, staffActor(h), "GA"); err != nil {
			t.Fatal(err)
		}
		if _, err := cs.Feed(h.ctx, feedToken(t, again)); !errors.Is(err, duban.ErrNotFound) {
			t.Errorf("the agency's revoked URL still works: %v", err)
		}

		// A deactivated person's feed ends with them.
		u, _ := cs.MintPerson(h.ctx, jobs.Actor{Person: h.sup}, h.sup.ID)
		h.sup.Active = false
		if err := h.store.UpdatePerson(h.ctx, h.sup); err != nil {
			t.Fatal(err)
		}
		if _, err := cs.Feed(h.ctx, feedToken(t, u)); !errors.Is(err, duban.ErrNotFound) {
			t.Errorf("a deactivated person's feed: %v", err)
		}
	})
}

func TestCalendars_WhoMayMint(t *testing.T) {
	storagetest.EachURL(t, func(t *testing.T, url string) {
		h := newHarness(t, url)
		cs := newCalendars(h)
		admin := jobs.Actor{Name: "admin"}
		tests := []struct {
			name  string
			mint  func() (string, error)
			allow bool
		}{
			{"a head their own", func() (string, error) { return cs.MintPerson(h.ctx, jobs.Actor{Person: h.head}, h.head.ID) }, true},
			{"a head someone else's", func() (string, error) { return cs.MintPerson(h.ctx, jobs.Actor{Person: h.head}, h.other.ID) }, false},
			{"staff a head's", func() (string, error) { return cs.MintPerson(h.ctx, staffActor(h), h.head.ID) }, false},
			{"an admin a head's", func() (string, error) { return cs.MintPerson(h.ctx, admin, h.head.ID) }, true},
			{"staff an agency's", func() (string, error) { return cs.MintAgency(h.ctx, staffActor(h), "GA") }, true},
			{"a supervisor an agency's", func() (string, error) { return cs.MintAgency(h.ctx, jobs.Actor{Person: h.sup}, "GA") }, false},
			{"a head their agency's", func() (string, error) { return cs.MintAgency(h.ctx, jobs.Actor{Person: h.head}, "GA") }, false},
		}
		for _, tt := range tests {
			_, err := tt.mint()
			if tt.allow && err != nil {
				t.Errorf("%s: %v", tt.name, err)
			}
			if !tt.allow && !errors.Is(err, duban.ErrForbidden) {
				t.Errorf("%s: err = %v, want forbidden", tt.name, err)
			}
		}
		if _, err := cs.MintAgency(h.ctx, staffActor(h), "NOPE"); !errors.Is(err, duban.ErrNotFound) {
			t.Errorf("unknown agency: %v", err)
		}
		if err := cs.RevokeAgency(h.ctx, jobs.Actor{Person: h.head}, "GA"); !errors.Is(err, duban.ErrForbidden) {
			t.Errorf("a head revokes an agency's feed: %v", err)
		}
	})
}

// TestOutbox_AnEscalationReachesASupervisorWithOnlyEmail: a supervisor
// whose only channel is e-mail gets both escalations — a head who has not
// answered a hearing, a complaint past its time limit — as mail, and the
// delivery log shows each sent by e-mail.
func TestOutbox_AnEscalationReachesASupervisorWithOnlyEmail(t *testing.T) {
	for _, tt := range []struct {
		name string
		// escalate brings about an escalation and returns what it is
		// about, as the mail's text names it.
		escalate func(h *harness) string
	}{
		{"a head who has not answered", func(h *harness) string {
			hr := h.register("(2026)沪0101行初95号", time.Date(2026, 12, 4, 9, 30, 0, 0, sh))
			h.clock.Set(time.Date(2026, 12, 3, 9, 30, 0, 0, sh))
			h.fire()
			return hr.CaseNumber
		}},
		{"a complaint past its time limit", func(h *harness) string {
			c := h.complaint(jobs.Intake{})
			c = h.act(c, h.sup, duban.ActionRequest{Action: duban.ActionAccept})
			c = h.act(c, h.sup, duban.ActionRequest{Action: duban.ActionAssign, Agency: "GA", WorkingDays: 1})
			h.clock.Set(c.DueAt.Add(10 * time.Hour)) // the next working morning
			if st, err := h.cs.CheckSLA(h.ctx); err != nil || st.Escalated != 1 {
				h.t.Fatalf("SLA check %+v %v, want one escalation", st, err)
			}
			h.drain()
			return duban.FormatTrackingCode(c.TrackingCode)
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			storagetest.EachURL(t, func(t *testing.T, url string) {
				h := newHarness(t, url)
				srv := h.withEmail()
				// Not the console, which reaches everyone: e-mail is the
				// supervisor's only channel.
				delete(h.senders, duban.ChannelConsole)
				h.sup.Email = "zhao@example.gov.cn"
				if err := h.store.UpdatePerson(h.ctx, h.sup); err != nil {
					t.Fatal(err)
				}
				ref := tt.escalate(h)

				var escalations []smtptest.Mail
				for _, m := range srv.Messages() {
					// h.sup reads English.
					if p := smtptest.Parse(t, m.Data); m.To == h.sup.Email && strings.HasPrefix(p.Subject, "Escalation: ") {
						escalations = append(escalations, p)
					}
				}
				if len(escalations) != 1 || !strings.Contains(string(escalations[0].Parts["text/plain"]), ref) {
					t.Errorf("%d escalations mailed to the supervisor, want one naming %s: %+v", len(escalations), ref, escalations)
				}
				ds, err := h.store.Deliveries(h.ctx, storage.DeliveryFilter{})
				if err != nil {
					t.Fatal(err)
				}
				var logged []string
				for _, d := range ds {
					if d.PersonID == h.sup.ID && d.Kind == duban.MsgEscalation {
						logged = append(logged, string(d.Channel)+" "+string(d.Status))
						if d.SentAt == nil {
							t.Errorf("delivery %d has no sent time", d.ID)
						}
					}
				}
				if len(logged) != 1 || logged[0] != "email sent" {
					t.Errorf("the supervisor's escalations in the delivery log: %q, want one sent by e-mail", logged)
				}
			})
		})
	}
}
