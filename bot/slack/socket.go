package slack

import (
	"context"
	"log/slog"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"

	"github.com/cityhall/duban/bot"
)

// RunSocketMode receives commands, interactions and events over Slack's
// Socket Mode, with the app-level token, instead of HTTP; they go to the
// same functions as the HTTP handlers', and each request is acknowledged
// with what the HTTP handler would have answered. It reconnects with a
// backoff and returns nil when ctx ends.
func (s *App) RunSocketMode(ctx context.Context, appToken string) error {
	opts := []slack.Option{slack.OptionAppLevelToken(appToken)}
	if s.apiURL != "" {
		opts = append(opts, slack.OptionAPIURL(s.apiURL))
	}
	smc := socketmode.New(slack.New("", opts...),
		socketmode.OptionLog(slog.NewLogLogger(s.log.Handler(), slog.LevelDebug)))

	done := make(chan struct{})
	go func() {
		defer close(done)
		var b bot.Backoff
		for ctx.Err() == nil {
			err := smc.RunContext(ctx)
			if ctx.Err() != nil {
				return
			}
			s.log.Warn("slack: socket mode connection ended; reconnecting", slog.Any("error", err))
			if !bot.Sleep(ctx, b.Next()) {
				return
			}
		}
	}()
	for {
		select {
		case <-ctx.Done():
			<-done
			return nil
		case evt := <-smc.Events:
			s.socketEvent(ctx, smc, evt)
		}
	}
}

// socketEvent routes one Socket Mode event and acknowledges its request.
func (s *App) socketEvent(ctx context.Context, smc *socketmode.Client, evt socketmode.Event) {
	switch evt.Type {
	case socketmode.EventTypeSlashCommand:
		var reply any
		if cmd, ok := evt.Data.(slack.SlashCommand); ok {
			if msg := s.slashCommand(ctx, cmd); msg != nil {
				reply = msg
			}
		}
		s.ack(ctx, smc, evt.Request, reply)
	case socketmode.EventTypeInteractive:
		var reply any
		if ic, ok := evt.Data.(slack.InteractionCallback); ok {
			if resp := s.interaction(ctx, ic); resp != nil {
				reply = resp
			}
		}
		s.ack(ctx, smc, evt.Request, reply)
	case socketmode.EventTypeEventsAPI:
		s.ack(ctx, smc, evt.Request, nil) // no event is acted on yet
	case socketmode.EventTypeInvalidAuth:
		s.log.Error("slack: socket mode: the app-level token was refused")
	case socketmode.EventTypeConnectionError, socketmode.EventTypeIncomingError, socketmode.EventTypeErrorBadMessage,
		socketmode.EventTypeErrorWriteFailed:
		s.log.Warn("slack: socket mode", slog.String("event", string(evt.Type)), slog.Any("data", evt.Data))
	default:
		s.log.Debug("slack: socket mode", slog.String("event", string(evt.Type)))
	}
}

// ack acknowledges req with payload, none when it is nil.
func (s *App) ack(ctx context.Context, smc *socketmode.Client, req *socketmode.Request, payload any) {
	if req == nil {
		return
	}
	if err := smc.AckCtx(ctx, req.EnvelopeID, payload); err != nil {
		s.log.Warn("slack: socket mode ack", slog.Any("error", err))
	}
}
