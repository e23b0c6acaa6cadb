package i18n

import "maps"

// The messages of supervisors acting on complaints from Telegram
// (bot/telegram/supervision.go), and of the daily report limit.
func init() {
	code := "7K3M-9QXD-2WAB"
	maps.Copy(fields, map[string]map[string]any{
		"tg.c.done":            {"Code": code, "Action": "受理", "Status": "已受理"},
		"tg.c.not_allowed":     {"Code": code, "Action": "受理", "Status": "已受理", "Allowed": "交办、合并、备注"},
		"tg.c.none_allowed":    {"Code": code, "Status": "已合并"},
		"tg.c.not_found":       {},
		"tg.c.reason_prompt":   {"Code": code},
		"tg.c.reason_expected": {},
		"tg.c.assign_prompt":   {"Code": code, "Days": 5, "MaxDays": 60},
		"tg.c.assign_unknown":  {"Code": "XX", "MaxDays": 60},
		"report.limit.reached": {"Max": 10},
	})
}
