package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/storage"
)

// queuePageSize is the rows a page of the queue shows.
const queuePageSize = 50

// queueFilter is the queue's filters, named as the API's list
// (docs/API.md, GET /api/v1/complaints): status, agency, reported_agency, category, source,
// overdue, handler, q.
type queueFilter struct {
	Status, Agency, ReportedAgency, Category, Source, Handler, Q string
	Overdue                                                      bool
}

type queueRow struct {
	C        duban.Complaint
	Agency   string
	Reported string
	Handler  string
	DaysLeft int
	HasDays  bool
	Overdue  bool
}

type queuePage struct {
	F          queueFilter
	Rows       []queueRow
	Next       string
	Statuses   []duban.ComplaintStatus
	Sources    []duban.Source
	Categories []duban.Category
	Agencies   []duban.Agency
	Office     bool
}

// queue: GET /complaints, the complaints the viewer may read, nearest
// time limit first, 50 a page, filtered as the API's list; the scope is
// the rule book's, applied in the query.
func (w *Web) queue(rw http.ResponseWriter, r *http.Request, me *viewer) error {
	ctx := r.Context()
	actor := me.Actor()
	if err := actor.Check(duban.ComplaintQueue, duban.Subject{}); err != nil {
		return err
	}
	q := r.URL.Query()
	pf := queueFilter{Status: q.Get("status"), Agency: q.Get("agency"), ReportedAgency: q.Get("reported_agency"),
		Category: q.Get("category"), Source: q.Get("source"), Handler: q.Get("handler"), Q: strings.TrimSpace(q.Get("q"))}
	pf.Overdue, _ = strconv.ParseBool(q.Get("overdue"))
	scope := actor.ScopeOf(duban.ComplaintRead)
	f := storage.ComplaintFilter{Scope: &scope, Order: storage.ByTimeLimit, Limit: queuePageSize, After: q.Get("cursor")}
	var v duban.ValidationError
	if pf.Status != "" {
		st, err := duban.ParseComplaintStatus(pf.Status)
		if err != nil {
			v.Add("status", "unknown status")
		}
		f.Status = st
	}
	if pf.Source != "" {
		src, err := duban.ParseSource(pf.Source)
		if err != nil {
			v.Add("source", "unknown source")
		}
		f.Source = src
	}
	if pf.Category != "" {
		c, err := duban.ParseCategory(pf.Category)
		if err != nil {
			v.Add("category", "unknown category")
		}
		f.Category = c
	}
	now := w.Clock.Now()
	if pf.Overdue {
		f.OverdueAt = &now
	}
	switch h := pf.Handler; {
	case h == "":
	case h == "me":
		f.HandlerID = &me.Person.ID
	default:
		id, err := strconv.ParseInt(h, 10, 64)
		if err != nil || id <= 0 {
			v.Add("handler", "must be a person id or me")
		}
		f.HandlerID = &id
	}
	if pf.Q != "" {
		if !utf8.ValidString(pf.Q) || utf8.RuneCountInString(pf.Q) > duban.MaxTitleRunes {
			v.Add("q", "must be at most %d characters", duban.MaxTitleRunes)
		}
		f.Query = pf.Q
	}
	agencies, err := w.Store.Agencies(ctx)
	if err != nil {
		return err
	}
	byCode := map[string]int64{}
	byID := map[int64]duban.Agency{}
	for _, a := range agencies {
		byCode[a.Code], byID[a.ID] = a.ID, a
	}
	for _, x := range []struct {
		code string
		dst  **int64
		name string
	}{{pf.Agency, &f.AgencyID, "agency"}, {pf.ReportedAgency, &f.ReportedAgencyID, "reported_agency"}} {
		if x.code == "" {
			continue
		}
		id, ok := byCode[x.code]
		if !ok {
			v.Add(x.name, "unknown agency")
		}
		*x.dst = &id
	}
	if err := v.Err(); err != nil {
		return err
	}
	cs, next, err := w.Store.ComplaintsPage(ctx, f)
	if err != nil {
		return err
	}
	names := personNames{w: w}
	page := queuePage{F: pf, Statuses: duban.ComplaintStatuses, Sources: duban.Sources, Categories: duban.Categories,
		Agencies: agencies, Office: scope.All}
	cal := w.Complaints.Calendar
	for _, c := range cs {
		row := queueRow{C: c.Redacted(), Overdue: c.Overdue(now)}
		if c.AgencyID != nil {
			row.Agency = byID[*c.AgencyID].Name
		}
		if c.ReportedAgencyID != nil {
			row.Reported = byID[*c.ReportedAgencyID].Name
		} else {
			row.Reported = c.AgencyText
		}
		if c.HandlerID != nil {
			row.Handler = names.of(r, *c.HandlerID)
		}
		if c.DueAt != nil && c.Status == duban.ComplaintAssigned && cal != nil {
			n := cal.WorkingDaysBetween(now, *c.DueAt)
			row.DaysLeft, row.HasDays = n, true
		}
		page.Rows = append(page.Rows, row)
	}
	if next != "" {
		nq := url.Values{}
		for k, vs := range q {
			if k != "cursor" {
				nq[k] = vs
			}
		}
		nq.Set("cursor", next)
		page.Next = "/complaints?" + nq.Encode()
	}
	w.render(rw, r, me, http.StatusOK, "queue", page)
	return nil
}

// personNames looks each person up once per page.
type personNames struct {
	w     *Web
	names map[int64]string
}

func (n *personNames) of(r *http.Request, id int64) string {
	if name, ok := n.names[id]; ok {
		return name
	}
	if n.names == nil {
		n.names = map[int64]string{}
	}
	p, err := n.w.Store.PersonByID(r.Context(), id)
	name := ""
	if err == nil {
		name = p.Name
	}
	n.names[id] = name
	return name
}
