package web

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/jobs"
	"github.com/cityhall/duban/storage"
)

type complaintPage struct {
	C           duban.Complaint
	Agency      string
	Reported    string
	Handler     string
	DaysLeft    int
	HasDays     bool
	Overdue     bool
	SeeReporter bool
	Attachments []storage.Attachment
	Events      []eventRow
	Actions     []string // the actions the viewer may take now, in the order of duban.Actions
	Agencies    []duban.Agency
	Handlers    []duban.Person
	Error       string
	MaxDays     int
	MaxExtend   int
	DefaultDays int
}

type eventRow struct {
	E     duban.Event
	Actor string
	// PaperFrom is the agency whose reply on paper Actor recorded
	// (Event.OnPaper), empty otherwise.
	PaperFrom string
}

// loadComplaint finds the route's complaint and checks the viewer may
// read it; the error for one they may not read is ErrNotFound, so the
// page does not tell which complaints exist.
func (w *Web) loadComplaint(r *http.Request, me *viewer) (*duban.Complaint, duban.Subject, error) {
	c, err := w.Complaints.Lookup(r.Context(), r.PathValue("id"))
	if err != nil {
		return nil, duban.Subject{}, err
	}
	subj, err := w.Complaints.Subject(r.Context(), c)
	if err != nil {
		return nil, duban.Subject{}, err
	}
	if !me.Actor().May(duban.ComplaintRead, subj) {
		return nil, duban.Subject{}, fmt.Errorf("complaint %d: %w", c.ID, duban.ErrNotFound)
	}
	return c, subj, nil
}

// complaint: GET /complaints/{id}, the complaint with its attachments,
// the timeline the viewer may see, the reporter where the rule book
// allows (the read is audited by jobs.Complaints.View), and a form for
// each action the viewer may take in its state.
func (w *Web) complaint(rw http.ResponseWriter, r *http.Request, me *viewer) error {
	page, err := w.complaintPage(r, me)
	if err != nil {
		return err
	}
	w.render(rw, r, me, http.StatusOK, "complaint", page)
	return nil
}

func (w *Web) complaintPage(r *http.Request, me *viewer) (*complaintPage, error) {
	ctx := r.Context()
	c, subj, err := w.loadComplaint(r, me)
	if err != nil {
		return nil, err
	}
	actor := me.Actor()
	seen, err := w.Complaints.View(ctx, actor, c)
	if err != nil {
		return nil, err
	}
	now := w.Clock.Now()
	p := &complaintPage{C: seen, SeeReporter: jobs.MaySeeReporter(actor), Overdue: c.Overdue(now),
		MaxDays: duban.MaxAssignWorkingDays, MaxExtend: duban.MaxExtendWorkingDays, DefaultDays: duban.DefaultWorkingDays}
	agencyName := func(id *int64) string {
		if id == nil {
			return ""
		}
		if a, err := w.Store.AgencyByID(ctx, *id); err == nil {
			return a.Name
		}
		return ""
	}
	p.Agency, p.Reported = agencyName(c.AgencyID), agencyName(c.ReportedAgencyID)
	if p.Reported == "" {
		p.Reported = c.AgencyText
	}
	names := personNames{w: w}
	if c.HandlerID != nil {
		p.Handler = names.of(r, *c.HandlerID)
	}
	if c.DueAt != nil && c.Status == duban.ComplaintAssigned && w.Complaints.Calendar != nil {
		n := w.Complaints.Calendar.WorkingDaysBetween(now, *c.DueAt)
		p.DaysLeft, p.HasDays = n, true
	}
	if p.Attachments, err = w.Store.Attachments(ctx, c.ID); err != nil {
		return nil, err
	}
	events, err := w.Store.Events(ctx, c.ID)
	if err != nil {
		return nil, err
	}
	for _, e := range events {
		if !actor.SeesEvent(e) {
			continue
		}
		row := eventRow{E: e, Actor: w.actorName(r, &names, e.Actor)}
		if e.OnPaper() {
			a, err := w.Store.AgencyByID(ctx, *e.AgencyID)
			if err != nil {
				return nil, err
			}
			row.PaperFrom = a.Name
		}
		p.Events = append(p.Events, row)
	}
	for _, a := range duban.AllowedActions(c.Status) {
		if actor.May(duban.ComplaintDo(duban.Action(a)), subj) {
			p.Actions = append(p.Actions, a)
		}
	}
	if slices.Contains(p.Actions, string(duban.ActionAssign)) {
		if p.Agencies, err = w.Store.Agencies(ctx); err != nil {
			return nil, err
		}
		if p.Handlers, err = w.Store.People(ctx, storage.PeopleFilter{Role: duban.RoleHandler, ActiveOnly: true}); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// actorName is how a timeline names who acted: a person by name, duban's
// own steps by their system name.
func (w *Web) actorName(r *http.Request, names *personNames, actor string) string {
	if rest, ok := strings.CutPrefix(actor, "person:"); ok {
		if id, err := strconv.ParseInt(rest, 10, 64); err == nil {
			if n := names.of(r, id); n != "" {
				return n
			}
		}
	}
	return actor
}

// act: POST /complaints/{id}/actions, one action through the same use
// case as the API and the bots (jobs.Complaints.Act), which asks the rule
// book and the complaint's state. A refusal shows the page again with
// why; success goes back to the page (post/redirect/get).
func (w *Web) act(rw http.ResponseWriter, r *http.Request, me *viewer) error {
	c, _, err := w.loadComplaint(r, me)
	if err != nil {
		return err
	}
	req := duban.ActionRequest{Action: duban.Action(r.PostFormValue("action")), Text: r.PostFormValue("text"),
		Reason: r.PostFormValue("reason"), Agency: r.PostFormValue("agency"), Into: r.PostFormValue("into")}
	var v duban.ValidationError
	if raw := strings.TrimSpace(r.PostFormValue("handler")); raw != "" {
		id, err := strconv.ParseInt(raw, 10, 64)
		if err != nil {
			v.Add("handler", "is not a person")
		}
		req.HandlerID = &id
	}
	for _, f := range []struct {
		name string
		dst  *int
	}{{"working_days", &req.WorkingDays}, {"rating", &req.Rating}} {
		if raw := strings.TrimSpace(r.PostFormValue(f.name)); raw != "" {
			n, err := strconv.Atoi(raw)
			if err != nil {
				v.Add(f.name, "is not a number")
			}
			*f.dst = n
		}
	}
	err = v.Err()
	if err == nil {
		_, err = w.Complaints.Act(r.Context(), me.Actor(), c.ID, req)
	}
	if err != nil {
		if code := status(err); code == http.StatusInternalServerError || code == http.StatusNotFound {
			return err
		}
		page, perr := w.complaintPage(r, me)
		if perr != nil {
			return errors.Join(err, perr)
		}
		page.Error = me.actionError(err)
		w.render(rw, r, me, status(err), "complaint", page)
		return nil
	}
	w.flash(r, me.t("web.c.done", "Action", me.t("web.action."+string(req.Action))))
	http.Redirect(rw, r, fmt.Sprintf("/complaints/%d", c.ID), http.StatusSeeOther)
	return nil
}

// actionError says why an action was refused, naming the actions the
// state allows when it no longer allows this one.
func (v *viewer) actionError(err error) string {
	var se *duban.StateError
	if errors.As(err, &se) {
		allowed := make([]string, len(se.Allowed))
		for i, a := range se.Allowed {
			allowed[i] = v.t("web.action." + a)
		}
		return v.t("web.c.not_allowed", "Action", v.t("web.action."+se.Action), "Status", v.t("complaint.status."+se.State),
			"Allowed", strings.Join(allowed, v.t("web.list_sep")))
	}
	return v.errorText(err)
}
