package api

import (
	"context"
	"fmt"
	"net/http"
	"slices"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/jobs"
	"github.com/cityhall/duban/storage"
)

// deliveryJSON is a delivery as duban.Delivery's tags show it (no message
// text, no address), with the recipient's name.
type deliveryJSON struct {
	duban.Delivery
	Person string `json:"person"`
}

// reporterName is how the delivery log names a complaint's reporter, who
// is not a person in duban and whose chat is never shown (docs/API.md, Deliveries).
const reporterName = "reporter"

// deliveryOut renders deliveries, times in local time, looking each
// recipient up once.
func (s *server) deliveryOut(ctx context.Context, ds []duban.Delivery) ([]deliveryJSON, error) {
	names := map[int64]string{}
	out := make([]deliveryJSON, 0, len(ds))
	for _, d := range ds {
		name, ok := names[d.PersonID]
		if d.PersonID == 0 {
			// A provider's message id names the chat (chat:message on
			// Telegram): the reporter's address, which the log never shows.
			name, ok = reporterName, true
			d.ProviderMessageID = ""
		}
		if !ok {
			p, err := s.Store.PersonByID(ctx, d.PersonID)
			if err != nil {
				return nil, err
			}
			name, names[d.PersonID] = p.Name, p.Name
		}
		d.CreatedAt, d.UpdatedAt = d.CreatedAt.In(s.Loc), d.UpdatedAt.In(s.Loc)
		if d.SentAt != nil {
			t := d.SentAt.In(s.Loc)
			d.SentAt = &t
		}
		out = append(out, deliveryJSON{Delivery: d, Person: name})
	}
	return out, nil
}

// listDeliveries: GET /api/v1/deliveries?status=&ref=&limit=&cursor=, newest first.
//
// Every delivery is listed, those to reporters included, named "reporter".
func (s *server) listDeliveries(w http.ResponseWriter, r *http.Request, a jobs.Actor) error {
	if !actorOf(a).ScopeOf(duban.DeliveryRead).All {
		return duban.ErrForbidden
	}
	q := r.URL.Query()
	f := storage.DeliveryFilter{Status: duban.DeliveryStatus(q.Get("status")), Ref: q.Get("ref")}
	if f.Status != "" && !slices.Contains([]duban.DeliveryStatus{duban.DeliveryQueued, duban.DeliverySending, duban.DeliverySent, duban.DeliveryFailed}, f.Status) {
		return duban.Invalid("status", "must be queued, sending, sent or failed")
	}
	limit, err := queryInt(r, "limit")
	if err != nil {
		return err
	}
	f.Limit, f.After = limit, q.Get("cursor")
	ds, next, err := s.Store.DeliveriesPage(r.Context(), f)
	if err != nil {
		return err
	}
	out, err := s.deliveryOut(r.Context(), ds)
	if err != nil {
		return err
	}
	setNext(w, r, next)
	writeJSON(w, http.StatusOK, out)
	return nil
}

// resendDelivery: POST /api/v1/deliveries/{id}/resend queues a failed
// delivery (or one a crash left sending) again → 202; a sent or queued one
// is a 409.
func (s *server) resendDelivery(w http.ResponseWriter, r *http.Request, a jobs.Actor) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if s.outbox == nil {
		return fmt.Errorf("api: resend: no outbox")
	}
	d, err := s.outbox.Resend(r.Context(), a, id)
	if err != nil {
		return notFound(err, "delivery %d", id)
	}
	out, err := s.deliveryOut(r.Context(), []duban.Delivery{*d})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, out[0])
	return nil
}

type auditJSON struct {
	storage.AuditEntry
	At string `json:"at"`
}

// auditLog: GET /api/v1/audit?limit=&cursor=, newest first, for admins.
func (s *server) auditLog(w http.ResponseWriter, r *http.Request, a jobs.Actor) error {
	if err := actorOf(a).Check(duban.AuditRead, duban.Subject{}); err != nil {
		return err
	}
	limit, err := queryInt(r, "limit")
	if err != nil {
		return err
	}
	entries, next, err := s.Store.AuditPage(r.Context(), limit, r.URL.Query().Get("cursor"))
	if err != nil {
		return err
	}
	setNext(w, r, next)
	out := make([]auditJSON, 0, len(entries))
	for _, e := range entries {
		out = append(out, auditJSON{AuditEntry: e, At: rfc3339(e.At, s.Loc)})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
