package storage

import (
	"context"
	"fmt"

	"github.com/cityhall/duban"
)

// scopeFor is the condition (" AND …", or "" for everything) of the
// complaints a scope admits, on the table aliased alias. An agency's are
// those assigned to it now or before; which form of that reads fewer rows
// depends on how many there are, which the database cannot know from its
// statistics under an OR (for an agency with no complaints it read all of
// them), so it is decided here on a capped count (docs/PERFORMANCE.md): a
// few are found through their assign events and sorted; many are met soon
// enough reading the list in its order.
func (s *Store) scopeFor(ctx context.Context, scope duban.Scope, alias string) (string, []any, error) {
	switch {
	case scope.All:
		return "", nil, nil
	case scope.Agency == nil:
		return " AND 1 = 0", nil, nil
	}
	agency := *scope.Agency
	var n int
	if err := s.get(ctx, &n, fmt.Sprintf(`SELECT count(*) FROM (SELECT 1 FROM complaint_events
		WHERE action = 'assign' AND agency_id = ? LIMIT %d) x`, scopeSorted+1), agency); err != nil {
		return "", nil, fmt.Errorf("agency scope: %w", err)
	}
	if n <= scopeSorted {
		return ` AND ` + alias + `.id IN (SELECT id FROM complaints WHERE agency_id = ? UNION
			SELECT complaint_id FROM complaint_events WHERE action = 'assign' AND agency_id = ?)`, []any{agency, agency}, nil
	}
	return ` AND (` + alias + `.agency_id = ? OR ` + alias + `.id IN (SELECT complaint_id FROM complaint_events
		WHERE action = 'assign' AND agency_id = ?))`, []any{agency, agency}, nil
}

// scopeSorted is the most complaints of an agency that are found through
// their events and sorted; past it, reading the list in its order meets a
// page of them sooner.
var scopeSorted = 2000
