package storage

import (
	"context"
	"fmt"
)

// agencyScope is the condition of an agency's complaints (the rule book's
// scope): those assigned to it now or before. Which form reads fewer rows
// depends on how many there are, which the database cannot know from its
// statistics under an OR, so it is decided here on a capped count
// (docs/PERFORMANCE.md): a few are found through their assign events and
// sorted; many are met soon enough reading the list in its order.
func (s *Store) agencyScope(ctx context.Context, agency int64) (string, []any, error) {
	var n int
	if err := s.get(ctx, &n, fmt.Sprintf(`SELECT count(*) FROM (SELECT 1 FROM complaint_events
		WHERE action = 'assign' AND agency_id = ? LIMIT %d) x`, scopeSorted+1), agency); err != nil {
		return "", nil, fmt.Errorf("agency scope: %w", err)
	}
	if n <= scopeSorted {
		return `id IN (SELECT id FROM complaints WHERE agency_id = ? UNION
			SELECT complaint_id FROM complaint_events WHERE action = 'assign' AND agency_id = ?)`, []any{agency, agency}, nil
	}
	return `(agency_id = ? OR id IN (SELECT complaint_id FROM complaint_events WHERE action = 'assign' AND agency_id = ?))`,
		[]any{agency, agency}, nil
}

// scopeSorted is the most complaints of an agency that are found through
// their events and sorted; past it, reading the list in its order meets a
// page of them sooner.
const scopeSorted = 2000
