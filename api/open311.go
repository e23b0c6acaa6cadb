package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/jobs"
)

// Open311 GeoReport v2 (https://wiki.open311.org/GeoReport_v2/): the
// service list, posting a request, and reading the public part of
// requests. Errors are the spec's array, [{"code": 400, "description": …}].

// open311Actor is who takes in a request posted through Open311.
const open311Actor = "open311"

// maxOpen311IDs bounds service_request_id=a,b,… in one call.
const maxOpen311IDs = 100

type open311Service struct {
	ServiceCode string `json:"service_code"`
	ServiceName string `json:"service_name"`
	Description string `json:"description"`
	Metadata    bool   `json:"metadata"`
	Type        string `json:"type"`
	Keywords    string `json:"keywords"`
	Group       string `json:"group"`
}

type open311Created struct {
	ServiceRequestID string  `json:"service_request_id"`
	ServiceNotice    string  `json:"service_notice"`
	AccountID        *string `json:"account_id"`
}

type open311ErrorJSON struct {
	Code        int    `json:"code"`
	Description string `json:"description"`
}

// open311Handler is an Open311 endpoint: no bearer token, errors in the
// spec's form.
func (s *server) open311(h func(w http.ResponseWriter, r *http.Request) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			s.open311Fail(w, r, err)
		}
	}
}

// open311Fail answers err as the spec's error array.
func (s *server) open311Fail(w http.ResponseWriter, r *http.Request, err error) {
	var (
		p  *open311Problem
		ve *duban.ValidationError
	)
	switch {
	case errors.As(err, &p):
	case errors.As(err, &ve):
		p = &open311Problem{status: http.StatusBadRequest}
		for _, d := range ve.Details {
			p.msgs = append(p.msgs, d.String())
		}
	case errors.Is(err, duban.ErrForbidden):
		p = problem(http.StatusForbidden, "a valid api_key of office staff, a supervisor or an admin is required")
	default:
		status, body := s.classify(err)
		if status >= http.StatusInternalServerError {
			s.log.Error("open311 request failed", slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Any("error", err))
		}
		p = problem(status, "%s", body.Error)
	}
	setRetryAfter(w, err)
	out := make([]open311ErrorJSON, 0, len(p.msgs))
	for _, m := range p.msgs {
		out = append(out, open311ErrorJSON{Code: p.status, Description: m})
	}
	writeJSON(w, p.status, out)
}

// open311Locale is the language of service names and notes: the locale
// parameter, else Accept-Language; zh-CN unless clearly English.
func open311Locale(r *http.Request) string {
	if l := r.URL.Query().Get("locale"); l != "" {
		return duban.NormalizeLocale(l)
	}
	return duban.NormalizeLocale(r.Header.Get("Accept-Language"))
}

// open311Services: GET /open311/v2/services.json, one service a category.
func (s *server) open311Services(w http.ResponseWriter, r *http.Request) error {
	locale := open311Locale(r)
	out := make([]open311Service, 0, len(duban.Categories))
	for _, c := range duban.Categories {
		id := "category." + string(c)
		name := s.Complaints.T.T(locale, id, nil)
		keywords := []string{string(c), s.Complaints.T.T(duban.LocaleZH, id, nil), s.Complaints.T.T(duban.LocaleEN, id, nil)}
		out = append(out, open311Service{ServiceCode: string(c), ServiceName: name, Description: name,
			Metadata: false, Type: "realtime", Keywords: strings.Join(keywords, ","), Group: ""})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// open311Create: POST /open311/v2/requests.json → 201
// [{"service_request_id": "XXXX-XXXX-XXXX", …}]. An Idempotency-Key (or
// X-Idempotency-Key) header makes a retry of the same request answer the
// first with 200. Each client address may post DUBAN_OPEN311_RATE; past
// it, 429 with Retry-After.
func (s *server) open311Create(w http.ResponseWriter, r *http.Request) error {
	if err := s.limit(r.Context(), "open311:"+s.clientAddr(r), s.Open311Rate); err != nil {
		return err
	}
	r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
	key := r.Header.Get("Idempotency-Key")
	if key == "" {
		key = r.Header.Get("X-Idempotency-Key")
	}
	if len(key) > maxIdempotencyKey || !utf8.ValidString(key) {
		return problem(http.StatusBadRequest, "Idempotency-Key must be at most %d characters of UTF-8", maxIdempotencyKey)
	}
	req, err := decodeOpen311Request(r)
	if err != nil {
		return err
	}
	name := req.reporterName()
	in := jobs.Intake{Source: duban.SourceOpen311, Category: string(req.ServiceCode), Agency: req.Agency,
		Description: req.Description, Location: req.AddressString, Latitude: req.Lat, Longitude: req.Long,
		ReporterName: name, ReporterPhone: req.Phone, Anonymous: name == "" && req.Phone == "",
		ReporterLocale: open311Locale(r), Link: req.MediaURL}
	if in.Location == "" && req.AddressID != "" {
		in.Location = "address_id " + req.AddressID
	}
	if key != "" {
		in.IdempotencyKey = open311Key(key, req)
	}
	c, created, err := s.Complaints.Create(r.Context(), jobs.Actor{Name: open311Actor}, in)
	if err != nil {
		return err
	}
	status := http.StatusCreated
	if !created {
		status = http.StatusOK
	}
	writeJSON(w, status, []open311Created{{ServiceRequestID: duban.FormatTrackingCode(c.TrackingCode)}})
	return nil
}

// open311Key scopes an idempotency key to the request it came with: the
// endpoint is public, and a key alone, guessed or reused, must not hand
// one caller the tracking code of another's complaint.
func open311Key(key string, req open311Request) string {
	h := sha256.New()
	fmt.Fprintf(h, "%q", []any{key, req.ServiceCode, req.Description, req.AddressString, req.AddressID, req.Email,
		req.FirstName, req.LastName, req.Phone, req.MediaURL, req.Agency, fmtCoord(req.Lat), fmtCoord(req.Long)})
	return "open311:" + hex.EncodeToString(h.Sum(nil))
}

func fmtCoord(f *float64) string {
	if f == nil {
		return ""
	}
	return fmt.Sprint(*f)
}

// open311Agency holds agency names for one request.
type open311Agencies map[int64]string

func (s *server) agencyName(ctx context.Context, cache open311Agencies, id int64) (string, error) {
	if n, ok := cache[id]; ok {
		return n, nil
	}
	a, err := s.Store.AgencyByID(ctx, id)
	if err != nil {
		return "", err
	}
	cache[id] = a.Name
	return a.Name, nil
}
