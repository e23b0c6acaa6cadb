package bot

import (
	"context"
	"errors"
	"log/slog"
	"strings"

	"github.com/slack-go/slack"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/jobs"
	"github.com/cityhall/duban/storage"
)

// Callback ids of the complaint modals.
const (
	callbackLogCall  = "duban_c_call"
	callbackLogMedia = "duban_c_media"
	callbackCReject  = "duban_c_reject"
	callbackCAssign  = "duban_c_assign"
	callbackCClose   = "duban_c_close"
)

// Block ids of the complaint modals, named for the fields they fill.
const (
	blockReporterName  = "reporter_name"
	blockReporterPhone = "reporter_phone"
	blockCategory      = "category"
	blockAgency        = "agency"
	blockDescription   = "description"
	blockWhere         = "location"
	blockOutlet        = "outlet"
	blockPublished     = "published"
	blockLink          = "link"
	blockHeadline      = "headline"
	blockReason        = "reason"
	blockHandler       = "handler"
	blockDays          = "working_days"
	blockText          = "text"
)

// complaintBlocks maps the fields jobs names in its errors to blocks.
var complaintBlocks = map[string]string{
	"category": blockCategory, "description": blockDescription, "outlet": blockOutlet, "link": blockLink,
	"reporter.phone": blockReporterPhone, "reporter.name": blockReporterName, "location": blockWhere,
	"agency": blockAgency, "headline": blockHeadline, "reason": blockReason, "handler": blockHandler,
	"working_days": blockDays, "text": blockText,
}

var callFields = []textField{
	{block: blockReporterName, label: "slack.c.reporter_name", maxLen: 100, optional: true},
	{block: blockReporterPhone, label: "slack.c.reporter_phone", hint: "slack.c.reporter_phone_hint", maxLen: 40, optional: true},
	{block: blockAgency, label: "slack.c.agency", maxLen: 64, optional: true},
	{block: blockDescription, label: "slack.c.said", maxLen: 3000, multiline: true},
	{block: blockWhere, label: "slack.c.where", maxLen: 500, optional: true},
}

var mediaFields = []textField{
	{block: blockOutlet, label: "slack.c.outlet", maxLen: 200},
	{block: blockPublished, label: "slack.c.published", maxLen: 40, optional: true},
	{block: blockLink, label: "slack.c.link", maxLen: 1000, optional: true},
	{block: blockHeadline, label: "slack.c.headline", maxLen: 500, optional: true},
	{block: blockAgency, label: "slack.c.agency", maxLen: 64, optional: true},
	{block: blockDescription, label: "slack.c.summary", maxLen: 3000, multiline: true},
}

// categorySelect is the category input of the logging modals.
func (s *Slack) categorySelect(locale string) slack.Block {
	var opts []*slack.OptionBlockObject
	for _, c := range duban.Categories {
		opts = append(opts, slack.NewOptionBlockObject(string(c), s.plain(locale, "category."+string(c), 75), nil))
	}
	el := slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, s.plain(locale, "slack.c.category", 150), inputAction, opts...)
	return slack.NewInputBlock(blockCategory, s.plain(locale, "slack.c.category", 2000), nil, el)
}

// logCommand opens the modal of `/duban log call` or `/duban log media`.
func (s *Slack) logCommand(ctx context.Context, p *duban.Person, kind, trigger string) *ephemeral {
	locale := localeOf(p)
	if p == nil || !p.Can(duban.RoleStaff, duban.RoleSupervisor) {
		return s.ephemeral(locale, "bot.not_yours", nil)
	}
	var view slack.ModalViewRequest
	switch kind {
	case "call":
		view = s.modal(locale, callbackLogCall, "slack.c.log_call", "", []slack.Block{s.categorySelect(locale)}, callFields)
	case "media":
		view = s.modal(locale, callbackLogMedia, "slack.c.log_media", "", []slack.Block{s.categorySelect(locale)}, mediaFields)
	default:
		return s.ephemeral(locale, "slack.help", nil)
	}
	if _, err := s.client.OpenViewContext(ctx, trigger, view); err != nil {
		s.log.Error("slack: open log modal", slog.Any("error", err))
		return s.ephemeral(locale, "bot.error", nil)
	}
	return nil
}

// submitLog takes a logged call or media report in: one complaint per
// view, whatever Slack retries.
func (s *Slack) submitLog(ctx context.Context, ic slack.InteractionCallback, src duban.Source) *slack.ViewSubmissionResponse {
	v := selected(ic.View)
	var created *duban.Complaint
	var p *duban.Person
	_, err := s.markOnce(ctx, viewKey(ic.View), func(tx *storage.Store) error {
		var err error
		if p, err = s.person(ctx, tx, ic.User.ID); err != nil {
			return err
		}
		if p == nil || !p.Can(duban.RoleStaff, duban.RoleSupervisor) {
			return duban.ErrForbidden
		}
		in := jobs.Intake{Source: src, Category: v[blockCategory], Agency: v[blockAgency], Description: v[blockDescription],
			Location: v[blockWhere], IdempotencyKey: "slack:" + viewKey(ic.View), ReporterLocale: localeOf(p)}
		if src == duban.SourceHotlineCall {
			in.ReporterName, in.ReporterPhone = v[blockReporterName], v[blockReporterPhone]
			in.Anonymous = in.ReporterName == "" && in.ReporterPhone == ""
		} else {
			in.Outlet, in.Link, in.Headline = v[blockOutlet], v[blockLink], v[blockHeadline]
			if pub := v[blockPublished]; pub != "" {
				in.Location = strings.TrimSpace(pub + " " + in.Location)
			}
		}
		created, _, err = s.cs.With(tx).Create(ctx, jobs.Actor{Person: p}, in)
		return err
	})
	locale := localeOf(p)
	var ve *duban.ValidationError
	switch {
	case errors.As(err, &ve):
		return viewErrors(ve, complaintBlocks, blockDescription)
	case errors.Is(err, duban.ErrForbidden):
		return s.viewError(locale, blockDescription, "bot.not_yours")
	case err != nil:
		s.log.Error("slack: log complaint", slog.Any("error", err))
		return s.viewError(locale, blockDescription, "bot.error")
	}
	if created != nil {
		s.later(s.direct(ic.User.ID, s.t.T(locale, "slack.c.logged", map[string]any{"Code": duban.FormatTrackingCode(created.TrackingCode)})))
	}
	return nil
}

// selected reads every input of a view, text or select, by block id.
func selected(v slack.View) map[string]string {
	out := values(v)
	if v.State == nil {
		return out
	}
	for block, actions := range v.State.Values {
		for _, a := range actions {
			if a.SelectedOption.Value != "" {
				out[block] = a.SelectedOption.Value
			}
		}
	}
	return out
}
