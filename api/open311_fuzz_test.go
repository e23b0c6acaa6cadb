package api

import (
	"bytes"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/cityhall/duban"
)

// FuzzDecodeOpen311Request: no body or content type makes the decoder
// panic, and whatever it accepts has a known service code, valid UTF-8
// text, a location, a description, and coordinates in range.
func FuzzDecodeOpen311Request(f *testing.F) {
	form := "application/x-www-form-urlencoded"
	for _, seed := range []struct{ ctype, body string }{
		{form, "service_code=illegal_fine&lat=31.2&long=121.4&description=%E7%BD%9A%E6%AC%BE"},
		{form, "service_code=other&address_string=x&description=y&first_name=%E4%B8%89&last_name=%E5%BC%A0"},
		{form, "service_code=abuse&lat=91&long=0&description=y"},
		{form, "service_code=abuse&lat=NaN&long=Inf&description=y"},
		{form, "service_code=abuse&address_id=1&description=%ff%fe"},
		{form, "service_code=abuse&address_id=1&description=a%00b"},
		{form, "%zz"},
		{"", "service_code=inaction&address_id=7&description=d"},
		{"application/json", `{"service_code": "illegal_fee", "lat": 31.2, "long": -121.4, "description": "d"}`},
		{"application/json; charset=utf-8", `{"service_code": "illegal_fee", "address_string": "\ud800", "description": "d"}`},
		{"application/json", `{"service_code": ["x"], "lat": "1e400", "long": 0}`},
		{"application/json", `[]`},
		{"multipart/form-data; boundary=B", "--B\r\nContent-Disposition: form-data; name=\"service_code\"\r\n\r\nother\r\n" +
			"--B\r\nContent-Disposition: form-data; name=\"address_string\"\r\n\r\nhere\r\n" +
			"--B\r\nContent-Disposition: form-data; name=\"description\"\r\n\r\nd\r\n--B--\r\n"},
		{"multipart/form-data", "--B\r\n"},
		{"text/plain", "hello"},
		{"a/b; ===", ""},
	} {
		f.Add(seed.ctype, []byte(seed.body))
	}
	f.Fuzz(func(t *testing.T, ctype string, body []byte) {
		r := httptest.NewRequest("POST", "/open311/v2/requests.json", bytes.NewReader(body))
		r.Header.Set("Content-Type", ctype)
		req, err := decodeOpen311Request(r)
		if err != nil {
			if _, ok := err.(*open311Problem); !ok {
				t.Fatalf("error %T %v, want an *open311Problem", err, err)
			}
			return
		}
		if _, err := duban.ParseCategory(string(req.ServiceCode)); err != nil {
			t.Errorf("accepted service code %q", req.ServiceCode)
		}
		for _, s := range []string{req.AddressString, req.AddressID, req.Email, req.DeviceID, req.AccountID, req.FirstName,
			req.LastName, req.Phone, req.Description, req.MediaURL, req.Agency, req.reporterName()} {
			if !utf8.ValidString(s) || strings.ContainsRune(s, 0) {
				t.Errorf("accepted text %q", s)
			}
		}
		if (req.Lat == nil) != (req.Long == nil) {
			t.Errorf("accepted one coordinate: %v %v", req.Lat, req.Long)
		}
		if req.Lat != nil && duban.ValidateCoordinates(*req.Lat, *req.Long) != nil {
			t.Errorf("accepted coordinates %v, %v", *req.Lat, *req.Long)
		}
		if req.Lat == nil && req.AddressString == "" && req.AddressID == "" {
			t.Error("accepted a request without a location")
		}
		if strings.TrimSpace(req.Description) == "" || utf8.RuneCountInString(req.Description) > duban.MaxReportRunes {
			t.Errorf("accepted description of %d characters", utf8.RuneCountInString(req.Description))
		}
	})
}
