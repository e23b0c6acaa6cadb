package duban

import (
	"testing"
	"time"
)

func TestPlan_SkipsPastOffsetsAndDefersQuietHours(t *testing.T) {
	sh, _ := time.LoadLocation("Asia/Shanghai")
	quiet, err := ParseQuietHours("22:00-07:00", sh)
	if err != nil {
		t.Fatal(err)
	}
	p := Policy{
		Offsets:        []time.Duration{168 * time.Hour, 72 * time.Hour, 24 * time.Hour, 2 * time.Hour},
		EscalateBefore: 24 * time.Hour,
		OutcomeAfter:   4 * time.Hour,
		Quiet:          quiet,
	}
	start := time.Date(2026, 12, 10, 9, 30, 0, 0, sh) // Thursday 09:30
	tests := []struct {
		name string
		now  time.Time
		want []Step
	}{
		{
			name: "notice three days ahead skips the week offset",
			now:  time.Date(2026, 12, 7, 8, 0, 0, 0, sh),
			want: []Step{
				{KindReminder, 72 * time.Hour, time.Date(2026, 12, 7, 9, 30, 0, 0, sh)},
				{KindReminder, 24 * time.Hour, time.Date(2026, 12, 9, 9, 30, 0, 0, sh)},
				{KindEscalation, 24 * time.Hour, time.Date(2026, 12, 9, 9, 30, 0, 0, sh)},
				{KindReminder, 2 * time.Hour, time.Date(2026, 12, 10, 7, 30, 0, 0, sh)},
				{KindOutcome, -4 * time.Hour, time.Date(2026, 12, 10, 13, 30, 0, 0, sh)},
			},
		},
		{
			name: "notice inside the escalation window escalates now",
			now:  time.Date(2026, 12, 9, 20, 0, 0, 0, sh),
			want: []Step{
				{KindEscalation, 24 * time.Hour, time.Date(2026, 12, 9, 20, 0, 0, 0, sh)},
				{KindReminder, 2 * time.Hour, time.Date(2026, 12, 10, 7, 30, 0, 0, sh)},
				{KindOutcome, -4 * time.Hour, time.Date(2026, 12, 10, 13, 30, 0, 0, sh)},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := p.Plan(start, tt.now)
			if len(got) != len(tt.want) {
				t.Fatalf("got %d steps %+v, want %d", len(got), got, len(tt.want))
			}
			for i := range got {
				if got[i].Kind != tt.want[i].Kind || !got[i].DueAt.Equal(tt.want[i].DueAt) {
					t.Errorf("step %d = %s at %s, want %s at %s", i, got[i].Kind, got[i].DueAt.In(sh), tt.want[i].Kind, tt.want[i].DueAt)
				}
			}
		})
	}
}

func TestQuietHours_Defer(t *testing.T) {
	sh, _ := time.LoadLocation("Asia/Shanghai")
	q, _ := ParseQuietHours("22:00-07:00", sh)
	at := func(d, h, m int) time.Time { return time.Date(2026, 12, d, h, m, 0, 0, sh) }
	tests := []struct {
		name     string
		t, dl    time.Time
		want     time.Time
		contains bool
	}{
		{"evening waits for morning", at(9, 23, 0), time.Time{}, at(10, 7, 0), true},
		{"early morning waits", at(10, 6, 59), time.Time{}, at(10, 7, 0), true},
		{"day time goes", at(10, 7, 0), time.Time{}, at(10, 7, 0), false},
		{"deadline before the end keeps the time", at(9, 23, 0), at(10, 6, 0), at(9, 23, 0), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := q.Contains(tt.t); got != tt.contains {
				t.Errorf("Contains = %v", got)
			}
			if got := q.Defer(tt.t, tt.dl); !got.Equal(tt.want) {
				t.Errorf("Defer = %s, want %s", got, tt.want)
			}
		})
	}
	if _, err := ParseQuietHours("25:00-07:00", sh); err == nil {
		t.Error("25:00 accepted")
	}
	off, _ := ParseQuietHours("off", sh)
	if off.Contains(at(9, 23, 0)) {
		t.Error("off quiet hours contain 23:00")
	}
}
