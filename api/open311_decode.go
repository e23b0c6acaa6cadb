package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/cityhall/duban"
)

// open311Request is a GeoReport v2 "POST Service Request"
// (https://wiki.open311.org/GeoReport_v2/#post-service-request), decoded
// and checked: a known service code, a location, a description, text that
// is valid UTF-8, and coordinates in range.
type open311Request struct {
	ServiceCode   duban.Category
	Lat, Long     *float64
	AddressString string
	AddressID     string
	Email         string
	DeviceID      string
	AccountID     string
	FirstName     string
	LastName      string
	Phone         string
	Description   string
	MediaURL      string
	// Agency is a duban extension: the code of the agency complained
	// about.
	Agency string
}

// open311Fields are the parameters read; others (api_key,
// jurisdiction_id, attribute[…]) are ignored, as the spec lets a
// single-jurisdiction endpoint do.
var open311Fields = []string{"service_code", "lat", "long", "address_string", "address_id", "email", "device_id",
	"account_id", "first_name", "last_name", "phone", "description", "media_url", "agency"}

// maxOpen311Parts bounds the parts of a multipart body read.
const maxOpen311Parts = 100

// maxFieldRunes bounds every field but the description, as jobs.Intake
// does.
const maxFieldRunes = duban.MaxFieldRunes

// open311Problem is an error answered in the spec's form,
// [{"code": status, "description": …}], one entry per message.
type open311Problem struct {
	status int
	msgs   []string
}

func (p *open311Problem) Error() string { return strings.Join(p.msgs, "; ") }

func problem(status int, format string, args ...any) *open311Problem {
	return &open311Problem{status: status, msgs: []string{fmt.Sprintf(format, args...)}}
}

// decodeOpen311Request reads a service request posted form-encoded (as
// the spec says), as multipart/form-data (files are skipped), or as a JSON
// object. Parameters in the URL's query fill in what the body lacks.
func decodeOpen311Request(r *http.Request) (open311Request, error) {
	raw, err := io.ReadAll(io.LimitReader(r.Body, MaxBodyBytes+1))
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe) || len(raw) > MaxBodyBytes:
		return open311Request{}, problem(http.StatusRequestEntityTooLarge, "the request body is over %s", sizeName(MaxBodyBytes))
	case err != nil:
		return open311Request{}, problem(http.StatusBadRequest, "the request body could not be read")
	}
	ctype := r.Header.Get("Content-Type")
	mt, params := "application/x-www-form-urlencoded", map[string]string{}
	if strings.TrimSpace(ctype) != "" {
		if mt, params, err = mime.ParseMediaType(ctype); err != nil {
			return open311Request{}, problem(http.StatusUnsupportedMediaType, "the Content-Type cannot be read")
		}
	}
	var vals map[string]string
	switch {
	case mt == "application/x-www-form-urlencoded":
		q, err := url.ParseQuery(string(raw))
		if err != nil {
			return open311Request{}, problem(http.StatusBadRequest, "the form body is malformed")
		}
		vals = firstValues(q)
	case mt == "multipart/form-data":
		if vals, err = multipartValues(raw, params["boundary"]); err != nil {
			return open311Request{}, err
		}
	case mt == "application/json" || strings.HasSuffix(mt, "+json"):
		if vals, err = jsonValues(raw); err != nil {
			return open311Request{}, err
		}
	default:
		return open311Request{}, problem(http.StatusUnsupportedMediaType,
			"send the request form-encoded (application/x-www-form-urlencoded), as multipart/form-data or as JSON")
	}
	for k, v := range firstValues(r.URL.Query()) {
		if _, ok := vals[k]; !ok {
			vals[k] = v
		}
	}
	return checkOpen311(vals)
}

// firstValues keeps the first value of each parameter read.
func firstValues(q url.Values) map[string]string {
	out := map[string]string{}
	for _, k := range open311Fields {
		if v, ok := q[k]; ok && len(v) > 0 {
			out[k] = v[0]
		}
	}
	return out
}

func multipartValues(raw []byte, boundary string) (map[string]string, error) {
	if boundary == "" {
		return nil, problem(http.StatusBadRequest, "the multipart body has no boundary")
	}
	mr := multipart.NewReader(bytes.NewReader(raw), boundary)
	q := url.Values{}
	for range maxOpen311Parts {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, problem(http.StatusBadRequest, "the multipart body is malformed")
		}
		if p.FileName() != "" {
			continue // media are sent as media_url
		}
		b, err := io.ReadAll(p)
		if err != nil {
			return nil, problem(http.StatusBadRequest, "the multipart body is malformed")
		}
		q.Add(p.FormName(), string(b))
	}
	return firstValues(q), nil
}

func jsonValues(raw []byte) (map[string]string, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, problem(http.StatusBadRequest, "the body is not a JSON object")
	}
	out := map[string]string{}
	p := &open311Problem{status: http.StatusBadRequest}
	for _, k := range open311Fields {
		v := bytes.TrimSpace(m[k])
		switch {
		case len(v) == 0 || string(v) == "null":
		case v[0] == '"':
			var s string
			if !validJSONString(v) || json.Unmarshal(v, &s) != nil {
				p.msgs = append(p.msgs, k+" is not valid UTF-8 text")
				continue
			}
			out[k] = s
		case (k == "lat" || k == "long") && (v[0] == '-' || ('0' <= v[0] && v[0] <= '9')):
			out[k] = string(v)
		default:
			p.msgs = append(p.msgs, k+" must be a string")
		}
	}
	if len(p.msgs) > 0 {
		return nil, p
	}
	return out, nil
}

// checkOpen311 builds the request from its parameters, naming every
// problem.
func checkOpen311(vals map[string]string) (open311Request, error) {
	p := &open311Problem{status: http.StatusBadRequest}
	bad := func(format string, args ...any) { p.msgs = append(p.msgs, fmt.Sprintf(format, args...)) }
	for _, k := range open311Fields {
		v := vals[k]
		limit := maxFieldRunes
		if k == "description" {
			limit = duban.MaxReportRunes
		}
		switch {
		case !validText(v):
			bad("%s is not valid UTF-8 text", k)
			vals[k] = ""
		case utf8.RuneCountInString(v) > limit:
			bad("%s must be at most %d characters", k, limit)
		default:
			vals[k] = strings.TrimSpace(v)
		}
	}
	req := open311Request{AddressString: vals["address_string"], AddressID: vals["address_id"], Email: vals["email"],
		DeviceID: vals["device_id"], AccountID: vals["account_id"], FirstName: vals["first_name"],
		LastName: vals["last_name"], Phone: vals["phone"], Description: vals["description"],
		MediaURL: vals["media_url"], Agency: vals["agency"]}
	if code := vals["service_code"]; code == "" {
		bad("service_code is required")
	} else if c, err := duban.ParseCategory(code); err != nil {
		bad("service_code must be one of %s", names(duban.Categories))
	} else {
		req.ServiceCode = c
	}
	lat, long := vals["lat"], vals["long"]
	switch {
	case (lat == "") != (long == ""):
		bad("lat and long must be given together")
	case lat != "":
		la, errLa := strconv.ParseFloat(lat, 64)
		lo, errLo := strconv.ParseFloat(long, 64)
		if errLa != nil || errLo != nil || duban.ValidateCoordinates(la, lo) != nil {
			bad("lat must be a latitude from -90 to 90 and long a longitude from -180 to 180")
		} else {
			req.Lat, req.Long = &la, &lo
		}
	}
	if lat == "" && req.AddressString == "" && req.AddressID == "" {
		bad("a location is required: lat and long, address_string or address_id")
	}
	if req.Description == "" {
		bad("description is required")
	}
	if req.MediaURL != "" {
		if u, err := url.Parse(req.MediaURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("media_url must be an http or https URL")
		}
	}
	if req.Email != "" && !strings.Contains(req.Email, "@") {
		bad("email is not an e-mail address")
	}
	if len(p.msgs) > 0 {
		return open311Request{}, p
	}
	return req, nil
}

// validText reports whether s is valid UTF-8 without NUL, which
// PostgreSQL cannot store in text.
func validText(s string) bool { return utf8.ValidString(s) && !strings.ContainsRune(s, 0) }

// reporterName joins the reporter's names as they are written: family
// name first and no space for Chinese (张 + 三 → 张三), given name first
// otherwise.
func (req open311Request) reporterName() string {
	for _, r := range req.FirstName + req.LastName {
		if unicode.Is(unicode.Han, r) {
			return req.LastName + req.FirstName
		}
	}
	return strings.TrimSpace(req.FirstName + " " + req.LastName)
}
