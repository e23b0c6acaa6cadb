package duban

import "unicode/utf8"

// Ellipsis marks where Truncate cut a text.
const Ellipsis = "…"

// Truncate cuts s to at most n characters (Unicode code points), ending it
// with an ellipsis when it was cut; the ellipsis counts, so the answer is
// never longer than n. The one truncation of duban's texts; the senders
// measure Telegram's UTF-16 units and Slack's escapes on their own.
func Truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	if n <= 0 {
		return ""
	}
	r := []rune(s)
	return string(r[:n-1]) + Ellipsis
}
