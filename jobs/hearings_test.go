package jobs_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/i18n"
	"github.com/cityhall/duban/internal/testenv"
	"github.com/cityhall/duban/jobs"
	"github.com/cityhall/duban/notifier"
	"github.com/cityhall/duban/storage"
	"github.com/cityhall/duban/storage/storagetest"
)

func TestRegister_TellsHeadAtOnceAndSchedulesFutureOffsets(t *testing.T) {
	storagetest.EachURL(t, func(t *testing.T, url string) {
		h := newHarness(t, url)
		start := time.Date(2026, 12, 4, 9, 30, 0, 0, sh) // 3 days ahead: the 168h offset is past
		hr := h.register("(2026)沪01行初1号", start)
		h.drain()
		got := h.rec.all()
		if len(got) != 1 || got[0].To != "张局长" || got[0].Channel != duban.ChannelTelegram || got[0].Msg.Kind != duban.MsgNotice {
			t.Fatalf("sent %+v, want one Telegram notice to the head", got)
		}
		for _, want := range []string{"(2026)沪01行初1号", "市中级人民法院", "第三法庭", "王某", "行政处罚", "市公安局", "09:30"} {
			if !strings.Contains(got[0].Msg.Text, want) {
				t.Errorf("notice lacks %q: %s", want, got[0].Msg.Text)
			}
		}
		if len(got[0].Msg.Buttons) == 0 || !strings.Contains(got[0].Msg.Buttons[0][0].Label, "确认") {
			t.Errorf("first button = %+v, want a label with 确认", got[0].Msg.Buttons)
		}
		rs, err := h.store.RemindersOfHearing(h.ctx, hr.ID)
		if err != nil {
			t.Fatal(err)
		}
		var dues []string
		for _, r := range rs {
			dues = append(dues, string(r.Kind)+"@"+r.DueAt.In(sh).Format("01-02 15:04"))
			tasks, _ := h.insp.GetTaskInfo(jobs.QueueName, jobs.ReminderTaskID(r))
			if tasks == nil {
				t.Errorf("no task %s", jobs.ReminderTaskID(r))
			}
		}
		want := []string{"reminder@12-01 09:30", "reminder@12-03 09:30", "escalation@12-03 09:30", "reminder@12-04 07:30", "outcome@12-04 13:30"}
		if !slices.Equal(dues, want) {
			t.Errorf("steps = %v, want %v", dues, want)
		}
	})
}

func TestRegister_SameNoticeAnswersExistingAndBadNoticeChangesNothing(t *testing.T) {
	h := newHarness(t, storagetest.SQLiteURL(t))
	start := time.Date(2026, 12, 4, 9, 30, 0, 0, sh)
	first := h.register("A-1", start)
	again, created, err := h.hs.Register(h.ctx, staffActor(h), duban.Notice{CaseNumber: "A-1", Court: "x", Agencies: []string{"GA"},
		StartsAt: start, Plaintiff: "x", Cause: "x"})
	if err != nil || created || again.ID != first.ID {
		t.Fatalf("again: id %d created %v err %v, want existing %d", again.ID, created, err, first.ID)
	}
	bad := []struct {
		name  string
		n     duban.Notice
		field string
	}{
		{"unknown agency", duban.Notice{CaseNumber: "B", Court: "c", Agencies: []string{"NOPE"}, StartsAt: start, Plaintiff: "p", Cause: "c"}, "agency"},
		{"past", duban.Notice{CaseNumber: "B", Court: "c", Agencies: []string{"GA"}, StartsAt: h.clock.Now().Add(-time.Hour), Plaintiff: "p", Cause: "c"}, "starts_at"},
		{"missing court", duban.Notice{CaseNumber: "B", Agencies: []string{"GA"}, StartsAt: start, Plaintiff: "p", Cause: "c"}, "court"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := h.hs.Register(h.ctx, staffActor(h), tt.n)
			var ve *duban.ValidationError
			if !errors.As(err, &ve) || ve.Details[0].Field != tt.field {
				t.Fatalf("err = %v, want invalid %s", err, tt.field)
			}
		})
	}
	hs, _ := h.store.Hearings(h.ctx, storage.HearingFilter{})
	if len(hs) != 1 {
		t.Errorf("%d hearings stored, want 1", len(hs))
	}
	if _, _, err := h.hs.Register(h.ctx, jobs.Actor{Person: h.head}, duban.Notice{}); !errors.Is(err, duban.ErrForbidden) {
		t.Errorf("a head registering: %v, want forbidden", err)
	}
}

func TestRemind_AfterAnswerSaysWhatWasAnsweredAndStaleTasksDoNothing(t *testing.T) {
	h := newHarness(t, storagetest.SQLiteURL(t))
	start := time.Date(2026, 12, 4, 9, 30, 0, 0, sh)
	hr := h.register("C-1", start)
	if _, _, err := h.hs.Answer(h.ctx, jobs.Actor{Person: h.head}, jobs.AnswerRequest{HearingAgencyID: hr.Agencies[0].ID, Answer: duban.AnswerConfirmed}); err != nil {
		t.Fatal(err)
	}
	h.clock.Set(time.Date(2026, 12, 1, 9, 30, 0, 0, sh))
	h.fire()
	rs, _ := h.store.RemindersOfHearing(h.ctx, hr.ID)
	// The same task again, and a task for a due time the row no longer has.
	_ = h.hs.Remind(h.ctx, jobs.ReminderPayload{ReminderID: rs[0].ID, Due: rs[0].DueAt.Unix()})
	_ = h.hs.Remind(h.ctx, jobs.ReminderPayload{ReminderID: rs[1].ID, Due: rs[1].DueAt.Unix() - 3600})
	h.drain()
	got := h.kinds("张局长")
	if !slices.Equal(got, []duban.MessageKind{duban.MsgNotice, duban.MsgReminder}) {
		t.Fatalf("head got %v, want notice then one reminder", got)
	}
	last := h.rec.all()[1].Msg.Text
	if !strings.Contains(last, "已确认") {
		t.Errorf("reminder does not say the head confirmed: %s", last)
	}
}

func TestReschedule_MovesPendingRemindersAndTellsHeads(t *testing.T) {
	storagetest.EachURL(t, func(t *testing.T, url string) {
		h := newHarness(t, url)
		hr := h.register("D-1", time.Date(2026, 12, 4, 9, 30, 0, 0, sh))
		old, _ := h.store.RemindersOfHearing(h.ctx, hr.ID)
		newStart := time.Date(2026, 12, 10, 14, 0, 0, 0, sh)
		if _, err := h.hs.Reschedule(h.ctx, staffActor(h), hr.ID, newStart); err != nil {
			t.Fatal(err)
		}
		for _, r := range old {
			if info, _ := h.insp.GetTaskInfo(jobs.QueueName, jobs.ReminderTaskID(r)); info != nil {
				t.Errorf("old task %s still queued", jobs.ReminderTaskID(r))
			}
			// A stale task that escaped deletion does nothing.
			if err := h.hs.Remind(h.ctx, jobs.ReminderPayload{ReminderID: r.ID, Due: r.DueAt.Unix()}); err != nil {
				t.Fatal(err)
			}
		}
		h.drain()
		if got := h.kinds("张局长"); !slices.Equal(got, []duban.MessageKind{duban.MsgNotice, duban.MsgReschedule}) {
			t.Fatalf("head got %v, want notice and reschedule only", got)
		}
		if txt := h.rec.all()[1].Msg.Text; !strings.Contains(txt, "14:00") {
			t.Errorf("reschedule lacks the new time: %s", txt)
		}
		all, _ := h.store.RemindersOfHearing(h.ctx, hr.ID)
		for _, r := range all {
			if r.Status == duban.ReminderPending && r.DueAt.Before(newStart.Add(-168*time.Hour)) {
				t.Errorf("pending step %s at %s belongs to the old time", r.Kind, r.DueAt)
			}
		}
		// Walk the clock through the old hearing day: nothing of the old time is sent.
		h.clock.Set(time.Date(2026, 12, 4, 14, 0, 0, 0, sh))
		h.fire()
		for _, m := range h.rec.all()[2:] {
			if strings.Contains(m.Msg.Text, "12月4日") || strings.Contains(m.Msg.Text, "12-04") {
				t.Errorf("a message of the old time was sent: %s", m.Msg.Text)
			}
		}
	})
}

func TestCancel_WithdrawsEveryReminder(t *testing.T) {
	h := newHarness(t, storagetest.SQLiteURL(t))
	hr := h.register("E-1", time.Date(2026, 12, 4, 9, 30, 0, 0, sh))
	if _, err := h.hs.Cancel(h.ctx, staffActor(h), hr.ID); err != nil {
		t.Fatal(err)
	}
	h.clock.Set(time.Date(2026, 12, 5, 0, 0, 0, 0, sh))
	h.fire()
	if got := h.kinds("张局长"); !slices.Equal(got, []duban.MessageKind{duban.MsgNotice, duban.MsgCancel}) {
		t.Fatalf("head got %v, want notice and cancel only", got)
	}
	if got := h.kinds("赵监督"); len(got) != 0 {
		t.Errorf("supervisor got %v for a cancelled hearing", got)
	}
	if _, err := h.hs.Reschedule(h.ctx, staffActor(h), hr.ID, time.Date(2026, 12, 9, 9, 0, 0, 0, sh)); !errors.Is(err, duban.ErrConflict) {
		t.Errorf("reschedule after cancel: %v, want conflict", err)
	}
}

func TestEscalation_OnlyWhileUnanswered(t *testing.T) {
	h := newHarness(t, storagetest.SQLiteURL(t))
	silent := h.register("F-1", time.Date(2026, 12, 4, 9, 30, 0, 0, sh))
	b := storagetest.Agency(t, h.store, "GOV", "市政府")
	chat := int64(2002)
	govHead := storagetest.Person(t, h.store, duban.Person{Name: "陈市长", AgencyID: &b.ID, Roles: duban.Roles{duban.RoleAgencyHead}, TelegramChatID: &chat, TelegramUserID: &chat})
	answered := h.register("F-2", time.Date(2026, 12, 4, 9, 30, 0, 0, sh), "GOV")
	if _, _, err := h.hs.Answer(h.ctx, jobs.Actor{Person: govHead}, jobs.AnswerRequest{HearingAgencyID: answered.Agencies[0].ID,
		Answer: duban.AnswerDelegated, DelegateName: "李四", DelegateReason: "出差"}); err != nil {
		t.Fatal(err)
	}
	h.clock.Set(time.Date(2026, 12, 3, 9, 30, 0, 0, sh))
	h.fire()
	var esc []sent
	for _, m := range h.rec.all() {
		if m.Msg.Kind == duban.MsgEscalation {
			esc = append(esc, m)
		}
	}
	if len(esc) != 2 {
		t.Fatalf("escalations %+v, want one each to staff and supervisor", esc)
	}
	for _, m := range esc {
		if m.Msg.Ref != silent.CaseNumber {
			t.Errorf("escalated %s, want only the unanswered %s", m.Msg.Ref, silent.CaseNumber)
		}
	}
	if en := esc[1]; en.To != "赵监督" || !strings.Contains(en.Msg.Text, "张局长") {
		t.Errorf("supervisor's escalation %+v", en)
	}
}

func TestHeadWithoutChannel_EscalatedAtOnce(t *testing.T) {
	h := newHarness(t, storagetest.SQLiteURL(t))
	h.dropChannel(duban.ChannelConsole) // only Telegram: staff and supervisors unreachable, head too
	ag := storagetest.Agency(t, h.store, "NOCH", "无渠道局")
	storagetest.Person(t, h.store, duban.Person{Name: "无名局长", AgencyID: &ag.ID, Roles: duban.Roles{duban.RoleAgencyHead}})
	chat := int64(3003)
	storagetest.Person(t, h.store, duban.Person{Name: "在线监督", Roles: duban.Roles{duban.RoleSupervisor}, TelegramChatID: &chat})
	hr := h.register("G-1", time.Date(2026, 12, 4, 9, 30, 0, 0, sh), "NOCH")
	h.fire() // the escalation step is due now
	got := h.kinds("在线监督")
	if !slices.Equal(got, []duban.MessageKind{duban.MsgEscalation}) {
		t.Fatalf("supervisor got %v, want an escalation at once", got)
	}
	if txt := h.rec.all()[0].Msg.Text; !strings.Contains(txt, "无名局长") {
		t.Errorf("escalation does not name the head: %s", txt)
	}
	_ = hr
}

func TestAnswer_OnlyTheHeadOrTheOfficeByPhoneAndUntilTheHearing(t *testing.T) {
	h := newHarness(t, storagetest.SQLiteURL(t))
	hr := h.register("H-1", time.Date(2026, 12, 4, 9, 30, 0, 0, sh))
	ha := hr.Agencies[0].ID
	req := jobs.AnswerRequest{HearingAgencyID: ha, Answer: duban.AnswerConfirmed}
	if _, _, err := h.hs.Answer(h.ctx, jobs.Actor{Person: h.other}, req); !errors.Is(err, duban.ErrForbidden) {
		t.Errorf("handler answering: %v, want forbidden", err)
	}
	got, _ := h.store.HearingAgencyByID(h.ctx, ha)
	if got.Answer != duban.AnswerNone {
		t.Fatalf("answer changed to %s by someone else", got.Answer)
	}
	// Supervisors decide on complaints; they never answer for a head, and
	// neither does an admin or the bootstrap token.
	if _, _, err := h.hs.Answer(h.ctx, jobs.Actor{Person: h.sup}, req); !errors.Is(err, duban.ErrForbidden) {
		t.Errorf("supervisor answering: %v, want forbidden", err)
	}
	if _, _, err := h.hs.Answer(h.ctx, jobs.Actor{Name: "admin"}, req); !errors.Is(err, duban.ErrForbidden) {
		t.Errorf("bootstrap admin answering: %v, want forbidden", err)
	}
	// The office records an answer the head gave by phone, as its own act.
	if _, got, err := h.hs.Answer(h.ctx, jobs.Actor{Person: h.staff}, req); err != nil || got.AnsweredBy == nil || *got.AnsweredBy != h.staff.ID {
		t.Errorf("staff recording an answer: %v, want it recorded by staff", err)
	}
	if _, _, err := h.hs.Answer(h.ctx, jobs.Actor{Person: h.head}, jobs.AnswerRequest{HearingAgencyID: ha, Answer: duban.AnswerDelegated, DelegateName: "李四"}); !errors.Is(err, duban.ErrInvalid) {
		t.Errorf("delegation without a reason: %v, want invalid", err)
	}
	h.clock.Set(time.Date(2026, 12, 4, 9, 30, 0, 0, sh))
	if _, _, err := h.hs.Answer(h.ctx, jobs.Actor{Person: h.head}, req); !errors.Is(err, duban.ErrConflict) {
		t.Errorf("answer at the start: %v, want conflict", err)
	}
}

func TestOutcome_AskedAfterTheStartAndCountedInTheReport(t *testing.T) {
	storagetest.EachURL(t, func(t *testing.T, url string) {
		h := newHarness(t, url)
		hr := h.register("I-1", time.Date(2026, 12, 4, 9, 30, 0, 0, sh))
		if _, err := h.hs.RecordOutcome(h.ctx, staffActor(h), hr.ID, "", duban.AttendanceHead); !errors.Is(err, duban.ErrConflict) {
			t.Errorf("outcome before the start: %v, want conflict", err)
		}
		h.clock.Set(time.Date(2026, 12, 4, 13, 30, 0, 0, sh))
		h.fire()
		var req *sent
		for _, m := range h.rec.all() {
			if m.Msg.Kind == duban.MsgOutcomeRequest {
				req = &m
			}
		}
		if req == nil || req.To != "小刘" || len(req.Msg.Buttons[0]) != 3 {
			t.Fatalf("outcome request %+v, want one to staff with three buttons", req)
		}
		cb, err := duban.ParseCallback(req.Msg.Buttons[0][0].Data)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := h.hs.RecordOutcomeFor(h.ctx, jobs.Actor{Person: h.head}, cb.HearingAgencyID, cb.Attendance); !errors.Is(err, duban.ErrForbidden) {
			t.Errorf("head recording own outcome: %v, want forbidden", err)
		}
		got, _, err := h.hs.RecordOutcomeFor(h.ctx, staffActor(h), cb.HearingAgencyID, cb.Attendance)
		if err != nil || got.Status != duban.HearingHeld {
			t.Fatalf("outcome: %v status %s", err, got.Status)
		}
		rows, err := h.store.Appearance(h.ctx, time.Date(2026, 12, 1, 0, 0, 0, 0, sh), time.Date(2027, 1, 1, 0, 0, 0, 0, sh), duban.Scope{All: true})
		if err != nil || len(rows) != 1 || rows[0].Held != 1 || rows[0].Head != 1 {
			t.Fatalf("appearance %+v, %v", rows, err)
		}
	})
}

func TestDeliver_RateLimitIsWaitedOutNotCountedAsFailure(t *testing.T) {
	h := newHarness(t, storagetest.SQLiteURL(t))
	calls := 0
	h.rec.fail = func(duban.Channel, duban.Address) error {
		calls++
		if calls == 1 {
			return &notifier.RateLimitError{Channel: duban.ChannelTelegram, RetryAfter: 7 * time.Second}
		}
		return nil
	}
	h.register("J-1", time.Date(2026, 12, 4, 9, 30, 0, 0, sh))
	ds, _ := h.store.QueuedDeliveries(h.ctx, 10)
	err := h.outbox.Deliver(h.ctx, ds[0].ID)
	if jobs.IsFailure(err) {
		t.Fatalf("rate limit counted as failure: %v", err)
	}
	if d := jobs.RetryDelay(0, err, nil); d != 7*time.Second {
		t.Errorf("retry delay %s, want the provider's 7s", d)
	}
	d, _ := h.store.DeliveryByID(h.ctx, ds[0].ID)
	if d.Status != duban.DeliveryQueued {
		t.Errorf("status %s after 429, want queued", d.Status)
	}
	if err := h.outbox.Deliver(h.ctx, ds[0].ID); err != nil {
		t.Fatal(err)
	}
	d, _ = h.store.DeliveryByID(h.ctx, ds[0].ID)
	if d.Status != duban.DeliverySent || d.Attempts != 2 {
		t.Errorf("after retry: %s after %d attempts", d.Status, d.Attempts)
	}
}

func TestDeliver_PermanentErrorTriesTheNextChannel(t *testing.T) {
	h := newHarness(t, storagetest.SQLiteURL(t))
	h.rec.fail = func(ch duban.Channel, _ duban.Address) error {
		if ch == duban.ChannelTelegram {
			return &notifier.PermanentError{Channel: duban.ChannelTelegram, Err: errors.New("Forbidden: bot was blocked by the user")}
		}
		return nil
	}
	h.register("K-1", time.Date(2026, 12, 4, 9, 30, 0, 0, sh))
	h.drain()
	got := h.rec.all()
	if len(got) != 1 || got[0].Channel != duban.ChannelConsole || got[0].To != "张局长" {
		t.Fatalf("sent %+v, want the notice on the next channel", got)
	}
	failed, _ := h.store.Deliveries(h.ctx, storage.DeliveryFilter{Status: duban.DeliveryFailed})
	if len(failed) != 1 || !strings.Contains(failed[0].Error, "blocked") {
		t.Errorf("failed deliveries %+v, want the Telegram one with its error", failed)
	}
}

// A head whose message fails on every channel is escalated at once: the
// outbox tells the hearings it was built for.
func TestDeliver_HeadUnreachableOnEveryChannelIsEscalatedAtOnce(t *testing.T) {
	h := newHarness(t, storagetest.SQLiteURL(t))
	h.rec.fail = func(ch duban.Channel, a duban.Address) error {
		if a.Name == h.head.Name {
			return &notifier.PermanentError{Channel: ch, Err: errors.New("Forbidden: bot was blocked by the user")}
		}
		return nil
	}
	h.register("U-1", time.Date(2026, 12, 4, 9, 30, 0, 0, sh))
	h.drain()
	for _, to := range []string{h.staff.Name, h.sup.Name} {
		if got := h.kinds(to); !slices.Equal(got, []duban.MessageKind{duban.MsgEscalation}) {
			t.Errorf("%s got %v, want an escalation at once", to, got)
		}
	}
}

// The crash policy changed with issue 9: a delivery left sending by a
// crash was counted and never resent; now, once its sender's lease has
// lapsed, it is sent once more, marked as a possible repeat, while a live
// sender's rows are left alone.
func TestDeliver_CrashedSendersRowsAreSentOnceMoreAsPossibleRepeats(t *testing.T) {
	storagetest.EachURL(t, func(t *testing.T, url string) {
		// Leases are judged by the clock; from any date.
		at := testenv.ClockDates()[0].At
		h := newHarnessAt(t, url, at)
		h.register("L-1", at.Add(72*time.Hour))
		h.register("L-2", at.Add(96*time.Hour))
		ds, _ := h.store.QueuedDeliveries(h.ctx, 10)
		if len(ds) != 2 {
			t.Fatalf("%d notices queued, want 2", len(ds))
		}
		crashed := jobs.NewOutbox(h.store, h.queue, h.senders, jobs.OutboxConfig{Clock: h.clock, Log: h.log, Metrics: h.metrics, Sender: "crashed"})
		live := jobs.NewOutbox(h.store, h.queue, h.senders, jobs.OutboxConfig{Clock: h.clock, Log: h.log, Metrics: h.metrics, Sender: "live"})
		for _, o := range []*jobs.Outbox{crashed, live, h.outbox} {
			if err := o.RenewLease(h.ctx); err != nil {
				t.Fatal(err)
			}
		}
		// The crashed sender dies inside the provider call, after the
		// provider took the message.
		h.rec.fail = func(duban.Channel, duban.Address) error { panic("killed after the provider took the message") }
		func() {
			defer func() { _ = recover() }()
			_ = crashed.Deliver(h.ctx, ds[0].ID)
		}()
		h.rec.fail = nil
		// The live sender is inside its call to the provider.
		if ok, err := h.store.ClaimDeliveryAs(h.ctx, ds[1].ID, live.SenderID()); !ok || err != nil {
			t.Fatalf("claim as live: %v %v", ok, err)
		}

		// Before the crashed sender's lease lapses, nothing is taken over.
		if n, err := h.outbox.TakeOver(h.ctx); n != 0 || err != nil {
			t.Fatalf("take over while every lease holds: %d %v, want 0", n, err)
		}
		h.clock.Advance(jobs.LeaseTTL + time.Second)
		for _, o := range []*jobs.Outbox{live, h.outbox} { // alive: they renew
			if err := o.RenewLease(h.ctx); err != nil {
				t.Fatal(err)
			}
		}
		if n, err := h.outbox.TakeOver(h.ctx); n != 1 || err != nil {
			t.Fatalf("take over after the crash: %d %v, want the crashed sender's one row", n, err)
		}
		h.drain()

		sent := h.rec.all()
		if len(sent) != 1 {
			t.Fatalf("%d messages sent after the take-over, want the crashed one once more", len(sent))
		}
		repeat := i18n.MustNew().T(duban.LocaleZH, "delivery.possible_repeat", nil)
		if first, _, _ := strings.Cut(sent[0].Msg.Text, "\n"); first != repeat {
			t.Errorf("repeated message starts %q, want %q", first, repeat)
		}
		got, _ := h.store.DeliveryByID(h.ctx, ds[0].ID)
		if got.Status != duban.DeliverySent || !got.PossibleRepeat {
			t.Errorf("crashed row: status %s, possible_repeat %v; want sent, true", got.Status, got.PossibleRepeat)
		}
		other, _ := h.store.DeliveryByID(h.ctx, ds[1].ID)
		if other.Status != duban.DeliverySending || other.PossibleRepeat || other.Sender != live.SenderID() {
			t.Errorf("live sender's row: %s, possible_repeat %v, sender %q; want left alone", other.Status, other.PossibleRepeat, other.Sender)
		}
		if n := testutil.ToFloat64(h.metrics.Repeats.WithLabelValues("crash")); n != 1 {
			t.Errorf("possible repeats counted: %v, want 1", n)
		}
		// Taken over once: a second pass finds nothing.
		if n, _ := h.outbox.TakeOver(h.ctx); n != 0 {
			t.Errorf("a second take-over took %d", n)
		}
	})
}

func TestReconcile_RebuildsTasksAfterRedisIsFlushed(t *testing.T) {
	// asynq schedules by the wall clock, whatever date the test's clock reads.
	testenv.EachClockDate(t, func(t *testing.T, at time.Time) {
		h := newHarnessAt(t, storagetest.SQLiteURL(t), at)
		// 2 h 3 min ahead: the 2h reminder is due in three minutes, within the
		// pass's window, and the escalation is due now.
		hr := h.register("M-1", at.Add(2*time.Hour+3*time.Minute))
		h.redis.Mini.FlushAll()
		rc := jobs.NewReconciler(h.store, h.queue, jobs.ReconcilerConfig{Interval: 2 * time.Minute, Clock: h.clock, Log: h.log, Metrics: h.metrics})
		st, err := rc.Reconcile(h.ctx)
		if err != nil {
			t.Fatal(err)
		}
		if st.Deliveries != 1 {
			t.Errorf("re-enqueued %d deliveries, want the notice", st.Deliveries)
		}
		rs, _ := h.store.RemindersOfHearing(h.ctx, hr.ID)
		for _, r := range rs {
			due := r.DueAt.Before(h.clock.Now().Add(4 * time.Minute))
			// The inspector's queue registry was flushed too; look at the task key.
			present := h.redis.Mini.Exists("asynq:{default}:t:" + jobs.ReminderTaskID(r))
			if due != present {
				t.Errorf("%s due %s: task present %v", r.Kind, r.DueAt.In(sh), present)
			}
		}
		// A second pass finds every task there and enqueues nothing twice.
		if _, err := rc.Reconcile(h.ctx); err != nil {
			t.Fatal(err)
		}
		// The escalation is due now, so it waits in pending beside the
		// notice's delivery; the 2h reminder is scheduled three minutes from
		// the wall clock, whatever date the wall clock reads.
		pending, _ := h.redis.Mini.List("asynq:{default}:pending")
		scheduled, _ := h.redis.Mini.SortedSet("asynq:{default}:scheduled")
		if len(pending) != 2 || len(scheduled) != 1 {
			t.Fatalf("pending %v, scheduled %v: want the notice and the escalation pending, the 2h reminder scheduled, each once", pending, scheduled)
		}
		for _, at := range scheduled {
			if in := time.Until(time.Unix(int64(at), 0)); in < 2*time.Minute || in > 3*time.Minute {
				t.Errorf("2h reminder scheduled %s from the wall clock, want 3 minutes", in)
			}
		}
	})
}

var _ = context.Background
var _ = asynq.SkipRetry

// TestDeliver_LostAnswerIsSentAgainAsAPossibleRepeat: a call whose request
// left but whose answer never came may have reached the provider; the
// retry says it may repeat an earlier message, and is counted.
func TestDeliver_LostAnswerIsSentAgainAsAPossibleRepeat(t *testing.T) {
	h := newHarness(t, storagetest.SQLiteURL(t))
	h.register("N-1", time.Date(2026, 12, 4, 9, 30, 0, 0, sh))
	ds, _ := h.store.QueuedDeliveries(h.ctx, 10)
	h.rec.fail = func(duban.Channel, duban.Address) error {
		return fmt.Errorf("telegram: send message: %w", notifier.ErrInDoubt)
	}
	if err := h.outbox.Deliver(h.ctx, ds[0].ID); !notifier.InDoubt(err) {
		t.Fatalf("Deliver = %v, want the error in doubt for asynq to retry", err)
	}
	h.rec.fail = nil
	got, _ := h.store.DeliveryByID(h.ctx, ds[0].ID)
	if got.Status != duban.DeliveryQueued || !got.PossibleRepeat {
		t.Fatalf("after a lost answer: %s, possible_repeat %v; want queued, true", got.Status, got.PossibleRepeat)
	}
	h.drain()
	sent := h.rec.all()
	repeat := i18n.MustNew().T(duban.LocaleZH, "delivery.possible_repeat", nil)
	if len(sent) != 1 || !strings.HasPrefix(sent[0].Msg.Text, repeat+"\n") {
		t.Fatalf("sent %+v, want the notice once, starting with %q", sent, repeat)
	}
	if n := testutil.ToFloat64(h.metrics.Repeats.WithLabelValues("connection")); n != 1 {
		t.Errorf("possible repeats counted: %v, want 1", n)
	}
}

// A message's send backs off at most a minute between tries, so that its
// tries end within minutes and the next channel (or the supervisors) are
// reached while a reminder still matters; other tasks back off longer.
func TestRetryDelay_BackoffOfSendsAndOtherTasks(t *testing.T) {
	d := duban.Delivery{ID: 1}
	fail := errors.New("telegram: send message: Internal Server Error")
	for _, tt := range []struct {
		name     string
		task     *asynq.Task
		n        int
		min, max time.Duration
	}{
		{"first retry of a send", jobs.NewDeliverySendTask(d), 0, 5 * time.Second, 6250 * time.Millisecond},
		{"fifth retry of a send", jobs.NewDeliverySendTask(d), 4, 60 * time.Second, 75 * time.Second},
		{"seventh retry of a send", jobs.NewDeliverySendTask(d), 6, 60 * time.Second, 75 * time.Second},
		{"seventh retry of a reply", jobs.NewReplySendTask(d), 6, 60 * time.Second, 75 * time.Second},
		{"seventh retry of another task", nil, 6, 320 * time.Second, 400 * time.Second},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := jobs.RetryDelay(tt.n, fail, tt.task); got < tt.min || got > tt.max {
				t.Errorf("RetryDelay(%d) = %s, want %s to %s", tt.n, got, tt.min, tt.max)
			}
		})
	}
	// Tries of a send end within about four minutes (255 s, and a quarter
	// more at most for the jitter).
	var total time.Duration
	for n := range jobs.MaxDeliveryAttempts - 1 {
		total += jobs.RetryDelay(n, fail, jobs.NewDeliverySendTask(d))
	}
	if total < 255*time.Second || total > 255*time.Second*5/4 {
		t.Errorf("the %d tries of a send take %s of backoff, want 255 s to 319 s", jobs.MaxDeliveryAttempts, total)
	}
}
