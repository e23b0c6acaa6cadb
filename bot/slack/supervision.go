package slack

import (
	"context"
	"errors"
	"log/slog"
	"strconv"

	"github.com/slack-go/slack"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/bot"
	"github.com/cityhall/duban/jobs"
	"github.com/cityhall/duban/storage"
)

// Slack's static_select takes at most 100 options.
// https://api.slack.com/reference/block-kit/block-elements#static_select
const slackMaxOptions = 100

// maySupervise asks the rule book whether p may take action on complaints
// (supervisors and admins); jobs.Complaints.Act asks it again with the
// complaint in its present state. A Slack user who is nobody in duban may
// not.
func maySupervise(p *duban.Person, action duban.Action) bool {
	return p != nil && duban.Actor{Person: p}.May(duban.ComplaintDo(action), duban.Subject{})
}

// complaintButton handles a button of the supervision channel's message.
// Only supervisors act; accept, urge and reopen at once, reject, assign and
// close through a modal. The message itself is updated by the jobs sync
// task, not here.
func (s *App) complaintButton(ctx context.Context, ic slack.InteractionCallback, a *slack.BlockAction, cb duban.ComplaintCallback) {
	p, err := s.person(ctx, s.store, ic.User.ID)
	if err != nil {
		s.log.Error("slack: complaint button", slog.Any("error", err))
		s.later(s.respond(ic.ResponseURL, s.tell(duban.LocaleZH, "bot.error", nil)))
		return
	}
	locale := localeOf(p)
	action, _ := bot.ActionOf(cb.Verb)
	if !maySupervise(p, action) {
		s.later(s.respond(ic.ResponseURL, s.tell(locale, "bot.not_yours", nil)))
		return
	}
	switch cb.Verb {
	case duban.VerbCReject, duban.VerbCAssign, duban.VerbCClose:
		if reply := s.openActionModal(ctx, ic, locale, cb.ComplaintID, action); reply != nil {
			s.later(s.respond(ic.ResponseURL, reply))
		}
		return
	}
	var reply *ephemeral
	_, err = s.markOnce(ctx, actionKey(ic, a), func(tx *storage.Store) error {
		c, err := s.cs.With(tx).Act(ctx, jobs.Actor{Person: p}, cb.ComplaintID, duban.ActionRequest{Action: action})
		if err != nil {
			if reply = s.refusal(locale, err); reply != nil {
				return bot.ErrUndo
			}
			return err
		}
		reply = s.tell(locale, "slack.c.done", map[string]any{"Code": duban.FormatTrackingCode(c.TrackingCode),
			"Action": s.t.T(locale, "slack.c.action."+string(action), nil), "Status": s.t.T(locale, "complaint.status."+string(c.Status), nil)})
		return nil
	})
	if err != nil {
		s.log.Error("slack: complaint action", slog.Any("error", err))
		reply = s.tell(locale, "bot.error", nil)
	}
	if reply != nil {
		s.later(s.respond(ic.ResponseURL, reply))
	}
}

// openActionModal opens the modal of a reject, assign or close, once the
// complaint's state allows it; otherwise it returns what the supervisor is
// told instead.
func (s *App) openActionModal(ctx context.Context, ic slack.InteractionCallback, locale string, id int64, action duban.Action) *ephemeral {
	c, err := s.store.ComplaintByID(ctx, id)
	if err == nil {
		_, err = duban.Transition(c.Status, action)
	}
	if err != nil {
		if r := s.refusal(locale, err); r != nil {
			return r
		}
		s.log.Error("slack: complaint modal", slog.Any("error", err))
		return s.tell(locale, "bot.error", nil)
	}
	meta := strconv.FormatInt(id, 10)
	intro := slack.NewContextBlock("", slack.NewTextBlockObject(slack.PlainTextType,
		duban.Truncate(s.t.T(locale, "slack.c.queue_line", s.complaintFields(ctx, locale, c)), 2000), false, false))
	var view slack.ModalViewRequest
	switch action {
	case duban.ActionReject:
		view = s.modal(locale, callbackCReject, "slack.c.reject", meta, []slack.Block{intro},
			[]textField{{block: blockReason, label: "slack.c.reason", maxLen: 2000, multiline: true}})
	case duban.ActionClose:
		view = s.modal(locale, callbackCClose, "slack.c.close", meta, []slack.Block{intro},
			[]textField{{block: blockText, label: "slack.c.close_text", maxLen: 3000, multiline: true}})
	default:
		if view, err = s.assignModal(ctx, locale, c, intro); err != nil {
			s.log.Error("slack: assign modal", slog.Any("error", err))
			return s.tell(locale, "bot.error", nil)
		}
	}
	// Within Slack's three seconds: the trigger expires.
	if _, err := s.client.OpenViewContext(ctx, ic.TriggerID, view); err != nil {
		s.log.Error("slack: open complaint modal", slog.Any("error", err))
		return s.tell(locale, "bot.error", nil)
	}
	return nil
}

// refusal is what a refused action tells the supervisor; nil for errors
// that are not the user's.
func (s *App) refusal(locale string, err error) *ephemeral {
	if id, data, ok := s.refusalText(locale, err); ok {
		return s.tell(locale, id, data)
	}
	return nil
}

// refusalText is the message id and data of a refusal; false for errors
// that are not the user's.
func (s *App) refusalText(locale string, err error) (string, map[string]any, bool) {
	var se *duban.StateError
	switch {
	case errors.As(err, &se):
		return "slack.c.not_allowed", s.stateData(locale, se), true
	case errors.Is(err, duban.ErrForbidden):
		return "bot.not_yours", nil, true
	case errors.Is(err, duban.ErrNotFound):
		return "slack.c.not_found", nil, true
	}
	return "", nil, false
}

// stateData names, in locale, the state a refused action met and the
// actions allowed in it.
func (s *App) stateData(locale string, se *duban.StateError) map[string]any {
	return bot.StateData(s.t, locale, se)
}

// assignModal asks for the agency (active ones, by code and name), an
// optional handler (active handlers, "name (agency code)"; handlers need
// not be on Slack) and the working days, 5 unless changed.
func (s *App) assignModal(ctx context.Context, locale string, c *duban.Complaint, intro slack.Block) (slack.ModalViewRequest, error) {
	ags, err := s.store.Agencies(ctx)
	if err != nil {
		return slack.ModalViewRequest{}, err
	}
	var opts []*slack.OptionBlockObject
	var current *slack.OptionBlockObject
	for _, a := range ags {
		if !a.Active || len(opts) == slackMaxOptions {
			continue
		}
		o := slack.NewOptionBlockObject(a.Code, slack.NewTextBlockObject(slack.PlainTextType, duban.Truncate(a.Name+" ("+a.Code+")", 75), false, false), nil)
		if c.AgencyID != nil && *c.AgencyID == a.ID {
			current = o
		}
		opts = append(opts, o)
	}
	blocks := []slack.Block{intro}
	if len(opts) == 0 {
		// A static_select needs an option; the code is typed instead.
		blocks = append(blocks, s.textInput(locale, textField{block: blockAgency, label: "slack.c.agency_code", maxLen: 64}))
	} else {
		el := slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, s.plain(locale, "slack.c.assign_agency", 150), inputAction, opts...)
		el.InitialOption = current
		blocks = append(blocks, slack.NewInputBlock(blockAgency, s.plain(locale, "slack.c.assign_agency", 2000), nil, el))
	}
	handlers, err := s.store.People(ctx, storage.PeopleFilter{Role: duban.RoleHandler, ActiveOnly: true})
	if err != nil {
		return slack.ModalViewRequest{}, err
	}
	var hopts []*slack.OptionBlockObject
	for _, h := range handlers {
		if h.AgencyID != nil && len(hopts) < slackMaxOptions {
			hopts = append(hopts, slack.NewOptionBlockObject(strconv.FormatInt(h.ID, 10),
				slack.NewTextBlockObject(slack.PlainTextType, duban.Truncate(h.Name+" ("+h.AgencyCode+")", 75), false, false), nil))
		}
	}
	if len(hopts) > 0 {
		el := slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, s.plain(locale, "slack.c.handler", 150), inputAction, hopts...)
		blocks = append(blocks, optionalInput(slack.NewInputBlock(blockHandler, s.plain(locale, "slack.c.handler", 2000), nil, el)))
	}
	days := slack.NewNumberInputBlockElement(nil, inputAction, false).WithInitialValue(strconv.Itoa(duban.DefaultWorkingDays)).
		WithMinValue("1").WithMaxValue(strconv.Itoa(duban.MaxAssignWorkingDays))
	blocks = append(blocks, slack.NewInputBlock(blockDays, s.plain(locale, "slack.c.days", 2000), s.plain(locale, "slack.c.days_hint", 2000), days))
	return s.modal(locale, callbackCAssign, "slack.c.assign", strconv.FormatInt(c.ID, 10), blocks, nil), nil
}

// submitComplaintAction takes a reject, assign or close modal: the action
// is taken once, whatever Slack retries, and only by a supervisor; what is
// refused (a bad field, or a state someone else moved the complaint to
// meanwhile) is shown in the modal and changes nothing.
func (s *App) submitComplaintAction(ctx context.Context, ic slack.InteractionCallback) *slack.ViewSubmissionResponse {
	v := selected(ic.View)
	req := duban.ActionRequest{}
	var blocks []string
	switch ic.View.CallbackID {
	case callbackCReject:
		req.Action, req.Reason, blocks = duban.ActionReject, v[blockReason], rejectBlocks
	case callbackCClose:
		req.Action, req.Text, blocks = duban.ActionClose, v[blockText], closeBlocks
	default:
		req.Action, req.Agency, blocks = duban.ActionAssign, v[blockAgency], assignBlocks
		if h := v[blockHandler]; h != "" {
			hid, err := strconv.ParseInt(h, 10, 64)
			if err != nil {
				hid = -1 // refused by Validate, under its block
			}
			req.HandlerID = &hid
		}
		if d := v[blockDays]; d != "" {
			n, err := strconv.Atoi(d)
			if err != nil {
				n = -1 // refused by Validate below, under its block
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
		if !maySupervise(p, req.Action) {
			return duban.ErrForbidden
		}
		id, err := strconv.ParseInt(ic.View.PrivateMetadata, 10, 64)
		if err != nil {
			return duban.ErrNotFound
		}
		_, err = s.cs.With(tx).Act(ctx, jobs.Actor{Person: p}, id, req)
		return err
	})
	locale := localeOf(p)
	var ve *duban.ValidationError
	if errors.As(err, &ve) {
		return s.complaintErrors(locale, ve, blocks)
	}
	if err != nil {
		if id, data, ok := s.refusalText(locale, err); ok {
			return slack.NewErrorsViewSubmissionResponse(map[string]string{blocks[0]: s.t.T(locale, id, data)})
		}
		s.log.Error("slack: complaint action", slog.Any("error", err))
		return s.viewError(locale, blocks[0], "bot.error")
	}
	return nil
}
