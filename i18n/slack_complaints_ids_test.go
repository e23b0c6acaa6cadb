package i18n

import "maps"

// The Slack side of the complaint queue.
func init() {
	c := map[string]any{"Code": "7K3M-9QXD-2WAB", "ID": 12, "Status": "已受理", "Category": "乱罚款", "Source": "热线电话",
		"Agency": "SJ", "DueAt": "2026-12-08", "Description": "乱罚款"}
	ids := map[string]map[string]any{
		"slack.c.logged": {"Code": "7K3M-9QXD-2WAB"}, "slack.c.done": {"Code": "7K3M-9QXD-2WAB", "Status": "已受理"},
		"slack.c.not_allowed": {"Allowed": "reply, note"}, "slack.c.queue_line": c, "slack.c.show": c,
		"slack.c.show_reporter": {"Name": "王某", "Phone": "13800000000"},
		"slack.c.show_event":    {"At": "2026-12-01 09:00", "Action": "accept", "Actor": "person", "Text": ""},
	}
	for _, id := range []string{"log_call", "log_media", "category", "reporter_name", "reporter_phone", "reporter_phone_hint", "agency",
		"said", "where", "outlet", "published", "link", "headline", "summary", "reject", "reason", "close", "close_text", "assign",
		"handler", "days", "days_hint", "not_found", "queue_empty"} {
		ids["slack.c."+id] = map[string]any{}
	}
	maps.Copy(fields, ids)
}
