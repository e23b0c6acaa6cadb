package slack

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"time"

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
	blockAnonymous     = "anonymous"
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

// optionAnonymous is the value of the call modal's "anonymous" checkbox.
const optionAnonymous = "anonymous"

// complaintBlocks maps the fields jobs names in its errors to blocks.
var complaintBlocks = map[string]string{
	"category": blockCategory, "description": blockDescription, "outlet": blockOutlet, "link": blockLink,
	"reporter.phone": blockReporterPhone, "reporter.name": blockReporterName, "location": blockWhere,
	"agency": blockAgency, "headline": blockHeadline, "occurred_at": blockPublished, "reason": blockReason,
	"handler": blockHandler, "working_days": blockDays, "text": blockText,
}

// The blocks of each complaint modal, the first being where an error
// without a block of its own is shown.
var (
	callBlocks   = []string{blockDescription, blockReporterName, blockReporterPhone, blockAnonymous, blockCategory, blockAgency, blockWhere}
	mediaBlocks  = []string{blockDescription, blockOutlet, blockPublished, blockLink, blockHeadline, blockCategory, blockAgency}
	rejectBlocks = []string{blockReason}
	closeBlocks  = []string{blockText}
	assignBlocks = []string{blockAgency, blockHandler, blockDays}
)

// invalidIDs are the messages shown under a field jobs refused; any other
// field shows slack.c.invalid with the detail.
var invalidIDs = map[string]string{
	"category": "slack.c.invalid.category", "description": "slack.c.invalid.description", "outlet": "slack.c.invalid.outlet",
	"reporter.phone": "slack.c.invalid.reporter_phone", "agency": "slack.c.invalid.agency", "handler": "slack.c.invalid.handler",
	"working_days": "slack.c.invalid.working_days", "reason": "slack.c.invalid.reason", "text": "slack.c.invalid.text",
}

var (
	fieldReporterName  = textField{block: blockReporterName, label: "slack.c.reporter_name", maxLen: 100, optional: true}
	fieldReporterPhone = textField{block: blockReporterPhone, label: "slack.c.reporter_phone", hint: "slack.c.reporter_phone_hint", maxLen: 40, optional: true}
	fieldAgency        = textField{block: blockAgency, label: "slack.c.agency", maxLen: 64, optional: true}
	fieldSaid          = textField{block: blockDescription, label: "slack.c.said", maxLen: 3000, multiline: true}
	fieldWhere         = textField{block: blockWhere, label: "slack.c.where", maxLen: 500, optional: true}
	fieldOutlet        = textField{block: blockOutlet, label: "slack.c.outlet", maxLen: 200}
	fieldHeadline      = textField{block: blockHeadline, label: "slack.c.headline", maxLen: 500, optional: true}
	fieldSummary       = textField{block: blockDescription, label: "slack.c.summary", maxLen: 3000, multiline: true}
)

// categorySelect is the category input of the logging modals.
func (s *App) categorySelect(locale string) slack.Block {
	var opts []*slack.OptionBlockObject
	for _, c := range duban.Categories {
		opts = append(opts, slack.NewOptionBlockObject(string(c), s.plain(locale, "category."+string(c), 75), nil))
	}
	el := slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, s.plain(locale, "slack.c.category", 150), inputAction, opts...)
	return slack.NewInputBlock(blockCategory, s.plain(locale, "slack.c.category", 2000), nil, el)
}

// optionalInput marks an input block optional.
func optionalInput(b *slack.InputBlock) *slack.InputBlock {
	b.Optional = true
	return b
}

// callModal asks for a hotline call: the caller, unless anonymous, and
// what was said.
func (s *App) callModal(locale string) slack.ModalViewRequest {
	anon := slack.NewCheckboxGroupsBlockElement(inputAction,
		slack.NewOptionBlockObject(optionAnonymous, s.plain(locale, "slack.c.anonymous_option", 75), nil))
	blocks := []slack.Block{
		s.textInput(locale, fieldReporterName), s.textInput(locale, fieldReporterPhone),
		optionalInput(slack.NewInputBlock(blockAnonymous, s.plain(locale, "slack.c.anonymous", 2000), nil, anon)),
		s.categorySelect(locale), s.textInput(locale, fieldAgency), s.textInput(locale, fieldSaid), s.textInput(locale, fieldWhere),
	}
	return s.modal(locale, callbackLogCall, "slack.c.log_call", "", blocks, nil)
}

// mediaModal asks for a media report: outlet, date, link, headline and
// a summary.
func (s *App) mediaModal(locale string) slack.ModalViewRequest {
	date := slack.NewDatePickerBlockElement(inputAction)
	link := slack.NewURLTextInputBlockElement(nil, inputAction)
	blocks := []slack.Block{
		s.textInput(locale, fieldOutlet),
		optionalInput(slack.NewInputBlock(blockPublished, s.plain(locale, "slack.c.published", 2000), nil, date)),
		optionalInput(slack.NewInputBlock(blockLink, s.plain(locale, "slack.c.link", 2000), nil, link)),
		s.textInput(locale, fieldHeadline), s.categorySelect(locale), s.textInput(locale, fieldAgency), s.textInput(locale, fieldSummary),
	}
	return s.modal(locale, callbackLogMedia, "slack.c.log_media", "", blocks, nil)
}

// mayLog asks the rule book whether p may log calls and media reports. A
// Slack user who is nobody in duban may not.
func mayLog(p *duban.Person) bool {
	return p != nil && duban.Actor{Person: p}.May(duban.ComplaintLog, duban.Subject{})
}

// logCommand opens the modal of `/duban log call` or `/duban log media`.
func (s *App) logCommand(ctx context.Context, p *duban.Person, kind, trigger string) *ephemeral {
	locale := localeOf(p)
	if !mayLog(p) {
		return s.tell(locale, "bot.not_yours", nil)
	}
	var view slack.ModalViewRequest
	switch kind {
	case "call":
		view = s.callModal(locale)
	case "media":
		view = s.mediaModal(locale)
	default:
		return s.tell(locale, "slack.help", nil)
	}
	// Within Slack's three seconds: the trigger expires.
	if _, err := s.client.OpenViewContext(ctx, trigger, view); err != nil {
		s.log.Error("slack: open log modal", slog.Any("error", err))
		return s.tell(locale, "bot.error", nil)
	}
	return nil
}

// submitLog takes a logged call or media report in: one complaint per
// modal, whatever Slack retries. Refused fields are shown under their
// blocks and nothing is created; the user is told the tracking code in a
// direct message, planned with the complaint.
func (s *App) submitLog(ctx context.Context, ic slack.InteractionCallback, src duban.Source) *slack.ViewSubmissionResponse {
	v := selected(ic.View)
	blocks := callBlocks
	if src == duban.SourceMedia {
		blocks = mediaBlocks
	}
	var p *duban.Person
	var dm *duban.Delivery
	_, err := s.markOnce(ctx, viewKey(ic.View), func(tx *storage.Store) error {
		var err error
		if p, err = s.person(ctx, tx, ic.User.ID); err != nil {
			return err
		}
		if !mayLog(p) {
			return duban.ErrForbidden
		}
		in := jobs.Intake{Source: src, Category: v[blockCategory], Agency: v[blockAgency], Description: v[blockDescription],
			Location: v[blockWhere], IdempotencyKey: "slack:view:" + ic.View.ID, ReporterLocale: localeOf(p)}
		if src == duban.SourceHotlineCall {
			in.ReporterName, in.ReporterPhone = v[blockReporterName], v[blockReporterPhone]
			in.Anonymous = slices.Contains(strings.Split(v[blockAnonymous], ","), optionAnonymous)
		} else {
			in.Outlet, in.Link, in.Headline = v[blockOutlet], v[blockLink], v[blockHeadline]
			if d := v[blockPublished]; d != "" {
				t, err := time.ParseInLocation(time.DateOnly, d, s.loc)
				if err != nil {
					return duban.Invalid("occurred_at", "must be a date like 2026-01-02")
				}
				in.OccurredAt = &t
			}
		}
		created, _, err := s.cs.With(tx).Create(ctx, jobs.Actor{Person: p}, in)
		if err != nil {
			return err
		}
		// A submission delivered again with another hash finds the same
		// complaint (its idempotency key) and the same message (its key).
		locale := localeOf(p)
		dm, err = s.planDirect(ctx, tx, directKey(ic.View), ic.User.ID, locale,
			s.t.T(locale, "slack.c.logged", map[string]any{"Code": duban.FormatTrackingCode(created.TrackingCode)}))
		return err
	})
	locale := localeOf(p)
	var ve *duban.ValidationError
	switch {
	case errors.As(err, &ve):
		return s.complaintErrors(locale, ve, blocks)
	case errors.Is(err, duban.ErrForbidden):
		return s.viewError(locale, blockDescription, "bot.not_yours")
	case err != nil:
		s.log.Error("slack: log complaint", slog.Any("error", err))
		return s.viewError(locale, blockDescription, "bot.error")
	}
	s.send(ctx, dm)
	return nil
}

// complaintErrors shows what jobs refused under the blocks of a modal, in
// the user's language; blocks lists the modal's blocks, the first taking
// whatever has no block of its own.
func (s *App) complaintErrors(locale string, ve *duban.ValidationError, blocks []string) *slack.ViewSubmissionResponse {
	errs := map[string]string{}
	for _, d := range ve.Details {
		block, ok := complaintBlocks[d.Field]
		msg := s.t.T(locale, "slack.c.invalid", map[string]any{"Detail": d.String()})
		if id, known := invalidIDs[d.Field]; ok && known && slices.Contains(blocks, block) {
			msg = s.t.T(locale, id, nil)
		} else if !ok || !slices.Contains(blocks, block) {
			block = blocks[0]
		}
		if prev, ok := errs[block]; ok && prev != msg {
			msg = prev + "; " + msg
		}
		errs[block] = msg
	}
	return slack.NewErrorsViewSubmissionResponse(errs)
}

// selected reads every input of a view by block id: text, number and URL
// inputs, selects, date pickers, and checkboxes (their values joined with
// commas).
func selected(v slack.View) map[string]string {
	out := values(v)
	if v.State == nil {
		return out
	}
	for block, actions := range v.State.Values {
		for _, a := range actions {
			switch {
			case a.SelectedOption.Value != "":
				out[block] = a.SelectedOption.Value
			case a.SelectedDate != "":
				out[block] = a.SelectedDate
			case len(a.SelectedOptions) > 0:
				vals := make([]string, len(a.SelectedOptions))
				for i, o := range a.SelectedOptions {
					vals[i] = o.Value
				}
				out[block] = strings.Join(vals, ",")
			}
		}
	}
	return out
}
