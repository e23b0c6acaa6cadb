package bot

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"strings"

	"github.com/slack-go/slack"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/jobs"
	"github.com/cityhall/duban/storage"
)

// complaintButton handles a button of the supervision channel's message.
// Only supervisors act; the message itself is updated by the sync task.
func (s *Slack) complaintButton(ctx context.Context, ic slack.InteractionCallback, a *slack.BlockAction, cb duban.ComplaintCallback) {
	p, err := s.person(ctx, s.store, ic.User.ID)
	if err != nil {
		s.log.Error("slack: complaint button", slog.Any("error", err))
		return
	}
	locale := localeOf(p)
	if p == nil || !p.Can(duban.RoleSupervisor) {
		s.later(s.respond(ic.ResponseURL, s.ephemeral(locale, "bot.not_yours", nil)))
		return
	}
	meta := strconv.FormatInt(cb.ComplaintID, 10)
	switch cb.Verb {
	case duban.VerbCReject:
		s.openView(ctx, ic, s.modal(locale, callbackCReject, "slack.c.reject", meta, nil,
			[]textField{{block: blockReason, label: "slack.c.reason", maxLen: 2000, multiline: true}}))
		return
	case duban.VerbCClose:
		s.openView(ctx, ic, s.modal(locale, callbackCClose, "slack.c.close", meta, nil,
			[]textField{{block: blockText, label: "slack.c.close_text", maxLen: 3000, multiline: true, optional: true}}))
		return
	case duban.VerbCAssign:
		view, err := s.assignModal(ctx, locale, meta)
		if err != nil {
			s.log.Error("slack: assign modal", slog.Any("error", err))
			return
		}
		s.openView(ctx, ic, view)
		return
	}
	action := map[string]duban.Action{duban.VerbCAccept: duban.ActionAccept, duban.VerbCUrge: duban.ActionUrge, duban.VerbCReopen: duban.ActionReopen}[cb.Verb]
	var reply *ephemeral
	_, err = s.markOnce(ctx, actionKey(ic, a), func(tx *storage.Store) error {
		c, err := s.cs.With(tx).Act(ctx, jobs.Actor{Person: p}, cb.ComplaintID, duban.ActionRequest{Action: action})
		if err != nil {
			reply = s.refusal(locale, err)
			if reply != nil {
				return errUndo
			}
			return err
		}
		reply = s.ephemeral(locale, "slack.c.done", map[string]any{"Code": duban.FormatTrackingCode(c.TrackingCode),
			"Status": s.t.T(locale, "complaint.status."+string(c.Status), nil)})
		return nil
	})
	if err != nil {
		s.log.Error("slack: complaint action", slog.Any("error", err))
		reply = s.ephemeral(locale, "bot.error", nil)
	}
	if reply != nil {
		s.later(s.respond(ic.ResponseURL, reply))
	}
}

// refusal is what a refused action tells the supervisor; nil for errors
// that are not the user's.
func (s *Slack) refusal(locale string, err error) *ephemeral {
	var se *duban.StateError
	switch {
	case errors.As(err, &se):
		return s.ephemeral(locale, "slack.c.not_allowed", map[string]any{"Allowed": strings.Join(se.Allowed, ", ")})
	case errors.Is(err, duban.ErrForbidden):
		return s.ephemeral(locale, "bot.not_yours", nil)
	case errors.Is(err, duban.ErrNotFound):
		return s.ephemeral(locale, "slack.c.not_found", nil)
	}
	return nil
}

func (s *Slack) openView(ctx context.Context, ic slack.InteractionCallback, v slack.ModalViewRequest) {
	if _, err := s.client.OpenViewContext(ctx, ic.TriggerID, v); err != nil {
		s.log.Error("slack: open modal", slog.Any("error", err))
	}
}

// assignModal asks for the agency, an optional handler and the working days.
func (s *Slack) assignModal(ctx context.Context, locale, meta string) (slack.ModalViewRequest, error) {
	ags, err := s.store.Agencies(ctx)
	if err != nil {
		return slack.ModalViewRequest{}, err
	}
	var opts []*slack.OptionBlockObject
	for _, a := range ags {
		if a.Active && len(opts) < 100 {
			opts = append(opts, slack.NewOptionBlockObject(a.Code, slack.NewTextBlockObject(slack.PlainTextType, truncateRunes(a.Name+" ("+a.Code+")", 75), false, false), nil))
		}
	}
	agency := slack.NewInputBlock(blockAgency, s.plain(locale, "slack.c.agency", 2000), nil,
		slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, s.plain(locale, "slack.c.agency", 150), inputAction, opts...))
	blocks := []slack.Block{agency}
	handlers, err := s.store.People(ctx, storage.PeopleFilter{Role: duban.RoleHandler, ActiveOnly: true})
	if err != nil {
		return slack.ModalViewRequest{}, err
	}
	if len(handlers) > 0 {
		var hopts []*slack.OptionBlockObject
		for _, h := range handlers {
			if len(hopts) < 100 {
				hopts = append(hopts, slack.NewOptionBlockObject(strconv.FormatInt(h.ID, 10),
					slack.NewTextBlockObject(slack.PlainTextType, truncateRunes(h.Name+" ("+h.AgencyCode+")", 75), false, false), nil))
			}
		}
		in := slack.NewInputBlock(blockHandler, s.plain(locale, "slack.c.handler", 2000), nil,
			slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, s.plain(locale, "slack.c.handler", 150), inputAction, hopts...))
		in.Optional = true
		blocks = append(blocks, in)
	}
	return s.modal(locale, callbackCAssign, "slack.c.assign", meta, blocks,
		[]textField{{block: blockDays, label: "slack.c.days", hint: "slack.c.days_hint", maxLen: 3, optional: true}}), nil
}

// submitComplaintAction takes a reject, assign or close modal: the action
// is taken once, whatever Slack retries; errors go back into the modal.
func (s *Slack) submitComplaintAction(ctx context.Context, ic slack.InteractionCallback) *slack.ViewSubmissionResponse {
	v := selected(ic.View)
	id, _ := strconv.ParseInt(ic.View.PrivateMetadata, 10, 64)
	req := duban.ActionRequest{}
	firstBlock := blockText
	switch ic.View.CallbackID {
	case callbackCReject:
		req.Action, req.Reason, firstBlock = duban.ActionReject, v[blockReason], blockReason
	case callbackCClose:
		req.Action, req.Text = duban.ActionClose, v[blockText]
	case callbackCAssign:
		req.Action, req.Agency, firstBlock = duban.ActionAssign, v[blockAgency], blockAgency
		if h := v[blockHandler]; h != "" {
			if hid, err := strconv.ParseInt(h, 10, 64); err == nil {
				req.HandlerID = &hid
			}
		}
		if d := v[blockDays]; d != "" {
			n, err := strconv.Atoi(d)
			if err != nil {
				return slack.NewErrorsViewSubmissionResponse(map[string]string{blockDays: "1–60"})
			}
			req.WorkingDays = n
		}
	}
	var p *duban.Person
	_, err := s.markOnce(ctx, viewKey(ic.View), func(tx *storage.Store) error {
		var err error
		if p, err = s.person(ctx, tx, ic.User.ID); err != nil {
			return err
		}
		if p == nil || !p.Can(duban.RoleSupervisor) {
			return duban.ErrForbidden
		}
		_, err = s.cs.With(tx).Act(ctx, jobs.Actor{Person: p}, id, req)
		return err
	})
	locale := localeOf(p)
	var ve *duban.ValidationError
	if errors.As(err, &ve) {
		return viewErrors(ve, complaintBlocks, firstBlock)
	}
	if err != nil {
		if r := s.refusal(locale, err); r != nil {
			return slack.NewErrorsViewSubmissionResponse(map[string]string{firstBlock: r.Text})
		}
		s.log.Error("slack: complaint action", slog.Any("error", err))
		return s.viewError(locale, firstBlock, "bot.error")
	}
	return nil
}

// queueCommand lists open complaints: `/duban queue [mine | overdue |
// agency CODE]`. Agency people see only their agency's.
func (s *Slack) queueCommand(ctx context.Context, p *duban.Person, args []string) *ephemeral {
	locale := localeOf(p)
	if p == nil || !p.Can(duban.RoleStaff, duban.RoleSupervisor, duban.RoleAgencyHead, duban.RoleDeputy, duban.RoleHandler) {
		return s.ephemeral(locale, "bot.not_yours", nil)
	}
	office := p.Can(duban.RoleStaff, duban.RoleSupervisor)
	f := storage.ComplaintFilter{Limit: 200}
	mode := ""
	if len(args) > 0 {
		mode = strings.ToLower(args[0])
	}
	switch mode {
	case "mine":
		if p.Has(duban.RoleHandler) || !office {
			f.HandlerID = &p.ID
		}
	case "overdue":
		now := s.clock.Now()
		f.OverdueAt = &now
	case "agency":
		if len(args) < 2 {
			return s.ephemeral(locale, "slack.help", nil)
		}
		a, err := s.store.AgencyByCode(ctx, args[1])
		if err != nil {
			return s.ephemeral(locale, "slack.c.not_found", nil)
		}
		f.AgencyID = &a.ID
	}
	if !office {
		if p.AgencyID == nil {
			return s.ephemeral(locale, "bot.not_yours", nil)
		}
		if f.AgencyID != nil && *f.AgencyID != *p.AgencyID {
			return s.ephemeral(locale, "bot.not_yours", nil)
		}
		f.AgencyID = p.AgencyID
	}
	list, err := s.store.Complaints(ctx, f)
	if err != nil {
		s.log.Error("slack: queue", slog.Any("error", err))
		return s.ephemeral(locale, "bot.error", nil)
	}
	var lines []string
	for i := range list {
		c := &list[i]
		if !c.Status.Open() || len(lines) >= 20 {
			continue
		}
		lines = append(lines, s.t.T(locale, "slack.c.queue_line", s.complaintFields(ctx, locale, c)))
	}
	if len(lines) == 0 {
		return s.ephemeral(locale, "slack.c.queue_empty", nil)
	}
	return &ephemeral{ResponseType: slack.ResponseTypeEphemeral, Text: escape(strings.Join(lines, "\n"))}
}

// showCommand shows one complaint: `/duban show ID_OR_CODE`. The reporter
// only to office staff and supervisors, and that read is audited.
func (s *Slack) showCommand(ctx context.Context, p *duban.Person, args []string) *ephemeral {
	locale := localeOf(p)
	if p == nil {
		return s.ephemeral(locale, "bot.not_yours", nil)
	}
	if len(args) == 0 {
		return s.ephemeral(locale, "slack.help", nil)
	}
	c, err := s.cs.Lookup(ctx, args[0])
	if errors.Is(err, duban.ErrNotFound) {
		return s.ephemeral(locale, "slack.c.not_found", nil)
	}
	if err != nil {
		s.log.Error("slack: show", slog.Any("error", err))
		return s.ephemeral(locale, "bot.error", nil)
	}
	actor := jobs.Actor{Person: p}
	seen, err := s.cs.View(ctx, actor, c)
	if errors.Is(err, duban.ErrForbidden) {
		return s.ephemeral(locale, "bot.not_yours", nil)
	}
	if err != nil {
		s.log.Error("slack: show", slog.Any("error", err))
		return s.ephemeral(locale, "bot.error", nil)
	}
	text := s.t.T(locale, "slack.c.show", s.complaintFields(ctx, locale, &seen))
	if jobs.MaySeeReporter(actor) && (seen.ReporterName != "" || seen.ReporterPhone != "") {
		text += "\n" + s.t.T(locale, "slack.c.show_reporter", map[string]any{"Name": seen.ReporterName, "Phone": seen.ReporterPhone})
	}
	events, err := s.store.Events(ctx, c.ID)
	if err != nil {
		return s.ephemeral(locale, "bot.error", nil)
	}
	for _, e := range events {
		if e.Action == duban.ActionNote && !jobs.MaySeeReporter(actor) {
			continue
		}
		actorName := e.Actor
		if !jobs.MaySeeReporter(actor) {
			actorName, _, _ = strings.Cut(actorName, ":")
		}
		text += "\n" + s.t.T(locale, "slack.c.show_event", map[string]any{"At": e.At.In(s.loc).Format("2006-01-02 15:04"),
			"Action": string(e.Action), "Actor": actorName, "Text": e.Text})
	}
	return &ephemeral{ResponseType: slack.ResponseTypeEphemeral, Text: escape(text)}
}

// complaintFields are the template data of a complaint for Slack, never
// with the reporter.
func (s *Slack) complaintFields(ctx context.Context, locale string, c *duban.Complaint) map[string]any {
	agency := c.AgencyText
	if c.AgencyID != nil {
		if a, err := s.store.AgencyByID(ctx, *c.AgencyID); err == nil {
			agency = a.Code
		}
	}
	due := ""
	if c.DueAt != nil {
		due = c.DueAt.In(s.loc).Format("2006-01-02")
	}
	return map[string]any{"Code": duban.FormatTrackingCode(c.TrackingCode), "ID": c.ID,
		"Status": s.t.T(locale, "complaint.status."+string(c.Status), nil), "Category": s.t.T(locale, "category."+string(c.Category), nil),
		"Source": s.t.T(locale, "source."+string(c.Source), nil), "Agency": agency, "DueAt": due, "Description": truncateRunes(c.Description, 1500)}
}
