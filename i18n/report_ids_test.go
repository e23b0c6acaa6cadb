package i18n

import "maps"

// The messages of the public hotline bot (bot/telegram/report*.go, bot/telegram/status.go),
// with the data their callers pass.
func init() {
	ids := map[string]map[string]any{
		"report.start": {}, "report.ask.agency": {}, "report.agency.invalid": {"Max": 2000},
		"report.ask.text": {"Max": 20000}, "report.text.added": {"Count": 120}, "report.text.empty": {},
		"report.text.invalid": {}, "report.text.too_long": {"Max": 20000, "Count": 19990},
		"report.ask.where": {}, "report.where.too_long": {"Max": 2000}, "report.where.bad_location": {},
		"report.ask.files": {"MaxMB": 10, "Max": 10}, "report.files.added": {"Count": 2},
		"report.files.too_big": {"MaxMB": 10}, "report.files.too_many": {"Max": 10}, "report.files.expected": {},
		"report.ask.contact": {}, "report.contact.not_own": {}, "report.contact.expected": {},
		"report.contact.phone": {}, "report.contact.chat": {}, "report.contact.anonymous": {},
		"report.summary": {"Category": "乱罚款", "Agency": "市公安局", "Where": "人民广场，昨天下午", "Files": 2,
			"Contact": "王五 13800000000", "Description": "交警无故罚款"},
		"report.summary.none": {}, "report.summary.point": {"Lat": "31.23040", "Lon": "121.47370"},
		"report.summary.phone": {"Name": "王五", "Phone": "13800000000"}, "report.summary.chat": {}, "report.summary.anonymous": {},
		"report.created": {"Code": "7K3M-9QXD-2WAB"}, "report.none": {}, "report.stale": {}, "report.idle_dropped": {},
		"report.help.bound":   {},
		"report.status.usage": {}, "report.status.not_found": {}, "report.status.too_many": {"Max": 10},
		"report.status.result": {"Code": "7K3M-9QXD-2WAB", "Status": "已受理", "Category": "乱罚款",
			"Merged": "该事项已与 AAAA-BBBB-CCCC 合并办理", "Timeline": "2026-12-01 09:00 收到反映"},
		"report.status.merged": {"Survivor": "AAAA-BBBB-CCCC"},
		"report.status.event":  {"At": "2026-12-01 09:00", "Action": "有关单位答复", "Text": "已退还罚款"},
		"report.rate.thanks":   {"Rating": 5}, "report.rate.already": {}, "report.rate.unavailable": {},
	}
	for _, b := range []string{"agency_unknown", "done_text", "skip", "done", "share_contact", "chat_only", "anonymous",
		"confirm", "edit", "cancel"} {
		ids["report.button."+b] = map[string]any{}
	}
	for _, a := range []string{"receive", "accept", "reject", "assign", "reply", "close", "reopen", "merge"} {
		ids["report.status.action."+a] = map[string]any{}
	}
	maps.Copy(fields, ids)
}
