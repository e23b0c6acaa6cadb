package main

import (
	"fmt"
	"slices"
	"time"

	"github.com/cityhall/duban/internal/fakes/tgfake"
)

// arrivals describes how evenly messages reached the fake: the shortest
// time any 30 consecutive arrivals took (at 29/s evenly spaced, 1.0 s;
// under 1 s the 30th and the one before the window's first make 31 in a
// second), and the gaps between consecutive arrivals.
func arrivals(tg *tgfake.Server) string {
	sent := tg.Sent()
	if len(sent) < 31 {
		return "fewer than 31 messages"
	}
	var gaps []time.Duration
	for i := 1; i < len(sent); i++ {
		gaps = append(gaps, sent[i].At.Sub(sent[i-1].At))
	}
	shortest := time.Hour
	for i := 30; i < len(sent); i++ {
		shortest = min(shortest, sent[i].At.Sub(sent[i-30].At))
	}
	slices.Sort(gaps)
	q := func(p float64) time.Duration { return gaps[int(p*float64(len(gaps)-1))].Round(100 * time.Microsecond) }
	return fmt.Sprintf("31 consecutive arrivals took at least %s; gaps between arrivals p1 %s, p10 %s, p50 %s",
		shortest.Round(time.Millisecond), q(0.01), q(0.10), q(0.5))
}

// refusals names each message refused 429 and the arrivals around it.
func refusals(tg *tgfake.Server) []string {
	var out []string
	sent := tg.Sent()
	for _, m := range tg.Stats().Refused {
		i, _ := slices.BinarySearchFunc(sent, m.At, func(x tgfake.Message, t time.Time) int { return x.At.Compare(t) })
		line := fmt.Sprintf("refused: chat %d %q at %s;", m.ChatID, firstLine(m.Text), m.At.Format("15:04:05.000"))
		for j := max(0, i-3); j < min(len(sent), i+3); j++ {
			line += fmt.Sprintf(" [%d %+.1fms %q]", sent[j].ChatID, float64(sent[j].At.Sub(m.At).Microseconds())/1000, firstLine(sent[j].Text))
		}
		if i >= 30 {
			line += fmt.Sprintf(" 30th before: %+.1fms", float64(sent[i-30].At.Sub(m.At).Microseconds())/1000)
		}
		out = append(out, line)
	}
	return out
}

func firstLine(s string) string {
	for i, r := range s {
		if r == '\n' || i > 30 {
			return s[:i]
		}
	}
	return s
}

// checkProviderLimit fails r when the provider's limit was not kept: a
// 429 for a chat's limit, or 31 messages arriving within 0.9 s (a limit
// kept at 29/s spaces 31 over 1.03 s; two replicas each keeping their own
// would crowd them into about half a second). 429s whose most crowded
// window is 0.9-1 s are arrivals jittered by a busy CPU around a kept
// limit: counted and printed, and a failure only past 1% of messages.
func checkProviderLimit(r *result, st tgfake.Stats, messages int) {
	r.info("provider 429s %d: %d for a chat's limit, %d for the overall (31 arrivals within %s at the most crowded)",
		st.TooMany, st.TooManyChat, st.TooManyOverall, st.Crowded.Round(time.Millisecond))
	r.check(st.TooManyChat == 0, "%d sends refused 429 for their chat's limit", st.TooManyChat)
	if st.TooManyOverall > 0 {
		r.check(st.Crowded >= 900*time.Millisecond, "31 messages reached the provider within %s: the overall limit was not kept", st.Crowded.Round(time.Millisecond))
		r.check(st.TooManyOverall*100 <= messages, "%d of %d sends refused 429 for the overall limit: more than jitter explains", st.TooManyOverall, messages)
	}
}
