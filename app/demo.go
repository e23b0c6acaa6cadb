package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/configs"
	"github.com/cityhall/duban/jobs"
	"github.com/cityhall/duban/storage"
)

// DemoConfig turns a configuration into the demo's: the console channel
// on, no quiet hours, and offsets of minutes, so a newcomer watches a
// notice, reminders, an escalation and an outcome request go by within
// five minutes. Without DUBAN_ADMIN_TOKEN it makes an admin token and
// returns it as generated, for SeedDemo to print; an operator's own token
// is never printed (generated is "").
func DemoConfig(cfg configs.Config) (_ configs.Config, generated string, err error) {
	cfg.Console = true
	cfg.QuietHours = "off"
	cfg.ReminderOffsets = []time.Duration{2 * time.Minute, time.Minute}
	cfg.EscalateBefore = 90 * time.Second
	cfg.OutcomeAfter = 30 * time.Second
	cfg.ReconcileInterval = 30 * time.Second
	if cfg.AdminToken == "" {
		b := make([]byte, 32)
		_, _ = rand.Read(b)
		generated = "demo-" + hex.EncodeToString(b)
		cfg.AdminToken = configs.Secret(generated)
	}
	return cfg, generated, cfg.Validate()
}

// SeedDemo creates the demo's agencies and people when missing, and two
// fresh hearings three minutes ahead: one whose head has confirmed, one
// with co-defendants whose head has not answered (and is escalated). Its
// "demo seeded" line shows adminToken only when DemoConfig generated it
// (adminToken non-empty).
func SeedDemo(ctx context.Context, a *App, adminToken string) error {
	agencies := []duban.Agency{
		{Code: "DEMO-GA", Name: "市公安局"},
		{Code: "DEMO-SJ", Name: "市市场监督管理局"},
		{Code: "DEMO-GOV", Name: "市人民政府"},
	}
	ids := map[string]int64{}
	for _, ag := range agencies {
		got, err := a.Store.AgencyByCode(ctx, ag.Code)
		if errors.Is(err, duban.ErrNotFound) {
			got = &ag
			err = a.Store.CreateAgency(ctx, got)
		}
		if err != nil {
			return fmt.Errorf("demo: agency %s: %w", ag.Code, err)
		}
		ids[ag.Code] = got.ID
	}
	people, err := a.Store.People(ctx, storage.PeopleFilter{})
	if err != nil {
		return err
	}
	if len(people) == 0 {
		ag := func(code string) *int64 { id := ids[code]; return &id }
		for _, p := range []duban.Person{
			{Name: "张局长", AgencyID: ag("DEMO-GA"), Roles: duban.Roles{duban.RoleAgencyHead}, Locale: duban.LocaleZH},
			{Name: "李副局长", AgencyID: ag("DEMO-GA"), Roles: duban.Roles{duban.RoleDeputy}, Locale: duban.LocaleZH},
			{Name: "Director Wang", AgencyID: ag("DEMO-SJ"), Roles: duban.Roles{duban.RoleAgencyHead}, Locale: duban.LocaleEN},
			{Name: "陈市长", AgencyID: ag("DEMO-GOV"), Roles: duban.Roles{duban.RoleAgencyHead}, Locale: duban.LocaleZH},
			{Name: "法制办小刘", Roles: duban.Roles{duban.RoleStaff}, Locale: duban.LocaleZH},
			{Name: "赵监督", Roles: duban.Roles{duban.RoleSupervisor}, Locale: duban.LocaleZH},
		} {
			if err := a.Store.CreatePerson(ctx, &p); err != nil {
				return fmt.Errorf("demo: person: %w", err)
			}
		}
	}
	now := a.Clock.Now()
	start := now.Add(3 * time.Minute).Truncate(time.Second)
	stamp := now.In(a.Cfg.Location).Format("0102-1504")
	sys := jobs.Actor{Name: "demo"}
	h1, _, err := a.Hearings.Register(ctx, sys, duban.Notice{CaseNumber: "(2026)演示行初" + stamp + "-1号", Court: "市中级人民法院",
		Courtroom: "第三法庭", Agencies: []string{"DEMO-SJ"}, StartsAt: start, Plaintiff: "某餐饮有限公司", Cause: "行政处罚（食品安全）"})
	if err != nil {
		return fmt.Errorf("demo: hearing: %w", err)
	}
	// The head of DEMO-SJ has confirmed: nobody answers for a head.
	heads, err := a.Store.HeadsOf(ctx, h1.Agencies[0].AgencyID)
	if err != nil || len(heads) == 0 {
		return fmt.Errorf("demo: head of DEMO-SJ: %d found, %v", len(heads), err)
	}
	if _, _, err := a.Hearings.Answer(ctx, jobs.Actor{Person: &heads[0]}, jobs.AnswerRequest{HearingAgencyID: h1.Agencies[0].ID, Answer: duban.AnswerConfirmed}); err != nil {
		return fmt.Errorf("demo: answer: %w", err)
	}
	if _, _, err := a.Hearings.Register(ctx, sys, duban.Notice{CaseNumber: "(2026)演示行初" + stamp + "-2号", Court: "市中级人民法院",
		Courtroom: "第一法庭", Agencies: []string{"DEMO-GA", "DEMO-GOV"}, StartsAt: start, Plaintiff: "王某",
		Cause: "行政强制及行政复议（复议维持，共同被告）"}); err != nil {
		return fmt.Errorf("demo: hearing: %w", err)
	}
	if err := seedDemoComplaints(ctx, a); err != nil {
		return err
	}
	webLogin, webPassword, err := seedDemoSignIn(ctx, a)
	if err != nil {
		return err
	}
	attrs := []any{slog.Time("hearings_start", start), slog.String("api", "http://"+a.Cfg.HTTPAddr),
		slog.String("web", "http://"+a.Cfg.HTTPAddr+"/"), slog.String("web_login", webLogin), slog.String("web_password", webPassword)}
	if adminToken != "" {
		attrs = append(attrs, slog.String("admin_token", adminToken))
	}
	a.Log.Info("demo seeded: watch the console", attrs...)
	return nil
}

// seedDemoComplaints puts three complaints in the supervision queue: one
// from the hotline bot, one hotline call, one media report, and moves the
// first along so the console shows the reporter being told.
func seedDemoComplaints(ctx context.Context, a *App) error {
	sys := jobs.Actor{Name: "demo"}
	chat := int64(900001)
	lat, lon := 31.2304, 121.4737
	c1, _, err := a.Complaints.Create(ctx, sys, jobs.Intake{Source: duban.SourceTelegram, Category: string(duban.CategoryIllegalFine),
		Agency: "DEMO-SJ", Description: "市场监管执法人员检查时未出示证件，当场开具500元罚单且不给收据。", Location: "人民路菜市场",
		Latitude: &lat, Longitude: &lon, ReporterChatID: &chat, ReporterLocale: duban.LocaleZH})
	if err != nil {
		return fmt.Errorf("demo: complaint: %w", err)
	}
	if _, _, err := a.Complaints.Create(ctx, sys, jobs.Intake{Source: duban.SourceHotlineCall, Category: string(duban.CategoryInaction),
		Description: "来电反映：多次向区城管举报占道经营无人处理。", ReporterName: "王先生", ReporterPhone: "13800000000"}); err != nil {
		return fmt.Errorf("demo: complaint: %w", err)
	}
	if _, _, err := a.Complaints.Create(ctx, sys, jobs.Intake{Source: duban.SourceMedia, Category: string(duban.CategoryEfficiency),
		Description: "晚报报道：某窗口办事群众排队三小时。", Outlet: "城市晚报", Headline: "办事窗口排长队", Link: "https://example.org/news/1"}); err != nil {
		return fmt.Errorf("demo: complaint: %w", err)
	}
	if _, err := a.Complaints.Act(ctx, sys, c1.ID, duban.ActionRequest{Action: duban.ActionAccept}); err != nil {
		return fmt.Errorf("demo: accept: %w", err)
	}
	if _, err := a.Complaints.Act(ctx, sys, c1.ID, duban.ActionRequest{Action: duban.ActionAssign, Agency: "DEMO-SJ"}); err != nil {
		return fmt.Errorf("demo: assign: %w", err)
	}
	return nil
}

// demoWebLogin is the demo supervisor's login for the web pages.
const demoWebLogin = "zhao"

// seedDemoSignIn gives the demo's first supervisor a web login and a
// fresh random password on every start, to print: a demo's password is
// only ever the one in the last "demo seeded" line.
func seedDemoSignIn(ctx context.Context, a *App) (login, password string, err error) {
	sups, err := a.Store.PeopleWithAnyRole(ctx, duban.RoleSupervisor)
	if err != nil || len(sups) == 0 {
		return "", "", fmt.Errorf("demo: supervisor: %d found, %v", len(sups), err)
	}
	sup := sups[0]
	login = sup.Login
	if login == "" {
		login = demoWebLogin
		if err := jobs.SetLogin(ctx, a.Store, jobs.Actor{Name: "demo"}, sup.ID, login); err != nil {
			return "", "", fmt.Errorf("demo: login: %w", err)
		}
	}
	b := make([]byte, 9)
	_, _ = rand.Read(b)
	password = "demo-" + hex.EncodeToString(b)
	if err := jobs.SetPassword(ctx, a.Store, jobs.Actor{Name: "demo"}, sup.ID, password); err != nil {
		return "", "", fmt.Errorf("demo: password: %w", err)
	}
	return login, password, nil
}
