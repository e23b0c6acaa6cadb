package api_test

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"slices"
	"testing"

	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/cityhall/duban/jobs"
	"github.com/cityhall/duban/storage"
	"github.com/cityhall/duban/storage/storagetest"
)

const csvText = "case_number,court,courtroom,agency,starts_at,plaintiff,cause\n" +
	"（2026）沪0101行初7号,上海市黄浦区人民法院,第五法庭,GA,2026-12-05 09:00,李某某,不服行政处罚决定\n" +
	"（2026）沪0101行初8号,上海市黄浦区人民法院,,GA;SF,2026-12-06 14:30,陈某,政府信息公开\n"

type importAnswer struct {
	Created  int       `json:"created"`
	Existing int       `json:"existing"`
	Hearings []hearing `json:"hearings"`
}

func gb18030(t *testing.T, s string) []byte {
	t.Helper()
	b, err := simplifiedchinese.GB18030.NewEncoder().Bytes([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestImport_EveryEncodingKeepsChineseText(t *testing.T) {
	for _, tt := range []struct {
		name string
		body func(t *testing.T) []byte
	}{
		{"utf-8", func(*testing.T) []byte { return []byte(csvText) }},
		{"utf-8 with bom", func(*testing.T) []byte { return append([]byte("\xEF\xBB\xBF"), csvText...) }},
		{"gb18030", func(t *testing.T) []byte { return gb18030(t, csvText) }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, storagetest.Open(t, storagetest.SQLiteURL(t)))
			var got importAnswer
			e.call("POST", "/api/v1/hearings/import", e.token(e.staff), tt.body(t)).want(http.StatusCreated).decode(&got)
			if got.Created != 2 || got.Existing != 0 || len(got.Hearings) != 2 {
				t.Fatalf("import %+v", got)
			}
			h := got.Hearings[0]
			if h.CaseNumber != "（2026）沪0101行初7号" || h.Court != "上海市黄浦区人民法院" || h.Plaintiff != "李某某" || h.Cause != "不服行政处罚决定" ||
				h.StartsAt != "2026-12-05T09:00:00+08:00" {
				t.Errorf("first hearing %+v", h)
			}
			if codes := []string{got.Hearings[1].Agencies[0].Code, got.Hearings[1].Agencies[1].Code}; !slices.Equal(codes, []string{"GA", "SF"}) {
				t.Errorf("co-defendants %v", codes)
			}
			stored, _ := e.store.Hearings(e.ctx, storage.HearingFilter{})
			if len(stored) != 2 || stored[1].Cause != "政府信息公开" {
				t.Errorf("stored %+v", stored)
			}
			// The same file again changes nothing.
			e.call("POST", "/api/v1/hearings/import", e.token(e.staff), tt.body(t)).want(http.StatusCreated).decode(&got)
			if got.Created != 0 || got.Existing != 2 {
				t.Errorf("again %+v", got)
			}
		})
	}
}

func TestImport_OneBadRowImportsNothingAndNamesTheRow(t *testing.T) {
	e := newEnv(t, storagetest.Open(t, storagetest.SQLiteURL(t)))
	bad := csvText + "（2026）沪0101行初9号,上海市黄浦区人民法院,,NOPE,2026-12-07 09:00,赵某,行政许可\n"
	// Row 1 is the header; the third data line is row 4. Put the bad one at row 3.
	lines := bytes.SplitAfter([]byte(bad), []byte("\n"))
	lines[2], lines[3] = lines[3], lines[2]
	r := e.call("POST", "/api/v1/hearings/import", e.token(e.staff), bytes.Join(lines, nil)).want(http.StatusUnprocessableEntity)
	var body struct {
		Error   string `json:"error"`
		Details []struct {
			Field string `json:"field"`
			Row   int    `json:"row"`
		} `json:"details"`
	}
	r.decode(&body)
	if len(body.Details) != 1 || body.Details[0].Row != 3 || body.Details[0].Field != "agency" {
		t.Errorf("details %+v, want agency at row 3", body.Details)
	}
	if hs, _ := e.store.Hearings(e.ctx, storage.HearingFilter{}); len(hs) != 0 {
		t.Errorf("%d hearings stored, want none", len(hs))
	}
	e.call("POST", "/api/v1/hearings/import", e.token(e.head), []byte(csvText)).want(http.StatusForbidden)
	e.call("POST", "/api/v1/hearings/import", e.token(e.staff), []byte("")).want(http.StatusUnprocessableEntity)
}

func TestImport_MultipartFileField(t *testing.T) {
	e := newEnv(t, storagetest.Open(t, storagetest.SQLiteURL(t)))
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	_ = mw.WriteField("note", "ignored")
	fw, _ := mw.CreateFormFile("file", "开庭.csv")
	fw.Write(gb18030(t, csvText))
	mw.Close()
	var got importAnswer
	e.send("POST", "/api/v1/hearings/import", e.token(e.staff), mw.FormDataContentType(), &buf).want(http.StatusCreated).decode(&got)
	if got.Created != 2 || got.Hearings[1].Plaintiff != "陈某" {
		t.Errorf("import %+v", got)
	}

	buf.Reset()
	mw = multipart.NewWriter(&buf)
	_ = mw.WriteField("other", "x")
	mw.Close()
	r := e.send("POST", "/api/v1/hearings/import", e.token(e.staff), mw.FormDataContentType(), &buf).want(http.StatusUnprocessableEntity)
	if !slices.Contains(r.errorFields(), "file") {
		t.Errorf("no file: %s", r.Body)
	}
}

func TestImport_OverTenMegabytesIsRefused(t *testing.T) {
	e := newEnv(t, storagetest.Open(t, storagetest.SQLiteURL(t)))
	big := bytes.Repeat([]byte("x"), jobs.MaxImportBytes+1)
	e.call("POST", "/api/v1/hearings/import", e.token(e.staff), big).want(http.StatusRequestEntityTooLarge)
}
