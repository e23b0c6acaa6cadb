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
	maps.Copy(fields, ids)
}
