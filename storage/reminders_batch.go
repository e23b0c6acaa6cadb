package storage

import (
	"context"
	"fmt"
	"strings"

	"github.com/cityhall/duban"
)

// RemindersOfHearings returns the reminders of several hearings at once,
// by hearing, each hearing's by due time: a page of hearings asks once,
// not once a row.
func (s *Store) RemindersOfHearings(ctx context.Context, ids []int64) (map[int64][]duban.Reminder, error) {
	out := map[int64][]duban.Reminder{}
	if len(ids) == 0 {
		return out, nil
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	var rs []duban.Reminder
	if err := s.sel(ctx, &rs, `SELECT `+reminderCols+` FROM reminders WHERE hearing_id IN (?`+strings.Repeat(", ?", len(ids)-1)+`)
		ORDER BY hearing_id, due_at, id`, args...); err != nil {
		return nil, fmt.Errorf("reminders of %d hearings: %w", len(ids), err)
	}
	for _, r := range rs {
		out[r.HearingID] = append(out[r.HearingID], r)
	}
	return out, nil
}
