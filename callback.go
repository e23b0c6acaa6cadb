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
