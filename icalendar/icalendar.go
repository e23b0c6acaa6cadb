// Package icalendar writes hearings as iCalendar (RFC 5545,
// https://www.rfc-editor.org/rfc/rfc5545): the private feeds that heads and
// agencies subscribe to, and the event attached to a hearing's e-mail.
package icalendar

import (
	"fmt"
	"io"
	"strings"
	"time"

	ics "github.com/arran4/golang-ical"

	"github.com/cityhall/duban"
)

// HearingLength is how long a hearing's event lasts: notices give a start,
// never an end, and half a day is what a head keeps free.
const HearingLength = 2 * time.Hour

// prodID names duban as the product that wrote a calendar (RFC 5545, 3.7.3).
const prodID = "-//cityhall//duban//EN"

// Methods of a calendar object (RFC 5546): a feed or an attachment that
// only informs, or one that asks the recipient's calendar to keep it.
const (
	MethodPublish = "PUBLISH"
	MethodRequest = "REQUEST"
)

// Translator renders a message id of the i18n bundles in a locale.
type Translator interface {
	T(locale, id string, data map[string]any) string
}

// Event is one agency's part in one hearing as a calendar event.
type Event struct {
	UID         string
	Summary     string
	Description string
	Location    string
	Start, End  time.Time
	Sequence    int
	Stamp       time.Time // DTSTAMP and LAST-MODIFIED: the hearing's last change
	Cancelled   bool
}

// UID is the stable identifier of agency agencyID's part in hearing
// hearingID: the same in every feed and attachment, so that a calendar
// updates the event it has instead of adding another.
func UID(hearingID, agencyID int64) string {
	return fmt.Sprintf("hearing-%d-agency-%d@duban", hearingID, agencyID)
}

// HearingEvent renders ha's part in h in locale; times are local to loc in
// the description, and UTC in the event itself.
func HearingEvent(t Translator, locale string, loc *time.Location, h *duban.Hearing, ha *duban.HearingAgency) Event {
	layout := t.T(locale, "format.datetime", nil)
	if layout == "" || layout == "format.datetime" {
		layout = "2006-01-02 15:04"
	}
	data := map[string]any{
		"CaseNumber": h.CaseNumber, "Court": h.Court, "Courtroom": h.Courtroom, "Agency": ha.AgencyName,
		"Plaintiff": h.Plaintiff, "Cause": h.Cause, "StartsAt": h.StartsAt.In(loc).Format(layout),
	}
	stamp := h.UpdatedAt
	if stamp.IsZero() {
		stamp = h.CreatedAt
	}
	return Event{
		UID:         UID(h.ID, ha.AgencyID),
		Summary:     t.T(locale, "calendar.summary", data),
		Description: t.T(locale, "calendar.description", data),
		Location:    strings.TrimSpace(h.Court + " " + h.Courtroom),
		Start:       h.StartsAt,
		End:         h.StartsAt.Add(HearingLength),
		Sequence:    h.Sequence,
		Stamp:       stamp,
		Cancelled:   h.Status == duban.HearingCancelled,
	}
}

// Calendar is a calendar object to write.
type Calendar struct {
	Name   string // X-WR-CALNAME, the name a subscribing client shows
	Method string // "" (a feed), MethodPublish or MethodRequest
	// Alarms are lead times before each event's start at which a client
	// reminds (DUBAN_REMINDER_OFFSETS); cancelled events get none.
	Alarms []time.Duration
	// Refresh is how often a subscribing client should fetch the feed
	// again; zero: not said.
	Refresh time.Duration
	Events  []Event
}

// Write writes c as RFC 5545 text: CRLF line endings, lines folded at 75
// octets (golang-ical folds without splitting a UTF-8 character).
func Write(w io.Writer, c Calendar) error {
	cal := ics.NewCalendar()
	cal.SetProductId(prodID)
	if c.Method != "" {
		cal.SetMethod(ics.Method(c.Method))
	}
	if c.Name != "" {
		cal.SetXWRCalName(clean(c.Name))
		cal.SetName(clean(c.Name))
	}
	if c.Refresh > 0 {
		cal.SetRefreshInterval(Duration(c.Refresh), ics.WithValue("DURATION"))
		cal.SetXPublishedTTL(Duration(c.Refresh))
	}
	for _, e := range c.Events {
		ev := cal.AddEvent(e.UID)
		ev.SetDtStampTime(e.Stamp)
		ev.SetModifiedAt(e.Stamp)
		ev.SetSequence(e.Sequence)
		ev.SetStartAt(e.Start)
		ev.SetEndAt(e.End)
		ev.SetSummary(clean(e.Summary))
		if e.Description != "" {
			ev.SetDescription(clean(e.Description))
		}
		if e.Location != "" {
			ev.SetLocation(clean(e.Location))
		}
		if e.Cancelled {
			ev.SetStatus(ics.ObjectStatusCancelled)
			continue
		}
		ev.SetStatus(ics.ObjectStatusConfirmed)
		for _, d := range c.Alarms {
			a := ev.AddAlarm()
			a.SetAction(ics.ActionDisplay)
			a.SetTrigger("-" + Duration(d))
			a.SetProperty(ics.ComponentPropertyDescription, clean(e.Summary))
		}
	}
	return cal.SerializeTo(w, ics.WithNewLineWindows)
}

// Duration writes d as an RFC 5545 duration (3.3.6) in whole hours,
// minutes or seconds: 168h is PT168H, 90m PT90M.
func Duration(d time.Duration) string {
	switch {
	case d%time.Hour == 0:
		return fmt.Sprintf("PT%dH", d/time.Hour)
	case d%time.Minute == 0:
		return fmt.Sprintf("PT%dM", d/time.Minute)
	}
	return fmt.Sprintf("PT%dS", d/time.Second)
}

// clean drops carriage returns, which a TEXT value cannot hold (its line
// breaks are written as \n).
func clean(s string) string { return strings.ReplaceAll(s, "\r", "") }
