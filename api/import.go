package api

import (
	"errors"
	"io"
	"mime"
	"net/http"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/jobs"
)

// multipartOverhead allows for the boundaries and part headers around a
// file of MaxImportBytes.
const multipartOverhead = 64 << 10

type importJSON struct {
	Created  int           `json:"created"`
	Existing int           `json:"existing"`
	Hearings []hearingJSON `json:"hearings"`
}

// importHearings: POST /api/v1/hearings/import, a CSV file as the body
// (text/csv, or whatever Excel's browser upload says) or as the multipart
// field "file". All rows or none: a bad file answers 422 with every bad
// row in details.
func (s *server) importHearings(w http.ResponseWriter, r *http.Request, a jobs.Actor) error {
	// The rule book is asked before reading ten megabytes.
	if err := actorOf(a).Check(duban.HearingImport, duban.Subject{}); err != nil {
		return err
	}
	body, err := s.csvBody(w, r)
	if err != nil {
		return err
	}
	res, err := s.Hearings.Import(r.Context(), a, body, s.Loc)
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return errorf(http.StatusRequestEntityTooLarge, "the file is over %d MB", MaxImportBytes>>20)
	}
	if err != nil {
		return err
	}
	out := importJSON{Created: res.Created, Existing: res.Existing}
	if out.Hearings, err = s.viewer().hearings(r.Context(), res.Hearings); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, out)
	return nil
}

// csvBody finds the CSV of an import request.
func (s *server) csvBody(w http.ResponseWriter, r *http.Request) (io.Reader, error) {
	mediaType, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil {
		mediaType = ""
	}
	switch mediaType {
	case "application/json":
		return nil, errorf(http.StatusUnsupportedMediaType, "send the CSV file as text/csv or as the multipart field \"file\"")
	case "multipart/form-data":
		r.Body = http.MaxBytesReader(w, r.Body, MaxImportBytes+multipartOverhead)
		mr, err := r.MultipartReader()
		if err != nil {
			return nil, errorf(http.StatusBadRequest, "malformed multipart body")
		}
		for {
			part, err := mr.NextPart()
			var mbe *http.MaxBytesError
			switch {
			case errors.Is(err, io.EOF):
				return nil, duban.Invalid("file", "is required: upload the CSV as the multipart field \"file\"")
			case errors.As(err, &mbe):
				return nil, errorf(http.StatusRequestEntityTooLarge, "the file is over %d MB", MaxImportBytes>>20)
			case err != nil:
				return nil, errorf(http.StatusBadRequest, "malformed multipart body")
			}
			if part.FormName() == "file" {
				return part, nil
			}
		}
	}
	return http.MaxBytesReader(w, r.Body, MaxImportBytes), nil
}
