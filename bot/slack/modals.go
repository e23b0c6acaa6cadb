package slack

import (
	"strconv"
	"strings"

	"github.com/slack-go/slack"

	"github.com/cityhall/duban"
)

// Modal callback ids: what a view_submission is the answer to.
const (
	callbackHearing  = "duban_hearing"
	callbackDelegate = "duban_delegate"
)

// inputAction is the action_id of every text input; blocks are told apart
// by their block_id, which names the field.
const inputAction = "value"

// Block ids of the hearing modal, one per field of a notice.
const (
	blockCaseNumber = "case_number"
	blockCourt      = "court"
	blockCourtroom  = "courtroom"
	blockAgencies   = "agencies"
	blockStartsAt   = "starts_at"
	blockPlaintiff  = "plaintiff"
	blockCause      = "cause"
)

// Block ids of the delegate modal.
const (
	blockDelegateName   = "name"
	blockDelegateReason = "reason"
)

// Slack Block Kit limits.
const (
	// https://api.slack.com/reference/block-kit/blocks#section: text is at
	// most 3000 characters.
	slackMaxSectionText = 3000
	// https://api.slack.com/reference/surfaces/views: title at most 24
	// characters, submit and close at most 24.
	slackMaxTitle = 24
)

// textField is one plain-text input of a modal.
type textField struct {
	block, label, hint string // hint: a message id, or ""
	maxLen             int
	optional           bool
	multiline          bool
}

// hearingFields are the inputs of the hearing modal, with the limits of
// duban.Notice.Validate.
var hearingFields = []textField{
	{block: blockCaseNumber, label: "slack.hearing.case_number", maxLen: 100},
	{block: blockCourt, label: "slack.hearing.court", maxLen: 200},
	{block: blockCourtroom, label: "slack.hearing.courtroom", maxLen: 100, optional: true},
	{block: blockAgencies, label: "slack.hearing.agencies", hint: "slack.hearing.agencies_hint", maxLen: 500},
	{block: blockStartsAt, label: "slack.hearing.starts_at", hint: "slack.hearing.starts_at_hint", maxLen: 25},
	{block: blockPlaintiff, label: "slack.hearing.plaintiff", maxLen: 500},
	{block: blockCause, label: "slack.hearing.cause", maxLen: 1000, multiline: true},
}

// delegateFields are the inputs of the delegate modal, with the limits of
// jobs.Hearings.Answer.
var delegateFields = []textField{
	{block: blockDelegateName, label: "slack.delegate.name", maxLen: 100},
	{block: blockDelegateReason, label: "slack.delegate.reason", maxLen: 1000, multiline: true},
}

func (s *App) plain(locale, id string, limit int) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.PlainTextType, duban.Truncate(s.t.T(locale, id, nil), limit), false, false)
}

// textInput is the input block of one plain-text field.
func (s *App) textInput(locale string, f textField) *slack.InputBlock {
	el := slack.NewPlainTextInputBlockElement(nil, inputAction)
	el.MaxLength, el.Multiline = f.maxLen, f.multiline
	var hint *slack.TextBlockObject
	if f.hint != "" {
		hint = s.plain(locale, f.hint, 2000)
	}
	in := slack.NewInputBlock(f.block, s.plain(locale, f.label, 2000), hint, el)
	in.Optional = f.optional
	return in
}

// modal is a modal view of blocks followed by the text inputs of fields.
func (s *App) modal(locale, callbackID, title, metadata string, blocks []slack.Block, fields []textField) slack.ModalViewRequest {
	for _, f := range fields {
		blocks = append(blocks, s.textInput(locale, f))
	}
	return slack.ModalViewRequest{
		Type:            slack.VTModal,
		CallbackID:      callbackID,
		PrivateMetadata: metadata,
		Title:           s.plain(locale, title, slackMaxTitle),
		Submit:          s.plain(locale, "slack.modal.submit", slackMaxTitle),
		Close:           s.plain(locale, "slack.modal.close", slackMaxTitle),
		Blocks:          slack.Blocks{BlockSet: blocks},
	}
}

// hearingModal asks office staff for a court's notice.
func (s *App) hearingModal(locale string) slack.ModalViewRequest {
	return s.modal(locale, callbackHearing, "slack.hearing.title", "", nil, hearingFields)
}

// delegateModal asks a head who appears instead and why; the hearing's
// details head it, and its private_metadata names the hearing's agency.
func (s *App) delegateModal(locale string, h *duban.Hearing, ha *duban.HearingAgency) slack.ModalViewRequest {
	details := escape(s.hearings.Render.Details(locale, h, ha))
	intro := slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, duban.Truncate(details, slackMaxSectionText), false, false), nil, nil)
	return s.modal(locale, callbackDelegate, "slack.delegate.title", strconv.FormatInt(ha.ID, 10), []slack.Block{intro}, delegateFields)
}

// values reads the text inputs of a submitted view by block id.
func values(v slack.View) map[string]string {
	out := map[string]string{}
	if v.State == nil {
		return out
	}
	for block, actions := range v.State.Values {
		if a, ok := actions[inputAction]; ok {
			out[block] = strings.TrimSpace(a.Value)
			continue
		}
		for _, a := range actions {
			out[block] = strings.TrimSpace(a.Value)
		}
	}
	return out
}

// splitCodes reads agency codes separated by commas or semicolons (either
// width) or spaces.
func splitCodes(s string) []string {
	var out []string
	for _, c := range strings.FieldsFunc(s, func(r rune) bool { return strings.ContainsRune(",;，；、 \t\n", r) }) {
		if c = strings.TrimSpace(c); c != "" {
			out = append(out, c)
		}
	}
	return out
}

// hearingBlocks maps a notice's fields, as duban.ValidationError names
// them, to the modal's blocks.
var hearingBlocks = map[string]string{
	"case_number": blockCaseNumber, "court": blockCourt, "courtroom": blockCourtroom, "agency": blockAgencies,
	"starts_at": blockStartsAt, "plaintiff": blockPlaintiff, "cause": blockCause,
}

// delegateBlocks maps an answer's fields to the delegate modal's blocks.
var delegateBlocks = map[string]string{"delegate.name": blockDelegateName, "delegate.reason": blockDelegateReason}

// viewErrors turns a validation error into the errors a modal shows under
// its blocks; a field without a block is shown under fallback.
func viewErrors(ve *duban.ValidationError, blocks map[string]string, fallback string) *slack.ViewSubmissionResponse {
	errs := map[string]string{}
	for _, d := range ve.Details {
		block, ok := blocks[d.Field]
		msg := d.Message
		if !ok {
			block, msg = fallback, d.String()
		}
		if prev, ok := errs[block]; ok {
			msg = prev + "; " + msg
		}
		errs[block] = msg
	}
	return slack.NewErrorsViewSubmissionResponse(errs)
}

// viewError shows one message under one block of a modal.
func (s *App) viewError(locale, block, id string) *slack.ViewSubmissionResponse {
	return slack.NewErrorsViewSubmissionResponse(map[string]string{block: s.t.T(locale, id, nil)})
}
