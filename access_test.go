package duban

import (
	"flag"
	"os"
	"testing"
)

var update = flag.Bool("update", false, "rewrite docs/ACCESS.md from the rules")

// wantMatrix is who may see and do what, cell by cell, written out by hand
// so that a change of the rules is made on purpose (docs/ACCESS.md is
// generated from the rules; this table checks them), in the columns of
// MatrixRoles: staff, supervisor, head, deputy and handler of X, admin,
// the bootstrap token. Each cell is checked in every state of
// its thing (MatrixStates): "yes" in all, "—" in none, or where.
var wantMatrix = map[Do][7]string{
	"hearing.register":      {"yes", "—", "—", "—", "—", "yes", "yes"},
	"hearing.move":          {"yes", "—", "—", "—", "—", "yes", "yes"},
	"hearing.cancel":        {"yes", "—", "—", "—", "—", "yes", "yes"},
	"hearing.import":        {"yes", "—", "—", "—", "—", "yes", "yes"},
	"hearing.answer":        {"—", "—", "X a defendant", "—", "—", "—", "—"},
	"hearing.record_answer": {"yes", "—", "—", "—", "—", "—", "—"},
	"hearing.outcome":       {"yes", "—", "—", "—", "—", "yes", "yes"},
	"hearing.read":          {"yes", "yes", "X a defendant", "X a defendant", "X a defendant", "yes", "yes"},
	"complaint.log":         {"yes", "yes", "—", "—", "—", "yes", "yes"},
	"complaint.queue":       {"yes", "yes", "yes", "yes", "yes", "yes", "yes"},
	"complaint.read":        {"yes", "yes", "assigned to X now; assigned to X before", "assigned to X now; assigned to X before", "assigned to X now; assigned to X before", "yes", "yes"},
	"complaint.reporter":    {"yes", "yes", "—", "—", "—", "yes", "yes"},
	"complaint.accept":      {"—", "yes", "—", "—", "—", "yes", "yes"},
	"complaint.reject":      {"—", "yes", "—", "—", "—", "yes", "yes"},
	"complaint.assign":      {"—", "yes", "—", "—", "—", "yes", "yes"},
	"complaint.reply":       {"yes", "—", "assigned to X now (assigned)", "assigned to X now (assigned)", "assigned to X now (assigned)", "yes", "yes"},
	"complaint.close":       {"—", "yes", "—", "—", "—", "yes", "yes"},
	"complaint.reopen":      {"—", "yes", "—", "—", "—", "yes", "yes"},
	"complaint.merge":       {"—", "yes", "—", "—", "—", "yes", "yes"},
	"complaint.urge":        {"—", "yes", "—", "—", "—", "yes", "yes"},
	"complaint.escalate":    {"—", "yes", "—", "—", "—", "yes", "yes"},
	"complaint.extend":      {"—", "yes", "—", "—", "—", "yes", "yes"},
	"complaint.note":        {"yes", "yes", "assigned to X now (accepted, assigned, replied)", "assigned to X now (accepted, assigned, replied)", "assigned to X now (accepted, assigned, replied)", "yes", "yes"},
	"complaint.rate":        {"yes", "—", "—", "—", "—", "yes", "yes"},
	"complaint.callbacks":   {"yes", "—", "—", "—", "—", "yes", "yes"},
	"delivery.read":         {"yes", "yes", "—", "—", "—", "yes", "yes"},
	"delivery.resend":       {"yes", "—", "—", "—", "—", "yes", "yes"},
	"report.read":           {"yes", "yes", "yes", "yes", "yes", "yes", "yes"},
	"report.bulletin":       {"yes", "yes", "—", "—", "—", "yes", "yes"},
	"person.read":           {"yes", "yes", "themself", "themself", "themself", "yes", "yes"},
	"person.add":            {"another, chat not bound; another, chat bound", "—", "—", "—", "—", "yes", "yes"},
	"person.edit":           {"themself; another, chat not bound; another, chat bound", "—", "—", "—", "—", "yes", "yes"},
	"person.deactivate":     {"themself; another, chat not bound; another, chat bound", "—", "—", "—", "—", "yes", "yes"},
	"person.roles":          {"—", "—", "—", "—", "—", "another, chat not bound; another, chat bound; an admin", "yes"},
	"person.tokens":         {"themself", "themself", "themself", "themself", "themself", "yes", "yes"},
	"person.password":       {"themself", "themself", "themself", "themself", "themself", "yes", "yes"},
	"person.rebind":         {"—", "—", "—", "—", "—", "yes", "yes"},
	"person.bind_code":      {"themself; another, chat not bound", "—", "—", "—", "—", "yes", "yes"},
	"person.calendar":       {"themself", "themself", "themself", "themself", "themself", "yes", "yes"},
	"agency.read":           {"yes", "yes", "yes", "yes", "yes", "yes", "yes"},
	"agency.manage":         {"yes", "—", "—", "—", "—", "yes", "yes"},
	"agency.calendar":       {"yes", "—", "—", "—", "—", "yes", "yes"},
	"audit.read":            {"—", "—", "—", "—", "—", "yes", "yes"},
	"config.manage":         {"—", "—", "—", "—", "—", "yes", "yes"},
	"queue.monitor":         {"—", "—", "—", "—", "—", "yes", "yes"},
}

func TestRuleBook_EveryRoleActionAndState(t *testing.T) {
	roles := MatrixRoles()
	for _, d := range AllDo() {
		want, ok := wantMatrix[d]
		if !ok {
			t.Errorf("%s: no row in wantMatrix", d)
			continue
		}
		for i, r := range roles {
			if got := MatrixCell(r, d); got != want[i] {
				t.Errorf("%s by %s: %q, want %q", d, r.Name, got, want[i])
			}
		}
	}
	if len(wantMatrix) != len(AllDo()) {
		t.Errorf("wantMatrix has %d rows, the rule book %d", len(wantMatrix), len(AllDo()))
	}
}

func TestRuleBook_DeactivatedPeopleMayDoNothing(t *testing.T) {
	for _, r := range MatrixRoles() {
		if r.Actor.Person == nil {
			continue
		}
		off := *r.Actor.Person
		off.Active = false
		a := Actor{Person: &off}
		for _, d := range AllDo() {
			for _, st := range MatrixStates(d) {
				if a.May(d, st.Subject(a)) {
					t.Errorf("deactivated %s may %s (%s)", r.Name, d, st.Label)
				}
			}
			if s := a.ScopeOf(d); !s.None() {
				t.Errorf("deactivated %s has scope %+v of %s", r.Name, s, d)
			}
		}
	}
}

func TestRuleBook_ScopesOfLists(t *testing.T) {
	x := MatrixAgency
	for _, r := range MatrixRoles() {
		for _, d := range []Do{HearingRead, ComplaintRead, ReportRead, DeliveryRead} {
			s := r.Actor.ScopeOf(d)
			office := r.Actor.May(ComplaintLog, Subject{})
			switch {
			case office && !s.All:
				t.Errorf("%s: scope of %s %+v, want all", r.Name, d, s)
			case !office && d == DeliveryRead && !s.None():
				t.Errorf("%s: scope of deliveries %+v, want none", r.Name, s)
			case !office && d != DeliveryRead && (s.All || s.Agency == nil || *s.Agency != x):
				t.Errorf("%s: scope of %s %+v, want agency X", r.Name, d, s)
			}
		}
	}
}

func TestRuleBook_AnAgencySeesItsOwnNotesAndThePublicTimeline(t *testing.T) {
	x, y := MatrixAgency, MatrixOther
	head := MatrixRoles()[2].Actor
	tests := []struct {
		e    Event
		want bool
	}{
		{Event{Action: ActionAssign, Public: true, AgencyID: &x}, true},
		{Event{Action: ActionNote}, false},              // the office's internal note
		{Event{Action: ActionNote, AgencyID: &x}, true}, // X's own note
		{Event{Action: ActionNote, AgencyID: &y}, false},
		{Event{Action: ActionUrge}, false},
	}
	for _, tt := range tests {
		if got := head.SeesEvent(tt.e); got != tt.want {
			t.Errorf("head of X sees %+v: %v, want %v", tt.e, got, tt.want)
		}
		if !MatrixRoles()[1].Actor.SeesEvent(tt.e) {
			t.Errorf("a supervisor does not see %+v", tt.e)
		}
	}
	for _, a := range Actions {
		if PublicEvent(Event{Action: a, Public: false}) {
			t.Errorf("a non-public %s event shown to the reporter", a)
		}
	}
	if PublicEvent(Event{Action: ActionNote, Public: true}) || !PublicEvent(Event{Action: ActionReply, Public: true}) {
		t.Error("the reporter sees notes, or not replies")
	}
}

func TestAccessDocMatchesTheRules(t *testing.T) {
	const path = "docs/ACCESS.md"
	want := AccessMarkdown()
	if *update {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Errorf("%s differs from the rule book; run go test -run TestAccessDocMatchesTheRules -update .", path)
	}
}
