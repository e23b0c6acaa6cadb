package duban

import (
	"fmt"
	"strconv"
	"strings"
)

// MaxCallbackData is Telegram's limit on callback_data.
// https://core.telegram.org/bots/api#inlinekeyboardbutton
const MaxCallbackData = 64

// Button verbs carried in callback data (Telegram) and action values
// (Slack): short, so they stay far inside 64 bytes.
const (
	VerbConfirm  = "hc" // the head confirms attendance
	VerbDelegate = "hd" // the head names someone else
	VerbDetails  = "hi" // show the hearing's details
	VerbOutcome  = "ho" // staff record who appeared
)

// Callback is a decoded button press.
type Callback struct {
	Verb            string
	HearingAgencyID int64
	Attendance      Attendance // VerbOutcome only
}

// Encode renders c as callback data: "hc:12", "ho:12:head".
func (c Callback) Encode() string {
	s := c.Verb + ":" + strconv.FormatInt(c.HearingAgencyID, 10)
	if c.Verb == VerbOutcome {
		s += ":" + string(c.Attendance)
	}
	return s
}

// ParseCallback decodes callback data made by Encode.
func ParseCallback(s string) (Callback, error) {
	parts := strings.Split(s, ":")
	if len(parts) < 2 || len(s) > MaxCallbackData {
		return Callback{}, fmt.Errorf("callback %q: %w", s, ErrInvalid)
	}
	id, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil || id <= 0 {
		return Callback{}, fmt.Errorf("callback %q: %w", s, ErrInvalid)
	}
	c := Callback{Verb: parts[0], HearingAgencyID: id}
	switch c.Verb {
	case VerbConfirm, VerbDelegate, VerbDetails:
		if len(parts) != 2 {
			return Callback{}, fmt.Errorf("callback %q: %w", s, ErrInvalid)
		}
	case VerbOutcome:
		if len(parts) != 3 {
			return Callback{}, fmt.Errorf("callback %q: %w", s, ErrInvalid)
		}
		a, err := ParseAttendance(parts[2])
		if err != nil {
			return Callback{}, fmt.Errorf("callback %q: %w", s, ErrInvalid)
		}
		c.Attendance = a
	default:
		return Callback{}, fmt.Errorf("callback %q: %w", s, ErrInvalid)
	}
	return c, nil
}

// Complaint button verbs: the reporter's rating (回访) and the supervision
// channel's actions.
const (
	VerbRate    = "cr" // cr:<complaint id>:<1-5>
	VerbCAccept = "ca"
	VerbCReject = "cj"
	VerbCAssign = "cs"
	VerbCUrge   = "cu"
	VerbCClose  = "cc"
	VerbCReopen = "co"
)

// ComplaintCallback is a decoded press of a complaint button.
type ComplaintCallback struct {
	Verb        string
	ComplaintID int64
	Rating      int // VerbRate only
}

// Encode renders c as callback data: "ca:12", "cr:12:5".
func (c ComplaintCallback) Encode() string {
	s := c.Verb + ":" + strconv.FormatInt(c.ComplaintID, 10)
	if c.Verb == VerbRate {
		s += ":" + strconv.Itoa(c.Rating)
	}
	return s
}

// ParseComplaintCallback decodes callback data made by Encode.
func ParseComplaintCallback(s string) (ComplaintCallback, error) {
	parts := strings.Split(s, ":")
	bad := fmt.Errorf("callback %q: %w", s, ErrInvalid)
	if len(parts) < 2 || len(s) > MaxCallbackData {
		return ComplaintCallback{}, bad
	}
	id, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil || id <= 0 {
		return ComplaintCallback{}, bad
	}
	c := ComplaintCallback{Verb: parts[0], ComplaintID: id}
	switch c.Verb {
	case VerbCAccept, VerbCReject, VerbCAssign, VerbCUrge, VerbCClose, VerbCReopen:
		if len(parts) != 2 {
			return ComplaintCallback{}, bad
		}
	case VerbRate:
		if len(parts) != 3 {
			return ComplaintCallback{}, bad
		}
		n, err := strconv.Atoi(parts[2])
		if err != nil || n < 1 || n > 5 {
			return ComplaintCallback{}, bad
		}
		c.Rating = n
	default:
		return ComplaintCallback{}, bad
	}
	return c, nil
}
