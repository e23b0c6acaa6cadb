package api_test

import (
	"bytes"
	"fmt"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/storage"
	"github.com/cityhall/duban/storage/storagetest"
)

// closingEnv files three complaints handled by GA: one closed on time, one
// closed on time thanks to an extension, one closed late; the first two
// rated by their reporters (5 and 3).
func closingEnv(t *testing.T, url string) (e *env, days []int) {
	e = newEnv(t, storagetest.Open(t, url, storage.WithClock(followClock{&e})))
	cal := duban.NewCalendar(sh)
	at := func(s string) time.Time {
		d, err := time.ParseInLocation("2006-01-02 15:04", s, sh)
		if err != nil {
			t.Fatal(err)
		}
		e.clock.Set(d)
		return d
	}
	sup, handler, staff := e.token(e.sup), e.token(e.handler), e.token(e.staff)
	handle := func(filed, assigned string, limit int, extend int, closed string, rating int) {
		at(filed)
		c := e.file(hotlineCall("第 " + filed + " 件"))
		e.act(sup, c.ID, map[string]any{"action": "accept"}).want(http.StatusOK)
		a := at(assigned)
		e.act(sup, c.ID, map[string]any{"action": "assign", "agency": "GA", "handler": e.handler.ID, "working_days": limit}).want(http.StatusOK)
		if extend > 0 {
			e.act(sup, c.ID, map[string]any{"action": "extend", "working_days": extend, "reason": "需现场核查"}).want(http.StatusOK)
		}
		e.act(handler, c.ID, map[string]any{"action": "reply", "text": "已核实并纠正"}).want(http.StatusOK)
		cl := at(closed)
		e.act(sup, c.ID, map[string]any{"action": "close"}).want(http.StatusOK)
		if rating > 0 {
			e.act(staff, c.ID, map[string]any{"action": "rate", "rating": rating}).want(http.StatusOK)
		}
		days = append(days, cal.WorkingDaysBetween(a, cl))
	}
	handle("2026-03-02 09:00", "2026-03-02 10:00", 5, 0, "2026-03-05 16:00", 5) // within 5 working days
	handle("2026-03-02 11:00", "2026-03-02 11:30", 2, 5, "2026-03-06 16:00", 3) // past 2 days, within the extension
	handle("2026-04-01 09:00", "2026-04-01 09:30", 1, 0, "2026-04-10 16:00", 0) // late
	at("2026-05-06 09:00")
	return e, days
}

func TestComplaintsReport_OnTimeClosingWorkingDaysAndSatisfactionPerAgency(t *testing.T) {
	storagetest.EachURL(t, func(t *testing.T, url string) {
		e, days := closingEnv(t, url)
		var rep struct {
			ByMonth map[string]int `json:"by_month"`
			Closing []struct {
				Agency         string  `json:"agency"`
				Closed         int     `json:"closed"`
				OnTime         int     `json:"on_time"`
				OnTimeRate     float64 `json:"on_time_rate"`
				AvgWorkingDays float64 `json:"avg_working_days"`
			} `json:"closing"`
			Satisfaction []struct {
				Agency  string  `json:"agency"`
				Rated   int     `json:"rated"`
				Average float64 `json:"average"`
				Ratings [5]int  `json:"ratings"`
			} `json:"satisfaction"`
		}
		e.call("GET", "/api/v1/reports/complaints?from=2026-03-01&to=2026-04-30", e.token(e.sup), nil).want(http.StatusOK).decode(&rep)
		if rep.ByMonth["2026-03"] != 2 || rep.ByMonth["2026-04"] != 1 || len(rep.ByMonth) != 2 {
			t.Errorf("by month %v, want March 2 and April 1", rep.ByMonth)
		}
		avg := math.Round(float64(days[0]+days[1]+days[2])/3*10) / 10
		if len(rep.Closing) != 1 || rep.Closing[0].Agency != "GA" || rep.Closing[0].Closed != 3 || rep.Closing[0].OnTime != 2 ||
			rep.Closing[0].OnTimeRate != 0.6667 || rep.Closing[0].AvgWorkingDays != avg {
			t.Errorf("closing %+v, want GA: 3 closed, 2 on time (one by its extension), %.1f working days on average (%v)", rep.Closing, avg, days)
		}
		if len(rep.Satisfaction) != 1 || rep.Satisfaction[0].Rated != 2 || rep.Satisfaction[0].Average != 4 || rep.Satisfaction[0].Ratings != [5]int{0, 0, 1, 0, 1} {
			t.Errorf("satisfaction %+v, want 2 rated, 4 on average", rep.Satisfaction)
		}

		// Closed only in March: April's late closing is not in it.
		e.call("GET", "/api/v1/reports/complaints?from=2026-03-01&to=2026-03-31", e.token(e.sup), nil).want(http.StatusOK).decode(&rep)
		if len(rep.Closing) != 1 || rep.Closing[0].Closed != 2 || rep.Closing[0].OnTime != 2 {
			t.Errorf("March closing %+v, want 2 closed, both on time", rep.Closing)
		}
	})
}

func TestReports_DownloadAsCSVAndExcel(t *testing.T) {
	e, _ := closingEnv(t, storagetest.SQLiteURL(t))
	r := e.call("GET", "/api/v1/reports/complaints?from=2026-03-01&to=2026-04-30&format=xlsx", e.token(e.sup), nil).want(http.StatusOK)
	if cd := r.Header.Get("Content-Disposition"); cd != `attachment; filename="duban-complaints-20260301-20260430.xlsx"` {
		t.Errorf("Content-Disposition %q", cd)
	}
	f, err := excelize.OpenReader(bytes.NewReader(r.Body))
	if err != nil {
		t.Fatalf("the download is no workbook: %v", err)
	}
	defer f.Close()
	rows, err := f.GetRows("closing")
	if err != nil {
		t.Fatal(err)
	}
	// Title, headings, GA's line; a supervisor without a locale reads Chinese.
	if len(rows) != 3 || rows[1][4] != "按期办结率" || rows[2][0] != "GA" || rows[2][2] != "3" || rows[2][3] != "2" {
		t.Errorf("closing sheet %q", rows)
	}
	if v, _ := f.GetCellValue("by_category", "B3"); v != "3" {
		t.Errorf("by_category B3 %q, want 3 (乱罚款)", v)
	}
	if v, _ := f.GetCellValue("by_category", "A3"); v != "乱罚款" && !strings.Contains(v, "罚款") {
		t.Errorf("by_category A3 %q, want the category's name", v)
	}

	csv := e.call("GET", "/api/v1/reports/appearance?format=csv&by=quarter", e.token(e.staff), nil).want(http.StatusOK)
	if ct := csv.Header.Get("Content-Type"); ct != "text/csv; charset=utf-8" || !bytes.HasPrefix(csv.Body, []byte("\ufeff")) ||
		!strings.Contains(string(csv.Body), "负责人出庭率") {
		t.Errorf("CSV %q %q; want UTF-8 with a BOM and Chinese headings", ct, csv.Body)
	}
	e.call("GET", "/api/v1/reports/complaints?format=pdf", e.token(e.sup), nil).want(http.StatusUnprocessableEntity)
	e.call("GET", "/api/v1/reports/appearance?by=week", e.token(e.sup), nil).want(http.StatusUnprocessableEntity)
}

func TestAppearanceReport_ByMonthAndQuarter(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		e := newEnv(t, s)
		held := func(caseNo, start, att string) {
			d, _ := time.ParseInLocation("2006-01-02 15:04", start, sh)
			e.clock.Set(d.Add(-72 * time.Hour))
			body := notice(caseNo)
			body["starts_at"] = start
			var h hearing
			e.call("POST", "/api/v1/hearings", e.token(e.staff), body).want(http.StatusCreated).decode(&h)
			e.clock.Set(d.Add(5 * time.Hour))
			e.call("POST", fmt.Sprintf("/api/v1/hearings/%d/outcome", h.ID), e.token(e.staff), map[string]any{"attendance": att}).want(http.StatusOK)
		}
		held("(2026)沪01行初11号", "2026-01-20 09:30", "head")
		held("(2026)沪01行初12号", "2026-02-10 09:30", "none")
		held("(2026)沪01行初13号", "2026-05-12 09:30", "deputy")
		type line struct {
			Agency                   string
			Held, Head, Deputy, None int
			Rate                     float64
		}
		var rep struct {
			By       string
			Agencies []line
			Periods  []struct {
				Period   string
				Agencies []line
				Total    line
			}
		}
		e.call("GET", "/api/v1/reports/appearance?from=2026-01-01&to=2026-06-30&by=month", e.token(e.sup), nil).want(http.StatusOK).decode(&rep)
		if len(rep.Periods) != 3 || rep.Periods[0].Period != "2026-01" || rep.Periods[1].Period != "2026-02" || rep.Periods[2].Period != "2026-05" ||
			rep.Periods[0].Total.Head != 1 || rep.Periods[1].Total.None != 1 || rep.Periods[2].Total.Deputy != 1 {
			t.Errorf("by month %+v", rep.Periods)
		}
		if len(rep.Agencies) != 1 || rep.Agencies[0].Held != 3 || rep.Agencies[0].Rate != 0.3333 {
			t.Errorf("whole range %+v, want GA: 3 held, 1 in person", rep.Agencies)
		}
		e.call("GET", "/api/v1/reports/appearance?from=2026-01-01&to=2026-06-30&by=quarter", e.token(e.sup), nil).want(http.StatusOK).decode(&rep)
		if rep.By != "quarter" || len(rep.Periods) != 2 || rep.Periods[0].Period != "2026-Q1" || rep.Periods[0].Total.Held != 2 ||
			rep.Periods[1].Period != "2026-Q2" || rep.Periods[1].Total.Held != 1 {
			t.Errorf("by quarter %+v", rep.Periods)
		}
	})
}

func TestSendBulletin_OnDemandByTheOffice(t *testing.T) {
	e := newEnv(t, storagetest.Open(t, storagetest.SQLiteURL(t)))
	var sent struct {
		Key, From, To string
		Mailed        []string
	}
	// 2026-12-01 is a Tuesday: the last whole week is 23 to 29 November.
	e.call("POST", "/api/v1/reports/bulletin", e.token(e.sup), nil).want(http.StatusOK).decode(&sent)
	if sent.From != "2026-11-23" || sent.To != "2026-11-29" || sent.Key == "" {
		t.Errorf("sent %+v, want last week", sent)
	}
	e.call("POST", "/api/v1/reports/bulletin", e.token(e.staff), map[string]any{"from": "2026-11-01", "to": "2026-11-30"}).
		want(http.StatusOK).decode(&sent)
	if sent.From != "2026-11-01" || sent.To != "2026-11-30" {
		t.Errorf("sent %+v, want November", sent)
	}
	e.call("POST", "/api/v1/reports/bulletin", e.token(e.head), nil).want(http.StatusForbidden)
	e.call("POST", "/api/v1/reports/bulletin", e.token(e.sup), map[string]any{"from": "November"}).want(http.StatusUnprocessableEntity)
	e.call("POST", "/api/v1/reports/bulletin", e.token(e.sup), map[string]any{"from": "2026-11-30", "to": "2026-11-01"}).want(http.StatusUnprocessableEntity)
}
