package storage

import (
	"context"
	"fmt"
	"time"

	"github.com/cityhall/duban"
)

// CalendarFeed is the private calendar feed of one person or one agency
// (exactly one of PersonID and AgencyID is set). Its URL's token is kept
// only as a hash, so a feed is found by the hash of the token asked for.
type CalendarFeed struct {
	ID        int64     `db:"id"`
	PersonID  *int64    `db:"person_id"`
	AgencyID  *int64    `db:"agency_id"`
	CreatedAt time.Time `db:"created_at"`
}

// ownerClause is the WHERE clause and argument naming f's owner.
func (f *CalendarFeed) ownerClause() (string, any, error) {
	switch {
	case f.PersonID != nil && f.AgencyID == nil:
		return "person_id = ?", *f.PersonID, nil
	case f.AgencyID != nil && f.PersonID == nil:
		return "agency_id = ?", *f.AgencyID, nil
	}
	return "", nil, fmt.Errorf("calendar feed: want a person or an agency: %w", duban.ErrInvalid)
}

// ReplaceCalendarFeed makes hash the only feed token of f's owner: a
// feed it had before is deleted, so its old URL stops working. Call it in
// a transaction. It sets f's id and creation time.
func (s *Store) ReplaceCalendarFeed(ctx context.Context, f *CalendarFeed, hash string) error {
	where, owner, err := f.ownerClause()
	if err != nil {
		return err
	}
	if _, err := s.exec(ctx, `DELETE FROM calendar_feeds WHERE `+where, owner); err != nil {
		return fmt.Errorf("replace calendar feed: %w", err)
	}
	now := s.now()
	id, err := s.insert(ctx, `INSERT INTO calendar_feeds (person_id, agency_id, token_hash, created_at) VALUES (?, ?, ?, ?)`,
		f.PersonID, f.AgencyID, hash, now)
	if err != nil {
		return fmt.Errorf("create calendar feed: %w", err)
	}
	f.ID, f.CreatedAt = id, now
	return nil
}

// RevokeCalendarFeed deletes the feed of f's owner and reports whether it
// had one.
func (s *Store) RevokeCalendarFeed(ctx context.Context, f *CalendarFeed) (bool, error) {
	where, owner, err := f.ownerClause()
	if err != nil {
		return false, err
	}
	n, err := s.exec(ctx, `DELETE FROM calendar_feeds WHERE `+where, owner)
	if err != nil {
		return false, fmt.Errorf("revoke calendar feed: %w", err)
	}
	return n > 0, nil
}

// CalendarFeedByHash finds the feed whose token hashes to hash; none is
// ErrNotFound.
func (s *Store) CalendarFeedByHash(ctx context.Context, hash string) (*CalendarFeed, error) {
	var f CalendarFeed
	if err := s.get(ctx, &f, `SELECT id, person_id, agency_id, created_at FROM calendar_feeds WHERE token_hash = ?`, hash); err != nil {
		return nil, fmt.Errorf("calendar feed: %w", err)
	}
	return &f, nil
}
