package duban

import (
	"database/sql/driver"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Role is what a person may do in duban.
type Role string

// The roles a person may hold (docs/API.md, People; docs/ACCESS.md).
const (
	RoleAgencyHead Role = "agency_head"
	RoleDeputy     Role = "deputy"
	RoleHandler    Role = "handler"
	RoleStaff      Role = "staff" // the legal-affairs office
	RoleSupervisor Role = "supervisor"
	RoleAdmin      Role = "admin"
)

// AllRoles lists the valid roles.
var AllRoles = []Role{RoleAgencyHead, RoleDeputy, RoleHandler, RoleStaff, RoleSupervisor, RoleAdmin}

// Locales duban speaks; the first is the default.
const (
	LocaleZH = "zh-CN"
	LocaleEN = "en"
)

// Person is anyone duban knows by name: agency heads, deputies, handlers,
// office staff, supervisors and admins. The public are not people; they are
// reporters of complaints.
type Person struct {
	ID             int64  `db:"id" json:"id"`
	Name           string `db:"name" json:"name"`
	AgencyID       *int64 `db:"agency_id" json:"-"`
	AgencyCode     string `db:"agency_code" json:"agency,omitempty"`
	Roles          Roles  `db:"roles" json:"roles"`
	TelegramChatID *int64 `db:"telegram_chat_id" json:"telegram_chat_id,omitempty"`
	TelegramUserID *int64 `db:"telegram_user_id" json:"-"`
	SlackUserID    string `db:"slack_user_id" json:"slack_user_id,omitempty"`
	Email          string `db:"email" json:"email,omitempty"`
	Phone          string `db:"phone" json:"phone,omitempty"`
	Locale         string `db:"locale" json:"locale"`
	// Login is the web sign-in name: unique regardless of case, kept by a
	// deactivated person; empty without one.
	Login     string    `db:"login" json:"login,omitempty"`
	Active    bool      `db:"active" json:"active"`
	CreatedAt time.Time `db:"created_at" json:"created_at"`
	UpdatedAt time.Time `db:"updated_at" json:"updated_at"`
	// Channels is the person's own order of channels to try; empty: the
	// global order.
	Channels ChannelList `db:"channels" json:"channels,omitempty"`
}

// Has reports whether p holds role r. Admins hold every role for the
// purpose of permission checks, but are not addressed as heads.
func (p *Person) Has(r Role) bool { return slices.Contains(p.Roles, r) }

// Bound reports whether p's chat is linked: a Telegram chat or a Slack user.
func (p *Person) Bound() bool { return p.TelegramChatID != nil || p.SlackUserID != "" }

// Can reports whether p holds any of roles, admins always.
func (p *Person) Can(roles ...Role) bool {
	if p.Has(RoleAdmin) {
		return true
	}
	for _, r := range roles {
		if p.Has(r) {
			return true
		}
	}
	return false
}

// Roles is a set of roles, stored as a comma-separated string.
type Roles []Role

// String joins the roles with commas.
func (r Roles) String() string {
	s := make([]string, len(r))
	for i, x := range r {
		s[i] = string(x)
	}
	return strings.Join(s, ",")
}

// ParseRoles reads a comma-separated list of roles.
func ParseRoles(s string) (Roles, error) {
	var out Roles
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		r := Role(part)
		if !slices.Contains(AllRoles, r) {
			return nil, Invalid("roles", "unknown role %q", part)
		}
		if !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	return out, nil
}

// NormalizeLocale maps what a caller or Telegram says to a locale duban has,
// zh-CN unless it is clearly English.
func NormalizeLocale(s string) string {
	if strings.HasPrefix(strings.ToLower(s), "en") {
		return LocaleEN
	}
	return LocaleZH
}

// ValidatePerson checks the fields a caller supplies.
func ValidatePerson(p *Person) error {
	var v ValidationError
	if strings.TrimSpace(p.Name) == "" {
		v.Add("name", "is required")
	} else if len([]rune(p.Name)) > MaxNameRunes {
		v.Add("name", "must be at most %d characters", MaxNameRunes)
	}
	if len(p.Roles) == 0 {
		v.Add("roles", "at least one role is required")
	}
	for _, r := range p.Roles {
		if !slices.Contains(AllRoles, r) {
			v.Add("roles", "unknown role %q", r)
		}
	}
	if (p.Has(RoleAgencyHead) || p.Has(RoleDeputy) || p.Has(RoleHandler)) && p.AgencyID == nil {
		v.Add("agency", "is required for agency heads, deputies and handlers")
	}
	if p.Locale != LocaleZH && p.Locale != LocaleEN {
		v.Add("locale", "must be zh-CN or en")
	}
	if p.Email != "" && !strings.Contains(p.Email, "@") {
		v.Add("email", "is not an e-mail address")
	}
	if err := p.Channels.Validate(); err != nil {
		v.Add("channels", "%s", err.Error())
	}
	return v.Err()
}

// Value stores roles as a comma-separated string.
func (r Roles) Value() (driver.Value, error) { return r.String(), nil }

// Scan reads roles stored by Value.
func (r *Roles) Scan(src any) error {
	s, ok, err := scanText("roles", src)
	if err != nil || !ok {
		*r = nil
		return err
	}
	out, err := ParseRoles(s)
	if err != nil {
		return err
	}
	*r = out
	return nil
}

// scanText reads a text column for a Scan method: ok is false for NULL.
func scanText(what string, src any) (s string, ok bool, err error) {
	switch v := src.(type) {
	case string:
		return v, true, nil
	case []byte:
		return string(v), true, nil
	case nil:
		return "", false, nil
	}
	return "", false, fmt.Errorf("%s: cannot scan %T", what, src)
}
