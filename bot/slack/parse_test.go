package slack

import (
	"slices"
	"testing"
)

func TestSplitCodes_ReadsEverySeparator(t *testing.T) {
	if got, want := splitCodes(" GA, SJ；WJ;  HB、ZF \n"), []string{"GA", "SJ", "WJ", "HB", "ZF"}; !slices.Equal(got, want) {
		t.Errorf("splitCodes = %q, want %q", got, want)
	}
}
