package i18n

import "maps"

// The messages of the complaint queue, with the data their callers pass.
func init() {
	complaint := map[string]any{"Code": "7K3M-9QXD-2WAB", "Status": "已受理", "Source": "热线电话", "Category": "乱罚款",
		"Agency": "市场监管局", "Description": "乱罚款", "Location": "人民广场", "DueAt": "2026-12-08 23:59", "Overdue": true}
	ids := map[string]map[string]any{
		"complaint.agency_unknown": {}, "complaint.supervision": complaint,
		"complaint.assigned": complaint, "complaint.urge": complaint, "complaint.escalate": complaint, "complaint.low_rating": complaint,
		"complaint.update.accept": with(complaint, map[string]any{"Text": ""}), "complaint.update.reject": with(complaint, map[string]any{"Text": "不属于受理范围"}),
		"complaint.update.reply": with(complaint, map[string]any{"Text": "已退还罚款"}), "complaint.update.close": with(complaint, map[string]any{"Text": "已退还罚款"}),
		"complaint.update.merge":  with(complaint, map[string]any{"Text": "", "Survivor": "AAAA-BBBB-CCCC"}),
		"complaint.callback":      with(complaint, map[string]any{"Moment": "已受理"}),
		"complaint.followup":      complaint,
		"button.rate":             {"N": 5},
		"button.complaint.accept": {}, "button.complaint.reject": {}, "button.complaint.assign": {}, "button.complaint.urge": {},
		"button.complaint.close": {}, "button.complaint.reopen": {},
	}
	for _, s := range []string{"received", "accepted", "rejected", "assigned", "replied", "closed", "merged"} {
		ids["complaint.status."+s] = map[string]any{}
	}
	for _, s := range []string{"telegram", "hotline_call", "media", "open311", "npc_deputy", "cppcc_member", "other"} {
		ids["source."+s] = map[string]any{}
	}
	for _, s := range []string{"illegal_fine", "illegal_fee", "illegal_levy", "inaction", "abuse", "efficiency", "other"} {
		ids["category."+s] = map[string]any{}
	}
	for _, s := range []string{"accept", "reject", "reply", "close", "merge", "followup"} {
		ids["complaint.moment."+s] = map[string]any{}
	}
	maps.Copy(fields, ids)
}
