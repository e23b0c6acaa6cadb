package jobs_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/robfig/cron/v3"
	"github.com/xuri/excelize/v2"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/i18n"
	"github.com/cityhall/duban/internal/smtptest"
	"github.com/cityhall/duban/jobs"
	"github.com/cityhall/duban/reports"
	"github.com/cityhall/duban/storage/storagetest"
)

const xlsxType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

// TestBulletin_MailedWithTheWorkbookAndPostedOnce: the bulletin of last
// week goes by e-mail to each supervisor and member of the office with an
// address, in their language, as HTML with the tables attached as a
// workbook Excel opens, and its summary to the supervision channel; sent
// again, nothing goes twice. Agencies' people may not send it.
func TestBulletin_MailedWithTheWorkbookAndPostedOnce(t *testing.T) {
	storagetest.EachURL(t, func(t *testing.T, url string) {
		h := newHarness(t, url)
		srv := h.withEmail()
		h.senders[duban.ChannelSlack] = h.rec.sender(duban.ChannelSlack, func(a duban.Address) bool { return a.SlackUserID != "" })
		sup := storagetest.Person(t, h.store, duban.Person{Name: "周监督", Roles: duban.Roles{duban.RoleSupervisor}, Email: "zhou@example.gov.cn"})
		staff := storagetest.Person(t, h.store, duban.Person{Name: "Wu", Roles: duban.Roles{duban.RoleStaff}, Email: "wu@example.gov.cn", Locale: duban.LocaleEN})
		storagetest.Person(t, h.store, duban.Person{Name: "无邮箱", Roles: duban.Roles{duban.RoleSupervisor}})
		ga, _ := h.store.AgencyByCode(h.ctx, "GA")
		head := storagetest.Person(t, h.store, duban.Person{Name: "局长", AgencyID: &ga.ID, Roles: duban.Roles{duban.RoleAgencyHead}, Email: "head@example.gov.cn"})

		h.clock.Set(time.Date(2026, 11, 25, 10, 0, 0, 0, sh)) // last week's Wednesday
		h.complaint(jobs.Intake{Source: duban.SourceHotlineCall, Category: string(duban.CategoryIllegalFee), Description: "多收费", ReporterPhone: "13500000000", ReporterName: "孙某"})
		h.drain() // the complaint's own notices
		before := len(srv.Messages())
		h.clock.Set(time.Date(2026, 11, 30, 9, 0, 0, 0, sh)) // Monday, as scheduled
		t9n := i18n.MustNew()
		bs := jobs.NewBulletins(h.store, h.outbox, reports.New(h.store, sh, h.clock, t9n),
			jobs.BulletinsConfig{T: t9n, Loc: sh, Channel: "C-SUPERVISION", Clock: h.clock})
		rg := bs.Covered(h.clock.Now())

		if _, err := bs.Send(h.ctx, jobs.Actor{Person: head}, rg); !errors.Is(err, duban.ErrForbidden) {
			t.Fatalf("an agency head sends the bulletin: %v", err)
		}
		sent, err := bs.Send(h.ctx, jobs.Actor{Person: sup}, rg)
		if err != nil {
			t.Fatal(err)
		}
		h.drain()
		if sent.From != "2026-11-23" || sent.To != "2026-11-29" || len(sent.Mailed) != 2 || !sent.Posted {
			t.Fatalf("sent %+v; want last week, mailed to the two with an address, posted", sent)
		}
		mails := srv.Messages()[before:]
		if len(mails) != 2 {
			t.Fatalf("%d mails, want 2", len(mails))
		}
		for _, m := range mails {
			p := smtptest.Parse(t, m.Data)
			want := map[string]string{sup.Email: "行政执法监督工作通报", staff.Email: "Bulletin on administrative"}[m.To]
			if want == "" || !strings.Contains(p.Subject, want) || !strings.Contains(p.Subject, "2026-11-23") {
				t.Errorf("mail to %s: subject %q", m.To, p.Subject)
			}
			if !strings.Contains(string(p.Parts["text/html"]), "<table") {
				t.Errorf("mail to %s: no table in the HTML part", m.To)
			}
			wb, err := excelize.OpenReader(bytes.NewReader(p.Parts[xlsxType]))
			if err != nil {
				t.Fatalf("mail to %s: the attachment %q is no workbook: %v", m.To, p.Names[xlsxType], err)
			}
			rows, _ := wb.GetRows("by_category")
			found := false
			for _, r := range rows {
				if len(r) == 2 && r[1] == "1" {
					found = true
				}
			}
			if !found {
				t.Errorf("mail to %s: by_category %q lacks last week's complaint", m.To, rows)
			}
			wb.Close()
		}
		posts := 0
		for _, m := range h.rec.all() {
			if m.Channel == duban.ChannelSlack && m.Msg.Kind == duban.MsgBulletin {
				posts++
				if !strings.Contains(m.Msg.Text, "本期受理投诉 1 件") {
					t.Errorf("the channel's summary: %q", m.Msg.Text)
				}
			}
		}
		if posts != 1 {
			t.Errorf("%d posts to the supervision channel, want 1", posts)
		}

		// On demand again, or the schedule after a restart: nothing twice.
		if _, err := bs.Send(h.ctx, jobs.Actor{Person: staff}, rg); err != nil {
			t.Fatal(err)
		}
		h.drain()
		if n := len(srv.Messages()) - before; n != 2 {
			t.Errorf("%d mails after sending again, want still 2", n)
		}
	})
}

// The bulletin's schedule is a cron line in local time: the latest moment
// passed is enqueued (once: its id names it) for an hour after it, so a
// restart sends what was due, and a first start days later does not.
func TestPeriodicCron_TheLatestMomentPassed(t *testing.T) {
	spec, err := cron.ParseStandard("0 9 * * 1")
	if err != nil {
		t.Fatal(err)
	}
	p := jobs.PeriodicCron(jobs.TypeBulletin, spec, sh, jobs.NewBulletinTask)
	for _, tt := range []struct{ now, want time.Time }{
		{time.Date(2026, 11, 30, 9, 0, 30, 0, sh), time.Date(2026, 11, 30, 9, 0, 0, 0, sh)},       // just after Monday 09:00
		{time.Date(2026, 11, 30, 9, 59, 0, 0, sh), time.Date(2026, 11, 30, 9, 0, 0, 0, sh)},       // restarted within the hour
		{time.Date(2026, 11, 30, 8, 59, 0, 0, sh), time.Time{}},                                   // just before: last week's is long gone
		{time.Date(2026, 12, 2, 15, 0, 0, 0, sh), time.Time{}},                                    // first started on Wednesday
		{time.Date(2026, 11, 30, 1, 30, 0, 0, time.UTC), time.Date(2026, 11, 30, 9, 0, 0, 0, sh)}, // read in Shanghai
	} {
		if got := p.Start(tt.now); !got.Equal(tt.want) {
			t.Errorf("at %s: latest moment %s, want %s", tt.now, got, tt.want)
		}
	}
	if id := p.Task(time.Date(2026, 11, 30, 9, 0, 0, 0, sh)).Type(); id != jobs.TypeBulletin {
		t.Errorf("task type %s", id)
	}
}

// TestBulletin_TheScheduledTaskSendsLastWeeks: the task the schedule
// enqueues for Monday 09:00 sends the bulletin of the week before, as
// duban; a malformed payload is not retried.
func TestBulletin_TheScheduledTaskSendsLastWeeks(t *testing.T) {
	h := newHarness(t, storagetest.SQLiteURL(t))
	srv := h.withEmail()
	storagetest.Person(t, h.store, duban.Person{Name: "周监督", Roles: duban.Roles{duban.RoleSupervisor}, Email: "zhou@example.gov.cn"})
	t9n := i18n.MustNew()
	bs := jobs.NewBulletins(h.store, h.outbox, reports.New(h.store, sh, h.clock, t9n), jobs.BulletinsConfig{T: t9n, Loc: sh, Clock: h.clock})
	if err := bs.HandleBulletin(h.ctx, jobs.NewBulletinTask(time.Date(2026, 11, 30, 9, 0, 0, 0, sh))); err != nil {
		t.Fatal(err)
	}
	h.drain()
	var got []string
	for _, m := range srv.Messages() {
		got = append(got, smtptest.Parse(t, m.Data).Subject)
	}
	if len(got) != 1 || !strings.Contains(got[0], "2026-11-23 – 2026-11-29") {
		t.Errorf("mails %q; want last week's bulletin", got)
	}
	if err := bs.HandleBulletin(h.ctx, asynq.NewTask(jobs.TypeBulletin, []byte("{}"))); !errors.Is(err, asynq.SkipRetry) {
		t.Errorf("a payload without its moment: %v, want SkipRetry", err)
	}
}
