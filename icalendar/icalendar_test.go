package icalendar_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/i18n"
	"github.com/cityhall/duban/icalendar"
	"github.com/cityhall/duban/internal/icstest"
)

func hearing() (*duban.Hearing, *duban.HearingAgency) {
	start := time.Date(2026, 12, 1, 1, 30, 0, 0, time.UTC) // 09:30 in Shanghai
	h := &duban.Hearing{ID: 7, CaseNumber: "(2026)沪0101行初12号", Court: "上海市黄浦区人民法院", Courtroom: "第三法庭",
		StartsAt: start, Plaintiff: "李四, 王五; 赵六", Cause: "不服行政处罚决定，请求撤销（涉及一段很长很长的事由说明，足以让这一行超过七十五个八位组而必须折行）",
		Status: duban.HearingScheduled, CreatedAt: start.Add(-72 * time.Hour), UpdatedAt: start.Add(-48 * time.Hour), Sequence: 2}
	ha := &duban.HearingAgency{ID: 3, HearingID: 7, AgencyID: 11, AgencyCode: "GA", AgencyName: "上海市公安局"}
	h.Agencies = []duban.HearingAgency{*ha}
	return h, ha
}

func write(t *testing.T, c icalendar.Calendar) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := icalendar.Write(&b, c); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestWrite_AnIndependentParserReadsTheHearingBack(t *testing.T) {
	loc, _ := time.LoadLocation("Asia/Shanghai")
	h, ha := hearing()
	ev := icalendar.HearingEvent(i18n.MustNew(), duban.LocaleZH, loc, h, ha)
	b := write(t, icalendar.Calendar{Name: "上海市公安局出庭应诉日程", Method: icalendar.MethodPublish,
		Alarms: []time.Duration{168 * time.Hour, 2 * time.Hour, 30 * time.Minute}, Refresh: time.Hour, Events: []icalendar.Event{ev}})
	cal := icstest.Parse(t, b)

	if got := icstest.Text(cal.Component, "METHOD"); got != "PUBLISH" {
		t.Errorf("METHOD %q", got)
	}
	got := icstest.Event(t, cal, "hearing-7-agency-11@duban")
	if s := icstest.Start(t, got); !s.Equal(h.StartsAt) {
		t.Errorf("DTSTART %v, want %v", s, h.StartsAt)
	}
	if e, err := got.DateTimeEnd(time.UTC); err != nil || !e.Equal(h.StartsAt.Add(icalendar.HearingLength)) {
		t.Errorf("DTEND %v %v", e, err)
	}
	for prop, want := range map[string]string{
		"SUMMARY":  "出庭应诉：(2026)沪0101行初12号（上海市公安局）",
		"LOCATION": "上海市黄浦区人民法院 第三法庭",
		"SEQUENCE": "2",
		"STATUS":   "CONFIRMED",
	} {
		if v := icstest.Text(got.Component, prop); v != want {
			t.Errorf("%s = %q, want %q", prop, v, want)
		}
	}
	desc := icstest.Text(got.Component, "DESCRIPTION")
	for _, want := range []string{"2026-12-01 09:30", "李四, 王五; 赵六", h.Cause} {
		if !strings.Contains(desc, want) {
			t.Errorf("DESCRIPTION lacks %q:\n%s", want, desc)
		}
	}
	if diff := cmp.Diff([]string{"-PT168H", "-PT2H", "-PT30M"}, icstest.Alarms(got)); diff != "" {
		t.Errorf("alarms (-want +got):\n%s", diff)
	}
	if stamp := icstest.Text(got.Component, "DTSTAMP"); stamp != "20261129T013000Z" {
		t.Errorf("DTSTAMP %q, want the hearing's last change", stamp)
	}
}

func TestWrite_MovedAndCancelledHearingsKeepTheirUID(t *testing.T) {
	loc := time.UTC
	h, ha := hearing()
	before := icalendar.HearingEvent(i18n.MustNew(), duban.LocaleEN, loc, h, ha)

	moved := *h
	moved.StartsAt, moved.Sequence, moved.UpdatedAt = h.StartsAt.Add(24*time.Hour), h.Sequence+1, h.UpdatedAt.Add(time.Hour)
	after := icalendar.HearingEvent(i18n.MustNew(), duban.LocaleEN, loc, &moved, ha)
	cancelled := moved
	cancelled.Status, cancelled.Sequence = duban.HearingCancelled, moved.Sequence+1
	gone := icalendar.HearingEvent(i18n.MustNew(), duban.LocaleEN, loc, &cancelled, ha)

	for _, tt := range []struct {
		name   string
		ev     icalendar.Event
		seq    string
		status string
		alarms int
	}{{"as registered", before, "2", "CONFIRMED", 1}, {"moved", after, "3", "CONFIRMED", 1}, {"cancelled", gone, "4", "CANCELLED", 0}} {
		t.Run(tt.name, func(t *testing.T) {
			cal := icstest.Parse(t, write(t, icalendar.Calendar{Alarms: []time.Duration{24 * time.Hour}, Events: []icalendar.Event{tt.ev}}))
			ev := icstest.Event(t, cal, "hearing-7-agency-11@duban")
			if s := icstest.Text(ev.Component, "SEQUENCE"); s != tt.seq {
				t.Errorf("SEQUENCE %s, want %s", s, tt.seq)
			}
			if s := icstest.Text(ev.Component, "STATUS"); s != tt.status {
				t.Errorf("STATUS %s, want %s", s, tt.status)
			}
			if n := len(icstest.Alarms(ev)); n != tt.alarms {
				t.Errorf("%d alarms, want %d", n, tt.alarms)
			}
		})
	}
	if before.Stamp.Equal(after.Stamp) {
		t.Error("DTSTAMP did not change with the move")
	}
}

func TestDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{168 * time.Hour: "PT168H", 90 * time.Minute: "PT90M", 45 * time.Second: "PT45S"} {
		if got := icalendar.Duration(d); got != want {
			t.Errorf("Duration(%s) = %s, want %s", d, got, want)
		}
	}
}
