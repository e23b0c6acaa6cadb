package api_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/storage"
	"github.com/cityhall/duban/storage/storagetest"
)

// assigned files a hotline call and hands it to GA's handler.
func (e *env) assigned(description string) complaintAnswer {
	e.t.Helper()
	c := e.file(hotlineCall(description))
	e.act(e.token(e.sup), c.ID, map[string]any{"action": "accept"}).want(http.StatusOK)
	e.act(e.token(e.sup), c.ID, map[string]any{"action": "assign", "agency": "GA", "handler": e.handler.ID}).want(http.StatusOK)
	return c
}

func TestGetComplaint_OnlyTheOfficeSeesTheReporterAndItIsAudited(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		e := newEnv(t, s)
		c := e.assigned("收费站多收通行费")
		e.act(e.token(e.staff), c.ID, map[string]any{"action": "note", "text": "内部备注：来电者情绪激动"}).want(http.StatusOK)
		one := fmt.Sprintf("/api/v1/complaints/%d", c.ID)
		for name, tok := range map[string]string{"handler": e.token(e.handler), "head": e.token(e.head)} {
			for _, path := range []string{one, "/api/v1/complaints/" + c.TrackingCode, "/api/v1/complaints", "/api/v1/complaints?q=通行费"} {
				r := e.call("GET", path, tok, nil).want(http.StatusOK)
				for _, secret := range []string{"王五", "13900001111", "reporter", "内部备注"} {
					if strings.Contains(string(r.Body), secret) {
						t.Errorf("%s GET %s shows %q: %s", name, path, secret, r.Body)
					}
				}
			}
		}
		var seen complaintAnswer
		e.call("GET", one, e.token(e.handler), nil).want(http.StatusOK).decode(&seen)
		if seen.Description != "收费站多收通行费" || slices.Contains(seen.actions(), "note") {
			t.Errorf("handler sees %+v", seen)
		}

		var full complaintAnswer
		e.call("GET", one, e.token(e.sup), nil).want(http.StatusOK).decode(&full)
		if full.Reporter == nil || full.Reporter.Name != "王五" || full.Reporter.Phone != "13900001111" || full.Reporter.Anonymous {
			t.Fatalf("supervisor sees reporter %+v", full.Reporter)
		}
		if !slices.Contains(full.actions(), "note") {
			t.Errorf("supervisor misses the note: %v", full.actions())
		}
		var audit []struct {
			Actor, Action, Target string
		}
		e.call("GET", "/api/v1/audit", adminToken, nil).want(http.StatusOK).decode(&audit)
		reads := 0
		for _, a := range audit {
			if a.Action == "complaint.read_identity" {
				reads++
				if a.Actor != fmt.Sprintf("person:%d", e.sup.ID) || a.Target != fmt.Sprintf("complaint:%d", c.ID) {
					t.Errorf("identity read %+v", a)
				}
			}
		}
		if reads != 1 {
			t.Errorf("%d identity reads in the audit log, want the supervisor's one: %+v", reads, audit)
		}
		e.call("GET", "/api/v1/audit", e.token(e.sup), nil).want(http.StatusForbidden)
	})
}

func TestListComplaints_FiltersAndTheAgencySeesItsOwnOnly(t *testing.T) {
	e := newEnv(t, storagetest.Open(t, storagetest.SQLiteURL(t)))
	ga := e.assigned("公安窗口乱收费")
	media := hotlineCall("报道：某局乱摊派")
	media["source"], media["category"], media["outlet"] = "media", "illegal_levy", "市晚报"
	delete(media, "reporter")
	other := e.file(media)
	e.clock.Advance(30 * 24 * time.Hour) // past GA's limit of 5 working days
	for _, tt := range []struct {
		query string
		token string
		want  []int64
	}{
		{"", e.token(e.staff), []int64{other.ID, ga.ID}},
		{"?source=media", e.token(e.staff), []int64{other.ID}},
		{"?category=illegal_fine", e.token(e.sup), []int64{ga.ID}},
		{"?status=received", e.token(e.sup), []int64{other.ID}},
		{"?agency=GA", e.token(e.sup), []int64{ga.ID}},
		{"?overdue=true", e.token(e.sup), []int64{ga.ID}},
		{"?overdue=false", e.token(e.sup), []int64{other.ID, ga.ID}},
		{"?q=摊派", e.token(e.sup), []int64{other.ID}},
		{"?q=" + ga.TrackingCode[:4], e.token(e.sup), []int64{ga.ID}},
		{fmt.Sprintf("?handler=%d", e.handler.ID), e.token(e.sup), []int64{ga.ID}},
		{"?limit=1", e.token(e.sup), []int64{other.ID}},
		{"", e.token(e.handler), []int64{ga.ID}},
		{"?handler=me", e.token(e.handler), []int64{ga.ID}},
		{"", e.token(e.head), []int64{ga.ID}},
	} {
		t.Run(tt.query, func(t *testing.T) {
			var body struct {
				Complaints []complaintAnswer `json:"complaints"`
			}
			e.call("GET", "/api/v1/complaints"+tt.query, tt.token, nil).want(http.StatusOK).decode(&body)
			var got []int64
			for _, c := range body.Complaints {
				got = append(got, c.ID)
				if c.Reporter != nil || c.Events != nil {
					t.Errorf("list item carries reporter or events: %+v", c)
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("ids %v, want %v", got, tt.want)
			}
		})
	}
	for _, q := range []string{"?status=lost", "?source=fax", "?category=x", "?overdue=maybe", "?handler=x", "?limit=-1", "?agency=NOPE"} {
		e.call("GET", "/api/v1/complaints"+q, e.token(e.sup), nil).want(http.StatusUnprocessableEntity)
	}
	// The rule book scopes the query: asking for another agency's finds
	// nothing that was never assigned to one's own.
	var none struct {
		Complaints []complaintAnswer `json:"complaints"`
	}
	e.call("GET", "/api/v1/complaints?agency=SF", e.token(e.head), nil).want(http.StatusOK).decode(&none)
	if len(none.Complaints) != 0 {
		t.Errorf("head of GA listed SF's complaints: %+v", none.Complaints)
	}
	e.call("GET", fmt.Sprintf("/api/v1/complaints/%d", other.ID), e.token(e.head), nil).want(http.StatusForbidden)
	e.call("GET", "/api/v1/complaints/999", e.token(e.sup), nil).want(http.StatusNotFound)
	e.call("GET", "/api/v1/complaints/not-a-code", e.token(e.sup), nil).want(http.StatusNotFound)
}

func TestCallbacks_ListTheReporterToCallAndAreAudited(t *testing.T) {
	e := newEnv(t, storagetest.Open(t, storagetest.SQLiteURL(t)))
	c := e.file(hotlineCall("罚款没有依据"))
	// The caller has no Telegram: telling them of the acceptance is a call.
	e.act(e.token(e.sup), c.ID, map[string]any{"action": "accept"}).want(http.StatusOK)
	var body struct {
		Callbacks []struct {
			ComplaintID  int64  `json:"complaint_id"`
			TrackingCode string `json:"tracking_code"`
			Status       string `json:"status"`
			Reporter     struct {
				Name  string `json:"name"`
				Phone string `json:"phone"`
			} `json:"reporter"`
		} `json:"callbacks"`
	}
	e.call("GET", "/api/v1/callbacks?open=true", e.token(e.staff), nil).want(http.StatusOK).decode(&body)
	if len(body.Callbacks) == 0 {
		t.Fatal("no call-back task after accepting a hotline call")
	}
	cb := body.Callbacks[0]
	if cb.ComplaintID != c.ID || cb.TrackingCode != c.TrackingCode || cb.Status != "open" || cb.Reporter.Name != "王五" || cb.Reporter.Phone != "13900001111" {
		t.Errorf("call-back %+v", cb)
	}
	entries, err := e.store.AuditLog(e.ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	if entries[0].Action != "complaint.read_identity" || entries[0].Target != fmt.Sprintf("complaint:%d", c.ID) {
		t.Errorf("newest audit entry %+v, want the identity read", entries[0])
	}
	e.call("GET", "/api/v1/callbacks", e.token(e.handler), nil).want(http.StatusForbidden)
	e.call("GET", "/api/v1/callbacks?open=perhaps", e.token(e.staff), nil).want(http.StatusUnprocessableEntity)
}

// followClock is the env's clock, for a store opened before the env (the
// wall clock while the env is being built).
type followClock struct{ e **env }

func (f followClock) Now() time.Time {
	if *f.e == nil {
		return time.Now()
	}
	return (*f.e).clock.Now()
}

func TestComplaintsReport_CountsByStatusSourceCategoryAgencyAndOverdue(t *testing.T) {
	storagetest.EachURL(t, func(t *testing.T, url string) { complaintsReportCounts(t, url) })
}

func complaintsReportCounts(t *testing.T, url string) {
	var e *env
	e = newEnv(t, storagetest.Open(t, url, storage.WithClock(followClock{&e})))
	e.clock.Set(time.Date(2026, 3, 2, 9, 0, 0, 0, sh))
	e.file(hotlineCall("三月之前的一件")) // outside the range
	e.clock.Set(time.Date(2026, 3, 3, 9, 0, 0, 0, sh))
	e.assigned("乱罚款")
	media := hotlineCall("报道")
	media["source"], media["category"], media["outlet"] = "media", "abuse", "市晚报"
	e.file(media)
	e.clock.Set(time.Date(2026, 3, 31, 23, 0, 0, 0, sh))
	e.file(hotlineCall("月底最后一件"))
	e.clock.Set(time.Date(2026, 4, 1, 9, 0, 0, 0, sh)) // GA's limit has passed

	var rep struct {
		From, To   string
		Total      int
		ByStatus   map[string]int `json:"by_status"`
		BySource   map[string]int `json:"by_source"`
		ByCategory map[string]int `json:"by_category"`
		ByAgency   map[string]int `json:"by_agency"`
		NoAgency   int            `json:"no_agency"`
		Overdue    int
	}
	e.call("GET", "/api/v1/reports/complaints?from=2026-03-03&to=2026-03-31", e.token(e.staff), nil).want(http.StatusOK).decode(&rep)
	if rep.From != "2026-03-03" || rep.To != "2026-03-31" || rep.Total != 3 || rep.Overdue != 1 || rep.NoAgency != 2 {
		t.Errorf("report %+v", rep)
	}
	for name, tt := range map[string]struct{ got, want map[string]int }{
		"status":   {rep.ByStatus, map[string]int{"assigned": 1, "received": 2}},
		"source":   {rep.BySource, map[string]int{"hotline_call": 2, "media": 1}},
		"category": {rep.ByCategory, map[string]int{"illegal_fine": 2, "abuse": 1}},
		"agency":   {rep.ByAgency, map[string]int{"GA": 1}},
	} {
		for k, n := range tt.want {
			if tt.got[k] != n {
				t.Errorf("by_%s[%s] = %d, want %d: %v", name, k, tt.got[k], n, tt.got)
			}
		}
		if name == "status" && len(tt.got) != len(duban.ComplaintStatuses) {
			t.Errorf("by_status lists %d statuses, want all %d", len(tt.got), len(duban.ComplaintStatuses))
		}
	}
	e.call("GET", "/api/v1/reports/complaints?from=2026-03-31&to=2026-03-01", e.token(e.staff), nil).want(http.StatusUnprocessableEntity)
	e.call("GET", "/api/v1/reports/complaints?from=March", e.token(e.staff), nil).want(http.StatusUnprocessableEntity)

	// An agency's people get their agency's own figures: the complaints
	// assigned to it, not those still with the office or another agency.
	rep.ByStatus, rep.BySource, rep.ByCategory, rep.ByAgency = nil, nil, nil, nil // decoding merges into maps
	e.call("GET", "/api/v1/reports/complaints?from=2026-03-03&to=2026-03-31", e.token(e.head), nil).want(http.StatusOK).decode(&rep)
	if rep.Total != 1 || rep.Overdue != 1 || rep.NoAgency != 0 || rep.ByAgency["GA"] != 1 || rep.ByStatus["assigned"] != 1 || rep.ByStatus["received"] != 0 {
		t.Errorf("GA's head sees %+v, want GA's one assigned complaint", rep)
	}
	sfHead := storagetest.Person(t, e.store, duban.Person{Name: "司法局长", AgencyID: &e.sf.ID, Roles: duban.Roles{duban.RoleAgencyHead}})
	rep.ByStatus, rep.BySource, rep.ByCategory, rep.ByAgency = nil, nil, nil, nil
	e.call("GET", "/api/v1/reports/complaints?from=2026-03-03&to=2026-03-31", e.token(sfHead), nil).want(http.StatusOK).decode(&rep)
	if rep.Total != 0 || rep.Overdue != 0 || rep.ByAgency["GA"] != 0 {
		t.Errorf("SF's head sees %+v, want nothing of GA's", rep)
	}
}

// TestComplaints_TheNamedAgencyReadsNothingUntilAssigned: a reporter names
// GA; GA's head finds nothing in the list or by id until the office
// assigns it to GA, and the answer shows both agencies apart.
func TestComplaints_TheNamedAgencyReadsNothingUntilAssigned(t *testing.T) {
	e := newEnv(t, storagetest.Open(t, storagetest.SQLiteURL(t)))
	var created complaintAnswer
	e.call("POST", "/api/v1/complaints", e.token(e.staff), map[string]any{"source": "hotline_call", "category": "illegal_fine",
		"agency": "GA", "description": "交警乱罚款", "reporter": map[string]any{"name": "钱某", "phone": "13700000000"}}).
		want(http.StatusCreated).decode(&created)
	path := fmt.Sprintf("/api/v1/complaints/%d", created.ID)
	count := func() int {
		var body struct {
			Complaints []complaintAnswer `json:"complaints"`
		}
		e.call("GET", "/api/v1/complaints", e.token(e.head), nil).want(http.StatusOK).decode(&body)
		return len(body.Complaints)
	}
	e.call("GET", path, e.token(e.head), nil).want(http.StatusForbidden)
	if n := count(); n != 0 {
		t.Errorf("the named agency's head lists %d complaints on arrival, want 0", n)
	}
	var seen struct {
		Agency         *string `json:"agency"`
		ReportedAgency *struct {
			Code, Name string
		} `json:"reported_agency"`
	}
	e.call("GET", path, e.token(e.sup), nil).want(http.StatusOK).decode(&seen)
	if seen.Agency != nil || seen.ReportedAgency == nil || seen.ReportedAgency.Code != "GA" {
		t.Errorf("agency %v, reported %+v: want none assigned and GA reported", seen.Agency, seen.ReportedAgency)
	}
	e.call("POST", path+"/actions", e.token(e.sup), map[string]any{"action": "accept"}).want(http.StatusOK)
	e.call("POST", path+"/actions", e.token(e.sup), map[string]any{"action": "assign", "agency": "GA"}).want(http.StatusOK)
	e.call("GET", path, e.token(e.head), nil).want(http.StatusOK)
	if n := count(); n != 1 {
		t.Errorf("the assigned agency's head lists %d complaints, want 1", n)
	}
}

// TestOpen311_AMergedCodeNeverShowsTheSurvivorsText.
func TestOpen311_AMergedCodeNeverShowsTheSurvivorsText(t *testing.T) {
	e := newEnv(t, storagetest.Open(t, storagetest.SQLiteURL(t)))
	post := func(text string) complaintAnswer {
		var c complaintAnswer
		e.call("POST", "/api/v1/complaints", e.token(e.staff), map[string]any{"source": "hotline_call", "category": "illegal_fee",
			"description": text, "reporter": map[string]any{"anonymous": true}}).want(http.StatusCreated).decode(&c)
		return c
	}
	survivor, dup := post("幸存者的原文：收费站乱收费"), post("重复的反映")
	e.call("POST", fmt.Sprintf("/api/v1/complaints/%d/actions", dup.ID), e.token(e.sup),
		map[string]any{"action": "merge", "into": survivor.TrackingCode}).want(http.StatusOK)
	e.call("POST", fmt.Sprintf("/api/v1/complaints/%d/actions", survivor.ID), e.token(e.sup),
		map[string]any{"action": "accept"}).want(http.StatusOK)
	rec := e.call("GET", "/open311/v2/requests/"+dup.TrackingCode+".json", "", nil).want(http.StatusOK)
	body := string(rec.Body)
	if strings.Contains(body, "幸存者") || strings.Contains(body, survivor.TrackingCode) || strings.Contains(body, strings.ReplaceAll(survivor.TrackingCode, "-", "")) {
		t.Errorf("the merged code's public part shows the survivor: %s", body)
	}
	if !strings.Contains(body, "重复的反映") || !strings.Contains(body, `"status":"open"`) {
		t.Errorf("the merged code's public part lacks its own text or the survivor's open status: %s", body)
	}
}

func TestGetComplaint_AReplyOnPaperNamesWhoRecordedIt(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		e := newEnv(t, s)
		for _, tt := range []struct {
			name       string
			by         *duban.Person
			recordedBy string
		}{
			{"the agency replies itself", e.handler, ""},
			{"the office records the agency's letter", e.staff, "小刘"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				c := e.assigned("收费站多收通行费")
				e.act(e.token(tt.by), c.ID, map[string]any{"action": "reply", "text": "已退还多收的费用"}).want(http.StatusOK)
				one := fmt.Sprintf("/api/v1/complaints/%d", c.ID)
				// The office and the agency read the same mark.
				for _, reader := range []*duban.Person{e.sup, e.handler} {
					var got complaintAnswer
					e.call("GET", one, e.token(reader), nil).want(http.StatusOK).decode(&got)
					reply := got.Events[len(got.Events)-1]
					if reply.Action != "reply" || reply.Text != "已退还多收的费用" || reply.Actor != tt.by.Name || reply.RecordedBy != tt.recordedBy {
						t.Errorf("%s reads the reply as %+v, want by %s, recorded_by %q", reader.Name, reply, tt.by.Name, tt.recordedBy)
					}
				}
			})
		}
	})
}

func TestListComplaints_ReportedAgencyFiltersByWhatTheReporterNamed(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		e := newEnv(t, s)
		named := func(description, agency string) complaintAnswer {
			body := hotlineCall(description)
			if agency != "" {
				body["agency"] = agency
			}
			return e.file(body)
		}
		namedGA := named("报称公安窗口乱收费，尚未交办", "GA")
		namedSFatGA := named("报称司法局，交办给公安", "SF")
		unnamedAtGA := named("未说明单位，交办给公安", "")
		namedSF := named("报称司法局，尚未交办", "SF")
		for _, c := range []complaintAnswer{namedSFatGA, unnamedAtGA} {
			e.act(e.token(e.sup), c.ID, map[string]any{"action": "accept"}).want(http.StatusOK)
			e.act(e.token(e.sup), c.ID, map[string]any{"action": "assign", "agency": "GA"}).want(http.StatusOK)
		}
		for _, tt := range []struct {
			name, query string
			reader      *duban.Person
			want        []int64
			reported    string // every listed complaint's reported_agency code
		}{
			{"the office, named GA", "?reported_agency=GA", e.sup, []int64{namedGA.ID}, "GA"},
			{"the office, named SF, newest first", "?reported_agency=SF", e.staff, []int64{namedSF.ID, namedSFatGA.ID}, "SF"},
			{"named SF and assigned to GA", "?reported_agency=SF&agency=GA", e.sup, []int64{namedSFatGA.ID}, "SF"},
			// The name is a claim: GA reads only what was assigned to it,
			// whatever the reporter named.
			{"GA's head, named GA", "?reported_agency=GA", e.head, nil, ""},
			{"GA's head, named SF", "?reported_agency=SF", e.head, []int64{namedSFatGA.ID}, "SF"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				var body struct {
					Complaints []struct {
						ID             int64 `json:"id"`
						ReportedAgency *struct {
							Code string `json:"code"`
						} `json:"reported_agency"`
					} `json:"complaints"`
				}
				e.call("GET", "/api/v1/complaints"+tt.query, e.token(tt.reader), nil).want(http.StatusOK).decode(&body)
				var got []int64
				for _, c := range body.Complaints {
					got = append(got, c.ID)
					if c.ReportedAgency == nil || c.ReportedAgency.Code != tt.reported {
						t.Errorf("complaint %d reported_agency %+v, want %s", c.ID, c.ReportedAgency, tt.reported)
					}
				}
				if !slices.Equal(got, tt.want) {
					t.Errorf("ids %v, want %v", got, tt.want)
				}
			})
		}
		e.call("GET", "/api/v1/complaints?reported_agency=NOPE", e.token(e.sup), nil).want(http.StatusUnprocessableEntity)
	})
}
