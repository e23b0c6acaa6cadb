package web

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/jobs"
	"github.com/cityhall/duban/storage"
)

type newComplaintPage struct {
	Source     string
	Form       map[string]string
	Categories []duban.Category
	Key        string
	Error      string
}

// newComplaint: GET /complaints/new?source=hotline_call|media, the form
// the office logs a call or a media report with.
func (w *Web) newComplaint(rw http.ResponseWriter, r *http.Request, me *viewer) error {
	if err := me.Actor().Check(duban.ComplaintLog, duban.Subject{}); err != nil {
		return err
	}
	src := r.URL.Query().Get("source")
	if src != string(duban.SourceMedia) {
		src = string(duban.SourceHotlineCall)
	}
	w.render(rw, r, me, http.StatusOK, "new", newComplaintPage{Source: src, Form: map[string]string{},
		Categories: duban.Categories, Key: randomKey()})
	return nil
}

// logComplaint: POST /complaints/new, through the same use case as the
// API and Slack (jobs.Complaints.Create). The form's one-time key makes a
// double submit file one complaint.
func (w *Web) logComplaint(rw http.ResponseWriter, r *http.Request, me *viewer) error {
	actor := me.Actor()
	if err := actor.Check(duban.ComplaintLog, duban.Subject{}); err != nil {
		return err
	}
	form := map[string]string{}
	for _, k := range []string{"source", "category", "agency", "description", "location", "name", "phone", "outlet", "link", "headline", "key"} {
		form[k] = strings.TrimSpace(r.PostFormValue(k))
	}
	src := duban.Source(form["source"])
	if src != duban.SourceMedia {
		src = duban.SourceHotlineCall
	}
	in := jobs.Intake{Source: src, Category: form["category"], Agency: form["agency"], Description: form["description"],
		Location: form["location"], ReporterName: form["name"], ReporterPhone: form["phone"], Anonymous: r.PostFormValue("anonymous") != "",
		Outlet: form["outlet"], Link: form["link"], Headline: form["headline"]}
	if in.Anonymous {
		in.ReporterName, in.ReporterPhone = "", ""
	}
	if k := form["key"]; k != "" && len(k) <= 64 {
		in.IdempotencyKey = "web:" + actor.String() + ":" + k
	}
	err := in.Validate()
	var c *duban.Complaint
	if err == nil {
		c, _, err = w.Complaints.Create(r.Context(), actor, in)
	}
	if err != nil {
		if status(err) != http.StatusUnprocessableEntity {
			return err
		}
		w.render(rw, r, me, http.StatusUnprocessableEntity, "new", newComplaintPage{Source: string(src), Form: form,
			Categories: duban.Categories, Key: form["key"], Error: me.errorText(err)})
		return nil
	}
	w.flash(r, me.t("web.n.logged", "Code", duban.FormatTrackingCode(c.TrackingCode)))
	http.Redirect(rw, r, fmt.Sprintf("/complaints/%d", c.ID), http.StatusSeeOther)
	return nil
}

// randomKey is a form's one-time key.
func randomKey() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

type callbacksPage struct {
	Open bool
	Rows []jobs.Callback
}

// callbacks: GET /callbacks, the reporters the office must call back,
// with their phones (jobs.Complaints.Callbacks audits the read); the
// answer is recorded with the complaint's rate action.
func (w *Web) callbacks(rw http.ResponseWriter, r *http.Request, me *viewer) error {
	open := r.URL.Query().Get("all") == ""
	cbs, err := w.Complaints.Callbacks(r.Context(), me.Actor(), open)
	if err != nil {
		return err
	}
	w.render(rw, r, me, http.StatusOK, "callbacks", callbacksPage{Open: open, Rows: cbs})
	return nil
}

type deliveryRow struct {
	D      duban.Delivery
	Person string
}

type deliveriesPage struct {
	Status    string
	Rows      []deliveryRow
	Next      string
	MayResend bool
}

// deliveries: GET /deliveries?status=failed|sending|…, the delivery log
// (failed ones first asked for), 100 a page, a reporter named only as
// such; the office resends from here.
func (w *Web) deliveries(rw http.ResponseWriter, r *http.Request, me *viewer) error {
	actor := me.Actor()
	if !actor.ScopeOf(duban.DeliveryRead).All {
		return fmt.Errorf("deliveries: %w", duban.ErrForbidden)
	}
	q := r.URL.Query()
	st := q.Get("status")
	if st == "" && !q.Has("status") {
		st = string(duban.DeliveryFailed)
	}
	f := storage.DeliveryFilter{Status: duban.DeliveryStatus(st), Limit: 100, After: q.Get("cursor")}
	ds, next, err := w.Store.DeliveriesPage(r.Context(), f)
	if err != nil {
		return err
	}
	p := deliveriesPage{Status: st, MayResend: actor.May(duban.DeliveryResend, duban.Subject{})}
	names := personNames{w: w}
	for _, d := range ds {
		row := deliveryRow{D: d, Person: me.t("web.d.reporter")}
		if d.PersonID != 0 {
			row.Person = names.of(r, d.PersonID)
		}
		p.Rows = append(p.Rows, row)
	}
	if next != "" {
		p.Next = "/deliveries?" + url.Values{"status": {st}, "cursor": {next}}.Encode()
	}
	w.render(rw, r, me, http.StatusOK, "deliveries", p)
	return nil
}

// resend: POST /deliveries/{id}/resend (jobs.Outbox.Resend).
func (w *Web) resend(rw http.ResponseWriter, r *http.Request, me *viewer) error {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return fmt.Errorf("delivery %q: %w", r.PathValue("id"), duban.ErrNotFound)
	}
	if _, err := w.Hearings.Outbox.Resend(r.Context(), me.Actor(), id); err != nil {
		return err
	}
	w.flash(r, me.t("web.d.resent"))
	http.Redirect(rw, r, "/deliveries?status="+url.QueryEscape(r.PostFormValue("status")), http.StatusSeeOther)
	return nil
}

type auditPage struct {
	Rows []storage.AuditEntry
	Next string
}

// audit: GET /admin/audit, the audit log for admins, newest first.
func (w *Web) audit(rw http.ResponseWriter, r *http.Request, me *viewer) error {
	if err := me.Actor().Check(duban.AuditRead, duban.Subject{}); err != nil {
		return err
	}
	rows, next, err := w.Store.AuditPage(r.Context(), 100, r.URL.Query().Get("cursor"))
	if err != nil {
		return err
	}
	p := auditPage{Rows: rows}
	if next != "" {
		p.Next = "/admin/audit?cursor=" + url.QueryEscape(next)
	}
	w.render(rw, r, me, http.StatusOK, "audit", p)
	return nil
}
