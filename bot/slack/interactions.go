package slack

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/slack-go/slack"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/bot"
	"github.com/cityhall/duban/jobs"
	"github.com/cityhall/duban/storage"
)

// InteractionsHandler serves buttons and modals (POST
// /slack/interactions): a view submission with errors is answered with
// them, anything else with an empty 200 (which closes a modal).
func (s *App) InteractionsHandler() http.Handler {
	return s.verified(func(w http.ResponseWriter, r *http.Request, _ []byte) {
		ic, err := slack.InteractionCallbackParse(r)
		if err != nil {
			http.Error(w, "not an interaction payload", http.StatusBadRequest)
			return
		}
		if resp := s.interaction(r.Context(), ic); resp != nil {
			writeJSON(w, resp)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
}

// interaction handles one interaction and returns what a view submission
// is answered with, nil to close the modal.
func (s *App) interaction(ctx context.Context, ic slack.InteractionCallback) *slack.ViewSubmissionResponse {
	switch ic.Type {
	case slack.InteractionTypeBlockActions:
		s.blockAction(ctx, ic)
	case slack.InteractionTypeViewSubmission:
		switch ic.View.CallbackID {
		case callbackHearing:
			return s.submitHearing(ctx, ic)
		case callbackDelegate:
			return s.submitDelegate(ctx, ic)
		case callbackLogCall, callbackLogMedia, callbackCReject, callbackCAssign, callbackCClose:
			if s.cs == nil {
				return nil
			}
			switch ic.View.CallbackID {
			case callbackLogCall:
				return s.submitLog(ctx, ic, duban.SourceHotlineCall)
			case callbackLogMedia:
				return s.submitLog(ctx, ic, duban.SourceMedia)
			}
			return s.submitComplaintAction(ctx, ic)
		}
	}
	return nil
}

// actionKey identifies a button press for MarkProcessed.
func actionKey(ic slack.InteractionCallback, a *slack.BlockAction) string {
	if ic.TriggerID != "" {
		return "action:" + ic.TriggerID
	}
	return "action:" + ic.User.ID + ":" + a.ActionTs
}

// viewKey identifies a modal submission for MarkProcessed.
func viewKey(v slack.View) string { return "view:" + v.ID + ":" + v.Hash }

// actionResult is what a button press leads to, after the commit.
type actionResult struct {
	reply *ephemeral              // posted to response_url
	view  *slack.ModalViewRequest // opened with the trigger
	p     *duban.Person           // who pressed
}

// blockAction handles a button of a reminder, an escalation or an outcome
// request. Its value is duban callback data, as on Telegram. The database
// work is done at once, in one transaction with the press's trigger id; the
// answer is posted to response_url after the commit.
func (s *App) blockAction(ctx context.Context, ic slack.InteractionCallback) {
	if len(ic.ActionCallback.BlockActions) == 0 {
		return
	}
	a := ic.ActionCallback.BlockActions[0]
	data := a.Value
	if data == "" {
		data = a.ActionID
	}
	if cb, err := duban.ParseComplaintCallback(data); err == nil && s.cs != nil {
		s.complaintButton(ctx, ic, a, cb)
		return
	}
	var res actionResult
	fresh, err := s.markOnce(ctx, actionKey(ic, a), func(tx *storage.Store) error {
		var err error
		res, err = s.act(ctx, tx, ic, data)
		return err
	})
	if err != nil {
		s.log.Error("slack: button", slog.Any("error", err))
		s.later(s.respond(ic.ResponseURL, s.tell(duban.LocaleZH, "bot.error", nil)))
		return
	}
	if !fresh {
		return
	}
	if res.view != nil {
		if _, err := s.client.OpenViewContext(ctx, ic.TriggerID, *res.view); err != nil {
			s.log.Error("slack: open delegate modal", slog.Any("error", err))
			res.reply = s.tell(localeOf(res.p), "bot.error", nil)
		}
	}
	if res.reply != nil {
		s.later(s.respond(ic.ResponseURL, res.reply))
	}
}

// act does what a button asks, as far as the presser may.
func (s *App) act(ctx context.Context, tx *storage.Store, ic slack.InteractionCallback, data string) (actionResult, error) {
	p, err := s.person(ctx, tx, ic.User.ID)
	if err != nil {
		return actionResult{}, err
	}
	locale := localeOf(p)
	say := func(id string, data map[string]any) actionResult {
		return actionResult{reply: s.tell(locale, id, data), p: p}
	}
	refused := func(err error) (actionResult, error) {
		id, ok := bot.ReplyFor(err)
		if !ok {
			return actionResult{}, err
		}
		return say(id, nil), bot.ErrUndo
	}
	cb, err := duban.ParseCallback(data)
	if err != nil {
		return say("bot.error", nil), nil
	}
	if p == nil {
		return say("bot.not_yours", nil), nil
	}
	actor := jobs.Actor{Person: p}
	switch cb.Verb {
	case duban.VerbConfirm:
		_, ha, err := bot.HearingOf(ctx, tx, cb.HearingAgencyID)
		if err != nil {
			return refused(err)
		}
		if !bot.MayAnswer(p, ha) {
			return say("bot.not_yours", nil), nil
		}
		_, _, err = s.hearings.With(tx).Answer(ctx, actor, jobs.AnswerRequest{HearingAgencyID: cb.HearingAgencyID, Answer: duban.AnswerConfirmed})
		if err != nil {
			return refused(err)
		}
		return say("bot.answer.confirmed", nil), nil
	case duban.VerbDelegate:
		h, ha, err := bot.HearingOf(ctx, tx, cb.HearingAgencyID)
		if err != nil {
			return refused(err)
		}
		if !bot.MayAnswer(p, ha) {
			return say("bot.not_yours", nil), nil
		}
		if err := bot.Answerable(h, s.clock.Now()); err != nil {
			return say("bot.too_late", nil), nil
		}
		v := s.delegateModal(locale, h, ha)
		return actionResult{view: &v, p: p}, nil
	case duban.VerbDetails:
		h, ha, err := bot.HearingOf(ctx, tx, cb.HearingAgencyID)
		if err != nil {
			return refused(err)
		}
		if !bot.MaySee(p, ha) {
			return say("bot.not_yours", nil), nil
		}
		return actionResult{reply: &ephemeral{ResponseType: slack.ResponseTypeEphemeral, Text: escape(s.hearings.Render.Details(locale, h, ha))}, p: p}, nil
	case duban.VerbOutcome:
		h, ha, err := bot.HearingOf(ctx, tx, cb.HearingAgencyID)
		if err != nil {
			return refused(err)
		}
		if !bot.MayRecordOutcome(p, ha) {
			return say("bot.not_yours", nil), nil
		}
		_, ha, err = s.hearings.With(tx).RecordOutcomeFor(ctx, actor, cb.HearingAgencyID, cb.Attendance)
		var se *duban.StateError
		if errors.As(err, &se) && s.clock.Now().Before(h.StartsAt) && h.Status == duban.HearingScheduled {
			return say("bot.outcome.too_early", nil), bot.ErrUndo
		}
		if err != nil {
			return refused(err)
		}
		res := say("bot.outcome.recorded", map[string]any{"Agency": ha.AgencyName, "Attendance": s.t.T(locale, bot.AttendanceID(cb.Attendance), nil)})
		// Replacing the request takes its buttons away, as on Telegram.
		res.reply.ResponseType, res.reply.ReplaceOriginal = "", true
		if orig := strings.TrimSpace(ic.Message.Text); orig != "" {
			res.reply.Text = orig + "\n\n" + res.reply.Text
		}
		return res, nil
	}
	return say("bot.error", nil), nil
}

// submitHearing registers the notice of the hearing modal. Invalid input is
// shown under its field and changes nothing; a submission Slack delivers
// twice registers once. The user hears back in a direct message, planned
// with the hearing.
func (s *App) submitHearing(ctx context.Context, ic slack.InteractionCallback) *slack.ViewSubmissionResponse {
	p, err := s.person(ctx, s.store, ic.User.ID)
	if err != nil {
		s.log.Error("slack: hearing modal", slog.Any("error", err))
		return s.viewError(duban.LocaleZH, blockCaseNumber, "bot.error")
	}
	locale := localeOf(p)
	if p == nil {
		return s.viewError(locale, blockCaseNumber, "bot.not_yours")
	}
	v := values(ic.View)
	start, err := duban.ParseTime(v[blockStartsAt], s.loc)
	if err != nil {
		return s.viewError(locale, blockStartsAt, "slack.hearing.bad_time")
	}
	n := duban.Notice{CaseNumber: v[blockCaseNumber], Court: v[blockCourt], Courtroom: v[blockCourtroom],
		Agencies: splitCodes(v[blockAgencies]), StartsAt: start, Plaintiff: v[blockPlaintiff], Cause: v[blockCause]}
	var dm *duban.Delivery
	fresh, err := s.markOnce(ctx, viewKey(ic.View), func(tx *storage.Store) error {
		h, _, err := s.hearings.With(tx).Register(ctx, jobs.Actor{Person: p}, n)
		if err != nil {
			return err
		}
		names := make([]string, len(h.Agencies))
		for i, ha := range h.Agencies {
			names[i] = ha.AgencyName
		}
		text := s.t.T(locale, "slack.hearing_registered", map[string]any{"CaseNumber": h.CaseNumber, "Court": h.Court,
			"StartsAt": s.hearings.Render.Time(locale, h.StartsAt), "Agency": strings.Join(names, "、")})
		dm, err = s.planDirect(ctx, tx, directKey(ic.View), ic.User.ID, locale, text)
		return err
	})
	var ve *duban.ValidationError
	switch {
	case errors.As(err, &ve):
		return viewErrors(ve, hearingBlocks, blockCaseNumber)
	case err != nil:
		id, ok := bot.ReplyFor(err)
		if !ok {
			s.log.Error("slack: register hearing", slog.Any("error", err))
		}
		return s.viewError(locale, blockCaseNumber, cmp.Or(id, "bot.error"))
	case !fresh:
		return nil
	}
	s.send(ctx, dm)
	return nil
}

// submitDelegate records who appears instead of the head, from the modal
// opened by the delegate button, and tells the head in a direct message
// planned with the answer.
func (s *App) submitDelegate(ctx context.Context, ic slack.InteractionCallback) *slack.ViewSubmissionResponse {
	p, err := s.person(ctx, s.store, ic.User.ID)
	if err != nil {
		s.log.Error("slack: delegate modal", slog.Any("error", err))
		return s.viewError(duban.LocaleZH, blockDelegateName, "bot.error")
	}
	locale := localeOf(p)
	haID, perr := strconv.ParseInt(ic.View.PrivateMetadata, 10, 64)
	if p == nil || perr != nil {
		return s.viewError(locale, blockDelegateName, "bot.not_yours")
	}
	v := values(ic.View)
	var dm *duban.Delivery
	fresh, err := s.markOnce(ctx, viewKey(ic.View), func(tx *storage.Store) error {
		_, ha, err := s.hearings.With(tx).Answer(ctx, jobs.Actor{Person: p}, jobs.AnswerRequest{HearingAgencyID: haID,
			Answer: duban.AnswerDelegated, DelegateName: v[blockDelegateName], DelegateReason: v[blockDelegateReason]})
		if err != nil {
			return err
		}
		dm, err = s.planDirect(ctx, tx, directKey(ic.View), ic.User.ID, locale,
			s.t.T(locale, "bot.answer.delegated", map[string]any{"Delegate": ha.DelegateName, "Reason": ha.DelegateReason}))
		return err
	})
	var ve *duban.ValidationError
	switch {
	case errors.As(err, &ve):
		return viewErrors(ve, delegateBlocks, blockDelegateName)
	case err != nil:
		id, ok := bot.ReplyFor(err)
		if !ok {
			s.log.Error("slack: delegate", slog.Any("error", err))
		}
		return s.viewError(locale, blockDelegateName, cmp.Or(id, "bot.error"))
	case !fresh:
		return nil
	}
	s.send(ctx, dm)
	return nil
}
