package web

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/jobs"
	"github.com/cityhall/duban/storage"
)

// hearingsPageSize is the hearings a page of upcoming ones shows.
const hearingsPageSize = 50

type hearingRow struct {
	H         duban.Hearing
	Reminders []duban.Reminder
	Sent      int
	Pending   int
	Failed    int
}

type week struct {
	Start time.Time
	Rows  []hearingRow
}

type hearingsPage struct {
	Agency   string
	Agencies []duban.Agency
	Weeks    []week
	Next     string
	Error    string
	Form     map[string]string
	Imported *jobs.ImportResult
}

// hearings: GET /hearings, the hearings from today on, by week, each
// with its agencies' answers and outcomes and its reminders, scoped by
// the rule book in the query; the office's forms to register a notice
// and import a CSV.
func (w *Web) hearings(rw http.ResponseWriter, r *http.Request, me *viewer) error {
	p, err := w.hearingsPage(r, me)
	if err != nil {
		return err
	}
	w.render(rw, r, me, http.StatusOK, "hearings", p)
	return nil
}

func (w *Web) hearingsPage(r *http.Request, me *viewer) (*hearingsPage, error) {
	ctx := r.Context()
	actor := me.Actor()
	scope := actor.ScopeOf(duban.HearingRead)
	if scope.None() {
		return nil, fmt.Errorf("hearings: %w", duban.ErrForbidden)
	}
	now := w.Clock.Now().In(w.Loc)
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, w.Loc)
	p := &hearingsPage{Agency: r.URL.Query().Get("agency"), Form: map[string]string{}}
	f := storage.HearingFilter{From: &today, Limit: hearingsPageSize, After: r.URL.Query().Get("cursor")}
	var err error
	if p.Agencies, err = w.Store.Agencies(ctx); err != nil {
		return nil, err
	}
	if p.Agency != "" {
		a, err := w.Store.AgencyByCode(ctx, p.Agency)
		if err != nil {
			return nil, duban.Invalid("agency", "unknown agency")
		}
		f.AgencyID = &a.ID
	}
	if !scope.All {
		if f.AgencyID != nil && *f.AgencyID != *scope.Agency {
			return nil, fmt.Errorf("hearings of another agency: %w", duban.ErrForbidden)
		}
		f.AgencyID = scope.Agency
	}
	hs, next, err := w.Store.HearingsPage(ctx, f)
	if err != nil {
		return nil, err
	}
	if next != "" {
		p.Next = "/hearings?agency=" + p.Agency + "&cursor=" + next
	}
	ids := make([]int64, len(hs))
	for i, h := range hs {
		ids[i] = h.ID
	}
	reminders, err := w.Store.RemindersOfHearings(ctx, ids)
	if err != nil {
		return nil, err
	}
	for _, h := range hs {
		row := hearingRow{H: h, Reminders: reminders[h.ID]}
		for _, rm := range row.Reminders {
			switch rm.Status {
			case duban.ReminderSent:
				row.Sent++
			case duban.ReminderPending:
				row.Pending++
			case duban.ReminderFailed:
				row.Failed++
			}
		}
		start := weekStart(h.StartsAt.In(w.Loc))
		if n := len(p.Weeks); n == 0 || !p.Weeks[n-1].Start.Equal(start) {
			p.Weeks = append(p.Weeks, week{Start: start})
		}
		p.Weeks[len(p.Weeks)-1].Rows = append(p.Weeks[len(p.Weeks)-1].Rows, row)
	}
	return p, nil
}

// weekStart is the Monday 00:00 of t's week (China's weeks start on
// Monday).
func weekStart(t time.Time) time.Time {
	d := (int(t.Weekday()) + 6) % 7
	y, m, day := t.AddDate(0, 0, -d).Date()
	return time.Date(y, m, day, 0, 0, 0, 0, t.Location())
}

// registerHearing: POST /hearings, a court notice through the same use
// case as the API and Slack (jobs.Hearings.Register).
func (w *Web) registerHearing(rw http.ResponseWriter, r *http.Request, me *viewer) error {
	form := map[string]string{}
	for _, k := range []string{"case_number", "court", "courtroom", "agencies", "starts_at", "plaintiff", "cause"} {
		form[k] = strings.TrimSpace(r.PostFormValue(k))
	}
	n := duban.Notice{CaseNumber: form["case_number"], Court: form["court"], Courtroom: form["courtroom"],
		Agencies: jobs.SplitAgencies(form["agencies"]), Plaintiff: form["plaintiff"], Cause: form["cause"]}
	var err error
	if form["starts_at"] != "" {
		n.StartsAt, err = parseLocal(form["starts_at"], w.Loc)
	}
	var h *duban.Hearing
	if err == nil {
		h, _, err = w.Hearings.Register(r.Context(), me.Actor(), n)
	}
	if err != nil {
		return w.hearingsFormError(rw, r, me, err, form)
	}
	w.flash(r, me.t("web.h.registered", "Case", h.CaseNumber))
	http.Redirect(rw, r, fmt.Sprintf("/hearings/%d", h.ID), http.StatusSeeOther)
	return nil
}

// hearingsFormError shows the hearings page again with what was typed
// and why it was refused.
func (w *Web) hearingsFormError(rw http.ResponseWriter, r *http.Request, me *viewer, err error, form map[string]string) error {
	code := status(err)
	if code == http.StatusInternalServerError {
		return err
	}
	p, perr := w.hearingsPage(r, me)
	if perr != nil {
		return perr
	}
	p.Error, p.Form = me.errorText(err), form
	w.render(rw, r, me, code, "hearings", p)
	return nil
}

// importHearings: POST /hearings/import, a CSV file of notices, all rows
// or none (jobs.Hearings.Import).
func (w *Web) importHearings(rw http.ResponseWriter, r *http.Request, me *viewer) error {
	f, _, err := r.FormFile("file")
	if err != nil {
		return w.hearingsFormError(rw, r, me, duban.Invalid("file", "choose a CSV file"), nil)
	}
	defer f.Close()
	res, err := w.Hearings.Import(r.Context(), me.Actor(), http.MaxBytesReader(rw, f, 5<<20), w.Loc)
	if err != nil {
		return w.hearingsFormError(rw, r, me, err, nil)
	}
	w.flash(r, me.t("web.h.imported", "Created", res.Created, "Existing", res.Existing))
	http.Redirect(rw, r, "/hearings", http.StatusSeeOther)
	return nil
}

// parseLocal reads a time typed in a form: the browser's datetime-local
// ("2006-01-02T15:04") or as the API takes it, in loc.
func parseLocal(s string, loc *time.Location) (time.Time, error) {
	if t, err := time.ParseInLocation("2006-01-02T15:04", s, loc); err == nil {
		return t, nil
	}
	t, err := duban.ParseTime(s, loc)
	if err != nil {
		return time.Time{}, duban.Invalid("starts_at", "is not a time (2006-01-02 15:04)")
	}
	return t, nil
}

type hearingPage struct {
	H         duban.Hearing
	Reminders []reminderRow
	Error     string
	People    map[int64]string
	// Answerable are the defendant agencies (by hearing agency id) whose
	// answer the viewer may give (their head) or record (the office).
	Answerable map[int64]bool
}

type reminderRow struct {
	R      duban.Reminder
	Agency string
}

// hearing: GET /hearings/{id}, one hearing with each head's answer, the
// outcomes, every reminder with its status, and the office's forms.
func (w *Web) hearing(rw http.ResponseWriter, r *http.Request, me *viewer) error {
	p, err := w.hearingPageOf(r, me)
	if err != nil {
		return err
	}
	w.render(rw, r, me, http.StatusOK, "hearing", p)
	return nil
}

func (w *Web) hearingPageOf(r *http.Request, me *viewer) (*hearingPage, error) {
	ctx := r.Context()
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return nil, fmt.Errorf("hearing %q: %w", r.PathValue("id"), duban.ErrNotFound)
	}
	h, err := w.Store.HearingByID(ctx, id)
	if err != nil {
		return nil, err
	}
	if !me.Actor().May(duban.HearingRead, duban.OfHearing(h)) {
		return nil, fmt.Errorf("hearing %d: %w", id, duban.ErrNotFound)
	}
	p := &hearingPage{H: *h, People: map[int64]string{}, Answerable: map[int64]bool{}}
	actor := me.Actor()
	for _, ha := range h.Agencies {
		subj := duban.Subject{Agencies: []int64{ha.AgencyID}}
		p.Answerable[ha.ID] = h.Status == duban.HearingScheduled &&
			(actor.May(duban.HearingAnswer, subj) || actor.May(duban.HearingRecordAnswer, subj))
	}
	rs, err := w.Store.RemindersOfHearing(ctx, id)
	if err != nil {
		return nil, err
	}
	agency := map[int64]string{}
	for _, ha := range h.Agencies {
		agency[ha.ID] = ha.AgencyName
		if ha.AnsweredBy != nil {
			names := personNames{w: w}
			p.People[*ha.AnsweredBy] = names.of(r, *ha.AnsweredBy)
		}
	}
	for _, rm := range rs {
		p.Reminders = append(p.Reminders, reminderRow{R: rm, Agency: agency[rm.HearingAgencyID]})
	}
	return p, nil
}

// hearingAction runs one of the office's changes to a hearing and goes
// back to its page, or shows the page again with why it was refused.
func (w *Web) hearingAction(rw http.ResponseWriter, r *http.Request, me *viewer, do func(id int64) error, done string) error {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return fmt.Errorf("hearing %q: %w", r.PathValue("id"), duban.ErrNotFound)
	}
	if err := do(id); err != nil {
		code := status(err)
		if code == http.StatusInternalServerError || code == http.StatusNotFound {
			return err
		}
		p, perr := w.hearingPageOf(r, me)
		if perr != nil {
			return perr
		}
		p.Error = me.errorText(err)
		w.render(rw, r, me, code, "hearing", p)
		return nil
	}
	w.flash(r, me.t(done))
	http.Redirect(rw, r, fmt.Sprintf("/hearings/%d", id), http.StatusSeeOther)
	return nil
}

// moveHearing: POST /hearings/{id}/move, a new start and/or courtroom.
func (w *Web) moveHearing(rw http.ResponseWriter, r *http.Request, me *viewer) error {
	return w.hearingAction(rw, r, me, func(id int64) error {
		ctx := r.Context()
		if raw := strings.TrimSpace(r.PostFormValue("starts_at")); raw != "" {
			t, err := parseLocal(raw, w.Loc)
			if err != nil {
				return err
			}
			if _, err := w.Hearings.Reschedule(ctx, me.Actor(), id, t); err != nil {
				return err
			}
		}
		if room := strings.TrimSpace(r.PostFormValue("courtroom")); room != "" {
			if _, err := w.Hearings.SetCourtroom(ctx, me.Actor(), id, room); err != nil {
				return err
			}
		}
		return nil
	}, "web.h.moved")
}

// cancelHearing: POST /hearings/{id}/cancel.
func (w *Web) cancelHearing(rw http.ResponseWriter, r *http.Request, me *viewer) error {
	return w.hearingAction(rw, r, me, func(id int64) error {
		_, err := w.Hearings.Cancel(r.Context(), me.Actor(), id)
		return err
	}, "web.h.cancelled")
}

// recordOutcome: POST /hearings/{id}/outcome, who appeared for an agency.
func (w *Web) recordOutcome(rw http.ResponseWriter, r *http.Request, me *viewer) error {
	return w.hearingAction(rw, r, me, func(id int64) error {
		att, err := duban.ParseAttendance(r.PostFormValue("attendance"))
		if err != nil {
			return err
		}
		_, err = w.Hearings.RecordOutcome(r.Context(), me.Actor(), id, r.PostFormValue("agency"), att)
		return err
	}, "web.h.outcome_recorded")
}

// answerHearing: POST /hearings/{id}/answer, a head's answer for their
// agency, or one the office records as given by phone
// (jobs.Hearings.Answer, which asks the rule book).
func (w *Web) answerHearing(rw http.ResponseWriter, r *http.Request, me *viewer) error {
	return w.hearingAction(rw, r, me, func(id int64) error {
		haID, err := strconv.ParseInt(r.PostFormValue("ha"), 10, 64)
		if err != nil {
			return duban.Invalid("agency", "choose an agency")
		}
		h, err := w.Store.HearingByID(r.Context(), id)
		if err != nil {
			return err
		}
		found := false
		for _, ha := range h.Agencies {
			found = found || ha.ID == haID
		}
		if !found {
			return duban.Invalid("agency", "is not a defendant of this hearing")
		}
		_, _, err = w.Hearings.Answer(r.Context(), me.Actor(), jobs.AnswerRequest{HearingAgencyID: haID,
			Answer: duban.Answer(r.PostFormValue("answer")), DelegateName: r.PostFormValue("delegate_name"),
			DelegateReason: r.PostFormValue("delegate_reason")})
		return err
	}, "web.h.answered")
}
