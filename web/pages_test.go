package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/jobs"
	"github.com/cityhall/duban/storage"
	"github.com/cityhall/duban/storage/storagetest"
)

var rowLink = regexp.MustCompile(`href="/complaints/(\d+)" class="code"`)

// rows lists the complaint ids of a queue page, in order.
func rows(p page) []string {
	var out []string
	for _, m := range rowLink.FindAllStringSubmatch(p.body, -1) {
		out = append(out, m[1])
	}
	return out
}

func TestQueue_FiltersSortsByTimeLimitAndShowsWorkingDaysLeft(t *testing.T) {
	storagetest.EachURL(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL)
		soon := e.assigned("限期短的", 1)
		later := e.assigned("限期长的", 10)
		fresh := e.complaint("刚收到的，含“关键词”")
		b := e.browser().signIn("sup")
		all := b.get("/complaints").want(t, http.StatusOK, "剩余 1 个工作日", "剩余 10 个工作日")
		want := []string{fmt.Sprint(soon.ID), fmt.Sprint(later.ID), fmt.Sprint(fresh.ID)}
		if got := rows(all); strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("queue order %v, want nearest limit first %v", got, want)
		}
		for _, tt := range []struct {
			query string
			want  []int64
		}{
			{"status=received", []int64{fresh.ID}},
			{"agency=GA", []int64{soon.ID, later.ID}},
			{"agency=SJ", nil},
			{"category=illegal_fine&source=hotline_call", []int64{soon.ID, later.ID, fresh.ID}},
			{"source=media", nil},
			{"q=" + url.QueryEscape("关键词"), []int64{fresh.ID}},
			{fmt.Sprintf("handler=%d", e.handler.ID), []int64{soon.ID, later.ID}},
			{"overdue=true", nil},
		} {
			var ws []string
			for _, id := range tt.want {
				ws = append(ws, fmt.Sprint(id))
			}
			if got := rows(b.get("/complaints?"+tt.query).want(t, http.StatusOK)); strings.Join(got, ",") != strings.Join(ws, ",") {
				t.Errorf("%s: %v, want %v", tt.query, got, ws)
			}
		}
		b.get("/complaints?status=nonsense").want(t, http.StatusUnprocessableEntity)
		// Two working days on, the short limit is past: red, and counted.
		e.clock.Set(start.AddDate(0, 0, 3))
		over := b.get("/complaints?overdue=true").want(t, http.StatusOK, `class="overdue"`, "已超期")
		if got := rows(over); len(got) != 1 || got[0] != fmt.Sprint(soon.ID) {
			t.Errorf("overdue: %v, want only %d", got, soon.ID)
		}
	})
}

func TestQueue_AnAgencySeesOnlyWhatWasAssignedToItAndPagesWithCursors(t *testing.T) {
	e := newEnv(t, storagetest.SQLiteURL(t))
	mine := e.assigned("交办给公安局的", 5)
	e.complaint("尚未交办的")
	for i := range 51 {
		e.complaint(fmt.Sprintf("第%d件", i))
	}
	got := rows(e.browser().signIn("handler").get("/complaints").want(t, http.StatusOK))
	if len(got) != 1 || got[0] != fmt.Sprint(mine.ID) {
		t.Errorf("the handler's queue is %v, want only %d", got, mine.ID)
	}
	// 53 complaints: a page of 50, then one of 3, by the Next link.
	b := e.browser().signIn("staff")
	first := b.get("/complaints").want(t, http.StatusOK, `rel="next"`)
	next := regexp.MustCompile(`href="([^"]+)" rel="next"`).FindStringSubmatch(first.body)
	second := b.get(strings.ReplaceAll(next[1], "&amp;", "&")).want(t, http.StatusOK)
	if n1, n2 := len(rows(first)), len(rows(second)); n1 != 50 || n2 != 3 || strings.Contains(second.body, `rel="next"`) {
		t.Errorf("pages of %d and %d rows, want 50 and 3 and no third", n1, n2)
	}
}

func TestComplaint_ReporterOnlyForTheOfficeAndAudited(t *testing.T) {
	storagetest.EachURL(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL)
		c := e.assigned("乱罚款", 5)
		p := path("/complaints/%d", c.ID)
		handlerPage := e.browser().signIn("handler").get(p).want(t, http.StatusOK, "乱罚款")
		if strings.Contains(handlerPage.body, "13800001111") || strings.Contains(handlerPage.body, "王先生") {
			t.Error("the handler's page shows the reporter")
		}
		e.browser().signIn("sup").get(p).want(t, http.StatusOK, "13800001111", "王先生")
		audit, _, err := e.app.Store.AuditPage(e.ctx, 10, "")
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, a := range audit {
			found = found || (a.Action == "complaint.read_identity" && a.Actor == fmt.Sprintf("person:%d", e.sup.ID))
		}
		if !found {
			t.Error("the supervisor's read of the reporter is not audited")
		}
		// An agency that never had it reads nothing: the same as missing.
		other := e.person(duban.Person{Name: "孙局长", AgencyID: &e.sj.ID, Roles: duban.Roles{duban.RoleAgencyHead}}, "sjhead")
		e.browser().signIn(other.Login).get(p).want(t, http.StatusNotFound)
	})
}

func TestComplaint_ActionsFollowTheRuleBookAndTheState(t *testing.T) {
	storagetest.EachURL(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL)
		c := e.complaint("乱收费")
		from := path("/complaints/%d", c.ID)
		act := path("/complaints/%d/actions", c.ID)
		sup := e.browser().signIn("sup")
		page := sup.get(from).want(t, http.StatusOK, `id="act-accept"`, `id="act-reject"`)
		if strings.Contains(page.body, `id="act-close"`) {
			t.Error("close is offered to a received complaint")
		}
		// Staff may not accept: the rule book refuses, nothing changes.
		staff := e.browser().signIn("staff")
		if strings.Contains(staff.get(from).body, `id="act-accept"`) {
			t.Error("staff are offered accept")
		}
		staff.post(from, act, url.Values{"action": {"accept"}}).want(t, http.StatusForbidden)
		sup.post(from, act, url.Values{"action": {"reject"}}).want(t, http.StatusUnprocessableEntity, "reason")
		sup.post(from, act, url.Values{"action": {"accept"}}).want(t, http.StatusSeeOther)
		sup.get(from).want(t, http.StatusOK, "已受理。")
		sup.post(from, act, url.Values{"action": {"accept"}}).want(t, http.StatusConflict, "现在可以")
		sup.post(from, act, url.Values{"action": {"assign"}, "agency": {"GA"}, "working_days": {"3"}}).want(t, http.StatusSeeOther)
		e.browser().signIn("handler").post(from, act, url.Values{"action": {"reply"}, "text": {"已退还"}}).want(t, http.StatusSeeOther)
		got, err := e.app.Store.ComplaintByID(e.ctx, c.ID)
		if err != nil || got.Status != duban.ComplaintReplied {
			t.Fatalf("complaint %v, %v; want replied", got, err)
		}
		sup.get(from).want(t, http.StatusOK, "已退还", "钱办理")
	})
}

func TestFiles_FetchedFromTelegramOnceTypeCheckedAndNosniff(t *testing.T) {
	e := newEnv(t, storagetest.SQLiteURL(t))
	tg := newFakeFiles(t)
	h := e.webWithFiles(tg.files())
	c := e.complaint("附图")
	for _, a := range []storage.Attachment{{FileID: "photo-1", Kind: "photo"}, {FileID: "doc-1", Kind: "document"}} {
		a.ComplaintID = c.ID
		if err := e.app.Store.AddAttachment(e.ctx, &a); err != nil {
			t.Fatal(err)
		}
	}
	b := e.browser()
	b.e = &env{t: t, srv: h, ctx: e.ctx}
	b.origin = h.URL
	b.signIn("sup")
	for range 2 {
		p := b.get(path("/complaints/%d/files/1", c.ID)).want(t, http.StatusOK)
		if p.header.Get("Content-Type") != "image/png" || p.header.Get("X-Content-Type-Options") != "nosniff" || p.header.Get("Content-Disposition") != "" {
			t.Errorf("photo served as %q nosniff=%q disposition=%q", p.header.Get("Content-Type"), p.header.Get("X-Content-Type-Options"), p.header.Get("Content-Disposition"))
		}
	}
	if n := tg.gets(); n != 1 {
		t.Errorf("getFile called %d times for one file opened twice, want 1 (cached)", n)
	}
	// A document claiming to be a picture is downloaded as bytes.
	p := b.get(path("/complaints/%d/files/2", c.ID)).want(t, http.StatusOK)
	if p.header.Get("Content-Type") != "application/octet-stream" || !strings.HasPrefix(p.header.Get("Content-Disposition"), "attachment") {
		t.Errorf("document served as %q, %q", p.header.Get("Content-Type"), p.header.Get("Content-Disposition"))
	}
	b.get(path("/complaints/%d/files/3", c.ID)).want(t, http.StatusNotFound)
	if strings.Contains(tg.log(), "TOKEN") {
		t.Error("the bot token leaked")
	}
	e.browser().signIn("handler").get(path("/complaints/%d/files/1", c.ID)).want(t, http.StatusNotFound)
}

func TestHearings_RegisterShowRemindersAndRecordTheOutcome(t *testing.T) {
	storagetest.EachURL(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL)
		staff := e.browser().signIn("staff")
		startsAt := start.Add(72 * time.Hour).In(shanghai).Format("2006-01-02T15:04")
		form := url.Values{"case_number": {"(2026)沪0101行初9号"}, "court": {"黄浦区人民法院"}, "courtroom": {"第三法庭"},
			"agencies": {"GA;SJ"}, "starts_at": {startsAt}, "plaintiff": {"王某"}, "cause": {"行政处罚"}}
		bad := url.Values{}
		for k, v := range form {
			bad[k] = v
		}
		bad.Set("agencies", "NOPE")
		staff.post("/hearings", "/hearings", bad).want(t, http.StatusUnprocessableEntity, "NOPE", `value="(2026)沪0101行初9号"`)
		p := staff.post("/hearings", "/hearings", form).want(t, http.StatusSeeOther)
		loc := p.header.Get("Location")
		staff.get(loc).want(t, http.StatusOK, "(2026)沪0101行初9号", "市公安局", "市市场监督管理局", "未答复", "出庭提醒", "待发")
		staff.get("/hearings").want(t, http.StatusOK, "(2026)沪0101行初9号", "当周")
		// A supervisor reads but registers nothing; the head of GA sees it.
		sup := e.browser().signIn("sup")
		if strings.Contains(sup.get("/hearings").body, `id="register"`) {
			t.Error("a supervisor is offered the register form")
		}
		sup.post("/hearings", "/hearings", form).want(t, http.StatusForbidden)
		e.browser().signIn("head").get(loc).want(t, http.StatusOK, "(2026)沪0101行初9号")
		staff.post(loc, loc+"/outcome", url.Values{"agency": {"GA"}, "attendance": {"head"}}).want(t, http.StatusConflict, "not started")
		e.clock.Set(start.Add(76 * time.Hour))
		staff.post(loc, loc+"/outcome", url.Values{"agency": {"GA"}, "attendance": {"head"}}).want(t, http.StatusSeeOther)
		staff.get(loc).want(t, http.StatusOK, "已记录出庭情况", "负责人")
		var id int64
		fmt.Sscanf(strings.TrimPrefix(loc, "/hearings/"), "%d", &id)
		h, err := e.app.Store.HearingByID(e.ctx, id)
		if err != nil || h.Agencies[0].Outcome == nil || *h.Agencies[0].Outcome != duban.AttendanceHead {
			t.Errorf("outcome not recorded: %+v %v", h, err)
		}
	})
}

func TestHearings_TheHeadAnswersForTheirAgencyTheOfficeRecordsByPhone(t *testing.T) {
	e := newEnv(t, storagetest.SQLiteURL(t))
	h, _, err := e.app.Hearings.Register(e.ctx, jobs.Actor{Name: "test"}, duban.Notice{CaseNumber: "(2026)沪0101行初5号", Court: "黄浦区人民法院",
		Courtroom: "第一法庭", Agencies: []string{"GA", "SJ"}, StartsAt: start.Add(48 * time.Hour), Plaintiff: "王某", Cause: "行政处罚"})
	if err != nil {
		t.Fatal(err)
	}
	loc := path("/hearings/%d", h.ID)
	ga, sj := h.Agencies[0], h.Agencies[1]
	head := e.browser().signIn("head")
	page := head.get(loc).want(t, http.StatusOK, `id="answer-GA"`)
	if strings.Contains(page.body, `id="answer-SJ"`) {
		t.Error("the head of GA is offered to answer for SJ")
	}
	head.post(loc, loc+"/answer", url.Values{"ha": {fmt.Sprint(sj.ID)}, "answer": {"confirmed"}}).want(t, http.StatusForbidden)
	head.post(loc, loc+"/answer", url.Values{"ha": {fmt.Sprint(ga.ID)}, "answer": {"delegated"}}).want(t, http.StatusUnprocessableEntity, "delegate.name")
	head.post(loc, loc+"/answer", url.Values{"ha": {fmt.Sprint(ga.ID)}, "answer": {"delegated"},
		"delegate_name": {"李副局长"}, "delegate_reason": {"参加市政府常务会议"}}).want(t, http.StatusSeeOther)
	staff := e.browser().signIn("staff")
	staff.post(loc, loc+"/answer", url.Values{"ha": {fmt.Sprint(sj.ID)}, "answer": {"confirmed"}}).want(t, http.StatusSeeOther)
	staff.get(loc).want(t, http.StatusOK, "李副局长", "参加市政府常务会议", "已确认出庭")
	e.browser().signIn("sup").post(loc, loc+"/answer", url.Values{"ha": {fmt.Sprint(sj.ID)}, "answer": {"confirmed"}}).want(t, http.StatusForbidden)
}

func TestComplaint_TheTimelineShowsAReplyOnPaperAsRecordedByTheOffice(t *testing.T) {
	storagetest.EachURL(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL)
		for _, tt := range []struct {
			name    string
			by      string
			shows   []string
			notShow []string
		}{
			{"the agency replies itself", "handler",
				[]string{"<strong>答复</strong> · 钱办理", "已退还"}, []string{"书面答复", "代为录入"}},
			{"the office records the agency's letter", "staff",
				[]string{"<strong>市公安局书面答复（纸质来函）</strong> · 法制办小刘代为录入", "已退还"}, []string{"<strong>答复</strong>"}},
		} {
			t.Run(tt.name, func(t *testing.T) {
				c := e.assigned("乱收费", 5)
				from, act := path("/complaints/%d", c.ID), path("/complaints/%d/actions", c.ID)
				e.browser().signIn(tt.by).post(from, act, url.Values{"action": {"reply"}, "text": {"已退还"}}).want(t, http.StatusSeeOther)
				// The office and the agency read it the same way.
				for _, reader := range []string{"sup", "handler"} {
					p := e.browser().signIn(reader).get(from).want(t, http.StatusOK, tt.shows...)
					for _, s := range tt.notShow {
						if strings.Contains(p.body, s) {
							t.Errorf("%s's timeline shows %q", reader, s)
						}
					}
				}
			})
		}
	})
}

func TestQueue_ReportedAgencyFiltersByWhatTheReporterNamed(t *testing.T) {
	e := newEnv(t, storagetest.SQLiteURL(t))
	sys := jobs.Actor{Name: "test"}
	named := func(description, agency string) *duban.Complaint {
		c, _, err := e.app.Complaints.Create(e.ctx, sys, jobs.Intake{Source: duban.SourceHotlineCall,
			Category: string(duban.CategoryIllegalFine), Description: description, Agency: agency, ReporterName: "王先生", ReporterPhone: "13800001111"})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	namedGA := named("报称公安局", "GA")
	namedSJ := named("报称市场监管局，交办公安局", "SJ")
	for _, req := range []duban.ActionRequest{{Action: duban.ActionAccept}, {Action: duban.ActionAssign, Agency: "GA", WorkingDays: 5}} {
		if _, err := e.app.Complaints.Act(e.ctx, sys, namedSJ.ID, req); err != nil {
			t.Fatal(err)
		}
	}
	e.complaint("未说明单位")
	for _, tt := range []struct {
		login, query string
		want         []int64
	}{
		{"sup", "reported_agency=GA", []int64{namedGA.ID}},
		{"sup", "reported_agency=SJ", []int64{namedSJ.ID}},
		{"sup", "reported_agency=SJ&agency=GA", []int64{namedSJ.ID}},
		// The name is a claim: GA's handler reads only what GA was given.
		{"handler", "reported_agency=GA", nil},
		{"handler", "reported_agency=SJ", []int64{namedSJ.ID}},
	} {
		var ws []string
		for _, id := range tt.want {
			ws = append(ws, fmt.Sprint(id))
		}
		p := e.browser().signIn(tt.login).get("/complaints?"+tt.query).want(t, http.StatusOK)
		if got := rows(p); strings.Join(got, ",") != strings.Join(ws, ",") {
			t.Errorf("%s, %s: %v, want %v", tt.login, tt.query, got, ws)
		}
	}
	e.browser().signIn("sup").get("/complaints?reported_agency=NOPE").want(t, http.StatusUnprocessableEntity)
}
