package duban

import (
	"errors"
	"slices"
	"sync"
	"testing"
	"time"
)

func shanghai(t testing.TB) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Skipf("no time-zone database: %v", err)
	}
	return loc
}

// TestCalendar_Follows2026Notice checks every date of the State Council's
// notice on the 2026 holidays (国办发明电〔2025〕7号, 2025-11-04).
func TestCalendar_Follows2026Notice(t *testing.T) {
	sh := shanghai(t)
	c := NewCalendar(sh)
	off := []string{
		"2026-01-01", "2026-01-02", "2026-01-03", // 元旦
		"2026-02-15", "2026-02-16", "2026-02-17", "2026-02-18", "2026-02-19", // 春节
		"2026-02-20", "2026-02-21", "2026-02-22", "2026-02-23",
		"2026-04-04", "2026-04-05", "2026-04-06", // 清明节
		"2026-05-01", "2026-05-02", "2026-05-03", "2026-05-04", "2026-05-05", // 劳动节
		"2026-06-19", "2026-06-20", "2026-06-21", // 端午节
		"2026-09-25", "2026-09-26", "2026-09-27", // 中秋节
		"2026-10-01", "2026-10-02", "2026-10-03", "2026-10-04", "2026-10-05", "2026-10-06", "2026-10-07", // 国庆节
	}
	work := []string{"2026-01-04", "2026-02-14", "2026-02-28", "2026-05-09", "2026-09-20", "2026-10-10"}
	for _, d := range off {
		if c.IsWorkday(day(t, sh, d, 12, 0)) {
			t.Errorf("%s is a working day, want a holiday", d)
		}
	}
	for _, d := range work {
		if !c.IsWorkday(day(t, sh, d, 12, 0)) {
			t.Errorf("%s is a day off, want a make-up workday", d)
		}
	}
	// Every other date of 2026 follows the day of the week.
	for d := time.Date(2026, 1, 1, 12, 0, 0, 0, sh); d.Year() == 2026; d = d.AddDate(0, 0, 1) {
		s := d.Format(time.DateOnly)
		if slices.Contains(off, s) || slices.Contains(work, s) {
			continue
		}
		weekday := d.Weekday() != time.Saturday && d.Weekday() != time.Sunday
		if c.IsWorkday(d) != weekday {
			t.Errorf("%s (%s): IsWorkday = %v", s, d.Weekday(), !weekday)
		}
	}
	if !c.Known(2026) || !c.Known(2027) || c.Known(2000) || c.Known(2099) {
		t.Errorf("Known(2026, 2027, 2000, 2099) = %v %v %v %v", c.Known(2026), c.Known(2027), c.Known(2000), c.Known(2099))
	}
}

func TestCalendar_Deadline(t *testing.T) {
	sh := shanghai(t)
	c := NewCalendar(sh)
	tests := []struct {
		name     string
		assigned time.Time
		days     int
		want     string // local date of the last working day
	}{
		{"plain week", day(t, sh, "2026-03-02", 10, 0), 5, "2026-03-09"},
		{"limit ends on a Friday", day(t, sh, "2026-03-09", 10, 0), 4, "2026-03-13"},
		{"weekend skipped after a Friday", day(t, sh, "2026-03-12", 10, 0), 2, "2026-03-16"},
		{"assigned on a Friday", day(t, sh, "2026-03-06", 17, 0), 5, "2026-03-13"},
		{"Spring Festival with make-up Saturday 02-14", day(t, sh, "2026-02-13", 9, 0), 5, "2026-02-27"},
		{"make-up Saturday 02-28 counts", day(t, sh, "2026-02-13", 9, 0), 6, "2026-02-28"},
		{"Mid-Autumn and National Day", day(t, sh, "2026-09-25", 9, 0), 5, "2026-10-09"},
		{"make-up Sunday 09-20 counts", day(t, sh, "2026-09-18", 9, 0), 1, "2026-09-20"},
		{"make-up Saturday 10-10 counts", day(t, sh, "2026-10-08", 9, 0), 2, "2026-10-10"},
		{"assigned on a holiday", day(t, sh, "2026-10-03", 11, 0), 1, "2026-10-08"},
		{"assigned on a Labour Day holiday", day(t, sh, "2026-05-02", 11, 0), 4, "2026-05-09"},
		{"23:30 is still day 0", day(t, sh, "2026-03-02", 23, 30), 1, "2026-03-03"},
		{"00:00 is day 0 too", day(t, sh, "2026-03-03", 0, 0), 1, "2026-03-04"},
		{"UTC evening is the next local day", time.Date(2026, 2, 13, 16, 30, 0, 0, time.UTC), 5, "2026-02-28"},
		{"UTC afternoon is the same local day", time.Date(2026, 2, 13, 15, 59, 59, 0, time.UTC), 5, "2026-02-27"},
		{"New Year with make-up Sunday 01-04", day(t, sh, "2025-12-31", 15, 0), 2, "2026-01-05"},
		{"zero days ends with the day of assignment", day(t, sh, "2026-03-02", 10, 0), 0, "2026-03-02"},
		{"sixty days", day(t, sh, "2026-09-01", 10, 0), 60, "2026-11-30"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := c.Deadline(tt.assigned, tt.days)
			want := day(t, sh, tt.want, 23, 59).Add(59 * time.Second)
			if !got.Equal(want) {
				t.Errorf("Deadline(%s, %d) = %s, want %s", tt.assigned, tt.days, got.In(sh), want)
			}
			if got.Location() != sh {
				t.Errorf("Deadline is in %s, want Asia/Shanghai", got.Location())
			}
		})
	}
	want := time.Date(2026, 2, 27, 23, 59, 59, 0, time.FixedZone("+08:00", 8*3600))
	if got := c.Deadline(day(t, sh, "2026-02-13", 9, 0), 5); got.Format(time.RFC3339) != want.Format(time.RFC3339) {
		t.Errorf("Deadline = %s, want %s", got.Format(time.RFC3339), want.Format(time.RFC3339))
	}
}

func TestCalendar_OverridesWin(t *testing.T) {
	sh := shanghai(t)
	c := NewCalendar(sh,
		DayOverride{Date: "2026-03-13", Work: false}, // a Friday off
		DayOverride{Date: "2026-03-14", Work: true},  // a Saturday at work
		DayOverride{Date: "2026-10-08", Work: false}, // beats the library's plain Thursday
		DayOverride{Date: "2026-10-10", Work: false}, // beats the library's make-up day
		DayOverride{Date: "2026-10-05", Work: true},  // beats the library's holiday
		DayOverride{Date: "not a date", Work: true},  // never matches
		DayOverride{Date: "2028-01-03", Work: false},
	)
	tests := []struct {
		name     string
		assigned time.Time
		days     int
		want     string
	}{
		{"weekday off, Saturday at work", day(t, sh, "2026-03-12", 10, 0), 2, "2026-03-16"},
		{"holiday turned into a working day", day(t, sh, "2026-10-03", 10, 0), 1, "2026-10-05"},
		{"library days moved", day(t, sh, "2026-10-05", 10, 0), 2, "2026-10-12"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := c.Deadline(tt.assigned, tt.days)
			want := day(t, sh, tt.want, 23, 59).Add(59 * time.Second)
			if !got.Equal(want) {
				t.Errorf("Deadline(%s, %d) = %s, want %s", tt.assigned, tt.days, got.In(sh), want)
			}
		})
	}
	for d, want := range map[string]bool{
		"2026-03-13": false, "2026-03-14": true, "2026-10-08": false, "2026-10-10": false,
		"2026-10-05": true, "2028-01-03": false, "2028-01-04": true,
	} {
		if got := c.IsWorkday(day(t, sh, d, 12, 0)); got != want {
			t.Errorf("IsWorkday(%s) = %v, want %v", d, got, want)
		}
	}
	if !c.Known(2028) || NewCalendar(sh).Known(2028) {
		t.Error("an override for 2028 does not make 2028 known to that calendar alone")
	}
}

func TestCalendar_AddWorkingDays(t *testing.T) {
	sh := shanghai(t)
	c := NewCalendar(sh)
	tests := []struct {
		name  string
		limit time.Time
		n     int
		want  string
	}{
		{"across New Year to make-up Sunday 01-04", day(t, sh, "2025-12-31", 23, 59).Add(59 * time.Second), 1, "2026-01-04"},
		{"across New Year", day(t, sh, "2025-12-31", 23, 59).Add(59 * time.Second), 2, "2026-01-05"},
		{"limit given in UTC", time.Date(2025, 12, 31, 15, 59, 59, 0, time.UTC), 2, "2026-01-05"},
		{"from the last day of the holiday", day(t, sh, "2026-01-03", 23, 59), 1, "2026-01-04"},
		{"over a weekend", day(t, sh, "2026-03-13", 23, 59), 1, "2026-03-16"},
		{"nothing added", day(t, sh, "2026-03-13", 12, 0), 0, "2026-03-13"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := c.AddWorkingDays(tt.limit, tt.n)
			want := day(t, sh, tt.want, 23, 59).Add(59 * time.Second)
			if !got.Equal(want) {
				t.Errorf("AddWorkingDays(%s, %d) = %s, want %s", tt.limit, tt.n, got.In(sh), want)
			}
		})
	}
}

func TestCalendar_WorkingDaysBetween(t *testing.T) {
	sh := shanghai(t)
	c := NewCalendar(sh)
	tests := []struct {
		name     string
		from, to time.Time
		want     int
	}{
		{"a five-day limit from assignment", day(t, sh, "2026-02-13", 9, 0), day(t, sh, "2026-02-27", 23, 59), 5},
		{"the day before the limit", day(t, sh, "2026-02-26", 9, 0), day(t, sh, "2026-02-27", 23, 59), 1},
		{"the last day of the limit", day(t, sh, "2026-02-27", 0, 1), day(t, sh, "2026-02-27", 23, 59), 0},
		{"one working day across National Day", day(t, sh, "2026-09-30", 17, 0), day(t, sh, "2026-10-08", 23, 59), 1},
		{"only days off between", day(t, sh, "2026-10-01", 9, 0), day(t, sh, "2026-10-07", 23, 59), 0},
		{"Friday to Monday", day(t, sh, "2026-03-13", 9, 0), day(t, sh, "2026-03-16", 9, 0), 1},
		{"overdue by one working day", day(t, sh, "2026-03-16", 9, 0), day(t, sh, "2026-03-13", 23, 59), -1},
		{"overdue by two working days across a weekend", day(t, sh, "2026-03-16", 9, 0), day(t, sh, "2026-03-12", 23, 59), -2},
		{"UTC instants on local dates", time.Date(2026, 3, 12, 16, 0, 0, 0, time.UTC), time.Date(2026, 3, 13, 15, 0, 0, 0, time.UTC), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := c.WorkingDaysBetween(tt.from, tt.to); got != tt.want {
				t.Errorf("WorkingDaysBetween(%s, %s) = %d, want %d", tt.from, tt.to, got, tt.want)
			}
		})
	}
	// Deadline and WorkingDaysBetween agree.
	for _, a := range []string{"2026-01-30", "2026-02-13", "2026-04-30", "2026-09-18", "2026-09-25", "2026-12-30"} {
		for n := 1; n <= 20; n++ {
			from := day(t, sh, a, 10, 0)
			if got := c.WorkingDaysBetween(from, c.Deadline(from, n)); got != n {
				t.Errorf("WorkingDaysBetween(%s, Deadline(%s, %d)) = %d", a, a, n, got)
			}
		}
	}
}

func TestCalendar_NextWorkday(t *testing.T) {
	sh := shanghai(t)
	c := NewCalendar(sh)
	tests := []struct {
		name string
		t    time.Time
		want string
	}{
		{"Monday to Tuesday", day(t, sh, "2026-03-02", 9, 0), "2026-03-03"},
		{"Friday to Monday", day(t, sh, "2026-03-06", 23, 59), "2026-03-09"},
		{"over National Day", day(t, sh, "2026-09-30", 15, 0), "2026-10-08"},
		{"to a make-up Saturday", day(t, sh, "2026-02-13", 15, 0), "2026-02-14"},
		{"to a make-up Sunday", day(t, sh, "2026-01-03", 15, 0), "2026-01-04"},
		{"UTC evening counts from the next local day", time.Date(2026, 3, 5, 16, 0, 0, 0, time.UTC), "2026-03-09"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := day(t, sh, tt.want, 0, 0)
			if got := c.NextWorkday(tt.t); !got.Equal(want) {
				t.Errorf("NextWorkday(%s) = %s, want %s", tt.t, got.In(sh), want)
			}
		})
	}
}

func TestNewCalendar_NilLocationIsChinaStandardTime(t *testing.T) {
	c := NewCalendar(nil)
	got := c.Deadline(time.Date(2026, 2, 13, 1, 0, 0, 0, time.UTC), 5)
	if got.Format(time.RFC3339) != "2026-02-27T23:59:59+08:00" {
		t.Errorf("Deadline = %s", got.Format(time.RFC3339))
	}
}

func TestCalendar_ConcurrentUse(t *testing.T) {
	sh := shanghai(t)
	c := NewCalendar(sh)
	want := c.Deadline(day(t, sh, "2024-09-13", 9, 0), 10)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for y := 2002; y <= 2030; y++ {
				c.Known(y + i%2)
			}
			if got := c.Deadline(day(t, sh, "2024-09-13", 9, 0), 10); !got.Equal(want) {
				t.Errorf("Deadline = %s, want %s", got, want)
			}
		})
	}
	wg.Wait()
}

func TestParseDayOverrides(t *testing.T) {
	got, err := ParseDayOverrides(" 2027-01-01=off, 2027-01-04=WORK,\n2028-02-06=work ,")
	if err != nil {
		t.Fatal(err)
	}
	want := []DayOverride{{"2027-01-01", false}, {"2027-01-04", true}, {"2028-02-06", true}}
	if !slices.Equal(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
	if got, err := ParseDayOverrides(""); err != nil || len(got) != 0 {
		t.Errorf("empty: %+v, %v", got, err)
	}
	for _, bad := range []string{
		"2027-01-01",
		"2027-01-01=maybe",
		"2027-1-1=off",
		"2027-02-30=off",
		"2027-01-01=off,2027-01-01=work",
		"=off",
	} {
		if _, err := ParseDayOverrides(bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("ParseDayOverrides(%q) = %v, want ErrInvalid", bad, err)
		}
	}
}

func BenchmarkCalendar_Deadline(b *testing.B) {
	c := NewCalendar(nil)
	at := time.Date(2026, 9, 1, 10, 0, 0, 0, time.UTC)
	for b.Loop() {
		c.Deadline(at, 60)
	}
}

// day returns the local time hh:mm of date (2006-01-02) in loc.
func day(t testing.TB, loc *time.Location, date string, hh, mm int) time.Time {
	t.Helper()
	d, err := time.ParseInLocation(time.DateOnly, date, loc)
	if err != nil {
		t.Fatal(err)
	}
	return d.Add(time.Duration(hh)*time.Hour + time.Duration(mm)*time.Minute)
}
