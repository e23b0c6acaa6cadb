package duban

import (
	"database/sql/driver"
	"fmt"
	"slices"
	"strings"
)

// PersonChannels are the channels a person may name in their own order
// (docs/API.md, People: channels). The webhook and the console are the
// office's, not a person's, and are tried after a person's own order.
var PersonChannels = []Channel{ChannelTelegram, ChannelSlack, ChannelEmail}

// ChannelList is a person's order of channels to try, stored as a
// comma-separated string; empty means the global order.
type ChannelList []Channel

// String joins the channels with commas.
func (l ChannelList) String() string {
	s := make([]string, len(l))
	for i, c := range l {
		s[i] = string(c)
	}
	return strings.Join(s, ",")
}

// Validate checks that every channel is one a person may name, once.
func (l ChannelList) Validate() error {
	seen := map[Channel]bool{}
	for _, c := range l {
		if !slices.Contains(PersonChannels, c) {
			return fmt.Errorf("unknown channel %q (want telegram, slack or email)", c)
		}
		if seen[c] {
			return fmt.Errorf("channel %q is named twice", c)
		}
		seen[c] = true
	}
	return nil
}

// Order returns the order to try for a person with list l: l's channels
// first, in l's order, then the channels of global that l leaves out and
// no person names (the webhook, the console). Empty l: global as it is.
// A channel of global a person may name but left out of l is not tried.
func (l ChannelList) Order(global []Channel) []Channel {
	if len(l) == 0 {
		return global
	}
	out := make([]Channel, 0, len(global))
	for _, c := range l {
		if slices.Contains(global, c) {
			out = append(out, c)
		}
	}
	for _, c := range global {
		if !slices.Contains(PersonChannels, c) {
			out = append(out, c)
		}
	}
	return out
}

// Value stores the list as a comma-separated string.
func (l ChannelList) Value() (driver.Value, error) { return l.String(), nil }

// Scan reads a list stored by Value.
func (l *ChannelList) Scan(src any) error {
	s, ok, err := scanText("channels", src)
	if err != nil || !ok {
		*l = nil
		return err
	}
	*l = nil
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			*l = append(*l, Channel(part))
		}
	}
	return nil
}
