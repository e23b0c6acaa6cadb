package i18n

import "maps"

// The Slack side of the complaint queue: the /duban log, queue and show
// commands and the supervision channel's buttons and modals.
func init() {
	c := map[string]any{"Code": "7K3M-9QXD-2WAB", "ID": 12, "Status": "已受理", "Category": "乱罚款", "Source": "热线电话",
		"Agency": "SJ", "DueAt": "2026-12-08", "Overdue": true, "Description": "乱罚款", "Location": "人民广场",
		"OccurredAt": "2026-12-01", "Outlet": "城市晚报", "Headline": "排队三小时", "Link": "https://example.org/1"}
	ids := map[string]map[string]any{
		"slack.c.logged":        {"Code": "7K3M-9QXD-2WAB"},
		"slack.c.done":          {"Code": "7K3M-9QXD-2WAB", "Action": "受理", "Status": "已受理"},
		"slack.c.not_allowed":   {"Action": "受理", "Status": "已受理", "Allowed": "交办、合并、备注"},
		"slack.c.no_agency":     {"Code": "XX"},
		"slack.c.invalid":       {"Detail": "agency: unknown agency"},
		"slack.c.queue_head":    {"Filter": "已逾期"},
		"slack.c.queue.agency":  {"Code": "GA"},
		"slack.c.queue_line":    c,
		"slack.c.queue_more":    {"Max": 20},
		"slack.c.show":          with(c, map[string]any{"Attachments": 2}),
		"slack.c.show_reporter": {"Name": "王某", "Phone": "13800000000", "Telegram": true},
		"slack.c.show_event":    {"At": "2026-12-01 09:00", "Action": "受理", "Actor": "赵监督", "Text": ""},
	}
	for _, id := range []string{"log_call", "log_media", "category", "reporter_name", "reporter_phone", "reporter_phone_hint",
		"anonymous", "anonymous_option", "agency", "agency_code", "assign_agency", "said", "where", "outlet", "published", "link",
		"headline", "summary", "reject", "reason", "close", "close_text", "assign", "handler", "days", "days_hint", "not_found",
		"list_sep", "queue.open", "queue.mine", "queue.overdue", "queue_empty", "show_anonymous", "timeline"} {
		ids["slack.c."+id] = map[string]any{}
	}
	for _, f := range []string{"category", "description", "outlet", "reporter_phone", "agency", "handler", "working_days", "reason", "text"} {
		ids["slack.c.invalid."+f] = map[string]any{}
	}
	for _, a := range []string{"receive", "accept", "reject", "assign", "reply", "close", "reopen", "merge", "urge", "escalate",
		"extend", "note", "rate", "reply_paper"} {
		ids["slack.c.action."+a] = map[string]any{}
	}
	maps.Copy(fields, ids)
}
