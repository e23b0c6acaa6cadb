package i18n

import "maps"

// The headings and titles of reports as tables (reports/tables.go), with
// the data their callers pass.
func init() {
	ids := map[string]map[string]any{
		"reports.total": {}, "reports.no_agency": {},
		"reports.appearance.title":    {"Range": "2026-01-01 – 2026-12-31"},
		"reports.appearance.by_month": {}, "reports.appearance.by_quarter": {},
	}
	for _, c := range []string{"agency", "name", "held", "head", "deputy", "none", "rate", "period", "count",
		"by_category", "by_source", "by_status", "by_agency", "by_month", "closed", "on_time", "on_time_rate",
		"avg_days", "rated", "average"} {
		ids["reports.col."+c] = map[string]any{}
	}
	for _, t := range []string{"by_category", "by_source", "by_status", "by_agency", "by_month", "closing", "satisfaction"} {
		ids["reports.complaints."+t] = map[string]any{"Range": "2026-01-01 – 2026-12-31"}
	}
	b := map[string]any{"Range": "2026-11-23 – 2026-11-29", "Held": 12, "Head": 9, "Rate": "75.0%", "Received": 340,
		"Overdue": 4, "Closed": 120, "OnTime": 111, "OnTimeRate": "92.5%", "Rated": 80, "Average": "4.21"}
	for _, id := range []string{"subject", "title", "appearance", "complaints", "closing"} {
		ids["bulletin."+id] = b
	}
	ids["bulletin.lowest"] = map[string]any{"Agency": "市城管局", "Rate": "50.0%", "Held": 4}
	ids["bulletin.attached"] = map[string]any{}
	maps.Copy(fields, ids)
}
