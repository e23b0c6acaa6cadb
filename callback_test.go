package duban

import (
	"errors"
	"testing"
)

func TestCallback_RoundTripAndRejects(t *testing.T) {
	for _, c := range []Callback{
		{Verb: VerbConfirm, HearingAgencyID: 9223372036854775807},
		{Verb: VerbDelegate, HearingAgencyID: 1},
		{Verb: VerbDetails, HearingAgencyID: 7},
		{Verb: VerbOutcome, HearingAgencyID: 7, Attendance: AttendanceDeputy},
	} {
		s := c.Encode()
		if len(s) > MaxCallbackData {
			t.Errorf("%q is over 64 bytes", s)
		}
		got, err := ParseCallback(s)
		if err != nil || got != c {
			t.Errorf("ParseCallback(%q) = %+v, %v", s, got, err)
		}
	}
	for _, bad := range []string{"", "hc", "hc:x", "hc:-1", "zz:1", "ho:1", "ho:1:maybe", "hc:1:2"} {
		if _, err := ParseCallback(bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("ParseCallback(%q) = %v, want ErrInvalid", bad, err)
		}
	}
}
