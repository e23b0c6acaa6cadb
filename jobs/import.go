package jobs

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/storage"
)

// MaxImportBytes bounds a CSV import; a court's notices for a year fit in
// far less.
const MaxImportBytes = 10 << 20

// ImportResult says what an import did, row by row.
type ImportResult struct {
	Created  int             `json:"created"`
	Existing int             `json:"existing"`
	Hearings []duban.Hearing `json:"-"`
}

var importColumns = []string{"case_number", "court", "courtroom", "agency", "starts_at", "plaintiff", "cause"}

// DecodeCSVText turns a file as Excel or another program saved it into
// UTF-8: a UTF-8 byte-order mark is dropped, and text that is not valid
// UTF-8 is read as GB18030 (what Excel writes on Chinese Windows).
func DecodeCSVText(b []byte) ([]byte, error) {
	b = bytes.TrimPrefix(b, []byte("\xEF\xBB\xBF"))
	if utf8.Valid(b) {
		return b, nil
	}
	out, err := simplifiedchinese.GB18030.NewDecoder().Bytes(b)
	if err != nil {
		return nil, duban.Invalid("file", "is neither UTF-8 nor GB18030 text")
	}
	return out, nil
}

// ParseNotices reads hearing notices from CSV: a header row of the API's
// field names (agency may hold several codes split by ';'), then one notice
// a row. Rows are numbered as a spreadsheet shows them: the header is row 1.
func ParseNotices(r io.Reader, loc *time.Location) ([]duban.Notice, []int, error) {
	raw, err := io.ReadAll(io.LimitReader(r, MaxImportBytes+1))
	if err != nil {
		return nil, nil, fmt.Errorf("jobs: read csv: %w", err)
	}
	if len(raw) > MaxImportBytes {
		return nil, nil, duban.Invalid("file", "is over %d MB", MaxImportBytes>>20)
	}
	text, err := DecodeCSVText(raw)
	if err != nil {
		return nil, nil, err
	}
	cr := csv.NewReader(bytes.NewReader(text))
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, nil, duban.Invalid("file", "is empty")
	}
	if err != nil {
		return nil, nil, &duban.ValidationError{Details: []duban.FieldError{{Row: 1, Message: "malformed CSV: " + err.Error()}}}
	}
	col := map[string]int{}
	var v duban.ValidationError
	for i, h := range header {
		name := strings.ToLower(strings.TrimSpace(h))
		if name == "agencies" {
			name = "agency"
		}
		if !slices.Contains(importColumns, name) {
			v.Details = append(v.Details, duban.FieldError{Field: h, Row: 1, Message: "unknown column"})
			continue
		}
		col[name] = i
	}
	for _, need := range []string{"case_number", "court", "agency", "starts_at", "plaintiff", "cause"} {
		if _, ok := col[need]; !ok {
			v.Details = append(v.Details, duban.FieldError{Field: need, Row: 1, Message: "column is missing"})
		}
	}
	if err := v.Err(); err != nil {
		return nil, nil, err
	}
	var notices []duban.Notice
	var rows []int
	for row := 2; ; row++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			v.Details = append(v.Details, duban.FieldError{Row: row, Message: "malformed CSV: " + err.Error()})
			break
		}
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue // a blank line
		}
		get := func(name string) string {
			if i, ok := col[name]; ok && i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		n := duban.Notice{CaseNumber: get("case_number"), Court: get("court"), Courtroom: get("courtroom"),
			Plaintiff: get("plaintiff"), Cause: get("cause"), Agencies: SplitAgencies(get("agency"))}
		if s := get("starts_at"); s != "" {
			t, err := duban.ParseTime(s, loc)
			if err != nil {
				v.Details = append(v.Details, duban.FieldError{Field: "starts_at", Row: row, Message: fmt.Sprintf("%q is not a time (RFC 3339 or 2006-01-02 15:04)", s)})
				continue
			}
			n.StartsAt = t
		}
		notices = append(notices, n)
		rows = append(rows, row)
	}
	if len(notices) == 0 && len(v.Details) == 0 {
		return nil, nil, duban.Invalid("file", "has no rows")
	}
	return notices, rows, v.Err()
}

// SplitAgencies reads "A1;A2" (full-width ； and commas too).
func SplitAgencies(s string) []string {
	var out []string
	for _, p := range strings.FieldsFunc(s, func(r rune) bool { return r == ';' || r == '；' || r == ',' || r == '，' }) {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// Import registers every notice of a CSV file, or none: every bad row is
// reported with its row number and nothing is written.
func (hs *Hearings) Import(ctx context.Context, actor Actor, r io.Reader, loc *time.Location) (*ImportResult, error) {
	if err := actor.Check(duban.HearingImport, duban.Subject{}); err != nil {
		return nil, err
	}
	notices, rows, err := ParseNotices(r, loc)
	var v duban.ValidationError
	if err != nil {
		var ve *duban.ValidationError
		if !errors.As(err, &ve) {
			return nil, err
		}
		v.Details = append(v.Details, ve.Details...)
	}
	now := hs.clock.Now()
	for i, n := range notices {
		if err := n.Validate(now); err != nil {
			addRow(&v, err, rows[i])
		}
		if _, err := ResolveAgencies(ctx, hs.store, n.Agencies); err != nil {
			addRow(&v, err, rows[i])
		}
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	res := &ImportResult{}
	err = hs.store.InTx(ctx, func(tx *storage.Store) error {
		h := hs.With(tx)
		for i, n := range notices {
			got, created, err := h.Register(ctx, actor, n)
			if err != nil {
				addRow(&v, err, rows[i])
				return v.Err()
			}
			if created {
				res.Created++
			} else {
				res.Existing++
			}
			res.Hearings = append(res.Hearings, *got)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

func addRow(v *duban.ValidationError, err error, row int) {
	var ve *duban.ValidationError
	if errors.As(err, &ve) {
		for _, d := range ve.Details {
			d.Row = row
			v.Details = append(v.Details, d)
		}
		return
	}
	v.Details = append(v.Details, duban.FieldError{Row: row, Message: err.Error()})
}
