package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/hibiken/asynq"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/notifier"
	"github.com/cityhall/duban/storage"
)

// SupervisionPoster posts to and updates messages in a Slack channel
// (notifier.Slack).
type SupervisionPoster interface {
	PostChannel(ctx context.Context, channel string, msg duban.Message) (string, error)
	Update(ctx context.Context, channel, ts string, msg duban.Message) error
}

// sync enqueues the update of the supervision channel's message; one task
// per complaint and moment, the handler renders what is current.
func (cs *Complaints) sync(ctx context.Context, id int64) {
	if cs.supervision == nil || cs.channel == "" {
		return
	}
	if err := cs.queue.enqueue(ctx, NewComplaintSyncTask(id)); err != nil {
		cs.log.Warn("enqueue supervision sync", slog.Int64("complaint_id", id), slog.Any("error", err))
	}
}

// HandleSync posts a complaint to the supervision channel, or updates its
// message in place.
func (cs *Complaints) HandleSync(ctx context.Context, t *asynq.Task) error {
	var p ComplaintPayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil || p.ComplaintID == 0 {
		return fmt.Errorf("jobs: sync payload: %w", asynq.SkipRetry)
	}
	if cs.supervision == nil {
		return nil
	}
	c, err := cs.store.ComplaintByID(ctx, p.ComplaintID)
	if err != nil {
		return err
	}
	msg, err := cs.SupervisionMessage(ctx, c, duban.LocaleZH)
	if err != nil {
		return err
	}
	cs.log.Debug("supervision sync", slog.Int64("complaint_id", c.ID), slog.String("ts", c.SlackTS), slog.String("task", t.ResultWriter().TaskID()))
	// Posts and updates take the delivery log's road (Outbox.Post): a
	// retried task posts once, and a crash mid-call is sent again as a
	// possible repeat by whoever is alive.
	channel := duban.Address{Name: "supervision", SlackUserID: cs.channel}
	switch c.SlackTS {
	case storage.PostingMarker:
		// Another task is posting it, or a crash left the marker: the
		// post's own row says which.
		ts, err := cs.outbox.Post(ctx, supervisionPostKey(c.ID), duban.ChannelSlack, channel, msg)
		if err != nil {
			return err
		}
		return cs.recordPost(ctx, c, ts)
	case "":
	default:
		msg.Edit = c.SlackChannel + ":" + c.SlackTS
		_, err := cs.outbox.Post(ctx, "csync:"+t.ResultWriter().TaskID(), duban.ChannelSlack, channel, msg)
		return err
	}
	claimed, err := cs.store.ClaimSupervisionPost(ctx, c.ID)
	if err != nil {
		return err
	}
	if !claimed {
		return &NotDueError{Wait: 2 * time.Second}
	}
	ts, err := cs.outbox.Post(ctx, supervisionPostKey(c.ID), duban.ChannelSlack, channel, msg)
	if err != nil {
		var nd *NotDueError
		if errors.As(err, &nd) {
			return err // the post is someone else's to finish
		}
		if _, ok := notifier.RetryAfter(err); ok {
			return err // the channel busy: this task posts it when retried (PostingMarker)
		}
		if rerr := cs.store.SetSupervisionMessage(context.WithoutCancel(ctx), c.ID, "", ""); rerr != nil {
			return rerr
		}
		return err
	}
	return cs.recordPost(ctx, c, ts)
}

// supervisionPostKey is the delivery key of a complaint's one post to the
// supervision channel.
func supervisionPostKey(id int64) string { return fmt.Sprintf("csync:%d:post", id) }

// recordPost records where a complaint's supervision message was posted
// ("channel:ts", as the Slack sender names a message).
func (cs *Complaints) recordPost(ctx context.Context, c *duban.Complaint, ts string) error {
	ch, stamp, ok := strings.Cut(ts, ":")
	if !ok {
		ch, stamp = cs.channel, ts
	}
	if err := cs.store.SetSupervisionMessage(ctx, c.ID, ch, stamp); err != nil {
		return err
	}
	// A change that raced with the post rendered nothing of its own (there
	// was no message to update yet): render once more.
	if now, err := cs.store.ComplaintByID(ctx, c.ID); err == nil && now.UpdatedAt.After(c.UpdatedAt) {
		cs.sync(ctx, c.ID)
	}
	return nil
}

// fields are the template data of a complaint, without the reporter.
func (cs *Complaints) fields(ctx context.Context, locale string, c *duban.Complaint) map[string]any {
	agency := c.AgencyText
	if c.AgencyID != nil {
		if a, err := cs.store.AgencyByID(ctx, *c.AgencyID); err == nil {
			agency = a.Name
		}
	}
	if agency == "" {
		agency = cs.T.T(locale, "complaint.agency_unknown", nil)
	}
	due := ""
	if c.DueAt != nil {
		due = c.DueAt.In(cs.Loc).Format("2006-01-02 15:04")
	}
	return map[string]any{
		"Code":        duban.FormatTrackingCode(c.TrackingCode),
		"Status":      cs.T.T(locale, "complaint.status."+string(c.Status), nil),
		"Source":      cs.T.T(locale, "source."+string(c.Source), nil),
		"Category":    cs.T.T(locale, "category."+string(c.Category), nil),
		"Agency":      agency,
		"Description": duban.Truncate(c.Description, 500),
		"Location":    c.Location,
		"DueAt":       due,
	}
}

// SupervisionMessage renders a complaint for supervisors, with the buttons
// of the actions its state allows.
func (cs *Complaints) SupervisionMessage(ctx context.Context, c *duban.Complaint, locale string) (duban.Message, error) {
	data := cs.fields(ctx, locale, c)
	data["Overdue"] = c.Overdue(cs.clock.Now())
	msg := duban.Message{Kind: duban.MsgComplaint, Ref: fmt.Sprintf("complaint:%d", c.ID), RefName: duban.FormatTrackingCode(c.TrackingCode),
		Text: cs.T.T(locale, "complaint.supervision", data)}
	var row []duban.Button
	add := func(verb, label, style string) {
		row = append(row, duban.Button{Label: cs.T.T(locale, label, nil), Data: duban.ComplaintCallback{Verb: verb, ComplaintID: c.ID}.Encode(), Style: style})
	}
	switch c.Status {
	case duban.ComplaintReceived:
		add(duban.VerbCAccept, "button.complaint.accept", "primary")
		add(duban.VerbCReject, "button.complaint.reject", "danger")
	case duban.ComplaintAccepted:
		add(duban.VerbCAssign, "button.complaint.assign", "primary")
	case duban.ComplaintAssigned:
		add(duban.VerbCUrge, "button.complaint.urge", "")
		add(duban.VerbCAssign, "button.complaint.assign", "")
	case duban.ComplaintReplied:
		add(duban.VerbCClose, "button.complaint.close", "primary")
		add(duban.VerbCAssign, "button.complaint.assign", "")
	case duban.ComplaintClosed, duban.ComplaintRejected:
		add(duban.VerbCReopen, "button.complaint.reopen", "")
	}
	if len(row) > 0 {
		msg.Buttons = [][]duban.Button{row}
	}
	return msg, nil
}

// tellSupervisors plans a message about c to every supervisor; a new
// complaint goes to the supervision channel instead when there is one.
func (cs *Complaints) tellSupervisors(ctx context.Context, tx *storage.Store, c *duban.Complaint, why string, kind duban.MessageKind) ([]*duban.Delivery, error) {
	if kind == duban.MsgComplaint && cs.supervision != nil && cs.channel != "" {
		return nil, nil
	}
	sups, err := tx.PeopleWithAnyRole(ctx, duban.RoleSupervisor)
	if err != nil {
		return nil, err
	}
	var out []*duban.Delivery
	for i := range sups {
		p := &sups[i]
		msg, _ := cs.SupervisionMessage(ctx, c, p.Locale)
		msg.Kind = kind
		if kind != duban.MsgComplaint {
			msg.Text = cs.T.T(p.Locale, "complaint."+why, cs.fields(ctx, p.Locale, c))
		}
		d, err := cs.outbox.Plan(ctx, tx, p, fmt.Sprintf("c:%d:%s:%d:%d", c.ID, why, c.UpdatedAt.UnixNano(), p.ID), msg, nil, nil)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

// tellAgency plans a message about c to its handler, or to the agency's
// heads when there is no handler (or it is an escalation, which heads get
// too). The reporter's identity is never in it.
func (cs *Complaints) tellAgency(ctx context.Context, tx *storage.Store, c *duban.Complaint, why string, kind duban.MessageKind, id string) ([]*duban.Delivery, error) {
	var to []duban.Person
	if c.HandlerID != nil {
		if h, err := tx.PersonByID(ctx, *c.HandlerID); err == nil && h.Active {
			to = append(to, *h)
		}
	}
	if (len(to) == 0 || kind == duban.MsgEscalation) && c.AgencyID != nil {
		heads, err := tx.HeadsOf(ctx, *c.AgencyID)
		if err != nil {
			return nil, err
		}
		to = append(to, heads...)
	}
	var out []*duban.Delivery
	for i := range to {
		p := &to[i]
		msg := duban.Message{Kind: kind, Ref: fmt.Sprintf("complaint:%d", c.ID), RefName: duban.FormatTrackingCode(c.TrackingCode), Text: cs.T.T(p.Locale, id, cs.fields(ctx, p.Locale, c))}
		d, err := cs.outbox.Plan(ctx, tx, p, fmt.Sprintf("c:%d:%s:%d:%d", c.ID, why, c.UpdatedAt.UnixNano(), p.ID), msg, nil, nil)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

// tellReporters tells the reporter of c, and the reporters of complaints
// merged into it, what happened. A reporter without Telegram who left a
// phone number becomes a call-back task for the office staff.
func (cs *Complaints) tellReporters(ctx context.Context, tx *storage.Store, c *duban.Complaint, why, text string) ([]*duban.Delivery, error) {
	followers := []duban.Complaint{*c}
	merged, err := tx.Complaints(ctx, storage.ComplaintFilter{MergedInto: &c.ID, Limit: 1000})
	if err != nil {
		return nil, err
	}
	followers = append(followers, merged...)
	var out []*duban.Delivery
	for i := range followers {
		f := &followers[i]
		locale := duban.NormalizeLocale(f.ReporterLocale)
		data := cs.fields(ctx, locale, c)
		data["Text"] = text
		// Each reporter hears under their own code: a merged reporter
		// follows the survivor's progress, never its code or text.
		data["Code"] = duban.FormatTrackingCode(f.TrackingCode)
		delete(data, "Description")
		msg := duban.Message{Kind: duban.MsgComplaintUpdate, Ref: fmt.Sprintf("complaint:%d", f.ID), RefName: duban.FormatTrackingCode(f.TrackingCode),
			Text: cs.T.T(locale, "complaint.update."+why, data)}
		key := fmt.Sprintf("r:%d:%s:%d", f.ID, why, c.UpdatedAt.UnixNano())
		d, err := cs.outbox.PlanReporter(ctx, tx, f, key, msg)
		if err != nil {
			return nil, err
		}
		if d != nil {
			out = append(out, d)
			continue
		}
		ds, err := cs.callback(ctx, tx, f, why)
		if err != nil {
			return nil, err
		}
		out = append(out, ds...)
	}
	return out, nil
}

// callback opens a call-back task for a reporter reachable only by phone,
// and tells the office staff; anonymous reporters are followed only
// through their tracking code.
func (cs *Complaints) callback(ctx context.Context, tx *storage.Store, c *duban.Complaint, why string) ([]*duban.Delivery, error) {
	if c.Anonymous || c.ReporterPhone == "" || c.ContactErasedAt != nil {
		return nil, nil
	}
	created, err := tx.CreateCallbackTask(ctx, c.ID, fmt.Sprintf("%s:%d", why, c.UpdatedAt.UnixNano()))
	if err != nil || !created {
		return nil, err
	}
	staff, err := tx.PeopleWithAnyRole(ctx, duban.RoleStaff)
	if err != nil {
		return nil, err
	}
	var out []*duban.Delivery
	for i := range staff {
		p := &staff[i]
		data := cs.fields(ctx, p.Locale, c)
		data["Moment"] = cs.T.T(p.Locale, "complaint.moment."+why, nil)
		msg := duban.Message{Kind: duban.MsgCallback, Ref: fmt.Sprintf("complaint:%d", c.ID), RefName: duban.FormatTrackingCode(c.TrackingCode), Text: cs.T.T(p.Locale, "complaint.callback", data)}
		d, err := cs.outbox.Plan(ctx, tx, p, fmt.Sprintf("cb:%d:%s:%d:%d", c.ID, why, c.UpdatedAt.UnixNano(), p.ID), msg, nil, nil)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

// PlanReporter writes a queued delivery of msg to the reporter of c, on
// Telegram (or the console); nil when the reporter has no chat.
func (o *Outbox) PlanReporter(ctx context.Context, tx *storage.Store, c *duban.Complaint, key string, msg duban.Message) (*duban.Delivery, error) {
	if c.ReporterChatID == nil || c.Anonymous || c.ContactErasedAt != nil {
		return nil, nil
	}
	addr := duban.Address{Name: "reporter:" + duban.FormatTrackingCode(c.TrackingCode), TelegramChatID: *c.ReporterChatID}
	chans := o.senders.For(addr, []duban.Channel{duban.ChannelTelegram, duban.ChannelConsole})
	if len(chans) == 0 {
		return nil, nil
	}
	payload, err := json.Marshal(msg)
	if err != nil {
		return nil, err
	}
	d := &duban.Delivery{DedupeKey: key + "|" + string(chans[0]), Channel: chans[0], Kind: msg.Kind, Ref: msg.Ref,
		Payload: string(payload), ComplaintID: &c.ID}
	if _, err := tx.CreateDelivery(ctx, d); err != nil {
		return nil, err
	}
	return d, nil
}
