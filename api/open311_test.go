package api_test

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/api"
	"github.com/cityhall/duban/ratelimit"
	"github.com/cityhall/duban/storage"
	"github.com/cityhall/duban/storage/storagetest"
)

// open311Item is GeoReport v2's service request, as the test reads it.
type open311Item struct {
	ServiceRequestID  string   `json:"service_request_id"`
	Status            string   `json:"status"`
	StatusNotes       string   `json:"status_notes"`
	ServiceName       string   `json:"service_name"`
	ServiceCode       string   `json:"service_code"`
	Description       string   `json:"description"`
	AgencyResponsible string   `json:"agency_responsible"`
	RequestedDatetime string   `json:"requested_datetime"`
	Address           string   `json:"address"`
	Lat               *float64 `json:"lat"`
	Long              *float64 `json:"long"`
}

type open311Error struct {
	Code        int    `json:"code"`
	Description string `json:"description"`
}

// post311 posts form-encoded values to requests.json.
func (e *env) post311(v url.Values, hdr ...string) resp {
	e.t.Helper()
	return e.send("POST", "/open311/v2/requests.json", "", "application/x-www-form-urlencoded", strings.NewReader(v.Encode()), hdr...)
}

// request311 is a valid form: a fine on Nanjing Road, reported by 张三.
func request311() url.Values {
	return url.Values{"service_code": {"illegal_fine"}, "lat": {"31.2355"}, "long": {"121.4800"},
		"description": {"交警在南京路无故罚款"}, "first_name": {"三"}, "last_name": {"张"}, "phone": {"13700002222"},
		"email": {"zhang@example.com"}}
}

// created311 posts v and returns the new service_request_id.
func (e *env) created311(v url.Values) string {
	e.t.Helper()
	var out []struct {
		ServiceRequestID string  `json:"service_request_id"`
		ServiceNotice    *string `json:"service_notice"`
		AccountID        any     `json:"account_id"`
	}
	e.post311(v).want(http.StatusCreated).decode(&out)
	if len(out) != 1 || len(out[0].ServiceRequestID) != 14 || out[0].ServiceNotice == nil || out[0].AccountID != nil {
		e.t.Fatalf("created %+v", out)
	}
	return out[0].ServiceRequestID
}

func TestOpen311_ServicesAreTheSevenCategories(t *testing.T) {
	e := newEnv(t, storagetest.Open(t, storagetest.SQLiteURL(t)))
	var services []map[string]any
	e.call("GET", "/open311/v2/services.json", "", nil).want(http.StatusOK).decode(&services)
	var codes []string
	for _, s := range services {
		codes = append(codes, s["service_code"].(string))
		if s["metadata"] != false || s["type"] != "realtime" || s["service_name"] == "" || s["keywords"] == nil || s["group"] == nil {
			t.Errorf("service %v", s)
		}
	}
	var want []string
	for _, c := range duban.Categories {
		want = append(want, string(c))
	}
	if !slices.Equal(codes, want) {
		t.Errorf("service codes %v, want %v", codes, want)
	}
	r := e.send("GET", "/open311/v2/services.json", "", "", nil, "Accept-Language", "en-US,en;q=0.9")
	if !strings.Contains(string(r.Body), `"service_name":"illegal fine"`) {
		t.Errorf("English services %s", r.Body)
	}
}

func TestOpen311_PostedRequestIsPublicWithoutTheReporter(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		e := newEnv(t, s)
		code := e.created311(request311())
		c, err := e.cs.Lookup(e.ctx, code)
		if err != nil {
			t.Fatal(err)
		}
		if c.Source != duban.SourceOpen311 || c.ReporterName != "张三" || c.ReporterPhone != "13700002222" || c.Latitude == nil || *c.Latitude != 31.2355 {
			t.Errorf("stored %+v", c)
		}
		for _, path := range []string{"/open311/v2/requests/" + code + ".json",
			"/open311/v2/requests/" + strings.ToLower(strings.ReplaceAll(code, "-", "")) + ".json"} {
			r := e.call("GET", path, "", nil).want(http.StatusOK)
			for _, secret := range []string{"张三", "13700002222", "zhang@example.com"} {
				if strings.Contains(string(r.Body), secret) {
					t.Errorf("GET %s shows %q: %s", path, secret, r.Body)
				}
			}
			var items []open311Item
			r.decode(&items)
			if len(items) != 1 || items[0].ServiceRequestID != code || items[0].Status != "open" || items[0].ServiceCode != "illegal_fine" ||
				items[0].ServiceName != "乱罚款" || items[0].Description != "交警在南京路无故罚款" || items[0].Lat == nil || *items[0].Lat != 31.2355 ||
				!strings.HasSuffix(items[0].RequestedDatetime, "+08:00") {
				t.Errorf("GET %s: %+v", path, items)
			}
		}
		// The office rejects it; the public sees it closed, with the reason.
		e.act(e.token(e.sup), code, map[string]any{"action": "reject", "reason": "不属于执法监督范围"}).want(http.StatusOK)
		var items []open311Item
		e.call("GET", "/open311/v2/requests/"+code+".json", "", nil).want(http.StatusOK).decode(&items)
		if len(items) != 1 || items[0].Status != "closed" || !strings.Contains(items[0].StatusNotes, "不属于执法监督范围") {
			t.Errorf("rejected %+v", items)
		}
	})
}

func TestOpen311_BadRequestsAre400InTheSpecsErrorForm(t *testing.T) {
	e := newEnv(t, storagetest.Open(t, storagetest.SQLiteURL(t)))
	e.reconfigure(func(d *api.Deps) { d.Open311Rate = ratelimit.Rate{Limit: 1000, Window: time.Minute} }) // many bad posts from one address
	without := func(keys ...string) url.Values {
		v := request311()
		for _, k := range keys {
			v.Del(k)
		}
		return v
	}
	set := func(k, val string) url.Values {
		v := request311()
		v.Set(k, val)
		return v
	}
	for _, tt := range []struct {
		name string
		form url.Values
		want string
	}{
		{"no service_code", without("service_code"), "service_code"},
		{"unknown service_code", set("service_code", "pothole"), "service_code"},
		{"no location", without("lat", "long"), "location"},
		{"lat without long", without("long"), "lat"},
		{"lat out of range", set("lat", "95"), "lat"},
		{"lat not a number", set("lat", "NaN"), "lat"},
		{"no description", without("description"), "description"},
		{"invalid UTF-8", set("description", "bad \xff"), "description"},
		{"media_url not http", set("media_url", "javascript:alert(1)"), "media_url"},
		{"unknown agency", set("agency", "NOPE"), "agency"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var errs []open311Error
			e.post311(tt.form).want(http.StatusBadRequest).decode(&errs)
			if len(errs) == 0 || errs[0].Code != 400 || !strings.Contains(errs[0].Description, tt.want) {
				t.Errorf("errors %+v, want one naming %s", errs, tt.want)
			}
		})
	}
	e.send("POST", "/open311/v2/requests.json", "", "text/plain", strings.NewReader("hello")).want(http.StatusUnsupportedMediaType)
	e.send("POST", "/open311/v2/requests.json", "", "application/x-www-form-urlencoded",
		strings.NewReader("description="+strings.Repeat("x", 1<<20))).want(http.StatusRequestEntityTooLarge)
	if n := e.complaintCount(); n != 0 {
		t.Errorf("%d complaints stored", n)
	}
}

func TestOpen311_OtherEncodingsLocationsAndRetries(t *testing.T) {
	e := newEnv(t, storagetest.Open(t, storagetest.SQLiteURL(t)))
	addr := url.Values{"service_code": {"inaction"}, "address_string": {"人民广场 1 号"}, "description": {"窗口无人"}}
	e.post311(addr, "Idempotency-Key", "phone-42").want(http.StatusCreated)
	var a, b []map[string]any
	e.post311(addr, "X-Idempotency-Key", "phone-43").want(http.StatusCreated).decode(&a)
	e.post311(addr, "X-Idempotency-Key", "phone-43").want(http.StatusOK).decode(&b)
	if a[0]["service_request_id"] != b[0]["service_request_id"] {
		t.Errorf("retry answered %v, first %v", b, a)
	}
	// The same key with another request is another request.
	other := url.Values{"service_code": {"inaction"}, "address_id": {"A-17"}, "description": {"另一件事"}}
	e.post311(other, "X-Idempotency-Key", "phone-43").want(http.StatusCreated)

	e.call("POST", "/open311/v2/requests.json", "", `{"service_code": "abuse", "lat": 31.2, "long": 121.4, "description": "JSON 提交"}`).want(http.StatusCreated)
	var mp bytes.Buffer
	mw := multipart.NewWriter(&mp)
	for k, v := range map[string]string{"service_code": "efficiency", "address_string": "市民中心", "description": "multipart 提交"} {
		mw.WriteField(k, v)
	}
	fw, _ := mw.CreateFormFile("media", "photo.jpg")
	fw.Write([]byte("\xff\xd8 not really a photo"))
	mw.Close()
	e.send("POST", "/open311/v2/requests.json", "", mw.FormDataContentType(), &mp).want(http.StatusCreated)
	if n := e.complaintCount(); n != 5 {
		t.Errorf("%d complaints stored, want 5", n)
	}
}

func TestOpen311_ListingByIDsIsPublicAndSearchingNeedsAStaffKey(t *testing.T) {
	var e *env
	e = newEnv(t, storagetest.Open(t, storagetest.SQLiteURL(t), storage.WithClock(followClock{&e})))
	a := e.created311(request311())
	v := request311()
	v.Set("service_code", "illegal_fee")
	b := e.created311(v)
	var items []open311Item
	e.call("GET", "/open311/v2/requests.json?service_request_id="+b+",ZZZZ-ZZZZ-ZZZZ,nonsense,"+a, "", nil).want(http.StatusOK).decode(&items)
	if len(items) != 2 || items[0].ServiceRequestID != b || items[1].ServiceRequestID != a {
		t.Errorf("by ids %+v, want %s then %s", items, b, a)
	}
	if r := e.call("GET", "/open311/v2/requests/ZZZZ-ZZZZ-ZZZZ.json", "", nil).want(http.StatusOK); strings.TrimSpace(string(r.Body)) != "[]" {
		t.Errorf("unknown id answered %s", r.Body)
	}

	for _, key := range []string{"", "nope", e.token(e.handler)} {
		var errs []open311Error
		e.call("GET", "/open311/v2/requests.json?api_key="+url.QueryEscape(key), "", nil).want(http.StatusForbidden).decode(&errs)
		if len(errs) != 1 || errs[0].Code != 403 {
			t.Errorf("api_key %q: %+v", key, errs)
		}
	}
	staff := "/open311/v2/requests.json?api_key=" + url.QueryEscape(e.token(e.staff))
	for _, tt := range []struct {
		query string
		want  []string
	}{
		{"", []string{b, a}},
		{"&service_code=illegal_fine", []string{a}},
		{"&service_code=illegal_fine,illegal_fee", []string{b, a}},
		{"&status=open", []string{b, a}},
		{"&status=closed", nil},
		{"&start_date=2026-12-02", nil},
		{"&start_date=2026-12-01T00:00:00%2B08:00&end_date=2026-12-01", []string{b, a}},
	} {
		t.Run(tt.query, func(t *testing.T) {
			r := e.call("GET", staff+tt.query, "", nil).want(http.StatusOK)
			if strings.Contains(string(r.Body), "13700002222") {
				t.Errorf("search shows the reporter: %s", r.Body)
			}
			var items []open311Item
			r.decode(&items)
			var got []string
			for _, it := range items {
				got = append(got, it.ServiceRequestID)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("found %v, want %v", got, tt.want)
			}
		})
	}
	e.call("GET", staff+"&status=pending", "", nil).want(http.StatusBadRequest)
	e.call("GET", staff+"&start_date=yesterday", "", nil).want(http.StatusBadRequest)
}
