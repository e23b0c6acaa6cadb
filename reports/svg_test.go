package reports

import (
	"encoding/xml"
	"strings"
	"testing"
)

func TestBarChart_IsSVGWithEscapedTextAndBarsToScale(t *testing.T) {
	svg := BarChart("出庭率 <all>", []Bar{{Label: "市公安局", Value: 0.5, Text: "50%"}, {Label: `"&<script>`, Value: 1, Text: "100%"}}, 1)
	if err := xml.Unmarshal([]byte(svg), new(struct{})); err != nil {
		t.Fatalf("not well-formed XML: %v\n%s", err, svg)
	}
	if strings.Contains(svg, "<script>") || !strings.Contains(svg, "&lt;script&gt;") {
		t.Errorf("a label is not escaped: %s", svg)
	}
	if !strings.Contains(svg, `width="185.0"`) || !strings.Contains(svg, `width="370.0"`) {
		t.Errorf("bars not to scale (half and whole of 370): %s", svg)
	}
}
