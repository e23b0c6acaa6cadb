// Package icstest reads iCalendar text back in tests with a parser
// independent of the one duban writes with (emersion/go-ical, where duban
// writes with arran4/golang-ical), and checks the framing RFC 5545 asks
// for: CRLF line endings and lines of at most 75 octets.
package icstest

import (
	"bytes"
	"strings"
	"testing"
	"time"

	ical "github.com/emersion/go-ical"
)

// Parse checks b's framing and decodes it.
func Parse(t testing.TB, b []byte) *ical.Calendar {
	t.Helper()
	CheckLines(t, b)
	cal, err := ical.NewDecoder(bytes.NewReader(b)).Decode()
	if err != nil {
		t.Fatalf("parse iCalendar: %v\n%s", err, b)
	}
	return cal
}

// CheckLines fails t unless every line of b ends in CRLF and holds at most
// 75 octets (RFC 5545, 3.1).
func CheckLines(t testing.TB, b []byte) {
	t.Helper()
	if !bytes.HasSuffix(b, []byte("\r\n")) {
		t.Errorf("iCalendar does not end in CRLF")
	}
	for i, line := range strings.Split(strings.TrimSuffix(string(b), "\r\n"), "\r\n") {
		if strings.Contains(line, "\n") {
			t.Errorf("line %d has a bare LF: %q", i+1, line)
		}
		if len(line) > 75 {
			t.Errorf("line %d is %d octets, more than 75: %q", i+1, len(line), line)
		}
	}
}

// Event finds the event with uid, failing t without one.
func Event(t testing.TB, cal *ical.Calendar, uid string) *ical.Event {
	t.Helper()
	for _, ev := range cal.Events() {
		if Text(ev.Component, ical.PropUID) == uid {
			return &ev
		}
	}
	t.Fatalf("no event %s", uid)
	return nil
}

// Text is the value of comp's property name ("" without one).
func Text(comp *ical.Component, name string) string {
	if p := comp.Props.Get(name); p != nil {
		if s, err := p.Text(); err == nil {
			return s
		}
		return p.Value
	}
	return ""
}

// Start is the start of ev in UTC.
func Start(t testing.TB, ev *ical.Event) time.Time {
	t.Helper()
	s, err := ev.DateTimeStart(time.UTC)
	if err != nil {
		t.Fatalf("DTSTART: %v", err)
	}
	return s
}

// Alarms lists the TRIGGER of each VALARM of ev.
func Alarms(ev *ical.Event) []string {
	var out []string
	for _, c := range ev.Children {
		if c.Name == ical.CompAlarm {
			out = append(out, Text(c, ical.PropTrigger))
		}
	}
	return out
}
