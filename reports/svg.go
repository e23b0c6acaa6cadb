package reports

import (
	"fmt"
	"html"
	"strings"
)

// Bar is one bar of a chart: its label, its value and how the value reads.
type Bar struct {
	Label string
	Value float64
	Text  string // the value as shown beside the bar
}

// BarChart draws bars as an SVG image, rendered on the server so the
// reports page needs no script and asks no other host: one row a bar,
// labels on the left, each bar as long as its share of the largest value
// (or of max, when max > 0: 1 for rates). Every text is escaped.
func BarChart(title string, bars []Bar, max float64) string {
	const (
		width  = 640
		labelW = 200
		valueW = 70
		rowH   = 22
		top    = 28
	)
	if max <= 0 {
		for _, b := range bars {
			if b.Value > max {
				max = b.Value
			}
		}
	}
	height := top + rowH*len(bars) + 8
	var s strings.Builder
	fmt.Fprintf(&s, `<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" aria-label="%s" viewBox="0 0 %d %d" width="100%%" preserveAspectRatio="xMinYMin meet">`,
		html.EscapeString(title), width, height)
	fmt.Fprintf(&s, `<title>%s</title><text x="0" y="16" font-size="14" font-weight="bold">%s</text>`, html.EscapeString(title), html.EscapeString(title))
	barMax := float64(width - labelW - valueW)
	for i, b := range bars {
		y := top + i*rowH
		w := 0.0
		if max > 0 && b.Value > 0 {
			w = b.Value / max * barMax
		}
		label := []rune(b.Label)
		if len(label) > 16 {
			label = append(label[:15], '…')
		}
		fmt.Fprintf(&s, `<text x="%d" y="%d" font-size="12" text-anchor="end">%s</text>`, labelW-6, y+15, html.EscapeString(string(label)))
		fmt.Fprintf(&s, `<rect x="%d" y="%d" width="%.1f" height="%d" fill="#2b6cb0"><title>%s: %s</title></rect>`,
			labelW, y+3, w, rowH-6, html.EscapeString(b.Label), html.EscapeString(b.Text))
		fmt.Fprintf(&s, `<text x="%.1f" y="%d" font-size="12">%s</text>`, float64(labelW)+w+4, y+15, html.EscapeString(b.Text))
	}
	s.WriteString(`</svg>`)
	return s.String()
}
