package telegram

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/cityhall/duban"
)

func TestDraftAppendText_KeepsTheTotalWithinTheLimit(t *testing.T) {
	tests := []struct {
		name    string
		have    string
		add     string
		want    string
		wantErr error
	}{
		{name: "first message, trimmed", add: "  罚款 \n", want: "罚款"},
		{name: "a second message on a new line", have: "罚款", add: "收费", want: "罚款\n收费"},
		{name: "blank", have: "罚款", add: " \t\n", want: "罚款", wantErr: errReportEmpty},
		{name: "invalid UTF-8", have: "罚款", add: "a\xffb", want: "罚款", wantErr: errReportEncoding},
		{name: "NUL, which PostgreSQL refuses", add: "a\x00b", wantErr: errReportEncoding},
		{name: "exactly the limit with the line break", have: strings.Repeat("字", 10000), add: strings.Repeat("字", 9999),
			want: strings.Repeat("字", 10000) + "\n" + strings.Repeat("字", 9999)},
		{name: "one over the limit", have: strings.Repeat("字", 10000), add: strings.Repeat("字", 10000),
			want: strings.Repeat("字", 10000), wantErr: errReportTooLong},
		{name: "one message over the limit", add: strings.Repeat("a", duban.MaxReportRunes+1), wantErr: errReportTooLong},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := &draft{Step: stepText, Text: tt.have}
			err := d.appendText(tt.add)
			if !errors.Is(err, tt.wantErr) || d.Text != tt.want {
				t.Errorf("appendText = %v, text %d runes; want %v, %d runes", err, utf8.RuneCountInString(d.Text), tt.wantErr, utf8.RuneCountInString(tt.want))
			}
		})
	}
}

func TestDraftSetWhere_CountsTowardsTheTotal(t *testing.T) {
	d := &draft{Text: strings.Repeat("字", duban.MaxReportRunes-5)}
	if err := d.setWhere("人民广场东侧"); !errors.Is(err, errReportTooLong) || d.Where != "" {
		t.Errorf("setWhere over the total = %v, where %q", err, d.Where)
	}
	if err := d.setWhere("广场"); err != nil || d.Where != "广场" {
		t.Errorf("setWhere within the total = %v, where %q", err, d.Where)
	}
	if err := d.setLocation(math.NaN(), 0); err == nil || d.Where != "广场" {
		t.Errorf("setLocation(NaN) = %v, where %q", err, d.Where)
	}
}

func TestDraftAddFile_RefusesOverTenMegabytes(t *testing.T) {
	d := &draft{}
	if err := d.addFile(draftFile{FileID: "a", Kind: "document", Size: duban.MaxAttachmentBytes}); err != nil {
		t.Errorf("a file of exactly 10 MB: %v", err)
	}
	if err := d.addFile(draftFile{FileID: "b", Kind: "document", Size: duban.MaxAttachmentBytes + 1}); !errors.Is(err, errFileTooBig) {
		t.Errorf("a file over 10 MB: %v", err)
	}
	for i := len(d.Files); i < maxReportFiles; i++ {
		if err := d.addFile(draftFile{FileID: strconv.Itoa(i), Kind: "photo", Size: 1}); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.addFile(draftFile{FileID: "z", Kind: "photo", Size: 1}); !errors.Is(err, errTooManyFiles) || len(d.Files) != maxReportFiles {
		t.Errorf("file %d: %v", maxReportFiles+1, err)
	}
}

func TestDraft_RoundTripsThroughItsChatState(t *testing.T) {
	lat, lon := 31.2304, 121.4737
	d := &draft{Step: stepConfirm, Locale: "en", Category: duban.CategoryAbuse, AgencyCode: "GA", Text: "x", Lat: &lat, Lon: &lon,
		Files: []draftFile{{FileID: "f", Kind: "photo", Size: 3, MIME: "image/jpeg"}}, Contact: contactAnonymous}
	st, err := d.state(42, time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	if st.ChatKey != "tg:42" || st.Kind != kindReport {
		t.Errorf("state %+v", st)
	}
	got, err := decodeDraft(st.Data)
	if err != nil || got.Step != stepConfirm || *got.Lat != lat || len(got.Files) != 1 || !got.LastActivity.Equal(d.LastActivity) {
		t.Errorf("decoded %+v, %v", got, err)
	}
	in := got.intake(42, 7)
	if !in.Anonymous || in.ReporterChatID != nil || in.IdempotencyKey != "tg:7" || len(in.Attachments) != 1 {
		t.Errorf("intake of an anonymous draft %+v", in)
	}
	if _, err := decodeDraft(`{"step":"nowhere"}`); err == nil {
		t.Error("a draft at an unknown step decoded")
	}
}

func TestReportData_StaysApartFromOtherButtons(t *testing.T) {
	datas := []string{reportData(rAgency, "-"), reportData(rAgency, strconv.FormatInt(math.MaxInt64, 10)), reportData(rDone),
		reportData(rSkip), reportData(rConfirm), reportData(rEdit), reportData(rCancel)}
	for _, c := range duban.Categories {
		datas = append(datas, reportData(rCategory, string(c)))
	}
	for _, s := range datas {
		if len(s) > duban.MaxCallbackData {
			t.Errorf("%q is over 64 bytes", s)
		}
		if _, err := duban.ParseCallback(s); err == nil {
			t.Errorf("%q reads as a hearing button", s)
		}
		if _, err := duban.ParseComplaintCallback(s); err == nil {
			t.Errorf("%q reads as a complaint button", s)
		}
		if verb, _, ok := parseReportData(s); !ok || verb == "" {
			t.Errorf("parseReportData(%q) failed", s)
		}
	}
	for _, s := range []string{"hc:12", "cr:3:5", "r:", "x:r:ok", "r:" + strings.Repeat("a", 63)} {
		if _, _, ok := parseReportData(s); ok {
			t.Errorf("parseReportData(%q) ok", s)
		}
	}
}

// nearlyFull is a description a few characters short of the limit, for
// the fuzzer to append to without carrying 20,000 runes in its corpus.
var nearlyFull = strings.Repeat("字", duban.MaxReportRunes-8)

// FuzzReportText feeds arbitrary messages to a draft, empty and nearly
// full: appending never panics, a refused message changes nothing, and the
// draft never holds more than duban.MaxReportRunes or anything but valid
// UTF-8 without NUL.
func FuzzReportText(f *testing.F) {
	for _, s := range [][2]string{{"罚款", "收费"}, {"", " "}, {"\xff", "a"}, {"a\x00", "b"}, {"1234567", "8"},
		{"\u200b\u3000", "\r\n"}, {"e\u0301", "🇨🇳"}, {strings.Repeat("a", 300), "字字"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		for _, start := range []string{"", nearlyFull} {
			d := &draft{Step: stepText, Text: start}
			for _, s := range []string{a, b, a} {
				before := d.Text
				if err := d.appendText(s); err != nil && d.Text != before {
					t.Fatalf("refused %q but the text changed", s)
				}
				if n := utf8.RuneCountInString(d.Text); n > duban.MaxReportRunes {
					t.Fatalf("draft holds %d runes", n)
				}
				if !utf8.ValidString(d.Text) || strings.ContainsRune(d.Text, 0) {
					t.Fatalf("draft holds %q", d.Text)
				}
				if err := duban.ValidateReportText(d.Text); d.Text != "" && err != nil {
					t.Fatalf("draft %q is not a valid description: %v", d.Text, err)
				}
			}
		}
	})
}
