package storage

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/cityhall/duban"
)

// Text search of complaints (ComplaintFilter.Query): the bigrams of a
// complaint's description and tracking code are kept in complaint_grams
// (migrations 00008); a query of two characters or more narrows to the
// complaints holding every one of its bigrams, and LIKE checks only those.

// maxQueryGrams bounds the bigrams a query intersects: more narrow little
// further, and LIKE checks the rest.
const maxQueryGrams = 8

// gramBatch is the rows of one INSERT of grams.
const gramBatch = 400

// lowerASCII lowers ASCII letters only, as SQLite's lower() does and the
// migration's translate() does for PostgreSQL, so both dialects and Go
// cut the same grams.
func lowerASCII(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'A' && r <= 'Z' {
			return r + ('a' - 'A')
		}
		return r
	}, s)
}

// grams returns the distinct bigrams of s (ASCII lowered), in order of
// first appearance.
func grams(s string) []string {
	s = lowerASCII(s)
	var out []string
	seen := map[string]bool{}
	prev, prevSize := rune(-1), 0
	for i, r := range s {
		if prev >= 0 {
			g := s[i-prevSize : i+utf8.RuneLen(r)]
			if !seen[g] {
				seen[g] = true
				out = append(out, g)
			}
		}
		prev, prevSize = r, utf8.RuneLen(r)
	}
	return out
}

// complaintText is what a complaint is found by.
func complaintText(description, code string) string { return description + "\n" + code }

// indexComplaintText stores the bigrams of a new complaint.
func (s *Store) indexComplaintText(ctx context.Context, id int64, text string) error {
	gs := grams(text)
	slices.Sort(gs) // one order, so concurrent inserts never deadlock
	for len(gs) > 0 {
		n := min(len(gs), gramBatch)
		q := `INSERT INTO complaint_grams (gram, complaint_id) VALUES ` + strings.Repeat("(?, ?), ", n-1) + `(?, ?) ON CONFLICT DO NOTHING`
		args := make([]any, 0, 2*n)
		for _, g := range gs[:n] {
			args = append(args, g, id)
		}
		if _, err := s.exec(ctx, q, args...); err != nil {
			return fmt.Errorf("index complaint %d: %w", id, err)
		}
		gs = gs[n:]
	}
	return nil
}

// textCondition is the WHERE condition of a text query, with its
// arguments. A whole tracking code is that complaint. Otherwise the
// complaints holding every bigram of the query (at most maxQueryGrams of
// them) are found first: when they are few (at most maxCandidates), the
// query reads only those and LIKE checks them; when they are many, the
// query is common, and LIKE alone, read in the list's order, meets a page
// of matches soon. A one-character query has no bigram and is LIKE alone.
// Deciding here, on counts, keeps the database from guessing between the
// two plans (docs/PERFORMANCE.md).
func (s *Store) textCondition(ctx context.Context, query string) (string, []any, error) {
	// A whole tracking code, as people type or read it aloud (dashes,
	// O for 0), is that complaint: its unique index answers at once.
	if code, err := duban.ParseTrackingCode(query); err == nil {
		return `tracking_code = ?`, []any{code}, nil
	}
	like := "%" + strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(query) + "%"
	cond := `(description LIKE ? ESCAPE '\' OR tracking_code LIKE ? ESCAPE '\')`
	args := []any{like, strings.ToUpper(like)}
	gs := grams(query)
	if len(gs) == 0 {
		return cond, args, nil
	}
	if len(gs) > maxQueryGrams {
		picked := make([]string, 0, maxQueryGrams)
		for i := range maxQueryGrams {
			picked = append(picked, gs[i*(len(gs)-1)/(maxQueryGrams-1)])
		}
		gs = picked
	}
	// The bigrams' complaints, joined on the complaint: each list is read
	// in complaint order from the primary key, so the database merges
	// them as it reads and stops at the limit.
	q := `SELECT g0.complaint_id FROM complaint_grams g0`
	gargs := make([]any, 0, len(gs))
	for i := 1; i < len(gs); i++ {
		q += fmt.Sprintf(` JOIN complaint_grams g%[1]d ON g%[1]d.complaint_id = g0.complaint_id AND g%[1]d.gram = ?`, i)
		gargs = append(gargs, gs[i])
	}
	q += ` WHERE g0.gram = ?`
	gargs = append(gargs, gs[0])
	var ids []int64
	if err := s.sel(ctx, &ids, q+` LIMIT `+fmt.Sprint(maxCandidates+1), gargs...); err != nil {
		return "", nil, fmt.Errorf("search: candidates: %w", err)
	}
	switch {
	case len(ids) == 0:
		return `1 = 0`, nil, nil
	case len(ids) > maxCandidates:
		return cond, args, nil
	}
	in := make([]any, len(ids))
	for i, id := range ids {
		in[i] = id
	}
	return `id IN (?` + strings.Repeat(`, ?`, len(ids)-1) + `) AND ` + cond, append(in, args...), nil
}

// maxCandidates is the most complaints a text query narrows to by
// bigrams and then reads one by one; past it the query is common enough
// that reading the list in order meets its matches sooner.
var maxCandidates = 10000
