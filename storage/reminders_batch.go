package storage

import (
	"context"
	"fmt"

	"github.com/cityhall/duban"
)

// RemindersOfHearings returns the reminders of several hearings at once,
// by hearing, each hearing's by due time: a page of hearings asks once
// (a batch of ids at a time), not once a row.
func (s *Store) RemindersOfHearings(ctx context.Context, ids []int64) (map[int64][]duban.Reminder, error) {
	out := map[int64][]duban.Reminder{}
	err := eachBatch(ids, func(in string, args []any) error {
		var rs []duban.Reminder
		if err := s.sel(ctx, &rs, `SELECT `+reminderCols+` FROM reminders WHERE hearing_id IN (`+in+`)
			ORDER BY hearing_id, due_at, id`, args...); err != nil {
			return fmt.Errorf("reminders of %d hearings: %w", len(args), err)
		}
		for _, r := range rs {
			out[r.HearingID] = append(out[r.HearingID], r)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
