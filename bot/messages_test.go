package bot_test

import (
	"strings"
	"testing"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/bot/bottest"
)

// TestMessages_EveryIDTheBotSaysExistsInBothLocales guards against a gap
// in the bundles, which would show the user a bare message id.
func TestMessages_EveryIDTheBotSaysExistsInBothLocales(t *testing.T) {
	hearing := map[string]any{"CaseNumber": "（2026）沪0101行初7号", "Court": "市中级人民法院", "StartsAt": "2026-12-10 09:30", "Agency": "市公安局"}
	ids := map[string]map[string]any{
		"bot.help.public": nil, "bot.help.bound": {"Name": "张局长"}, "bot.bound": {"Name": "张局长"}, "bot.bind.invalid": nil,
		"bot.answer.confirmed": nil, "bot.answer.delegate_prompt": nil, "bot.answer.delegated": {"Delegate": "李四", "Reason": "出差"},
		"bot.answer.delegate_format": nil, "bot.not_yours": nil, "bot.too_late": nil, "bot.error": nil, "bot.unknown_command": nil,
		"bot.outcome.recorded": {"Agency": "市公安局", "Attendance": "负责人出庭"}, "bot.outcome.too_early": nil, "bot.cancelled": nil,
		"attendance.head": nil, "attendance.deputy": nil, "attendance.none": nil,
		"slack.help": nil, "slack.not_yet": nil, "slack.hearing_registered": hearing,
		"slack.hearing.title": nil, "slack.hearing.case_number": nil, "slack.hearing.court": nil, "slack.hearing.courtroom": nil,
		"slack.hearing.agencies": nil, "slack.hearing.agencies_hint": nil, "slack.hearing.starts_at": nil,
		"slack.hearing.starts_at_hint": nil, "slack.hearing.plaintiff": nil, "slack.hearing.cause": nil, "slack.hearing.bad_time": nil,
		"slack.delegate.title": nil, "slack.delegate.name": nil, "slack.delegate.reason": nil,
		"slack.modal.submit": nil, "slack.modal.close": nil,
	}
	for id, data := range ids {
		for _, locale := range []string{duban.LocaleZH, duban.LocaleEN} {
			if !bottest.Bundle.Has(locale, id) {
				t.Errorf("%s has no %s", locale, id)
				continue
			}
			if got := bottest.Bundle.T(locale, id, data); strings.Contains(got, "<no value>") || strings.TrimSpace(got) == "" {
				t.Errorf("%s %s renders %q", locale, id, got)
			}
		}
	}
	for _, locale := range []string{duban.LocaleZH, duban.LocaleEN} {
		for _, id := range []string{"slack.hearing.title", "slack.delegate.title", "slack.modal.submit", "slack.modal.close"} {
			if n := len([]rune(bottest.Bundle.T(locale, id, nil))); n > 24 { // Slack's limit for a modal's title and buttons
				t.Errorf("%s %s is %d characters, Slack allows 24", locale, id, n)
			}
		}
	}
}
