package web_test

import (
	"bytes"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/cityhall/duban/storage/storagetest"
)

// TestReports_TablesChartsDownloadsAndTheBulletin: the office reads the
// reports as tables and charts drawn on the server, downloads them as a
// workbook, and sends the bulletin from the page; an agency's handler sees
// the page with its agency's figures only and no bulletin button.
func TestReports_TablesChartsDownloadsAndTheBulletin(t *testing.T) {
	storagetest.EachURL(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL)
		e.assigned("乱罚款", 5)
		e.complaint("还在办公室的一件")
		staff := e.browser().signIn("staff")
		p := staff.get("/reports").want(t, http.StatusOK, "<svg", `id="table-by_category"`, `id="table-closing"`,
			"/reports/complaints.xlsx?", `action="/reports/bulletin"`)
		if strings.Count(p.body, "<svg") < 2 {
			t.Errorf("%d charts, want at least the categories and the months", strings.Count(p.body, "<svg"))
		}
		if strings.Contains(p.body, "<script") {
			t.Error("the reports page runs a script")
		}
		xlsx := staff.get("/reports/complaints.xlsx?from=2026-01-01&to=2026-12-31").want(t, http.StatusOK)
		wb, err := excelize.OpenReader(bytes.NewReader([]byte(xlsx.body)))
		if err != nil {
			t.Fatalf("the download is no workbook: %v", err)
		}
		rows, _ := wb.GetRows("by_status")
		wb.Close()
		if !strings.Contains(strings.Join(flatten(rows), " "), "2") {
			t.Errorf("by_status %q", rows)
		}
		staff.get("/reports/complaints.pdf").want(t, http.StatusNotFound)
		staff.get("/reports?from=yesterday").want(t, http.StatusUnprocessableEntity)

		sent := staff.post("/reports", "/reports/bulletin", url.Values{"from": {"2026-11-23"}, "to": {"2026-11-29"}}).
			want(t, http.StatusOK, `id="bulletin-sent"`, "2026-11-23")
		_ = sent

		handler := e.browser().signIn("handler")
		hp := handler.get("/reports").want(t, http.StatusOK, `id="table-by_agency"`)
		if strings.Contains(hp.body, `action="/reports/bulletin"`) {
			t.Error("an agency's handler is offered the bulletin")
		}
		// GA's one assigned complaint, not the one still with the office.
		if strings.Contains(hp.body, "（未交办）") {
			t.Error("the handler sees the office's unassigned complaints")
		}
	})
}

func flatten(rows [][]string) []string {
	var out []string
	for _, r := range rows {
		out = append(out, r...)
	}
	return out
}
