package web_test

import (
	"bytes"
	"html"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/jobs"
	"github.com/cityhall/duban/storage"
	"github.com/cityhall/duban/storage/storagetest"
)

// postFile sends a multipart form with one file, as the import form of
// the page at from does, with that page's CSRF token.
func (b *browser) postFile(from, path, field, name string, content []byte) page {
	b.e.t.Helper()
	m := csrfField.FindStringSubmatch(b.get(from).body)
	if m == nil {
		b.e.t.Fatalf("no CSRF field on %s", from)
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	if err := mw.WriteField("csrf_token", html.UnescapeString(m[1])); err != nil {
		b.e.t.Fatal(err)
	}
	fw, err := mw.CreateFormFile(field, name)
	if err != nil {
		b.e.t.Fatal(err)
	}
	fw.Write(content)
	mw.Close()
	req, _ := http.NewRequest("POST", b.e.srv.URL+path, &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Origin", b.origin)
	return b.do(req)
}

// audited lists the audit log's entries for target, oldest first, as
// "actor action detail".
func (e *env) audited(target string) []string {
	e.t.Helper()
	log, err := e.app.Store.AuditLog(e.ctx, 1000)
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for i := len(log) - 1; i >= 0; i-- {
		if log[i].Target == target {
			out = append(out, log[i].Actor+" "+log[i].Action+" "+log[i].Detail)
		}
	}
	return out
}

// stepsOf counts a hearing's reminders by status.
func (e *env) stepsOf(id int64) ([]duban.Reminder, map[duban.ReminderStatus]int) {
	e.t.Helper()
	rs, err := e.app.Store.RemindersOfHearing(e.ctx, id)
	if err != nil {
		e.t.Fatal(err)
	}
	n := map[duban.ReminderStatus]int{}
	for _, r := range rs {
		n[r.Status]++
	}
	return rs, n
}

func TestHearings_MoveAndCancelReplanRemindersAndAreAudited(t *testing.T) {
	storagetest.EachURL(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL)
		oldStart := start.Add(72 * time.Hour)
		h, _, err := e.app.Hearings.Register(e.ctx, jobs.Actor{Name: "test"}, duban.Notice{CaseNumber: "(2026)沪0101行初11号", Court: "黄浦区人民法院",
			Courtroom: "第一法庭", Agencies: []string{"GA"}, StartsAt: oldStart, Plaintiff: "王某", Cause: "行政处罚"})
		if err != nil {
			t.Fatal(err)
		}
		loc := path("/hearings/%d", h.ID)
		target := path("hearing:%d", h.ID)
		before, counts := e.stepsOf(h.ID)
		if counts[duban.ReminderPending] == 0 {
			t.Fatalf("no pending reminders after registering: %+v", before)
		}
		newStart := start.Add(120 * time.Hour)
		move := url.Values{"starts_at": {newStart.In(shanghai).Format("2006-01-02T15:04")}, "courtroom": {"第五法庭"}}

		// Neither a supervisor nor the head or handler of the agency may
		// move or cancel: refused, and nothing changes.
		for _, login := range []string{"sup", "head", "handler"} {
			b := e.browser().signIn(login)
			b.post(loc, loc+"/move", move).want(t, http.StatusForbidden)
			b.post(loc, loc+"/cancel", nil).want(t, http.StatusForbidden)
		}
		got, err := e.app.Store.HearingByID(e.ctx, h.ID)
		if err != nil || !got.StartsAt.Equal(oldStart) || got.Courtroom != "第一法庭" || got.Status != duban.HearingScheduled {
			t.Fatalf("refused changes changed the hearing: %+v %v", got, err)
		}
		if after, _ := e.stepsOf(h.ID); len(after) != len(before) {
			t.Errorf("refused changes changed the reminders: %d, were %d", len(after), len(before))
		}
		if a := e.audited(target); len(a) != 1 || !strings.Contains(a[0], "hearing.register") {
			t.Errorf("audit after refusals: %q, want the register entry only", a)
		}

		// The office moves it: the new time and courtroom, every step
		// planned for the old time cancelled, new ones for the new time.
		staff := e.browser().signIn("staff")
		staff.post(loc, loc+"/move", move).want(t, http.StatusSeeOther)
		staff.get(loc).want(t, http.StatusOK, "已变更开庭时间或法庭，并已通知。", "第五法庭", newStart.In(shanghai).Format("15:04"))
		got, _ = e.app.Store.HearingByID(e.ctx, h.ID)
		if !got.StartsAt.Equal(newStart) || got.Courtroom != "第五法庭" {
			t.Errorf("moved hearing: starts %s in %s", got.StartsAt, got.Courtroom)
		}
		wasPending := map[int64]bool{}
		for _, r := range before {
			wasPending[r.ID] = r.Status == duban.ReminderPending
		}
		after, counts := e.stepsOf(h.ID)
		if counts[duban.ReminderPending] == 0 {
			t.Error("no reminders planned for the new time")
		}
		for _, r := range after {
			switch {
			case wasPending[r.ID] && r.Status != duban.ReminderCancelled:
				t.Errorf("step %s for the old time is %s, want cancelled", r.Kind, r.Status)
			case r.Status == duban.ReminderPending && r.Kind != duban.KindEscalation &&
				!r.DueAt.Equal(newStart.Add(-time.Duration(r.OffsetSeconds)*time.Second)):
				t.Errorf("pending %s due %s is not planned from the new start %s", r.Kind, r.DueAt, newStart)
			}
		}
		staffActor := path("person:%d", e.staff.ID)
		want := []string{
			"test hearing.register (2026)沪0101行初11号",
			staffActor + " hearing.reschedule " + oldStart.UTC().Format(time.RFC3339) + " -> " + newStart.UTC().Format(time.RFC3339),
			staffActor + " hearing.courtroom 第五法庭",
		}
		if a := e.audited(target); strings.Join(a, "\n") != strings.Join(want, "\n") {
			t.Errorf("audit after the move:\n%s\nwant\n%s", strings.Join(a, "\n"), strings.Join(want, "\n"))
		}

		// The office cancels it: nothing is left pending.
		staff.post(loc, loc+"/cancel", nil).want(t, http.StatusSeeOther)
		staff.get(loc).want(t, http.StatusOK, "已取消开庭，并已通知。", "已取消")
		got, _ = e.app.Store.HearingByID(e.ctx, h.ID)
		if got.Status != duban.HearingCancelled {
			t.Errorf("status %s, want cancelled", got.Status)
		}
		if _, counts := e.stepsOf(h.ID); counts[duban.ReminderPending] != 0 {
			t.Errorf("%d reminders still pending after the cancel", counts[duban.ReminderPending])
		}
		if a := e.audited(target); len(a) != 4 || a[3] != staffActor+" hearing.cancel " {
			t.Errorf("audit after the cancel: %q", a)
		}
		// A cancelled hearing is not moved any more.
		staff.post(loc, loc+"/move", move).want(t, http.StatusConflict)
		if got, _ = e.app.Store.HearingByID(e.ctx, h.ID); !got.StartsAt.Equal(newStart) {
			t.Errorf("a cancelled hearing moved to %s", got.StartsAt)
		}
	})
}

func TestHearings_ImportACSVAllOrNothingOnlyByTheOffice(t *testing.T) {
	storagetest.EachURL(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL)
		csv := "case_number,court,courtroom,agency,starts_at,plaintiff,cause\n" +
			"（2026）沪0101行初7号,上海市黄浦区人民法院,第五法庭,GA,2026-12-05 09:00,李某某,不服行政处罚决定\n" +
			"（2026）沪0101行初8号,上海市黄浦区人民法院,,GA;SJ,2026-12-07 14:30,陈某,政府信息公开\n"
		stored := func() []duban.Hearing {
			t.Helper()
			hs, err := e.app.Store.Hearings(e.ctx, storage.HearingFilter{})
			if err != nil {
				t.Fatal(err)
			}
			return hs
		}

		// A supervisor may not import.
		e.browser().signIn("sup").postFile("/hearings", "/hearings/import", "file", "notices.csv", []byte(csv)).want(t, http.StatusForbidden)
		if hs := stored(); len(hs) != 0 {
			t.Fatalf("a refused import stored %d hearings", len(hs))
		}

		// One bad row: the page names the row, and nothing is stored.
		staff := e.browser().signIn("staff")
		bad := csv + "（2026）沪0101行初9号,上海市黄浦区人民法院,,NOPE,2026-12-08 09:00,赵某,行政许可\n"
		staff.postFile("/hearings", "/hearings/import", "file", "notices.csv", []byte(bad)).want(t, http.StatusUnprocessableEntity, "row 4", "NOPE")
		if hs := stored(); len(hs) != 0 {
			t.Fatalf("an import with a bad row stored %d hearings", len(hs))
		}

		staff.postFile("/hearings", "/hearings/import", "file", "notices.csv", []byte(csv)).want(t, http.StatusSeeOther)
		staff.get("/hearings").want(t, http.StatusOK, "已导入：新增 2 件，已存在 0 件。", "（2026）沪0101行初7号", "（2026）沪0101行初8号")
		hs := stored()
		if len(hs) != 2 || len(hs[1].Agencies) != 2 || !hs[0].StartsAt.Equal(time.Date(2026, 12, 5, 9, 0, 0, 0, shanghai)) {
			t.Fatalf("imported %+v", hs)
		}
		for _, h := range hs {
			if _, counts := e.stepsOf(h.ID); counts[duban.ReminderPending] == 0 {
				t.Errorf("%s has no reminders planned", h.CaseNumber)
			}
			if a := e.audited(path("hearing:%d", h.ID)); len(a) != 1 || a[0] != path("person:%d hearing.register %s", e.staff.ID, h.CaseNumber) {
				t.Errorf("audit of %s: %q", h.CaseNumber, a)
			}
		}

		// The same file again adds nothing.
		staff.postFile("/hearings", "/hearings/import", "file", "notices.csv", []byte(csv)).want(t, http.StatusSeeOther)
		staff.get("/hearings").want(t, http.StatusOK, "已导入：新增 0 件，已存在 2 件。")
		if hs := stored(); len(hs) != 2 {
			t.Errorf("a second import left %d hearings", len(hs))
		}
	})
}
