package duban

import (
	"fmt"
	"strings"
)

// The matrix below is the rule book read back: every role against every
// Do and every state of its thing, as docs/ACCESS.md shows it to an
// administrator. It is computed from Actor.May, so it cannot drift.

// MatrixAgency is the agency X of the matrix's agency roles; MatrixOther
// is another agency.
const (
	MatrixAgency int64 = 1
	MatrixOther  int64 = 2
)

// MatrixRole is one column of the matrix: a role and the actor holding it.
type MatrixRole struct {
	Name  string
	Actor Actor
}

// MatrixRoles are the matrix's columns: a person of each role (agency
// roles of agency X), and the bootstrap token.
func MatrixRoles() []MatrixRole {
	x := MatrixAgency
	person := func(id int64, agency *int64, r Role) Actor {
		return Actor{Person: &Person{ID: id, AgencyID: agency, Roles: Roles{r}, Active: true}}
	}
	return []MatrixRole{
		{"staff (法制办)", person(10, nil, RoleStaff)},
		{"supervisor", person(11, nil, RoleSupervisor)},
		{"agency head of X", person(12, &x, RoleAgencyHead)},
		{"deputy of X", person(13, &x, RoleDeputy)},
		{"handler of X", person(14, &x, RoleHandler)},
		{"admin", person(15, nil, RoleAdmin)},
		{"bootstrap token, CLI, system", Actor{Name: "admin"}},
	}
}

// MatrixState is one state of a thing, with a label for the matrix.
type MatrixState struct {
	Label   string
	Group   string // states of one group are summarised together
	Subject func(actor Actor) Subject
}

// MatrixStates returns the states a Do is checked in: for hearings, X a
// defendant or not; for complaints, every status with X assigned now,
// before, or never; for people, the actor themself and others.
func MatrixStates(d Do) []MatrixState {
	switch {
	case strings.HasPrefix(string(d), "hearing."):
		return []MatrixState{
			{"X a defendant", "X a defendant", func(Actor) Subject { return Subject{Agencies: []int64{MatrixAgency}} }},
			{"X not a defendant", "X not a defendant", func(Actor) Subject { return Subject{Agencies: []int64{MatrixOther}} }},
		}
	case strings.HasPrefix(string(d), "complaint."):
		var out []MatrixState
		for _, rel := range []string{"assigned to X now", "assigned to X before", "never assigned to X"} {
			for _, st := range ComplaintStatuses {
				c := &Complaint{Status: st}
				var before []int64
				switch rel {
				case "assigned to X now":
					if st == ComplaintReceived || st == ComplaintRejected {
						continue // not yet assigned to anyone
					}
					x := MatrixAgency
					c.AgencyID = &x
					before = []int64{MatrixAgency}
				case "assigned to X before":
					if st == ComplaintReceived || st == ComplaintRejected {
						continue
					}
					y := MatrixOther
					c.AgencyID = &y
					before = []int64{MatrixAgency, MatrixOther}
				}
				out = append(out, MatrixState{Label: rel + ", " + string(st), Group: rel,
					Subject: func(Actor) Subject { return Of(c, before...) }})
			}
		}
		return out
	case strings.HasPrefix(string(d), "person."):
		return []MatrixState{
			{"themself", "themself", func(a Actor) Subject { return OfPerson(a.Person) }},
			{"another, chat not bound", "another, chat not bound", func(Actor) Subject {
				return OfPerson(&Person{ID: 99, Roles: Roles{RoleAgencyHead}, Active: true})
			}},
			{"another, chat bound", "another, chat bound", func(Actor) Subject {
				chat := int64(5)
				return OfPerson(&Person{ID: 98, Roles: Roles{RoleAgencyHead}, TelegramChatID: &chat, Active: true})
			}},
			{"an admin", "an admin", func(Actor) Subject { return OfPerson(&Person{ID: 97, Roles: Roles{RoleAdmin}, Active: true}) }},
		}
	}
	return []MatrixState{{"", "", func(Actor) Subject { return Subject{} }}}
}

// AllDo lists every Do, in the matrix's order.
func AllDo() []Do {
	out := []Do{HearingRegister, HearingMove, HearingCancel, HearingImport, HearingAnswer, HearingRecordAnswer,
		HearingOutcome, HearingRead, ComplaintLog, ComplaintQueue, ComplaintRead, ComplaintReporter}
	for _, a := range Actions {
		out = append(out, ComplaintDo(a))
	}
	return append(out, ComplaintCallbacks, DeliveryRead, DeliveryResend, ReportRead, ReportBulletin,
		PersonRead, PersonAdd, PersonEdit, PersonDeactivate, PersonRoles, PersonTokens, PersonPassword,
		PersonRebind, PersonBindCode, PersonCalendar, AgencyRead, AgencyManage, AgencyCalendar, AuditRead, ConfigManage, QueueMonitor)
}

// MatrixCell says where role may do d: "yes" in every state, "—" in
// none, or the states where it may.
func MatrixCell(role MatrixRole, d Do) string {
	states := MatrixStates(d)
	var yes, groups []string
	allOf := map[string]bool{}
	someOf := map[string][]string{}
	for _, st := range states {
		if !role.Actor.May(d, st.Subject(role.Actor)) {
			allOf[st.Group] = false
			continue
		}
		if _, seen := allOf[st.Group]; !seen {
			allOf[st.Group] = true
		}
		yes = append(yes, st.Label)
		if len(someOf[st.Group]) == 0 {
			groups = append(groups, st.Group)
		}
		someOf[st.Group] = append(someOf[st.Group], strings.TrimPrefix(st.Label, st.Group+", "))
	}
	switch {
	case len(yes) == len(states):
		return "yes"
	case len(yes) == 0:
		return "—"
	}
	parts := make([]string, 0, len(groups))
	for _, g := range groups {
		if allOf[g] || someOf[g][0] == g {
			parts = append(parts, g)
		} else {
			parts = append(parts, g+" ("+strings.Join(someOf[g], ", ")+")")
		}
	}
	return strings.Join(parts, "; ")
}

// AccessMarkdown renders the matrix as docs/ACCESS.md holds it.
func AccessMarkdown() string {
	var b strings.Builder
	b.WriteString("# Who may see and do what\n\n")
	b.WriteString("Generated from the rule book (`access.go`) by `go test -run TestAccessDocMatchesTheRules -update .`;\n")
	b.WriteString("a test fails when this page and the rules differ. X is the person's own agency.\n")
	b.WriteString("A deactivated person may do nothing. Lists are scoped by the same rules in their queries.\n\n")
	roles := MatrixRoles()
	b.WriteString("| thing: action |")
	for _, r := range roles {
		fmt.Fprintf(&b, " %s |", r.Name)
	}
	b.WriteString("\n| --- |")
	for range roles {
		b.WriteString(" --- |")
	}
	b.WriteString("\n")
	for _, d := range AllDo() {
		fmt.Fprintf(&b, "| %s |", d)
		for _, r := range roles {
			fmt.Fprintf(&b, " %s |", MatrixCell(r, d))
		}
		b.WriteString("\n")
	}
	return b.String()
}
