package storage

import (
	"context"
	"fmt"
	"time"

	"github.com/cityhall/duban"
)

const hearingCols = `id, case_number, court, courtroom, starts_at, plaintiff, cause, status, created_at, updated_at, sequence`

const hearingAgencyCols = `ha.id, ha.hearing_id, ha.agency_id, a.code AS agency_code, a.name AS agency_name,
	ha.answer, ha.delegate_name, ha.delegate_reason, ha.delegate_person_id, ha.answered_at, ha.answered_by,
	ha.outcome, ha.outcome_at, ha.outcome_by`

// CreateHearing inserts a hearing and its defendant agencies (given by id
// in h.Agencies). The same case number and start is ErrConflict.
func (s *Store) CreateHearing(ctx context.Context, h *duban.Hearing) error {
	now := s.now()
	h.Status = duban.HearingScheduled
	id, err := s.insert(ctx, `INSERT INTO hearings (case_number, court, courtroom, starts_at, plaintiff, cause,
		status, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		h.CaseNumber, h.Court, h.Courtroom, ts(h.StartsAt), h.Plaintiff, h.Cause, h.Status, now, now)
	if err != nil {
		return fmt.Errorf("create hearing: %w", err)
	}
	h.ID, h.CreatedAt, h.UpdatedAt = id, now, now
	for i := range h.Agencies {
		ha := &h.Agencies[i]
		ha.HearingID, ha.Answer = id, duban.AnswerNone
		ha.ID, err = s.insert(ctx, `INSERT INTO hearing_agencies (hearing_id, agency_id, answer) VALUES (?, ?, ?)`,
			id, ha.AgencyID, ha.Answer)
		if err != nil {
			return fmt.Errorf("create hearing agency: %w", err)
		}
	}
	return nil
}

// HearingByCaseStart finds the hearing of a case at a start time.
func (s *Store) HearingByCaseStart(ctx context.Context, caseNumber string, start time.Time) (*duban.Hearing, error) {
	var id int64
	if err := s.get(ctx, &id, `SELECT id FROM hearings WHERE case_number = ? AND starts_at = ?`, caseNumber, ts(start)); err != nil {
		return nil, fmt.Errorf("hearing %s: %w", caseNumber, err)
	}
	return s.HearingByID(ctx, id)
}

// HearingByID loads a hearing with its agencies.
func (s *Store) HearingByID(ctx context.Context, id int64) (*duban.Hearing, error) {
	var h duban.Hearing
	if err := s.get(ctx, &h, `SELECT `+hearingCols+` FROM hearings WHERE id = ?`, id); err != nil {
		return nil, fmt.Errorf("hearing %d: %w", id, err)
	}
	if err := s.sel(ctx, &h.Agencies, `SELECT `+hearingAgencyCols+` FROM hearing_agencies ha
		JOIN agencies a ON a.id = ha.agency_id WHERE ha.hearing_id = ? ORDER BY ha.id`, id); err != nil {
		return nil, fmt.Errorf("hearing %d agencies: %w", id, err)
	}
	return &h, nil
}

// HearingAgencyByID loads one defendant agency of a hearing.
func (s *Store) HearingAgencyByID(ctx context.Context, id int64) (*duban.HearingAgency, error) {
	var ha duban.HearingAgency
	if err := s.get(ctx, &ha, `SELECT `+hearingAgencyCols+` FROM hearing_agencies ha
		JOIN agencies a ON a.id = ha.agency_id WHERE ha.id = ?`, id); err != nil {
		return nil, fmt.Errorf("hearing agency %d: %w", id, err)
	}
	return &ha, nil
}

// HearingFilter narrows Hearings.
type HearingFilter struct {
	AgencyID *int64
	From, To *time.Time
	Status   duban.HearingStatus
	Limit    int
	After    string // the cursor of the page before (HearingsPage)
}

// Hearings lists hearings by start time, with their agencies.
func (s *Store) Hearings(ctx context.Context, f HearingFilter) ([]duban.Hearing, error) {
	q := `SELECT ` + hearingCols + ` FROM hearings h WHERE 1=1`
	var args []any
	if f.AgencyID != nil {
		q += ` AND EXISTS (SELECT 1 FROM hearing_agencies x WHERE x.hearing_id = h.id AND x.agency_id = ?)`
		args = append(args, *f.AgencyID)
	}
	if f.From != nil {
		q += ` AND starts_at >= ?`
		args = append(args, ts(*f.From))
	}
	if f.To != nil {
		q += ` AND starts_at < ?`
		args = append(args, ts(*f.To))
	}
	if f.Status != "" {
		q += ` AND status = ?`
		args = append(args, f.Status)
	}
	cond, more, err := hearingCursor(f.After)
	if err != nil {
		return nil, err
	}
	if cond != "" {
		q += ` AND ` + cond
		args = append(args, more...)
	}
	q += fmt.Sprintf(` ORDER BY starts_at, id LIMIT %d`, pageRows(f.Limit, MaxPage))
	var hs []duban.Hearing
	if err := s.sel(ctx, &hs, q, args...); err != nil {
		return nil, fmt.Errorf("list hearings: %w", err)
	}
	// The agencies of all the hearings in one query (a batch at a time), not
	// one a hearing: a page holds up to a thousand.
	ids := make([]int64, len(hs))
	for i := range hs {
		ids[i] = hs[i].ID
	}
	agencies := map[int64][]duban.HearingAgency{}
	err = eachBatch(ids, func(in string, args []any) error {
		var has []duban.HearingAgency
		if err := s.sel(ctx, &has, `SELECT `+hearingAgencyCols+` FROM hearing_agencies ha
			JOIN agencies a ON a.id = ha.agency_id WHERE ha.hearing_id IN (`+in+`) ORDER BY ha.hearing_id, ha.id`, args...); err != nil {
			return fmt.Errorf("agencies of %d hearings: %w", len(args), err)
		}
		for _, ha := range has {
			agencies[ha.HearingID] = append(agencies[ha.HearingID], ha)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for i := range hs {
		hs[i].Agencies = agencies[hs[i].ID]
	}
	if hs == nil {
		hs = []duban.Hearing{}
	}
	return hs, nil
}

// UpdateHearing saves the start, courtroom and status, and counts the
// change in the hearing's sequence (its calendar events' SEQUENCE).
func (s *Store) UpdateHearing(ctx context.Context, h *duban.Hearing) error {
	h.UpdatedAt = s.now()
	n, err := s.exec(ctx, `UPDATE hearings SET starts_at = ?, courtroom = ?, status = ?, updated_at = ?, sequence = sequence + 1 WHERE id = ?`,
		ts(h.StartsAt), h.Courtroom, h.Status, h.UpdatedAt, h.ID)
	if err != nil {
		return fmt.Errorf("update hearing %d: %w", h.ID, err)
	}
	if n == 0 {
		return fmt.Errorf("update hearing %d: %w", h.ID, duban.ErrNotFound)
	}
	h.Sequence++
	return nil
}

// SetAnswer records a head's answer.
func (s *Store) SetAnswer(ctx context.Context, ha *duban.HearingAgency) error {
	_, err := s.exec(ctx, `UPDATE hearing_agencies SET answer = ?, delegate_name = ?, delegate_reason = ?,
		delegate_person_id = ?, answered_at = ?, answered_by = ? WHERE id = ?`,
		ha.Answer, ha.DelegateName, ha.DelegateReason, ha.DelegatePersonID, tsp(ha.AnsweredAt), ha.AnsweredBy, ha.ID)
	if err != nil {
		return fmt.Errorf("set answer %d: %w", ha.ID, err)
	}
	return nil
}

// SetOutcome records who appeared for an agency.
func (s *Store) SetOutcome(ctx context.Context, ha *duban.HearingAgency) error {
	_, err := s.exec(ctx, `UPDATE hearing_agencies SET outcome = ?, outcome_at = ?, outcome_by = ? WHERE id = ?`,
		ha.Outcome, tsp(ha.OutcomeAt), ha.OutcomeBy, ha.ID)
	if err != nil {
		return fmt.Errorf("set outcome %d: %w", ha.ID, err)
	}
	return nil
}

// AppearanceRow is one agency's line of the appearance report.
type AppearanceRow struct {
	AgencyCode string `db:"agency_code" json:"agency"`
	AgencyName string `db:"agency_name" json:"name"`
	Held       int    `db:"held" json:"held"`
	Head       int    `db:"head" json:"head"`
	Deputy     int    `db:"deputy" json:"deputy"`
	Nobody     int    `db:"nobody" json:"none"`
}

// Appearance counts, per agency, hearings in [from, to) with an outcome
// recorded and who appeared.
func (s *Store) Appearance(ctx context.Context, from, to time.Time, scope duban.Scope) ([]AppearanceRow, error) {
	cond, args := "", []any{ts(from), ts(to)}
	switch {
	case scope.All:
	case scope.Agency == nil:
		cond = " AND 1 = 0"
	default:
		cond, args = " AND ha.agency_id = ?", append(args, *scope.Agency)
	}
	out := []AppearanceRow{}
	err := s.sel(ctx, &out, `SELECT a.code AS agency_code, a.name AS agency_name,
		COUNT(*) AS held,
		SUM(CASE WHEN ha.outcome = 'head' THEN 1 ELSE 0 END) AS head,
		SUM(CASE WHEN ha.outcome = 'deputy' THEN 1 ELSE 0 END) AS deputy,
		SUM(CASE WHEN ha.outcome = 'none' THEN 1 ELSE 0 END) AS nobody
		FROM hearing_agencies ha JOIN hearings h ON h.id = ha.hearing_id JOIN agencies a ON a.id = ha.agency_id
		WHERE ha.outcome IS NOT NULL AND h.status <> 'cancelled' AND h.starts_at >= ? AND h.starts_at < ?`+cond+`
		GROUP BY a.code, a.name ORDER BY a.code`, args...)
	if err != nil {
		return nil, fmt.Errorf("appearance report: %w", err)
	}
	return out, nil
}
