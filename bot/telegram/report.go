package telegram

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/jobs"
	"github.com/cityhall/duban/storage"
)

// kindReport is the chat state of a guided report being written; its data
// is the draft as JSON, so a restart in the middle loses nothing.
const kindReport = "report"

// Limits of a guided report beside duban.MaxReportRunes and
// duban.MaxAttachmentBytes.
const (
	// reportIdle is how long a draft is kept without an answer before
	// DropIdleReports drops it.
	reportIdle = 24 * time.Hour
	// maxReportFiles bounds the photos and documents of one report.
	maxReportFiles = 10
	// maxFieldRunes bounds a typed agency and a "when and where", as
	// jobs.Intake.Validate does.
	maxFieldRunes = duban.MaxFieldRunes
	// maxNameRunes bounds a shared contact's name and phone number.
	maxNameRunes = duban.MaxNameRunes
	// maxAgencyButtons is the most agencies offered as buttons; the rest
	// can be typed.
	maxAgencyButtons = 20
	// maxMessageRunes is Telegram's limit on a message's text.
	// https://core.telegram.org/bots/api#sendmessage
	maxMessageRunes = 4096
)

// step is where a draft stands.
type step string

// The steps of a guided report, in order.
const (
	stepCategory step = "category"
	stepAgency   step = "agency"
	stepText     step = "text"
	stepWhere    step = "where"
	stepFiles    step = "files"
	stepContact  step = "contact"
	stepConfirm  step = "confirm"
)

// How the reporter chose to be reached.
const (
	contactPhone     = "phone"     // a shared contact: name and phone kept
	contactChat      = "chat"      // told in this chat only
	contactAnonymous = "anonymous" // no name, phone or chat kept
)

// draftFile is a photo or document of a draft, kept as Telegram's file id.
type draftFile struct {
	FileID string `json:"file_id"`
	Kind   string `json:"kind"` // photo or document
	Size   int64  `json:"size"`
	MIME   string `json:"mime,omitempty"`
}

// draft is a report being written in a chat.
type draft struct {
	Step         step           `json:"step"`
	Locale       string         `json:"locale"`
	Category     duban.Category `json:"category,omitempty"`
	AgencyCode   string         `json:"agency_code,omitempty"`
	AgencyName   string         `json:"agency_name,omitempty"`
	AgencyText   string         `json:"agency_text,omitempty"`
	Text         string         `json:"text,omitempty"`
	Where        string         `json:"where,omitempty"`
	Lat          *float64       `json:"lat,omitempty"`
	Lon          *float64       `json:"lon,omitempty"`
	Files        []draftFile    `json:"files,omitempty"`
	Contact      string         `json:"contact,omitempty"`
	Name         string         `json:"name,omitempty"`
	Phone        string         `json:"phone,omitempty"`
	LastActivity time.Time      `json:"last_activity"` // re-checked by DropIdleReports
}

// Why a draft refuses an answer; each has its own reply.
var (
	errReportEmpty    = errors.New("report: empty text")
	errReportEncoding = errors.New("report: text is not valid UTF-8")
	errReportTooLong  = errors.New("report: text over the limit")
	errFileTooBig     = errors.New("report: file over the limit")
	errTooManyFiles   = errors.New("report: too many files")
)

// cleanText checks text a reporter typed: valid UTF-8 without NUL (which
// PostgreSQL refuses), not blank, at most max code points. It returns the
// text trimmed.
func cleanText(s string, max int) (string, error) {
	if !utf8.ValidString(s) || strings.ContainsRune(s, 0) {
		return "", errReportEncoding
	}
	s = strings.TrimSpace(s)
	if s == "" {
		return "", errReportEmpty
	}
	if utf8.RuneCountInString(s) > max {
		return "", errReportTooLong
	}
	return s, nil
}

// runes counts the report's text as jobs.Intake.Validate does: the
// description and the "when and where".
func (d *draft) runes() int {
	return utf8.RuneCountInString(d.Text) + utf8.RuneCountInString(d.Where)
}

// appendText adds one message to the description, a line break between
// messages. A message that is blank, not valid UTF-8, or would take the
// report over duban.MaxReportRunes changes nothing.
func (d *draft) appendText(s string) error {
	s, err := cleanText(s, duban.MaxReportRunes)
	if err != nil {
		return err
	}
	add := utf8.RuneCountInString(s)
	if d.Text != "" {
		add++ // the line break
	}
	if d.runes()+add > duban.MaxReportRunes {
		return errReportTooLong
	}
	if d.Text != "" {
		d.Text += "\n"
	}
	d.Text += s
	return nil
}

// setWhere keeps "when and where" as typed, within maxFieldRunes and the
// report's total.
func (d *draft) setWhere(s string) error {
	s, err := cleanText(s, maxFieldRunes)
	if err != nil {
		return err
	}
	if utf8.RuneCountInString(d.Text)+utf8.RuneCountInString(s) > duban.MaxReportRunes {
		return errReportTooLong
	}
	d.Where, d.Lat, d.Lon = s, nil, nil
	return nil
}

// setLocation keeps a shared position.
func (d *draft) setLocation(lat, lon float64) error {
	if err := duban.ValidateCoordinates(lat, lon); err != nil {
		return err
	}
	d.Where, d.Lat, d.Lon = "", &lat, &lon
	return nil
}

// addFile keeps a photo or document, at most duban.MaxAttachmentBytes and
// maxReportFiles of them.
func (d *draft) addFile(f draftFile) error {
	switch {
	case f.FileID == "" || !utf8.ValidString(f.FileID) || len(f.FileID) > 512:
		return errReportEncoding
	case f.Size > duban.MaxAttachmentBytes:
		return errFileTooBig
	case len(d.Files) >= maxReportFiles:
		return errTooManyFiles
	}
	d.Files = append(d.Files, f)
	return nil
}

// setContact keeps a shared contact's name and phone, cleaned of what
// PostgreSQL refuses and bounded.
func (d *draft) setContact(name, phone string) {
	d.Contact, d.Name, d.Phone = contactPhone, sanitizeField(name, maxNameRunes), sanitizeField(phone, maxNameRunes)
}

// sanitizeField makes s storable: valid UTF-8, no NUL, trimmed, at most max code
// points.
func sanitizeField(s string, max int) string {
	s = strings.TrimSpace(strings.ReplaceAll(strings.ToValidUTF8(s, ""), "\x00", ""))
	return duban.Truncate(s, max)
}

// intake turns a confirmed draft into a complaint for jobs.Complaints.Create.
// An anonymous report keeps no name, phone or chat.
func (d *draft) intake(chatID int64, updateID int) jobs.Intake {
	in := jobs.Intake{Source: duban.SourceTelegram, Category: string(d.Category), Agency: d.AgencyCode,
		AgencyText: d.AgencyText, Description: d.Text, Location: d.Where, Latitude: d.Lat, Longitude: d.Lon,
		ReporterLocale: d.Locale, Anonymous: d.Contact == contactAnonymous,
		IdempotencyKey: "tg:" + strconv.Itoa(updateID)}
	if !in.Anonymous {
		in.ReporterChatID = &chatID
		in.ReporterName, in.ReporterPhone = d.Name, d.Phone
	}
	for _, f := range d.Files {
		in.Attachments = append(in.Attachments, storage.Attachment{FileID: f.FileID, Kind: f.Kind, Size: f.Size, MIME: f.MIME})
	}
	return in
}

// state renders d as the chat state of chat at now.
func (d *draft) state(chat int64, now time.Time) (*storage.ChatState, error) {
	d.LastActivity = now.UTC()
	b, err := json.Marshal(d)
	if err != nil {
		return nil, fmt.Errorf("report draft: %w", err)
	}
	return &storage.ChatState{ChatKey: chatKey(chat), Kind: kindReport, Data: string(b)}, nil
}

// decodeDraft reads a draft from its chat state.
func decodeDraft(data string) (*draft, error) {
	var d draft
	if err := json.Unmarshal([]byte(data), &d); err != nil {
		return nil, fmt.Errorf("report draft: %w", err)
	}
	switch d.Step {
	case stepCategory, stepAgency, stepText, stepWhere, stepFiles, stepContact, stepConfirm:
		return &d, nil
	}
	return nil, fmt.Errorf("report draft: unknown step %q", d.Step)
}

// Callback data of the report's buttons: "r:<verb>" or "r:<verb>:<arg>".
// The prefix keeps them apart from the hearing verbs (duban.ParseCallback)
// and the complaint verbs (duban.ParseComplaintCallback), whose second
// part is always a number.
const (
	reportPrefix = "r:"
	rCategory    = "cat"    // r:cat:<category code>
	rAgency      = "ag"     // r:ag:<agency id>, r:ag:- for unknown
	rDone        = "done"   // the text or the files are complete
	rSkip        = "skip"   // no "when and where", no files
	rConfirm     = "ok"     // send the report
	rEdit        = "edit"   // start again from the category
	rCancel      = "cancel" // drop the draft
)

// reportData renders a report button's callback data.
func reportData(verb string, arg ...string) string {
	return reportPrefix + strings.Join(append([]string{verb}, arg...), ":")
}

// parseReportData reads callback data made by reportData.
func parseReportData(s string) (verb, arg string, ok bool) {
	rest, ok := strings.CutPrefix(s, reportPrefix)
	if !ok || len(s) > duban.MaxCallbackData {
		return "", "", false
	}
	verb, arg, _ = strings.Cut(rest, ":")
	return verb, arg, verb != ""
}
