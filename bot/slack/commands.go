package slack

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"

	"github.com/slack-go/slack"

	"github.com/cityhall/duban"
)

// CommandsHandler serves /duban (POST /slack/commands).
func (s *App) CommandsHandler() http.Handler {
	return s.verified(func(w http.ResponseWriter, r *http.Request, _ []byte) {
		cmd, err := slack.SlashCommandParse(r)
		if err != nil {
			http.Error(w, "not a slash command", http.StatusBadRequest)
			return
		}
		if msg := s.slashCommand(r.Context(), cmd); msg != nil {
			writeJSON(w, msg)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
}

// EventsHandler serves the Events API (POST /slack/events): it answers
// Slack's url_verification challenge and acknowledges every other event,
// which duban does not act on yet.
func (s *App) EventsHandler() http.Handler {
	return s.verified(func(w http.ResponseWriter, _ *http.Request, body []byte) {
		var ev struct {
			Type      string `json:"type"`
			Challenge string `json:"challenge"`
		}
		if err := json.Unmarshal(body, &ev); err != nil {
			http.Error(w, "body is not an event", http.StatusBadRequest)
			return
		}
		if ev.Type == "url_verification" {
			writeJSON(w, map[string]string{"challenge": ev.Challenge})
			return
		}
		w.WriteHeader(http.StatusOK)
	})
}

// slashCommand answers /duban: nil when the answer is a modal (or nothing),
// otherwise the message only the user sees.
func (s *App) slashCommand(ctx context.Context, cmd slack.SlashCommand) *ephemeral {
	p, err := s.person(ctx, s.store, cmd.UserID)
	if err != nil {
		s.log.Error("slack: command", slog.Any("error", err))
		return s.tell(duban.LocaleZH, "bot.error", nil)
	}
	locale := localeOf(p)
	sub := ""
	f := strings.Fields(cmd.Text)
	if len(f) > 0 {
		sub = strings.ToLower(f[0])
	}
	switch sub {
	case "hearing":
		if p == nil || !(duban.Actor{Person: p}).May(duban.HearingRegister, duban.Subject{}) {
			return s.tell(locale, "bot.not_yours", nil)
		}
		// Within Slack's three seconds: the trigger expires.
		if _, err := s.client.OpenViewContext(ctx, cmd.TriggerID, s.hearingModal(locale)); err != nil {
			s.log.Error("slack: open hearing modal", slog.Any("error", err))
			return s.tell(locale, "bot.error", nil)
		}
		return nil
	case "queue", "show", "log":
		if s.cs == nil {
			return s.tell(locale, "slack.not_yet", nil)
		}
		switch sub {
		case "queue":
			return s.queueCommand(ctx, p, f[1:])
		case "show":
			return s.showCommand(ctx, p, f[1:])
		}
		kind := ""
		if len(f) > 1 {
			kind = strings.ToLower(f[1])
		}
		return s.logCommand(ctx, p, kind, cmd.TriggerID)
	}
	return s.tell(locale, "slack.help", nil)
}
