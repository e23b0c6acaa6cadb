package storage

import (
	"slices"
	"strings"
)

// batchIDs is how many ids one IN list carries. The databases take more
// (SQLite 32,766 host parameters, https://www.sqlite.org/limits.html#max_variable_number;
// PostgreSQL 65,535, the Int16 count of a Bind message,
// https://www.postgresql.org/docs/current/protocol-message-formats.html), but
// an import renders every hearing of a file at once, and a file of a year's
// notices holds more: lists are asked for in batches of this size. A
// variable so that a test can cross batches with a few rows.
var batchIDs = 500

// eachBatch calls fn with ids batchIDs at a time: in is the "?, ?, …" of
// the batch's IN list, args its ids. Each id is passed once, so that an id
// given twice (an import may list a hearing twice) is not read in two
// batches and its rows counted twice.
func eachBatch(ids []int64, fn func(in string, args []any) error) error {
	ids = slices.Compact(slices.Sorted(slices.Values(ids)))
	for len(ids) > 0 {
		n := min(len(ids), batchIDs)
		args := make([]any, n)
		for i, id := range ids[:n] {
			args[i] = id
		}
		if err := fn("?"+strings.Repeat(", ?", n-1), args); err != nil {
			return err
		}
		ids = ids[n:]
	}
	return nil
}
