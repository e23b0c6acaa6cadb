package i18n

import "maps"

// The messages of e-mail, calendars and the answer page
// (notifier/email.go, icalendar/, api/answer_page.go), with the data their
// callers pass.
func init() {
	ids := map[string]map[string]any{
		"mail.answer.intro": {}, "mail.answer.confirm": {}, "mail.answer.delegate": {},
		"calendar.name.person": {"Name": "张局长"}, "calendar.name.agency": {"Agency": "市公安局"},
	}
	for _, k := range []string{"notice", "reminder", "reschedule", "cancel", "escalation", "outcome_request", "complaint",
		"complaint_update", "assignment", "urge", "followup", "callback", "low_rating", "rebind", "other"} {
		ids["mail.subject."+k] = map[string]any{"Ref": "(2026)沪0101行初12号"}
	}
	hearing := map[string]any{"CaseNumber": "(2026)沪0101行初12号", "Court": "黄浦区人民法院", "Courtroom": "第三法庭",
		"Agency": "市公安局", "Plaintiff": "李四", "Cause": "行政处罚", "StartsAt": "2026-12-01 09:30"}
	ids["calendar.summary"], ids["calendar.description"] = hearing, hearing
	for _, k := range []string{"title", "confirm.button", "delegate.heading", "delegate.name", "delegate.reason",
		"delegate.button", "done", "invalid_input", "closed", "invalid", "expired", "forbidden", "failed"} {
		ids["answer."+k] = map[string]any{}
	}
	maps.Copy(fields, ids)
}
