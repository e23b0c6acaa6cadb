package jobs_test

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/jobs"
	"github.com/cityhall/duban/storage"
	"github.com/cityhall/duban/storage/storagetest"
)

func (h *harness) complaint(in jobs.Intake) *duban.Complaint {
	h.t.Helper()
	if in.Source == "" {
		in.Source = duban.SourceTelegram
	}
	if in.Category == "" {
		in.Category = string(duban.CategoryIllegalFine)
	}
	if in.Description == "" {
		in.Description = "城管执法人员无依据罚款"
	}
	c, created, err := h.cs.Create(h.ctx, jobs.Actor{Name: "test"}, in)
	if err != nil || !created {
		h.t.Fatalf("create complaint: %v", err)
	}
	return c
}

func (h *harness) act(c *duban.Complaint, actor *duban.Person, req duban.ActionRequest) *duban.Complaint {
	h.t.Helper()
	got, err := h.cs.Act(h.ctx, jobs.Actor{Person: actor}, c.ID, req)
	if err != nil {
		h.t.Fatalf("%s: %v", req.Action, err)
	}
	return got
}

func TestComplaint_IntakeIsIdempotentAndBadInputChangesNothing(t *testing.T) {
	h := newHarness(t, storagetest.SQLiteURL(t))
	chat := int64(42)
	in := jobs.Intake{Source: duban.SourceTelegram, Category: "illegal_fee", Description: "乱收费", ReporterChatID: &chat, IdempotencyKey: "tg:1"}
	first := h.complaint(in)
	again, created, err := h.cs.Create(h.ctx, jobs.Actor{Name: "test"}, in)
	if err != nil || created || again.ID != first.ID {
		t.Fatalf("retry: %v created=%v", err, created)
	}
	lat, bad := 31.0, 200.0
	for _, tt := range []struct {
		name  string
		in    jobs.Intake
		field string
	}{
		{"empty text", jobs.Intake{Source: "telegram", Category: "other", Description: "  "}, "description"},
		{"too long", jobs.Intake{Source: "telegram", Category: "other", Description: strings.Repeat("字", duban.MaxReportRunes+1)}, "description"},
		{"invalid utf-8", jobs.Intake{Source: "telegram", Category: "other", Description: "ab\xffcd"}, "description"},
		{"unknown category", jobs.Intake{Source: "telegram", Category: "bribery", Description: "x"}, "category"},
		{"unknown source", jobs.Intake{Source: "fax", Category: "other", Description: "x"}, "source"},
		{"bad coordinates", jobs.Intake{Source: "telegram", Category: "other", Description: "x", Latitude: &lat, Longitude: &bad}, ""},
		{"file over 10 MB", jobs.Intake{Source: "telegram", Category: "other", Description: "x", Attachments: []storage.Attachment{{FileID: "f", Kind: "photo", Size: 11 << 20}}}, "attachments"},
		{"unknown agency", jobs.Intake{Source: "telegram", Category: "other", Description: "x", Agency: "NOPE"}, "agency"},
		{"media without outlet", jobs.Intake{Source: "media", Category: "other", Description: "x"}, "outlet"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := h.cs.Create(h.ctx, jobs.Actor{Name: "test"}, tt.in)
			var ve *duban.ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("err = %v, want invalid", err)
			}
			if tt.field != "" && !slices.ContainsFunc(ve.Details, func(d duban.FieldError) bool { return d.Field == tt.field }) {
				t.Errorf("details %+v do not name %s", ve.Details, tt.field)
			}
		})
	}
	all, _ := h.store.Complaints(h.ctx, storage.ComplaintFilter{})
	if len(all) != 1 {
		t.Errorf("%d complaints stored, want 1", len(all))
	}
}

func TestComplaint_LifecycleTellsReporterAndFollowsUpAfterAWorkingDay(t *testing.T) {
	storagetest.EachURL(t, func(t *testing.T, url string) {
		h := newHarness(t, url)
		// Friday 2026-02-13 10:00: Saturday the 14th is a make-up workday,
		// the 15th to the 23rd the Spring Festival.
		h.clock.Set(time.Date(2026, 2, 13, 10, 0, 0, 0, sh))
		chat := int64(4242)
		c := h.complaint(jobs.Intake{ReporterChatID: &chat, ReporterLocale: "en"})
		c = h.act(c, h.sup, duban.ActionRequest{Action: duban.ActionAccept})
		c = h.act(c, h.sup, duban.ActionRequest{Action: duban.ActionAssign, Agency: "GA", HandlerID: &h.other.ID})
		want := time.Date(2026, 2, 27, 23, 59, 59, 0, sh)
		if c.DueAt == nil || !c.DueAt.Equal(want) {
			t.Fatalf("due %v, want %v", c.DueAt, want)
		}
		if _, err := h.cs.Act(h.ctx, jobs.Actor{Person: h.sup}, c.ID, duban.ActionRequest{Action: duban.ActionClose}); !errors.Is(err, duban.ErrConflict) {
			t.Fatalf("close while assigned: %v, want conflict", err)
		}
		var se *duban.StateError
		_, err := h.cs.Act(h.ctx, jobs.Actor{Person: h.sup}, c.ID, duban.ActionRequest{Action: duban.ActionAccept})
		if !errors.As(err, &se) || !slices.Contains(se.Allowed, "reply") {
			t.Errorf("accept while assigned: %v, want allowed to list reply", err)
		}
		c = h.act(c, h.other, duban.ActionRequest{Action: duban.ActionReply, Text: "已退还罚款"})
		c = h.act(c, h.sup, duban.ActionRequest{Action: duban.ActionClose, Text: "已办结"})
		h.drain()
		var toReporter []string
		for _, m := range h.rec.all() {
			if strings.HasPrefix(m.To, "reporter:") {
				toReporter = append(toReporter, m.Msg.Text)
			}
		}
		if len(toReporter) != 3 || !strings.Contains(toReporter[1], "已退还罚款") {
			t.Fatalf("reporter was told %q, want accepted, the reply, closed", toReporter)
		}
		if !strings.Contains(toReporter[0], "accepted") {
			t.Errorf("reporter not told in their language: %s", toReporter[0])
		}
		// Closed Saturday the 14th? No: closed Friday the 13th; the next
		// working day is the make-up Saturday, when the follow-up goes.
		h.clock.Set(time.Date(2026, 2, 13, 18, 0, 0, 0, sh))
		if st, _ := h.cs.CheckSLA(h.ctx); st.FollowedUp != 0 {
			t.Fatal("followed up on the day of closing")
		}
		h.clock.Set(time.Date(2026, 2, 14, 9, 0, 0, 0, sh))
		if st, _ := h.cs.CheckSLA(h.ctx); st.FollowedUp != 1 {
			t.Fatalf("follow-up on the make-up workday: %+v", st)
		}
		if st, _ := h.cs.CheckSLA(h.ctx); st.FollowedUp != 0 {
			t.Fatal("followed up twice")
		}
		h.drain()
		last := h.rec.all()[len(h.rec.all())-1]
		if last.Msg.Kind != duban.MsgFollowup || len(last.Msg.Buttons[0]) != 5 {
			t.Fatalf("follow-up %+v, want five rating buttons", last)
		}
		cb, _ := duban.ParseComplaintCallback(last.Msg.Buttons[0][0].Data)
		if _, err := h.cs.Rate(h.ctx, 999, cb.ComplaintID, 1); !errors.Is(err, duban.ErrForbidden) {
			t.Errorf("rating from another chat: %v", err)
		}
		if _, err := h.cs.Rate(h.ctx, chat, cb.ComplaintID, cb.Rating); err != nil {
			t.Fatal(err)
		}
		h.drain()
		if got := h.kinds("赵监督"); !slices.Contains(got, duban.MsgLowRating) {
			t.Errorf("supervisor not told of a rating of 1: %v", got)
		}
		if _, err := h.cs.Rate(h.ctx, chat, cb.ComplaintID, 5); !errors.Is(err, duban.ErrConflict) {
			t.Errorf("second rating: %v, want conflict", err)
		}
	})
}

func TestComplaint_UrgeOneWorkingDayBeforeAndEscalateOncePerWorkingDay(t *testing.T) {
	h := newHarness(t, storagetest.SQLiteURL(t))
	// Assigned Friday 2026-09-25 with 5 working days: the limit is
	// 2026-10-09 23:59:59 across the Mid-Autumn and National Day holidays.
	h.clock.Set(time.Date(2026, 9, 25, 10, 0, 0, 0, sh))
	c := h.complaint(jobs.Intake{Source: duban.SourceHotlineCall, ReporterPhone: "13800000000", ReporterName: "王某"})
	c = h.act(c, h.sup, duban.ActionRequest{Action: duban.ActionAccept})
	c = h.act(c, h.sup, duban.ActionRequest{Action: duban.ActionAssign, Agency: "GA", HandlerID: &h.other.ID})
	if want := time.Date(2026, 10, 9, 23, 59, 59, 0, sh); !c.DueAt.Equal(want) {
		t.Fatalf("due %s, want %s", c.DueAt.In(sh), want)
	}
	steps := []struct {
		at        time.Time
		urged     int
		escalated int
	}{
		{time.Date(2026, 10, 7, 10, 0, 0, 0, sh), 0, 0},  // a holiday: nothing
		{time.Date(2026, 10, 8, 10, 0, 0, 0, sh), 1, 0},  // one working day left: urged
		{time.Date(2026, 10, 9, 10, 0, 0, 0, sh), 0, 0},  // urged once only
		{time.Date(2026, 10, 10, 23, 0, 0, 0, sh), 0, 0}, // make-up Saturday, but quiet hours
		{time.Date(2026, 10, 10, 9, 0, 0, 0, sh), 0, 1},  // make-up Saturday: escalated
		{time.Date(2026, 10, 10, 15, 0, 0, 0, sh), 0, 0}, // once that working day
		{time.Date(2026, 10, 11, 10, 0, 0, 0, sh), 0, 0}, // Sunday: nothing
		{time.Date(2026, 10, 12, 10, 0, 0, 0, sh), 0, 1}, // Monday: again
	}
	for _, st := range steps {
		h.clock.Set(st.at)
		got, err := h.cs.CheckSLA(h.ctx)
		if err != nil || got.Urged != st.urged || got.Escalated != st.escalated {
			t.Errorf("at %s: %+v %v, want urged %d escalated %d", st.at.Format("01-02 15:04"), got, err, st.urged, st.escalated)
		}
	}
	h.drain()
	if got := h.kinds("路人"); !slices.Contains(got, duban.MsgUrge) {
		t.Errorf("handler got %v, want an urge", got)
	}
	esc := 0
	for _, m := range h.rec.all() {
		if m.Msg.Kind == duban.MsgEscalation && (m.To == "赵监督" || m.To == "张局长") {
			esc++
		}
		if strings.Contains(m.Msg.Text, "13800000000") || strings.Contains(m.Msg.Text, "王某") {
			t.Errorf("a message to %s carries the reporter's identity: %s", m.To, m.Msg.Text)
		}
	}
	if esc != 4 {
		t.Errorf("%d escalations to the supervisor and the agency head, want 2 days × 2", esc)
	}
	evs, _ := h.store.Events(h.ctx, c.ID)
	var actions []duban.Action
	for _, e := range evs {
		actions = append(actions, e.Action)
	}
	if !slices.Contains(actions, duban.ActionUrge) || !slices.Contains(actions, duban.ActionEscalate) {
		t.Errorf("timeline %v lacks urge and escalate events", actions)
	}
	// Extending gives a new limit: no escalation on it.
	h.act(c, h.sup, duban.ActionRequest{Action: duban.ActionExtend, WorkingDays: 5, Reason: "需调查取证"})
	h.clock.Set(time.Date(2026, 10, 13, 10, 0, 0, 0, sh))
	if got, _ := h.cs.CheckSLA(h.ctx); got.Escalated != 0 {
		t.Errorf("escalated after an extension: %+v", got)
	}
}

func TestComplaint_ReportersWithoutTelegramBecomeCallBackTasks(t *testing.T) {
	h := newHarness(t, storagetest.SQLiteURL(t))
	c := h.complaint(jobs.Intake{Source: duban.SourceHotlineCall, ReporterPhone: "13900000000", ReporterName: "李某"})
	h.act(c, h.sup, duban.ActionRequest{Action: duban.ActionAccept})
	tasks, _ := h.store.CallbackTasks(h.ctx, c.ID, true)
	if len(tasks) != 1 {
		t.Fatalf("%d call-back tasks, want one for the acceptance", len(tasks))
	}
	h.drain()
	if got := h.kinds("小刘"); !slices.Contains(got, duban.MsgCallback) {
		t.Errorf("staff got %v, want a call-back task", got)
	}
	anon := h.complaint(jobs.Intake{Anonymous: true, ReporterName: "不该留下", ReporterPhone: "13700000000"})
	if anon.ReporterName != "" || anon.ReporterPhone != "" || anon.ReporterChatID != nil {
		t.Errorf("anonymous report kept %+v", anon)
	}
}

func TestComplaint_MergeMakesBothReportersFollowTheSurvivor(t *testing.T) {
	h := newHarness(t, storagetest.SQLiteURL(t))
	a, b := int64(501), int64(502)
	survivor := h.complaint(jobs.Intake{ReporterChatID: &a})
	dup := h.complaint(jobs.Intake{ReporterChatID: &b})
	h.act(dup, h.sup, duban.ActionRequest{Action: duban.ActionMerge, Into: duban.FormatTrackingCode(survivor.TrackingCode)})
	if _, err := h.cs.Act(h.ctx, jobs.Actor{Person: h.sup}, dup.ID, duban.ActionRequest{Action: duban.ActionAccept}); !errors.Is(err, duban.ErrConflict) {
		t.Errorf("acting on a merged complaint: %v", err)
	}
	h.act(survivor, h.sup, duban.ActionRequest{Action: duban.ActionAccept})
	h.drain()
	told := map[string]int{}
	for _, m := range h.rec.all() {
		if strings.HasPrefix(m.To, "reporter:") {
			told[m.To]++
		}
	}
	if len(told) != 2 {
		t.Errorf("reporters told %v, want both (merge notice and acceptance)", told)
	}
}

func TestComplaint_HandlersNeverSeeTheReporterAndIdentityReadsAreAudited(t *testing.T) {
	h := newHarness(t, storagetest.SQLiteURL(t))
	c := h.complaint(jobs.Intake{Source: duban.SourceHotlineCall, ReporterPhone: "13600000000", ReporterName: "赵某"})
	c = h.act(c, h.sup, duban.ActionRequest{Action: duban.ActionAccept})
	c = h.act(c, h.sup, duban.ActionRequest{Action: duban.ActionAssign, Agency: "GA", HandlerID: &h.other.ID})
	got, err := h.cs.View(h.ctx, jobs.Actor{Person: h.other}, c)
	if err != nil || got.ReporterPhone != "" || got.ReporterName != "" {
		t.Fatalf("handler's view %+v %v", got, err)
	}
	got, err = h.cs.View(h.ctx, jobs.Actor{Person: h.sup}, c)
	if err != nil || got.ReporterPhone != "13600000000" {
		t.Fatalf("supervisor's view %+v %v", got, err)
	}
	log, _ := h.store.AuditLog(h.ctx, 10)
	if log[0].Action != "complaint.read_identity" || log[0].Actor != "person:"+itoa(h.sup.ID) {
		t.Errorf("latest audit %+v, want the supervisor's identity read", log[0])
	}
	other := storagetest.Agency(t, h.store, "OTHER", "另一局")
	outsider := storagetest.Person(t, h.store, duban.Person{Name: "外人", AgencyID: &other.ID, Roles: duban.Roles{duban.RoleHandler}})
	if _, err := h.cs.View(h.ctx, jobs.Actor{Person: outsider}, c); !errors.Is(err, duban.ErrForbidden) {
		t.Errorf("another agency's handler: %v", err)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestComplaint_ContactsAreErasedARetentionAfterClosing(t *testing.T) {
	h := newHarness(t, storagetest.SQLiteURL(t))
	chat := int64(888)
	c := h.complaint(jobs.Intake{Source: duban.SourceHotlineCall, ReporterPhone: "13500000000", ReporterName: "孙某", ReporterChatID: &chat})
	open := h.complaint(jobs.Intake{Source: duban.SourceHotlineCall, ReporterPhone: "13400000000", ReporterName: "周某"})
	h.act(c, h.sup, duban.ActionRequest{Action: duban.ActionReject, Reason: "不属于行政执法监督范围"})
	h.clock.Advance(3*365*24*time.Hour - time.Hour)
	if st, _ := h.cs.CheckSLA(h.ctx); st.Erased != 0 {
		t.Fatalf("erased before the retention: %+v", st)
	}
	h.clock.Advance(2 * time.Hour)
	if st, err := h.cs.CheckSLA(h.ctx); err != nil || st.Erased != 1 {
		t.Fatalf("erasure: %+v %v", st, err)
	}
	got, _ := h.store.ComplaintByID(h.ctx, c.ID)
	if got.ReporterPhone != "" || got.ReporterName != "" || got.ReporterChatID != nil || got.ContactErasedAt == nil || got.Description == "" {
		t.Errorf("after erasure: %+v", got)
	}
	kept, _ := h.store.ComplaintByID(h.ctx, open.ID)
	if kept.ReporterPhone != "13400000000" {
		t.Errorf("an open complaint's contact was erased")
	}
}

func TestComplaint_AReplyOnPaperIsRecordedByTheOfficeAndMarkedSo(t *testing.T) {
	storagetest.EachURL(t, func(t *testing.T, url string) {
		h := newHarness(t, url)
		for _, tt := range []struct {
			name    string
			by      *duban.Person
			onPaper bool
		}{
			{"the agency replies itself", h.other, false},
			{"the office records the agency's letter", h.staff, true},
		} {
			t.Run(tt.name, func(t *testing.T) {
				chat := int64(4242)
				c := h.complaint(jobs.Intake{ReporterChatID: &chat})
				c = h.act(c, h.sup, duban.ActionRequest{Action: duban.ActionAccept})
				c = h.act(c, h.sup, duban.ActionRequest{Action: duban.ActionAssign, Agency: "GA", HandlerID: &h.other.ID})
				c = h.act(c, tt.by, duban.ActionRequest{Action: duban.ActionReply, Text: "已退还罚款"})
				if c.Status != duban.ComplaintReplied {
					t.Fatalf("status %s, want replied", c.Status)
				}
				events, err := h.store.Events(h.ctx, c.ID)
				if err != nil {
					t.Fatal(err)
				}
				reply := events[len(events)-1]
				if reply.Action != duban.ActionReply || reply.Text != "已退还罚款" || reply.Actor != (jobs.Actor{Person: tt.by}).String() {
					t.Fatalf("last event %+v, want the reply by %s", reply, tt.by.Name)
				}
				if reply.OnPaper() != tt.onPaper {
					t.Errorf("on paper = %v, want %v", reply.OnPaper(), tt.onPaper)
				}
				if tt.onPaper && (reply.AgencyID == nil || *reply.AgencyID != h.agency.ID) {
					t.Errorf("a reply on paper names agency %v, want GA's %d", reply.AgencyID, h.agency.ID)
				}
				// Either way it is the agency's answer: public, and the
				// handler of the agency reads it.
				if !duban.PublicEvent(reply) || !(duban.Actor{Person: h.other}).SeesEvent(reply) {
					t.Errorf("the reply is hidden: %+v", reply)
				}
			})
		}
		// A supervisor records no reply.
		c := h.complaint(jobs.Intake{})
		c = h.act(c, h.sup, duban.ActionRequest{Action: duban.ActionAccept})
		c = h.act(c, h.sup, duban.ActionRequest{Action: duban.ActionAssign, Agency: "GA"})
		if _, err := h.cs.Act(h.ctx, jobs.Actor{Person: h.sup}, c.ID, duban.ActionRequest{Action: duban.ActionReply, Text: "x"}); !errors.Is(err, duban.ErrForbidden) {
			t.Errorf("a supervisor's reply: %v, want forbidden", err)
		}
	})
}

func TestCheckSLA_PrunesOldUpdateIDsKeysAndStatusLookupsKeepsRecentOnes(t *testing.T) {
	storagetest.EachURL(t, func(t *testing.T, url string) {
		h := newHarness(t, url)
		now := h.clock.Now().AddDate(0, 0, 10)
		type row struct {
			name string
			age  time.Duration
			kept bool
			// put records the row (the clock at its time); still reports
			// whether it is there after the check.
			put, still func(t *testing.T, n int) bool
		}
		update := func(t *testing.T, n int) bool {
			fresh, err := h.store.MarkProcessed(h.ctx, "telegram", strconv.Itoa(n))
			if err != nil {
				t.Fatal(err)
			}
			return !fresh // recorded before: a re-delivery still changes nothing
		}
		key := func(t *testing.T, n int) bool {
			_, err := h.store.ComplaintByIdempotencyKey(h.ctx, "tg:"+strconv.Itoa(n))
			if err != nil && !errors.Is(err, duban.ErrNotFound) {
				t.Fatal(err)
			}
			return err == nil
		}
		newKey := func(t *testing.T, n int) bool {
			h.complaint(jobs.Intake{IdempotencyKey: "tg:" + strconv.Itoa(n)})
			return true
		}
		lookups := func(t *testing.T, n int) int {
			// Counted since long before any row: this call's own and what is left.
			got, err := h.store.RecordStatusLookup(h.ctx, int64(n), now.AddDate(-1, 0, 0))
			if err != nil {
				t.Fatal(err)
			}
			return got
		}
		lookup := func(t *testing.T, n int) bool { return lookups(t, n) == 2 }
		newLookup := func(t *testing.T, n int) bool { lookups(t, n); return true }
		day := 24 * time.Hour
		rows := []row{
			{"an update id 8 days old", 8 * day, false, update, update},
			{"an update id 6 days old", 6 * day, true, update, update},
			{"an idempotency key 8 days old", 8 * day, false, newKey, key},
			{"an idempotency key 6 days old", 6 * day, true, newKey, key},
			{"a status look-up 25 hours old", 25 * time.Hour, false, newLookup, lookup},
			{"a status look-up 23 hours old", 23 * time.Hour, true, newLookup, lookup},
		}
		for i, r := range rows {
			h.clock.Set(now.Add(-r.age))
			r.put(t, i+1)
		}
		h.clock.Set(now)
		if _, err := h.cs.CheckSLA(h.ctx); err != nil {
			t.Fatal(err)
		}
		for i, r := range rows {
			t.Run(r.name, func(t *testing.T) {
				if got := r.still(t, i+1); got != r.kept {
					t.Errorf("kept = %v, want %v", got, r.kept)
				}
			})
		}
	})
}

// TestCheckSLA_ReachesAnOverdueComplaintBehindAThousandNewerOnes: the SLA
// check reads assigned complaints by time limit, a page at a time, so an
// overdue complaint is escalated however many newer ones are assigned
// (reading the newest thousand missed it).
func TestCheckSLA_ReachesAnOverdueComplaintBehindAThousandNewerOnes(t *testing.T) {
	h := newHarness(t, storagetest.SQLiteURL(t))
	h.clock.Set(time.Date(2026, 11, 2, 10, 0, 0, 0, sh)) // a Monday
	assign := func() *duban.Complaint {
		c := h.complaint(jobs.Intake{Source: duban.SourceHotlineCall, ReporterPhone: "13800000000"})
		c = h.act(c, h.sup, duban.ActionRequest{Action: duban.ActionAccept})
		return h.act(c, h.sup, duban.ActionRequest{Action: duban.ActionAssign, Agency: "GA", HandlerID: &h.other.ID})
	}
	overdue := assign() // due in 5 working days
	h.clock.Set(time.Date(2026, 11, 20, 10, 0, 0, 0, sh))
	later := assign() // assigned later: due weeks after the check
	// 1,100 more like it, all newer than the overdue one.
	if _, err := h.store.DB().Exec(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1100)
		INSERT INTO complaints (tracking_code, status, source, category, agency_id, handler_id, description, assigned_at, due_at, created_at, updated_at)
		SELECT 'LOAD' || n.i, c.status, c.source, c.category, c.agency_id, c.handler_id, c.description, c.assigned_at, c.due_at, c.created_at, c.updated_at
		FROM complaints c, n WHERE c.id = ?`, later.ID); err != nil {
		t.Fatal(err)
	}
	h.clock.Set(time.Date(2026, 11, 23, 10, 0, 0, 0, sh)) // the Monday after: only the first is overdue
	got, err := h.cs.CheckSLA(h.ctx)
	if err != nil || got.Escalated != 1 || got.Urged != 0 {
		t.Fatalf("CheckSLA = %+v, %v; want the one overdue complaint escalated, nothing urged", got, err)
	}
	evs, _ := h.store.Events(h.ctx, overdue.ID)
	escalated := false
	for _, e := range evs {
		escalated = escalated || e.Action == duban.ActionEscalate
	}
	if !escalated {
		t.Errorf("the overdue complaint's timeline has no escalation: %+v", evs)
	}
}

// TestComplaint_MessagesNameTheComplaintByItsCode: every message about a
// complaint, to supervisors, the agency and its handler alike, carries the
// complaint's tracking code for the subject of an e-mail (RefName), not
// only the internal "complaint:<id>" key.
func TestComplaint_MessagesNameTheComplaintByItsCode(t *testing.T) {
	h := newHarness(t, storagetest.SQLiteURL(t))
	c := h.complaint(jobs.Intake{Source: duban.SourceHotlineCall, ReporterPhone: "13800000000", ReporterName: "王某"})
	c = h.act(c, h.sup, duban.ActionRequest{Action: duban.ActionAccept})
	h.act(c, h.sup, duban.ActionRequest{Action: duban.ActionAssign, Agency: "GA", HandlerID: &h.other.ID})
	h.drain()
	ref, code := fmt.Sprintf("complaint:%d", c.ID), duban.FormatTrackingCode(c.TrackingCode)
	n := 0
	for _, m := range h.rec.all() {
		if m.Msg.Ref != ref {
			continue
		}
		n++
		if m.Msg.RefName != code {
			t.Errorf("%s to %s names the complaint %q, want %s", m.Msg.Kind, m.To, m.Msg.RefName, code)
		}
	}
	if n < 2 {
		t.Fatalf("%d messages about the complaint, want the supervisors' and the handler's", n)
	}
}
