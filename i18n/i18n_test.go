package i18n

import (
	"maps"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/nicksnyder/go-i18n/v2/i18n/template"

	"github.com/cityhall/duban"
)

// hearing is the data every hearing message receives.
var hearing = map[string]any{
	"CaseNumber": "（2025）沪0101行初123号",
	"Court":      "上海市黄浦区人民法院",
	"Courtroom":  "第三法庭",
	"StartsAt":   "2025-06-03 09:30",
	"Plaintiff":  "张三",
	"Cause":      "行政处罚",
	"Agency":     "市市场监督管理局",
}

func with(base map[string]any, extra map[string]any) map[string]any {
	out := maps.Clone(base)
	maps.Copy(out, extra)
	return out
}

// fields lists every message id with the data its callers pass: the
// contract between this package and the code that renders messages.
var fields = map[string]map[string]any{
	"hearing.notice":                hearing,
	"hearing.reminder":              with(hearing, map[string]any{"Left": "3天", "AnswerLine": "您尚未答复"}),
	"hearing.answer.none":           {},
	"hearing.answer.confirmed":      {},
	"hearing.answer.delegated":      {"Delegate": "李明", "Reason": "参加市政府常务会议"},
	"hearing.deputy_note":           {"Head": "王五", "Agency": "市市场监督管理局"},
	"hearing.reschedule":            with(hearing, map[string]any{"OldStartsAt": "2025-06-01 09:30"}),
	"hearing.cancel":                hearing,
	"hearing.escalation":            with(hearing, map[string]any{"Head": "王五"}),
	"hearing.escalation.no_channel": with(hearing, map[string]any{"Head": "王五"}),
	"hearing.outcome_request":       with(hearing, map[string]any{"Head": "王五"}),
	"hearing.details":               with(hearing, map[string]any{"AnswerLine": "您已确认出庭"}),
	"duration.days":                 {"N": 3},
	"duration.hours":                {"N": 2},
	"duration.minutes":              {"N": 30},
	"button.confirm":                {},
	"button.delegate":               {},
	"button.details":                {},
	"button.outcome.head":           {},
	"button.outcome.deputy":         {},
	"button.outcome.none":           {},
	"bot.help.public":               {},
	"bot.help.bound":                {"Name": "王五"},
	"bot.bound":                     {"Name": "王五"},
	"bot.bind.invalid":              {},
	"person.rebind":                 {"Name": "王五", "Channel": "Telegram"},
	"person.rebind_code":            {"Name": "王五"},
	"delivery.possible_repeat":      {},
	"bot.answer.confirmed":          {},
	"bot.answer.delegate_prompt":    {},
	"bot.answer.delegated":          {"Delegate": "李明", "Reason": "参加市政府常务会议"},
	"bot.answer.delegate_format":    {},
	"bot.not_yours":                 {},
	"bot.too_late":                  {},
	"bot.outcome.recorded":          {"Agency": "市市场监督管理局", "Attendance": "负责人出庭"},
	"bot.error":                     {},
	"bot.unknown_command":           {},
	"attendance.head":               {},
	"attendance.deputy":             {},
	"attendance.none":               {},
	"slack.hearing_registered":      with(hearing, map[string]any{}),
	"bot.cancelled":                 {},
	"bot.outcome.too_early":         {},
	"slack.help":                    {},
	"slack.not_yet":                 {},
	"slack.hearing.title":           {},
	"slack.hearing.case_number":     {},
	"slack.hearing.court":           {},
	"slack.hearing.courtroom":       {},
	"slack.hearing.agencies":        {},
	"slack.hearing.agencies_hint":   {},
	"slack.hearing.starts_at":       {},
	"slack.hearing.starts_at_hint":  {},
	"slack.hearing.plaintiff":       {},
	"slack.hearing.cause":           {},
	"slack.hearing.bad_time":        {},
	"slack.delegate.title":          {},
	"slack.delegate.name":           {},
	"slack.delegate.reason":         {},
	"slack.modal.submit":            {},
	"slack.modal.close":             {},
}

var allLocales = []string{duban.LocaleZH, duban.LocaleEN}

func TestBundle_LocalesDefineTheSameIDs(t *testing.T) {
	b := MustNew()
	if diff := cmp.Diff(b.idsOf(duban.LocaleZH), b.idsOf(duban.LocaleEN)); diff != "" {
		t.Errorf("zh-CN and en define different ids (-zh-CN +en):\n%s", diff)
	}
}

func TestBundle_DefinesExactlyTheDocumentedIDs(t *testing.T) {
	b := MustNew()
	want := make([]string, 0, len(fields))
	for id := range fields {
		want = append(want, id)
	}
	if diff := cmp.Diff(want, b.IDs(), cmpopts.SortSlices(func(a, b string) bool { return a < b })); diff != "" {
		t.Errorf("ids (-documented +bundle):\n%s", diff)
	}
}

// strict fails on a template field the caller does not pass, where the
// default parser would print "<no value>".
var strict = &template.TextParser{Option: "missingkey=error"}

func TestBundle_EveryTemplateRendersWithItsFields(t *testing.T) {
	b := MustNew()
	for id, data := range fields {
		for _, locale := range allLocales {
			t.Run(locale+"/"+id, func(t *testing.T) {
				got, err := b.render(locale, id, data, strict)
				if err != nil {
					t.Fatalf("render: %v", err)
				}
				if strings.TrimSpace(got) == "" || strings.Contains(got, "<no value>") || strings.Contains(got, "{{") {
					t.Errorf("rendered %q", got)
				}
				if lax := b.T(locale, id, data); lax != got {
					t.Errorf("T = %q, strict render = %q", lax, got)
				}
			})
		}
	}
}

func TestBundle_HearingMessagesNameCaseCourtTimeAndAgency(t *testing.T) {
	b := MustNew()
	for id, data := range fields {
		if !strings.HasPrefix(id, "hearing.") || strings.HasPrefix(id, "hearing.answer.") || id == "hearing.deputy_note" {
			continue
		}
		for _, locale := range allLocales {
			got := b.T(locale, id, data)
			for _, f := range []string{"CaseNumber", "Court", "StartsAt", "Agency"} {
				if !strings.Contains(got, data[f].(string)) {
					t.Errorf("%s %s does not name %s:\n%s", locale, id, f, got)
				}
			}
		}
	}
}

func TestT_PicksPluralForm(t *testing.T) {
	b := MustNew()
	tests := []struct {
		locale, id string
		n          any
		want       string
	}{
		{"en", "duration.days", 1, "1 day"},
		{"en", "duration.days", 3, "3 days"},
		{"en", "duration.hours", int64(1), "1 hour"},
		{"en", "duration.minutes", 45, "45 minutes"},
		{"zh-CN", "duration.days", 1, "1天"},
		{"zh-CN", "duration.hours", 5, "5小时"},
	}
	for _, tt := range tests {
		if got := b.T(tt.locale, tt.id, map[string]any{"N": tt.n}); got != tt.want {
			t.Errorf("T(%s, %s, N=%v) = %q, want %q", tt.locale, tt.id, tt.n, got, tt.want)
		}
	}
}

func TestT_ConfirmButtonSaysConfirm(t *testing.T) {
	b := MustNew()
	if got := b.T("zh-CN", "button.confirm", nil); !strings.Contains(got, "确认") {
		t.Errorf("zh-CN button.confirm = %q, want 确认 in it", got)
	}
	if got := b.T("en", "button.confirm", nil); !strings.Contains(got, "Confirm") {
		t.Errorf("en button.confirm = %q, want Confirm in it", got)
	}
}

func TestT_FallsBack(t *testing.T) {
	fsys := fstest.MapFS{
		"locales/zh-CN.yaml": {Data: []byte("only.zh: \"只有中文\"\nboth: \"中文\"\n")},
		"locales/en.yaml":    {Data: []byte("both: \"English\"\n")},
	}
	b, err := load(fsys)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, locale, id, want string
	}{
		{"en message in en", "en", "both", "English"},
		{"regional English reads as en", "en-GB", "both", "English"},
		{"unknown locale reads as zh-CN", "fr", "both", "中文"},
		{"empty locale reads as zh-CN", "", "both", "中文"},
		{"missing in en falls back to zh-CN", "en", "only.zh", "只有中文"},
		{"missing everywhere renders the id", "en", "no.such.id", "no.such.id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := b.T(tt.locale, tt.id, nil); got != tt.want {
				t.Errorf("T(%q, %q) = %q, want %q", tt.locale, tt.id, got, tt.want)
			}
		})
	}
	if b.Has("en", "only.zh") {
		t.Error(`Has("en", "only.zh") = true; Has must not fall back`)
	}
	if !b.Has("zh-CN", "only.zh") {
		t.Error(`Has("zh-CN", "only.zh") = false`)
	}
}

func TestNew_ReportsABrokenFile(t *testing.T) {
	fsys := fstest.MapFS{
		"locales/zh-CN.yaml": {Data: []byte("a: [unclosed\n")},
		"locales/en.yaml":    {Data: []byte("a: \"x\"\n")},
	}
	if _, err := load(fsys); err == nil {
		t.Fatal("load of a broken file succeeded")
	}
}
