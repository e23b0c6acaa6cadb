package reports

import (
	"slices"
	"testing"
	"time"

	"github.com/cityhall/duban/internal/testenv"
)

// A range is read as the whole months it covers (from the rollups) and
// the days around them (from the complaints), which together are the
// range exactly.
func TestSplit_WholeMonthsAndTheDaysAroundThem(t *testing.T) {
	sh := testenv.Shanghai()
	r := &Reports{loc: sh}
	day := func(s string) time.Time {
		d, _ := time.ParseInLocation(time.DateOnly, s, sh)
		return d
	}
	for _, tt := range []struct {
		from, to string
		whole    []string
		edges    [][2]string // [from, to) as dates
	}{
		{"2026-01-01", "2026-12-31", []string{"2026-01", "2026-02", "2026-03", "2026-04", "2026-05", "2026-06",
			"2026-07", "2026-08", "2026-09", "2026-10", "2026-11", "2026-12"}, nil},
		{"2026-03-03", "2026-03-31", nil, [][2]string{{"2026-03-03", "2026-04-01"}}},
		{"2026-03-15", "2026-06-10", []string{"2026-04", "2026-05"}, [][2]string{{"2026-03-15", "2026-04-01"}, {"2026-06-01", "2026-06-11"}}},
		{"2026-03-15", "2026-04-10", nil, [][2]string{{"2026-03-15", "2026-04-01"}, {"2026-04-01", "2026-04-11"}}},
		{"2026-02-01", "2026-02-28", []string{"2026-02"}, nil},
		{"2026-12-31", "2026-12-31", nil, [][2]string{{"2026-12-31", "2027-01-01"}}},
	} {
		whole, edges := r.split(Range{From: day(tt.from), To: day(tt.to)})
		var got [][2]string
		for _, e := range edges {
			got = append(got, [2]string{e.from.Format(time.DateOnly), e.to.Format(time.DateOnly)})
			if e.month != e.from.Format("2006-01") {
				t.Errorf("%s–%s: edge %v counted in month %s", tt.from, tt.to, e, e.month)
			}
		}
		if !slices.Equal(whole, tt.whole) || !slices.Equal(got, tt.edges) {
			t.Errorf("%s–%s: whole %v edges %v; want %v and %v", tt.from, tt.to, whole, got, tt.whole, tt.edges)
		}
	}
}
