package duban

import (
	"regexp"
	"strings"
	"time"
)

// Agency is an administrative body: a defendant in court, or the subject of
// a complaint. Agencies are referred to by their code everywhere outside.
type Agency struct {
	ID        int64     `db:"id" json:"id"`
	Code      string    `db:"code" json:"code"`
	Name      string    `db:"name" json:"name"`
	ParentID  *int64    `db:"parent_id" json:"parent_id,omitempty"`
	Active    bool      `db:"active" json:"active"`
	CreatedAt time.Time `db:"created_at" json:"created_at"`
	UpdatedAt time.Time `db:"updated_at" json:"updated_at"`
}

var agencyCodeRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

// ValidateAgency checks the fields a caller supplies.
func ValidateAgency(code, name string) error {
	var v ValidationError
	if !agencyCodeRE.MatchString(code) {
		v.Add("code", "must be 1 to 64 letters, digits, '.', '_' or '-'")
	}
	if strings.TrimSpace(name) == "" {
		v.Add("name", "is required")
	} else if len([]rune(name)) > MaxTitleRunes {
		v.Add("name", "must be at most %d characters", MaxTitleRunes)
	}
	return v.Err()
}
