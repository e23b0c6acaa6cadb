package jobs_test

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/jobs"
	"github.com/cityhall/duban/storage"
	"github.com/cityhall/duban/storage/storagetest"
)

// TestComplaint_ConflictingActionsAreOneAtATime: accept and reject sent
// at the same moment; one wins, the other is told the state moved on
// (409 with the allowed actions), and the reporter hears one outcome.
func TestComplaint_ConflictingActionsAreOneAtATime(t *testing.T) {
	storagetest.EachURL(t, func(t *testing.T, url string) {
		h := newHarness(t, url)
		for round := range 10 {
			chat := int64(700 + round)
			c := h.complaint(jobs.Intake{ReporterChatID: &chat})
			reqs := []duban.ActionRequest{{Action: duban.ActionAccept}, {Action: duban.ActionReject, Reason: "不属于受理范围"}}
			errs := make([]error, len(reqs))
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i, req := range reqs {
				wg.Go(func() {
					<-start
					_, errs[i] = h.cs.Act(h.ctx, jobs.Actor{Person: h.sup}, c.ID, req)
				})
			}
			close(start)
			wg.Wait()
			won, lost := 0, 0
			for _, err := range errs {
				var se *duban.StateError
				switch {
				case err == nil:
					won++
				case errors.As(err, &se) && errors.Is(err, duban.ErrConflict):
					lost++
				default:
					t.Fatalf("round %d: %v", round, err)
				}
			}
			if won != 1 || lost != 1 {
				t.Fatalf("round %d: %d won, %d lost (%v), want one each", round, won, lost, errs)
			}
			evs, _ := h.store.Events(h.ctx, c.ID)
			if len(evs) != 2 {
				t.Errorf("round %d: %d events, want receive and one decision", round, len(evs))
			}
		}
	})
}

// TestComplaint_AnAgencySeesWhatIsAssignedToIt: the agency a reporter
// names learns nothing until the office assigns the complaint to it, and
// keeps reading (but no longer acting) once it moves away.
func TestComplaint_AnAgencySeesWhatIsAssignedToIt(t *testing.T) {
	h := newHarness(t, storagetest.SQLiteURL(t))
	other := storagetest.Agency(t, h.store, "SJ", "市市场监管局")
	named := h.complaint(jobs.Intake{Agency: "GA"})
	if named.AgencyID != nil || named.ReportedAgencyID == nil || *named.ReportedAgencyID != h.agency.ID {
		t.Fatalf("agency %v, reported %v: want none assigned, GA named", named.AgencyID, named.ReportedAgencyID)
	}
	head := jobs.Actor{Person: h.head}
	scope := head.ScopeOf(duban.ComplaintRead)
	list := func() int {
		cs, err := h.store.Complaints(h.ctx, storage.ComplaintFilter{Scope: &scope})
		if err != nil {
			t.Fatal(err)
		}
		return len(cs)
	}
	if _, err := h.cs.View(h.ctx, head, named); !errors.Is(err, duban.ErrForbidden) || list() != 0 {
		t.Errorf("the named agency's head reads it on arrival: %v, %d listed", err, list())
	}
	h.act(named, h.sup, duban.ActionRequest{Action: duban.ActionReject, Reason: "重复反映"})
	if _, err := h.cs.View(h.ctx, head, named); !errors.Is(err, duban.ErrForbidden) {
		t.Errorf("the named agency's head reads it after rejection: %v", err)
	}

	c := h.complaint(jobs.Intake{Agency: "GA"})
	h.act(c, h.sup, duban.ActionRequest{Action: duban.ActionAccept})
	h.act(c, h.sup, duban.ActionRequest{Action: duban.ActionNote, Text: "办公室内部意见"})
	h.act(c, h.sup, duban.ActionRequest{Action: duban.ActionAssign, Agency: "GA"})
	if _, err := h.cs.View(h.ctx, head, c); err != nil || list() != 1 {
		t.Fatalf("assigned to GA: %v, %d listed", err, list())
	}
	h.act(c, h.head, duban.ActionRequest{Action: duban.ActionNote, Text: "已安排核查"})
	h.act(c, h.sup, duban.ActionRequest{Action: duban.ActionAssign, Agency: other.Code})
	if _, err := h.cs.View(h.ctx, head, c); err != nil || list() != 1 {
		t.Errorf("moved away: %v, %d listed; want still readable", err, list())
	}
	if _, err := h.cs.Act(h.ctx, head, c.ID, duban.ActionRequest{Action: duban.ActionReply, Text: "已处理"}); !errors.Is(err, duban.ErrForbidden) {
		t.Errorf("replying after it moved away: %v, want forbidden", err)
	}
	evs, _ := h.store.Events(h.ctx, c.ID)
	var seen []string
	for _, e := range evs {
		if head.SeesEvent(e) {
			seen = append(seen, string(e.Action)+":"+e.Text)
		}
	}
	joined := strings.Join(seen, " | ")
	if strings.Contains(joined, "办公室内部意见") || !strings.Contains(joined, "已安排核查") {
		t.Errorf("the head sees %q: want its own note and not the office's", joined)
	}
}

// TestComplaint_EraseNeverUndoesAConcurrentReopen: the retention erase
// clears the reporter's identity only, so a reopen that happened after
// the erase pass loaded the row stands.
func TestComplaint_EraseNeverUndoesAConcurrentReopen(t *testing.T) {
	h := newHarness(t, storagetest.SQLiteURL(t))
	c := h.complaint(jobs.Intake{Source: duban.SourceHotlineCall, ReporterPhone: "13500000000", ReporterName: "孙某"})
	h.act(c, h.sup, duban.ActionRequest{Action: duban.ActionReject, Reason: "证据不足"})
	h.clock.Advance(3*365*24*time.Hour + time.Hour)
	stale, _ := h.store.ComplaintsClosedBefore(h.ctx, h.clock.Now(), 10) // what the erase pass loaded
	h.act(c, h.sup, duban.ActionRequest{Action: duban.ActionReopen})
	if len(stale) != 1 {
		t.Fatalf("%d complaints due for erasure", len(stale))
	}
	if err := h.store.EraseReporter(h.ctx, stale[0].ID, h.clock.Now()); err != nil {
		t.Fatal(err)
	}
	got, _ := h.store.ComplaintByID(h.ctx, c.ID)
	if got.Status != duban.ComplaintAccepted || got.ClosedAt != nil || got.ReporterPhone != "" {
		t.Errorf("after the erase: %s closed %v phone %q; want the reopen kept and the phone erased", got.Status, got.ClosedAt, got.ReporterPhone)
	}
}

// TestComplaint_MergedReporterIsNeverGivenTheSurvivorsCode.
func TestComplaint_MergedReporterIsNeverGivenTheSurvivorsCode(t *testing.T) {
	h := newHarness(t, storagetest.SQLiteURL(t))
	a, b := int64(601), int64(602)
	survivor := h.complaint(jobs.Intake{ReporterChatID: &a, Description: "幸存者的原文：某路口乱罚款"})
	dup := h.complaint(jobs.Intake{ReporterChatID: &b})
	h.act(dup, h.sup, duban.ActionRequest{Action: duban.ActionMerge, Into: survivor.TrackingCode})
	h.act(survivor, h.sup, duban.ActionRequest{Action: duban.ActionAccept})
	h.drain()
	code := duban.FormatTrackingCode(survivor.TrackingCode)
	for _, m := range h.rec.all() {
		if m.To == "reporter:"+duban.FormatTrackingCode(dup.TrackingCode) &&
			(strings.Contains(m.Msg.Text, code) || strings.Contains(m.Msg.Text, survivor.TrackingCode) || strings.Contains(m.Msg.Text, "幸存者")) {
			t.Errorf("the merged reporter was told %q", m.Msg.Text)
		}
	}
	status, evs, err := jobs.PublicTimeline(h.ctx, h.store, mustComplaint(t, h, dup.ID))
	if err != nil || status != duban.ComplaintAccepted {
		t.Fatalf("public status %s %v, want the survivor's accepted", status, err)
	}
	for _, e := range evs {
		if strings.Contains(e.Text, survivor.TrackingCode) {
			t.Errorf("public event %s names the survivor: %q", e.Action, e.Text)
		}
	}
}

func mustComplaint(t *testing.T, h *harness, id int64) *duban.Complaint {
	t.Helper()
	c, err := h.store.ComplaintByID(h.ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestDeliver_AMessagePlannedForAnAddressGoesThere: the notice that an
// admin re-bound a head's chat reaches the chat it was bound to before,
// not the new one.
func TestDeliver_AMessagePlannedForAnAddressGoesThere(t *testing.T) {
	h := newHarness(t, storagetest.SQLiteURL(t))
	old := int64(4242)
	var got []int64
	h.rec.fail = func(ch duban.Channel, a duban.Address) error {
		if ch == duban.ChannelTelegram {
			got = append(got, a.TelegramChatID)
		}
		return nil
	}
	to := jobs.AddressOf(h.head)
	to.TelegramChatID = old
	if _, err := h.outbox.Plan(h.ctx, h.store, h.head, "rebind-test", duban.Message{Kind: "rebind", Text: "您的 Telegram 已更换", To: &to}, nil, nil); err != nil {
		t.Fatal(err)
	}
	h.drain()
	if len(got) != 1 || got[0] != old {
		t.Errorf("sent to chats %v, want the old chat %d", got, old)
	}
}

// TestComplaint_EraseClearsTheReportersAddressFromTheDeliveryLog: the
// provider's message id of a message to a reporter names their chat; the
// retention erase clears it with the rest of their identity, and leaves
// the deliveries to people alone.
func TestComplaint_EraseClearsTheReportersAddressFromTheDeliveryLog(t *testing.T) {
	h := newHarness(t, storagetest.SQLiteURL(t))
	chat := int64(7770001)
	c := h.complaint(jobs.Intake{Source: duban.SourceTelegram, ReporterChatID: &chat, Description: "收费不开票"})
	h.act(c, h.sup, duban.ActionRequest{Action: duban.ActionReject, Reason: "不属于行政执法监督范围"})
	h.drain()
	toReporter := func() []duban.Delivery {
		ds, err := h.store.Deliveries(h.ctx, storage.DeliveryFilter{Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		var out []duban.Delivery
		for _, d := range ds {
			if d.PersonID == 0 && d.ComplaintID != nil && *d.ComplaintID == c.ID {
				out = append(out, d)
			}
		}
		return out
	}
	before := toReporter()
	if len(before) == 0 || !strings.Contains(before[0].ProviderMessageID, "7770001") {
		t.Fatalf("deliveries to the reporter before the erase: %+v; want one naming the chat", before)
	}
	h.clock.Advance(3*365*24*time.Hour + time.Hour)
	if st, err := h.cs.CheckSLA(h.ctx); err != nil || st.Erased != 1 {
		t.Fatalf("erasure: %+v %v", st, err)
	}
	for _, d := range toReporter() {
		if strings.Contains(d.ProviderMessageID+d.Error+d.Payload, "7770001") {
			t.Errorf("delivery %d still names the reporter's chat after the erase: %+v", d.ID, d)
		}
	}
}
