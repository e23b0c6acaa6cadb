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
// complaints holding the query's rarest bigrams (at most queryGrams of
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
	if len(gs) > queryGrams {
		var err error
		if gs, err = s.rarestGrams(ctx, gs); err != nil {
			return "", nil, err
		}
	}
	parts := make([]string, len(gs))
	gargs := make([]any, len(gs))
	for i, g := range gs {
		parts[i] = `SELECT complaint_id FROM complaint_grams WHERE gram = ?`
		gargs[i] = g
	}
	var ids []int64
	if err := s.sel(ctx, &ids, `SELECT complaint_id FROM (`+strings.Join(parts, ` INTERSECT `)+`) x LIMIT `+fmt.Sprint(maxCandidates+1), gargs...); err != nil {
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
const maxCandidates = 2000

// queryGrams is how many bigrams of a query are intersected: the rarest
// ones narrow the most, and LIKE checks what they let through.
const queryGrams = 3

// gramProbe caps the count of each bigram's complaints when choosing the
// rarest, so choosing reads at most this many index entries a bigram.
const gramProbe = 5000

type gramCount struct {
	I int `db:"i"`
	N int `db:"n"`
}

// rarestGrams returns the queryGrams bigrams of gs with the fewest
// complaints (counted up to gramProbe), in the order of the query among
// those that reach the cap.
func (s *Store) rarestGrams(ctx context.Context, gs []string) ([]string, error) {
	if len(gs) > maxQueryGrams {
		picked := make([]string, 0, maxQueryGrams)
		for i := range maxQueryGrams {
			picked = append(picked, gs[i*(len(gs)-1)/(maxQueryGrams-1)])
		}
		gs = picked
	}
	parts := make([]string, len(gs))
	args := make([]any, 0, len(gs))
	for i, g := range gs {
		parts[i] = fmt.Sprintf(`SELECT %d AS i, (SELECT count(*) FROM (SELECT 1 FROM complaint_grams WHERE gram = ? LIMIT %d) x) AS n`, i, gramProbe)
		args = append(args, g)
	}
	var counts []gramCount
	if err := s.sel(ctx, &counts, strings.Join(parts, ` UNION ALL `), args...); err != nil {
		return nil, fmt.Errorf("search: count bigrams: %w", err)
	}
	slices.SortStableFunc(counts, func(a, b gramCount) int { return a.N - b.N })
	out := make([]string, 0, queryGrams)
	for _, c := range counts[:min(queryGrams, len(counts))] {
		out = append(out, gs[c.I])
	}
	return out, nil
}
