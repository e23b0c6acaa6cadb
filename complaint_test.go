package duban

import (
	"encoding/json"
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// TestTransition_EveryStateAndAction walks all 7 × 12 pairs against the
// table of states and actions in docs/API.md (Complaints).
func TestTransition_EveryStateAndAction(t *testing.T) {
	const no = ComplaintStatus("") // not allowed
	want := map[ComplaintStatus]map[Action]ComplaintStatus{
		ComplaintReceived: {
			ActionAccept: ComplaintAccepted, ActionReject: ComplaintRejected, ActionAssign: no,
			ActionReply: no, ActionClose: no, ActionReopen: no, ActionMerge: ComplaintMerged,
			ActionUrge: no, ActionEscalate: no, ActionExtend: no, ActionNote: ComplaintReceived, ActionRate: no,
		},
		ComplaintAccepted: {
			ActionAccept: no, ActionReject: no, ActionAssign: ComplaintAssigned,
			ActionReply: no, ActionClose: no, ActionReopen: no, ActionMerge: ComplaintMerged,
			ActionUrge: no, ActionEscalate: no, ActionExtend: no, ActionNote: ComplaintAccepted, ActionRate: no,
		},
		ComplaintRejected: {
			ActionAccept: no, ActionReject: no, ActionAssign: no,
			ActionReply: no, ActionClose: no, ActionReopen: ComplaintAccepted, ActionMerge: no,
			ActionUrge: no, ActionEscalate: no, ActionExtend: no, ActionNote: ComplaintRejected, ActionRate: no,
		},
		ComplaintAssigned: {
			ActionAccept: no, ActionReject: no, ActionAssign: ComplaintAssigned,
			ActionReply: ComplaintReplied, ActionClose: no, ActionReopen: no, ActionMerge: ComplaintMerged,
			ActionUrge: ComplaintAssigned, ActionEscalate: ComplaintAssigned, ActionExtend: ComplaintAssigned,
			ActionNote: ComplaintAssigned, ActionRate: no,
		},
		ComplaintReplied: {
			ActionAccept: no, ActionReject: no, ActionAssign: ComplaintAssigned,
			ActionReply: no, ActionClose: ComplaintClosed, ActionReopen: no, ActionMerge: ComplaintMerged,
			ActionUrge: no, ActionEscalate: no, ActionExtend: no, ActionNote: ComplaintReplied, ActionRate: no,
		},
		ComplaintClosed: {
			ActionAccept: no, ActionReject: no, ActionAssign: no,
			ActionReply: no, ActionClose: no, ActionReopen: ComplaintAccepted, ActionMerge: no,
			ActionUrge: no, ActionEscalate: no, ActionExtend: no, ActionNote: ComplaintClosed, ActionRate: ComplaintClosed,
		},
		ComplaintMerged: {
			ActionAccept: no, ActionReject: no, ActionAssign: no,
			ActionReply: no, ActionClose: no, ActionReopen: no, ActionMerge: no,
			ActionUrge: no, ActionEscalate: no, ActionExtend: no, ActionNote: ComplaintMerged, ActionRate: no,
		},
	}
	if len(want) != len(ComplaintStatuses) {
		t.Fatalf("the table covers %d states, there are %d", len(want), len(ComplaintStatuses))
	}
	for _, from := range ComplaintStatuses {
		if len(want[from]) != len(Actions) {
			t.Fatalf("the table covers %d actions of %s, there are %d", len(want[from]), from, len(Actions))
		}
		var allowed []string
		for _, a := range Actions {
			if want[from][a] != no {
				allowed = append(allowed, string(a))
			}
		}
		for _, a := range Actions {
			t.Run(string(from)+"/"+string(a), func(t *testing.T) {
				got, err := Transition(from, a)
				if to := want[from][a]; to != no {
					if err != nil || got != to {
						t.Fatalf("Transition = %q, %v; want %q", got, err, to)
					}
					return
				}
				var se *StateError
				if !errors.As(err, &se) || !errors.Is(err, ErrConflict) {
					t.Fatalf("Transition = %q, %v; want a StateError", got, err)
				}
				if se.Action != string(a) || se.State != string(from) || !slices.Equal(se.Allowed, allowed) {
					t.Errorf("StateError = %+v, want allowed %v", se, allowed)
				}
			})
		}
		if got := AllowedActions(from); !slices.Equal(got, allowed) {
			t.Errorf("AllowedActions(%s) = %v, want %v", from, got, allowed)
		}
	}
}

func TestTransition_UnknownActionOrState(t *testing.T) {
	if _, err := Transition(ComplaintReceived, "approve"); !errors.Is(err, ErrInvalid) {
		t.Errorf("unknown action: %v, want ErrInvalid", err)
	}
	_, err := Transition("lost", ActionAccept)
	var se *StateError
	if !errors.As(err, &se) || se.Allowed == nil || len(se.Allowed) != 0 {
		t.Errorf("unknown state: %v, want a StateError allowing nothing", err)
	}
}

func TestComplaintStatus_Open(t *testing.T) {
	for _, s := range ComplaintStatuses {
		want := s != ComplaintRejected && s != ComplaintClosed && s != ComplaintMerged
		if s.Open() != want {
			t.Errorf("%s.Open() = %v", s, !want)
		}
		if _, err := Transition(s, ActionMerge); (err == nil) != want {
			t.Errorf("merge allowed while %s: %v; only open complaints merge", s, err == nil)
		}
	}
}

func TestParse_SourcesCategoriesActionsStatuses(t *testing.T) {
	for _, s := range []string{"telegram", "hotline_call", "media", "open311", "npc_deputy", "cppcc_member", "other"} {
		if got, err := ParseSource(s); err != nil || string(got) != s {
			t.Errorf("ParseSource(%q) = %q, %v", s, got, err)
		}
	}
	for _, s := range []string{"illegal_fine", "illegal_fee", "illegal_levy", "inaction", "abuse", "efficiency", "other"} {
		if got, err := ParseCategory(s); err != nil || string(got) != s {
			t.Errorf("ParseCategory(%q) = %q, %v", s, got, err)
		}
	}
	if len(Sources) != 7 || len(Categories) != 7 || len(Actions) != 12 || len(ComplaintStatuses) != 7 {
		t.Errorf("lists: %d sources, %d categories, %d actions, %d states", len(Sources), len(Categories), len(Actions), len(ComplaintStatuses))
	}
	for _, a := range Actions {
		if got, err := ParseAction(string(a)); err != nil || got != a {
			t.Errorf("ParseAction(%q) = %q, %v", a, got, err)
		}
	}
	for _, s := range ComplaintStatuses {
		if got, err := ParseComplaintStatus(string(s)); err != nil || got != s {
			t.Errorf("ParseComplaintStatus(%q) = %q, %v", s, got, err)
		}
	}
	for _, bad := range []string{"", "Telegram", "phone", " media"} {
		if _, err := ParseSource(bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("ParseSource(%q) = %v", bad, err)
		}
	}
	_, err := ParseCategory("bribery")
	var ve *ValidationError
	if !errors.As(err, &ve) || ve.Details[0].Field != "category" || !strings.Contains(ve.Details[0].Message, "illegal_fine") {
		t.Errorf("ParseCategory(bribery) = %v", err)
	}
	for _, bad := range []string{"", "ACCEPT", "approve"} {
		if _, err := ParseAction(bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("ParseAction(%q) = %v", bad, err)
		}
	}
	if _, err := ParseComplaintStatus("open"); !errors.Is(err, ErrInvalid) {
		t.Errorf("ParseComplaintStatus(open) = %v", err)
	}
}

func TestActionRequest_Validate(t *testing.T) {
	id := func(n int64) *int64 { return &n }
	long := strings.Repeat("字", MaxReportRunes)
	tests := []struct {
		name   string
		req    ActionRequest
		fields []string // the fields that fail, in order; none for valid
		limit  int
	}{
		{"accept", ActionRequest{Action: ActionAccept}, nil, 0},
		{"accept with a remark", ActionRequest{Action: ActionAccept, Text: "ok"}, nil, 0},
		{"unknown action", ActionRequest{Action: "approve"}, []string{"action"}, 0},
		{"no action", ActionRequest{}, []string{"action"}, 0},
		{"reject with a reason", ActionRequest{Action: ActionReject, Reason: "不属于受理范围"}, nil, 0},
		{"reject without a reason", ActionRequest{Action: ActionReject, Reason: "  "}, []string{"reason"}, 0},
		{"assign with the default limit", ActionRequest{Action: ActionAssign, Agency: "CGJ"}, nil, DefaultWorkingDays},
		{"assign with handler and limit", ActionRequest{Action: ActionAssign, Agency: "CGJ", HandlerID: id(7), WorkingDays: 60}, nil, 60},
		{"assign without agency", ActionRequest{Action: ActionAssign, WorkingDays: 5}, []string{"agency"}, 5},
		{"assign too long", ActionRequest{Action: ActionAssign, Agency: "CGJ", WorkingDays: 61}, []string{"working_days"}, 61},
		{"assign negative", ActionRequest{Action: ActionAssign, Agency: "CGJ", WorkingDays: -1}, []string{"working_days"}, -1},
		{"assign to no one", ActionRequest{Action: ActionAssign, Agency: "CGJ", HandlerID: id(0)}, []string{"handler"}, DefaultWorkingDays},
		{"assign to an over-long agency", ActionRequest{Action: ActionAssign, Agency: strings.Repeat("a", 65)}, []string{"agency"}, DefaultWorkingDays},
		{"reply", ActionRequest{Action: ActionReply, Text: "已整改"}, nil, 0},
		{"extend", ActionRequest{Action: ActionExtend, Reason: "需现场核查", WorkingDays: 30}, nil, 30},
		{"extend without anything", ActionRequest{Action: ActionExtend}, []string{"reason", "working_days"}, 0},
		{"extend too long", ActionRequest{Action: ActionExtend, Reason: "x", WorkingDays: 31}, []string{"working_days"}, 31},
		{"merge", ActionRequest{Action: ActionMerge, Into: "ABCD-EFGH-JKMN"}, nil, 0},
		{"merge into nothing", ActionRequest{Action: ActionMerge}, []string{"into"}, 0},
		{"rate", ActionRequest{Action: ActionRate, Rating: 5}, nil, 0},
		{"rate zero", ActionRequest{Action: ActionRate}, []string{"rating"}, 0},
		{"rate six", ActionRequest{Action: ActionRate, Rating: 6}, []string{"rating"}, 0},
		{"note", ActionRequest{Action: ActionNote, Text: long}, nil, 0},
		{"note without text", ActionRequest{Action: ActionNote, Text: "\n"}, []string{"text"}, 0},
		{"note too long", ActionRequest{Action: ActionNote, Text: long + "字"}, []string{"text"}, 0},
		{"note not UTF-8", ActionRequest{Action: ActionNote, Text: "\xff"}, []string{"text"}, 0},
		{"reason too long", ActionRequest{Action: ActionReject, Reason: long + "x"}, []string{"reason"}, 0},
		{"unused fields are ignored", ActionRequest{Action: ActionUrge, Rating: 9, WorkingDays: -3, Into: ""}, nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.req.Validate()
			var got []string
			var ve *ValidationError
			if errors.As(err, &ve) {
				for _, d := range ve.Details {
					got = append(got, d.Field)
				}
			} else if err != nil {
				t.Fatalf("Validate = %v, not a ValidationError", err)
			}
			if !slices.Equal(got, tt.fields) {
				t.Errorf("Validate = %v, want fields %v", err, tt.fields)
			}
			if got := tt.req.Limit(); got != tt.limit {
				t.Errorf("Limit = %d, want %d", got, tt.limit)
			}
		})
	}
}

func TestActionRequest_JSONNames(t *testing.T) {
	var r ActionRequest
	body := `{"action":"assign","agency":"CGJ","handler":12,"working_days":10,"text":"t","reason":"r","into":"x","rating":3}`
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		t.Fatal(err)
	}
	if r.Action != ActionAssign || r.Agency != "CGJ" || r.HandlerID == nil || *r.HandlerID != 12 || r.WorkingDays != 10 ||
		r.Text != "t" || r.Reason != "r" || r.Into != "x" || r.Rating != 3 {
		t.Errorf("decoded %+v", r)
	}
}

func TestValidateReportText(t *testing.T) {
	tests := []struct {
		name string
		s    string
		ok   bool
	}{
		{"plain", "城管乱罚款", true},
		{"exactly the limit", strings.Repeat("罚", MaxReportRunes), true},
		{"one over the limit", strings.Repeat("罚", MaxReportRunes) + "a", false},
		{"counts code points, not bytes", strings.Repeat("😀", MaxReportRunes), true},
		{"empty", "", false},
		{"blank", " \t\n\u3000", false},
		{"invalid UTF-8", "abc\xc3", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidateReportText(tt.s)
			if (err == nil) != tt.ok {
				t.Errorf("ValidateReportText = %v, want ok=%v", err, tt.ok)
			}
			if err != nil && !errors.Is(err, ErrInvalid) {
				t.Errorf("%v does not match ErrInvalid", err)
			}
		})
	}
}

func FuzzValidateReportText(f *testing.F) {
	for _, s := range []string{"", " ", "\u3000", "乱收费", "a\xffb", "\x00", strings.Repeat("x", MaxReportRunes), strings.Repeat("é", MaxReportRunes+1)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		err := ValidateReportText(s)
		want := utf8.ValidString(s) && !strings.ContainsRune(s, 0) && strings.TrimSpace(s) != "" && utf8.RuneCountInString(s) <= MaxReportRunes
		if (err == nil) != want {
			t.Fatalf("ValidateReportText(%q) = %v, want ok=%v", s, err, want)
		}
		if err != nil && !errors.Is(err, ErrInvalid) {
			t.Fatalf("%v does not match ErrInvalid", err)
		}
	})
}

func TestValidateCoordinates(t *testing.T) {
	tests := []struct {
		lat, lon float64
		fields   []string
	}{
		{31.2304, 121.4737, nil},
		{-90, 180, nil},
		{90, -180, nil},
		{90.0001, 0, []string{"lat"}},
		{0, -180.5, []string{"long"}},
		{math.NaN(), math.Inf(1), []string{"lat", "long"}},
		{math.Inf(-1), math.NaN(), []string{"lat", "long"}},
	}
	for _, tt := range tests {
		err := ValidateCoordinates(tt.lat, tt.lon)
		var got []string
		var ve *ValidationError
		if errors.As(err, &ve) {
			for _, d := range ve.Details {
				got = append(got, d.Field)
			}
		}
		if !slices.Equal(got, tt.fields) {
			t.Errorf("ValidateCoordinates(%v, %v) = %v, want fields %v", tt.lat, tt.lon, err, tt.fields)
		}
	}
}

func TestComplaint_RedactedAndOverdue(t *testing.T) {
	chat := int64(42)
	due := time.Date(2026, 2, 27, 23, 59, 59, 0, time.FixedZone("CST", 8*3600))
	c := Complaint{
		ID: 1, TrackingCode: "ABCDEFGHJKMN", Status: ComplaintAssigned, Source: SourceTelegram,
		Category: CategoryIllegalFee, Description: "乱收费", ReporterName: "张三", ReporterPhone: "13800000000",
		ReporterChatID: &chat, DueAt: &due,
	}
	r := c.Redacted()
	if r.ReporterName != "" || r.ReporterPhone != "" || r.ReporterChatID != nil {
		t.Errorf("Redacted kept the reporter: %+v", r)
	}
	if c.ReporterName != "张三" || r.Description != "乱收费" || r.TrackingCode != c.TrackingCode {
		t.Error("Redacted changed more than the reporter")
	}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"reporter_name", "reporter_phone", "reporter_chat_id", "13800000000"} {
		if strings.Contains(string(b), key) {
			t.Errorf("redacted JSON holds %s: %s", key, b)
		}
	}
	if !strings.Contains(string(b), `"tracking_code":"ABCDEFGHJKMN"`) || !strings.Contains(string(b), `"due_at":"2026-02-27T23:59:59+08:00"`) {
		t.Errorf("JSON = %s", b)
	}
	if c.Overdue(due) || !c.Overdue(due.Add(time.Second)) {
		t.Error("assigned complaint: overdue only after its limit")
	}
	c.Status = ComplaintReplied
	if c.Overdue(due.Add(time.Hour)) {
		t.Error("a replied complaint is never overdue")
	}
	b, _ = json.Marshal(Complaint{})
	if !strings.Contains(string(b), `"due_at":null`) {
		t.Errorf("due_at must be null before assignment: %s", b)
	}
}
