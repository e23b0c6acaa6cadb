package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"

	"github.com/hibiken/asynq"

	"github.com/cityhall/duban"
)

// postEscalation enqueues the channel post of an escalation; its id names
// the step, so a retried or reconciled escalation posts once.
func (hs *Hearings) postEscalation(ctx context.Context, haID int64, key string, noChannel bool) {
	if hs.supervision == nil || hs.channel == "" {
		return
	}
	if err := hs.queue.enqueue(ctx, NewChannelEscalationTask(haID, key, noChannel)); err != nil {
		hs.log.Warn("enqueue channel escalation", slog.Int64("hearing_agency_id", haID), slog.Any("error", err))
	}
}

// HandleChannelEscalation posts the escalation of an unanswered (or
// unreachable) head to the supervision channel, in the office's language.
func (hs *Hearings) HandleChannelEscalation(ctx context.Context, t *asynq.Task) error {
	var p EscalationPayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil || p.HearingAgencyID == 0 {
		return fmt.Errorf("jobs: escalation payload: %w", asynq.SkipRetry)
	}
	if hs.supervision == nil {
		return nil
	}
	ha, err := hs.store.HearingAgencyByID(ctx, p.HearingAgencyID)
	if err != nil {
		return err
	}
	h, err := hs.store.HearingByID(ctx, ha.HearingID)
	if err != nil {
		return err
	}
	if h.Status != duban.HearingScheduled || (!p.NoChannel && ha.Answer != duban.AnswerNone) {
		return nil // answered or cancelled since
	}
	heads, err := hs.store.HeadsOf(ctx, ha.AgencyID)
	if err != nil {
		return err
	}
	msg := hs.Render.Escalation(duban.LocaleZH, h, ha, headNames(heads), p.NoChannel)
	msg.Buttons = nil // the channel's readers act on their own messages' buttons
	// Through the delivery log (Outbox.Post), once per escalation step.
	key := fmt.Sprintf("hesc:%d:%v", p.HearingAgencyID, p.NoChannel)
	if w := t.ResultWriter(); w != nil {
		key = w.TaskID()
	}
	_, err = hs.Outbox.Post(ctx, key, duban.ChannelSlack, duban.Address{Name: "supervision", SlackUserID: hs.channel}, msg)
	return err
}
