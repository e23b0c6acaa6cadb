package storage

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/cityhall/duban"
)

const personCols = `p.id, p.name, p.agency_id, COALESCE(a.code, '') AS agency_code, p.roles,
	p.telegram_chat_id, p.telegram_user_id, p.slack_user_id, p.email, p.phone, p.locale,
	p.active, p.created_at, p.updated_at, p.channels, COALESCE(p.login, '') AS login`

const personFrom = ` FROM people p LEFT JOIN agencies a ON a.id = p.agency_id `

// CreatePerson inserts a person; a Telegram or Slack id already bound to
// someone else is ErrConflict.
func (s *Store) CreatePerson(ctx context.Context, p *duban.Person) error {
	now := s.now()
	id, err := s.insert(ctx, `INSERT INTO people (name, agency_id, roles, telegram_chat_id, telegram_user_id,
		slack_user_id, email, phone, locale, active, created_at, updated_at, channels)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		p.Name, p.AgencyID, p.Roles.String(), p.TelegramChatID, p.TelegramUserID, p.SlackUserID,
		p.Email, p.Phone, p.Locale, true, now, now, p.Channels.String())
	if err != nil {
		return fmt.Errorf("create person: %w", err)
	}
	p.ID, p.Active, p.CreatedAt, p.UpdatedAt = id, true, now, now
	return nil
}

// UpdatePerson saves every field a caller can change.
func (s *Store) UpdatePerson(ctx context.Context, p *duban.Person) error {
	p.UpdatedAt = s.now()
	n, err := s.exec(ctx, `UPDATE people SET name = ?, agency_id = ?, roles = ?, telegram_chat_id = ?,
		telegram_user_id = ?, slack_user_id = ?, email = ?, phone = ?, locale = ?, active = ?, updated_at = ?,
		channels = ? WHERE id = ?`,
		p.Name, p.AgencyID, p.Roles.String(), p.TelegramChatID, p.TelegramUserID, p.SlackUserID,
		p.Email, p.Phone, p.Locale, p.Active, p.UpdatedAt, p.Channels.String(), p.ID)
	if err != nil {
		return fmt.Errorf("update person %d: %w", p.ID, err)
	}
	if n == 0 {
		return fmt.Errorf("update person %d: %w", p.ID, duban.ErrNotFound)
	}
	return nil
}

// PersonByID finds a person, active or not.
func (s *Store) PersonByID(ctx context.Context, id int64) (*duban.Person, error) {
	var p duban.Person
	if err := s.get(ctx, &p, `SELECT `+personCols+personFrom+`WHERE p.id = ?`, id); err != nil {
		return nil, fmt.Errorf("person %d: %w", id, err)
	}
	return &p, nil
}

// PeopleByIDs returns the people of ids, active or not, by id; an id no
// one has is absent. A list of hearings names who answered with one query
// (a batch of ids at a time), not one a row.
func (s *Store) PeopleByIDs(ctx context.Context, ids []int64) (map[int64]duban.Person, error) {
	out := map[int64]duban.Person{}
	err := eachBatch(ids, func(in string, args []any) error {
		var ps []duban.Person
		if err := s.sel(ctx, &ps, `SELECT `+personCols+personFrom+`WHERE p.id IN (`+in+`)`, args...); err != nil {
			return fmt.Errorf("%d people: %w", len(args), err)
		}
		for _, p := range ps {
			out[p.ID] = p
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// PersonByTelegramUser finds the active person bound to a Telegram user.
func (s *Store) PersonByTelegramUser(ctx context.Context, userID int64) (*duban.Person, error) {
	var p duban.Person
	if err := s.get(ctx, &p, `SELECT `+personCols+personFrom+`WHERE p.telegram_user_id = ? AND p.active = ?`, userID, true); err != nil {
		return nil, fmt.Errorf("person by telegram user: %w", err)
	}
	return &p, nil
}

// PersonBySlackUser finds the active person with a Slack user id.
func (s *Store) PersonBySlackUser(ctx context.Context, slackID string) (*duban.Person, error) {
	var p duban.Person
	if err := s.get(ctx, &p, `SELECT `+personCols+personFrom+`WHERE p.slack_user_id = ? AND p.active = ?`, slackID, true); err != nil {
		return nil, fmt.Errorf("person by slack user: %w", err)
	}
	return &p, nil
}

// PeopleFilter narrows People.
type PeopleFilter struct {
	AgencyID   *int64
	Role       duban.Role
	ActiveOnly bool
}

// People lists people by id.
func (s *Store) People(ctx context.Context, f PeopleFilter) ([]duban.Person, error) {
	q := `SELECT ` + personCols + personFrom + `WHERE 1=1`
	var args []any
	if f.AgencyID != nil {
		q += ` AND p.agency_id = ?`
		args = append(args, *f.AgencyID)
	}
	if f.ActiveOnly {
		q += ` AND p.active = ?`
		args = append(args, true)
	}
	q += ` ORDER BY p.id`
	var all []duban.Person
	if err := s.sel(ctx, &all, q, args...); err != nil {
		return nil, fmt.Errorf("list people: %w", err)
	}
	out := []duban.Person{}
	for _, p := range all {
		if f.Role == "" || p.Has(f.Role) {
			out = append(out, p)
		}
	}
	return out, nil
}

// PeopleWithAnyRole lists the active people holding any of roles.
func (s *Store) PeopleWithAnyRole(ctx context.Context, roles ...duban.Role) ([]duban.Person, error) {
	all, err := s.People(ctx, PeopleFilter{ActiveOnly: true})
	if err != nil {
		return nil, err
	}
	out := []duban.Person{}
	for _, p := range all {
		for _, r := range roles {
			if p.Has(r) {
				out = append(out, p)
				break
			}
		}
	}
	return out, nil
}

// HeadsOf lists the active heads of an agency.
func (s *Store) HeadsOf(ctx context.Context, agencyID int64) ([]duban.Person, error) {
	return s.People(ctx, PeopleFilter{AgencyID: &agencyID, Role: duban.RoleAgencyHead, ActiveOnly: true})
}

// PersonByNameInAgency finds an active person by exact name within an
// agency; a deputy named in a delegation is matched this way.
func (s *Store) PersonByNameInAgency(ctx context.Context, agencyID int64, name string) (*duban.Person, error) {
	var p duban.Person
	err := s.get(ctx, &p, `SELECT `+personCols+personFrom+`WHERE p.agency_id = ? AND p.name = ? AND p.active = ? ORDER BY p.id LIMIT 1`,
		agencyID, strings.TrimSpace(name), true)
	if err != nil {
		return nil, fmt.Errorf("person by name: %w", err)
	}
	return &p, nil
}

// CreateBindCode stores a one-time code that links a chat to a person.
func (s *Store) CreateBindCode(ctx context.Context, personID int64, code string, expires time.Time) error {
	if _, err := s.exec(ctx, `INSERT INTO bind_codes (code, person_id, expires_at) VALUES (?, ?, ?)`,
		code, personID, ts(expires)); err != nil {
		return fmt.Errorf("create bind code: %w", err)
	}
	return nil
}

// UseBindCode consumes a code valid at now and returns its person id. An
// unknown, used or expired code is ErrNotFound.
func (s *Store) UseBindCode(ctx context.Context, code string, now time.Time) (int64, error) {
	var personID int64
	err := s.get(ctx, &personID, `SELECT person_id FROM bind_codes WHERE code = ? AND used_at IS NULL AND expires_at > ?`,
		code, ts(now))
	if err != nil {
		return 0, fmt.Errorf("bind code: %w", err)
	}
	n, err := s.exec(ctx, `UPDATE bind_codes SET used_at = ? WHERE code = ? AND used_at IS NULL`, ts(now), code)
	if err != nil {
		return 0, fmt.Errorf("use bind code: %w", err)
	}
	if n == 0 {
		return 0, fmt.Errorf("bind code: %w", duban.ErrNotFound)
	}
	return personID, nil
}

// APIToken is a personal API token as its owner and admins see it: never
// its secret, which is shown once when minted and kept only as a hash.
type APIToken struct {
	ID         int64      `db:"id"`
	PersonID   int64      `db:"person_id"`
	Name       string     `db:"name"`
	CreatedAt  time.Time  `db:"created_at"`
	ExpiresAt  *time.Time `db:"expires_at"`
	LastUsedAt *time.Time `db:"last_used_at"`
}

const tokenCols = `id, person_id, name, created_at, expires_at, last_used_at`

// CreateToken stores the hash of a personal API token without a name or
// an expiry.
func (s *Store) CreateToken(ctx context.Context, personID int64, hash string) error {
	return s.AddToken(ctx, &APIToken{PersonID: personID}, hash)
}

// AddToken stores the hash of a personal API token with t's name and
// expiry, and sets t's id and creation time. A hash already there is
// ErrConflict.
func (s *Store) AddToken(ctx context.Context, t *APIToken, hash string) error {
	now := s.now()
	id, err := s.insert(ctx, `INSERT INTO api_tokens (person_id, token_hash, name, created_at, expires_at) VALUES (?, ?, ?, ?, ?)`,
		t.PersonID, hash, t.Name, now, tsp(t.ExpiresAt))
	if err != nil {
		return fmt.Errorf("create token: %w", err)
	}
	t.ID, t.CreatedAt, t.ExpiresAt = id, now, tsp(t.ExpiresAt)
	return nil
}

// Tokens lists a person's tokens, oldest first.
func (s *Store) Tokens(ctx context.Context, personID int64) ([]APIToken, error) {
	out := []APIToken{}
	if err := s.sel(ctx, &out, `SELECT `+tokenCols+` FROM api_tokens WHERE person_id = ? ORDER BY id`, personID); err != nil {
		return nil, fmt.Errorf("tokens of person %d: %w", personID, err)
	}
	return out, nil
}

// RevokeToken deletes token id of a person; a token of someone else, or
// none, is ErrNotFound.
func (s *Store) RevokeToken(ctx context.Context, personID, id int64) error {
	n, err := s.exec(ctx, `DELETE FROM api_tokens WHERE id = ? AND person_id = ?`, id, personID)
	if err != nil {
		return fmt.Errorf("revoke token %d: %w", id, err)
	}
	if n == 0 {
		return fmt.Errorf("token %d of person %d: %w", id, personID, duban.ErrNotFound)
	}
	return nil
}

// tokenTouchEvery spares a write per request: the last use is kept to the
// minute.
const tokenTouchEvery = time.Minute

// PersonByTokenHash finds the active owner of a token not expired at now,
// and records the token's use at now.
func (s *Store) PersonByTokenHash(ctx context.Context, hash string, now time.Time) (*duban.Person, error) {
	var p duban.Person
	err := s.get(ctx, &p, `SELECT `+personCols+personFrom+`JOIN api_tokens t ON t.person_id = p.id
		WHERE t.token_hash = ? AND p.active = ? AND (t.expires_at IS NULL OR t.expires_at > ?)`, hash, true, ts(now))
	if err != nil {
		return nil, fmt.Errorf("person by token: %w", err)
	}
	if _, err := s.exec(ctx, `UPDATE api_tokens SET last_used_at = ? WHERE token_hash = ? AND (last_used_at IS NULL OR last_used_at < ?)`,
		ts(now), hash, ts(now.Add(-tokenTouchEvery))); err != nil {
		return nil, fmt.Errorf("token used: %w", err)
	}
	return &p, nil
}
