package storage_test

import (
	"testing"
	"time"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/storage"
	"github.com/cityhall/duban/storage/storagetest"
)

func TestPeople_RoundTripWithRolesAgencyAndChatIDs(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := t.Context()
		ga := newAgency(t, s, "GA")
		p := &duban.Person{Name: "李局长", AgencyID: &ga.ID, Roles: duban.Roles{duban.RoleAgencyHead, duban.RoleDeputy},
			TelegramChatID: ptr(int64(-100123456789)), TelegramUserID: ptr(int64(5551234)), SlackUserID: "U0123",
			Email: "li@example.gov", Phone: "+86 21 5555 0000", Locale: duban.LocaleEN}
		must(t, s.CreatePerson(ctx, p))
		if p.ID == 0 || !p.Active || p.CreatedAt.IsZero() {
			t.Fatalf("created person not filled in: %+v", p)
		}
		want := *p
		want.AgencyCode = "GA" // joined from agencies on every read

		got, err := s.PersonByID(ctx, p.ID)
		must(t, err)
		diff(t, "by id", &want, got)
		byTG, err := s.PersonByTelegramUser(ctx, 5551234)
		must(t, err)
		diff(t, "by telegram user", &want, byTG)
		bySlack, err := s.PersonBySlackUser(ctx, "U0123")
		must(t, err)
		diff(t, "by slack user", &want, bySlack)

		staff := newPerson(t, s, "王科员", nil, duban.RoleStaff)
		got, err = s.PersonByID(ctx, staff.ID)
		must(t, err)
		if got.AgencyID != nil || got.AgencyCode != "" || got.TelegramUserID != nil || got.TelegramChatID != nil {
			t.Errorf("person without agency or Telegram = %+v", got)
		}
		diff(t, "roles", duban.Roles{duban.RoleStaff}, got.Roles)

		_, err = s.PersonByID(ctx, 9999)
		mustIs(t, err, duban.ErrNotFound, "unknown person")
	})
}

func TestPeople_UpdateSavesEveryField(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := t.Context()
		ga, gov := newAgency(t, s, "GA"), newAgency(t, s, "GOV")
		p := newPerson(t, s, "赵", ga, duban.RoleHandler)
		p.Name, p.AgencyID, p.Roles = "赵处长", &gov.ID, duban.Roles{duban.RoleAgencyHead, duban.RoleAdmin}
		p.TelegramChatID, p.TelegramUserID, p.SlackUserID = ptr(int64(42)), ptr(int64(42)), "UZ"
		p.Email, p.Phone, p.Locale, p.Active = "z@example.gov", "110", duban.LocaleEN, false
		must(t, s.UpdatePerson(ctx, p))
		got, err := s.PersonByID(ctx, p.ID)
		must(t, err)
		want := *p
		want.AgencyCode = "GOV"
		diff(t, "after update", &want, got)

		mustIs(t, s.UpdatePerson(ctx, &duban.Person{ID: 9999, Name: "x", Locale: duban.LocaleZH}), duban.ErrNotFound, "update unknown")
	})
}

func TestPeople_ChatIdentitiesAreUnique(t *testing.T) {
	tests := []struct {
		name        string
		first, next duban.Person
		want        error
	}{
		{"same telegram user", duban.Person{TelegramUserID: ptr(int64(7))}, duban.Person{TelegramUserID: ptr(int64(7))}, duban.ErrConflict},
		{"same slack user", duban.Person{SlackUserID: "U7"}, duban.Person{SlackUserID: "U7"}, duban.ErrConflict},
		{"neither bound", duban.Person{}, duban.Person{}, nil},
		{"same group chat, other users", duban.Person{TelegramChatID: ptr(int64(-1)), TelegramUserID: ptr(int64(1))},
			duban.Person{TelegramChatID: ptr(int64(-1)), TelegramUserID: ptr(int64(2))}, nil},
		{"other telegram user, other slack user", duban.Person{TelegramUserID: ptr(int64(3)), SlackUserID: "U3"},
			duban.Person{TelegramUserID: ptr(int64(4)), SlackUserID: "U4"}, nil},
	}
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		for _, tt := range tests {
			first, next := tt.first, tt.next
			first.Name, first.Roles, first.Locale = "甲", duban.Roles{duban.RoleStaff}, duban.LocaleZH
			next.Name, next.Roles, next.Locale = "乙", duban.Roles{duban.RoleStaff}, duban.LocaleZH
			must(t, s.CreatePerson(t.Context(), &first))
			mustIs(t, s.CreatePerson(t.Context(), &next), tt.want, tt.name)
		}
	})
}

func TestPeople_UpdateCannotTakeAnothersChatIdentity(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := t.Context()
		owner := &duban.Person{Name: "甲", Roles: duban.Roles{duban.RoleStaff}, Locale: duban.LocaleZH,
			TelegramUserID: ptr(int64(7)), SlackUserID: "U7"}
		must(t, s.CreatePerson(ctx, owner))
		other := newPerson(t, s, "乙", nil, duban.RoleStaff)

		other.TelegramUserID = ptr(int64(7))
		mustIs(t, s.UpdatePerson(ctx, other), duban.ErrConflict, "take the telegram user")
		other.TelegramUserID, other.SlackUserID = nil, "U7"
		mustIs(t, s.UpdatePerson(ctx, other), duban.ErrConflict, "take the slack user")

		// Once the owner lets go, the identity is free.
		owner.TelegramUserID, owner.SlackUserID = nil, ""
		must(t, s.UpdatePerson(ctx, owner))
		other.TelegramUserID = ptr(int64(7))
		must(t, s.UpdatePerson(ctx, other))
		got, err := s.PersonByTelegramUser(ctx, 7)
		must(t, err)
		if got.ID != other.ID {
			t.Errorf("telegram user 7 is bound to %d, want %d", got.ID, other.ID)
		}
	})
}

func TestPeople_LookupsIgnoreInactivePeople(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := t.Context()
		ga, gov := newAgency(t, s, "GA"), newAgency(t, s, "GOV")
		head := newPerson(t, s, "李局长", ga, duban.RoleAgencyHead)
		coHead := newPerson(t, s, "周局长", ga, duban.RoleAgencyHead, duban.RoleDeputy)
		newPerson(t, s, "陈副局长", ga, duban.RoleDeputy) // a deputy is not a head
		retired := newPerson(t, s, "退休局长", ga, duban.RoleAgencyHead, duban.RoleSupervisor)
		govHead := newPerson(t, s, "孙主任", gov, duban.RoleAgencyHead)
		staff := newPerson(t, s, "王科员", nil, duban.RoleStaff)
		sup := newPerson(t, s, "督查员", nil, duban.RoleSupervisor)
		retired.Active, retired.TelegramUserID, retired.SlackUserID = false, ptr(int64(99)), "URET"
		must(t, s.UpdatePerson(ctx, retired))
		must(t, s.CreateToken(ctx, retired.ID, "hash-retired"))

		tests := []struct {
			name  string
			roles []duban.Role
			want  []int64
		}{
			{"staff or supervisors", []duban.Role{duban.RoleStaff, duban.RoleSupervisor}, []int64{staff.ID, sup.ID}},
			{"heads", []duban.Role{duban.RoleAgencyHead}, []int64{head.ID, coHead.ID, govHead.ID}},
			{"admins", []duban.Role{duban.RoleAdmin}, []int64{}},
		}
		for _, tt := range tests {
			got, err := s.PeopleWithAnyRole(ctx, tt.roles...)
			must(t, err)
			diff(t, "PeopleWithAnyRole "+tt.name, tt.want, ids(got, personID))
		}

		heads, err := s.HeadsOf(ctx, ga.ID)
		must(t, err)
		diff(t, "HeadsOf GA", []int64{head.ID, coHead.ID}, ids(heads, personID))
		if len(heads) > 0 && heads[0].AgencyCode != "GA" {
			t.Errorf("head agency code = %q", heads[0].AgencyCode)
		}

		for name, call := range map[string]func() error{
			"by telegram user": func() error { _, err := s.PersonByTelegramUser(ctx, 99); return err },
			"by slack user":    func() error { _, err := s.PersonBySlackUser(ctx, "URET"); return err },
			"by name":          func() error { _, err := s.PersonByNameInAgency(ctx, ga.ID, "退休局长"); return err },
			"by token":         func() error { _, err := s.PersonByTokenHash(ctx, "hash-retired", t0); return err },
		} {
			mustIs(t, call(), duban.ErrNotFound, "inactive person "+name)
		}
	})
}

func TestPeople_PersonByNameInAgency(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := t.Context()
		ga, gov := newAgency(t, s, "GA"), newAgency(t, s, "GOV")
		deputy := newPerson(t, s, "陈副局长", ga, duban.RoleDeputy)
		newPerson(t, s, "陈副局长", gov, duban.RoleDeputy) // a namesake elsewhere

		tests := []struct {
			name   string
			agency int64
			query  string
			want   int64 // 0: ErrNotFound
		}{
			{"exact", ga.ID, "陈副局长", deputy.ID},
			{"spaces around the name", ga.ID, "  陈副局长 ", deputy.ID},
			{"other agency's people stay out", gov.ID, "李局长", 0},
			{"partial name", ga.ID, "陈", 0},
		}
		for _, tt := range tests {
			got, err := s.PersonByNameInAgency(ctx, tt.agency, tt.query)
			if tt.want == 0 {
				mustIs(t, err, duban.ErrNotFound, tt.name)
				continue
			}
			must(t, err)
			if got.ID != tt.want || got.AgencyCode != "GA" {
				t.Errorf("%s: got %+v, want person %d of GA", tt.name, got, tt.want)
			}
		}
	})
}

func TestPeople_BindCodeIsValidOnce(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := t.Context()
		p := newPerson(t, s, "李局长", newAgency(t, s, "GA"), duban.RoleAgencyHead)
		now := t0.Add(123456789 * time.Nanosecond)
		must(t, s.CreateBindCode(ctx, p.ID, "VALID", now.Add(10*time.Minute)))
		must(t, s.CreateBindCode(ctx, p.ID, "EXPIRED", now.Add(-time.Second)))
		must(t, s.CreateBindCode(ctx, p.ID, "EXPIRES-NOW", now))
		mustIs(t, s.CreateBindCode(ctx, p.ID, "VALID", now.Add(time.Hour)), duban.ErrConflict, "same code twice")

		id, err := s.UseBindCode(ctx, "VALID", now)
		must(t, err)
		if id != p.ID {
			t.Fatalf("bind code person = %d, want %d", id, p.ID)
		}
		for _, code := range []string{"VALID", "EXPIRED", "EXPIRES-NOW", "UNKNOWN"} {
			_, err := s.UseBindCode(ctx, code, now)
			mustIs(t, err, duban.ErrNotFound, "bind code "+code)
		}
	})
}

func TestPeople_TokenFindsItsActiveOwner(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := t.Context()
		p := newPerson(t, s, "王科员", newAgency(t, s, "GA"), duban.RoleHandler)
		must(t, s.CreateToken(ctx, p.ID, "sha256:abc"))
		got, err := s.PersonByTokenHash(ctx, "sha256:abc", t0)
		must(t, err)
		if got.ID != p.ID || got.AgencyCode != "GA" {
			t.Fatalf("token owner = %+v, want %d of GA", got, p.ID)
		}
		mustIs(t, s.CreateToken(ctx, p.ID, "sha256:abc"), duban.ErrConflict, "same hash twice")
		_, err = s.PersonByTokenHash(ctx, "sha256:unknown", t0)
		mustIs(t, err, duban.ErrNotFound, "unknown token")

		p.Active = false
		must(t, s.UpdatePerson(ctx, p))
		_, err = s.PersonByTokenHash(ctx, "sha256:abc", t0)
		mustIs(t, err, duban.ErrNotFound, "token of an inactive person")
	})
}

func TestPeople_TokensNamedExpiringListedAndRevoked(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := t.Context()
		p := newPerson(t, s, "王科员", nil, duban.RoleStaff)
		other := newPerson(t, s, "李科员", nil, duban.RoleStaff)
		exp := t0.Add(time.Hour)
		laptop := &storage.APIToken{PersonID: p.ID, Name: "laptop", ExpiresAt: &exp}
		must(t, s.AddToken(ctx, laptop, "hash-laptop"))
		must(t, s.CreateToken(ctx, p.ID, "hash-script"))
		must(t, s.CreateToken(ctx, other.ID, "hash-other"))

		got, err := s.PersonByTokenHash(ctx, "hash-laptop", t0.Add(59*time.Minute))
		must(t, err)
		if got.ID != p.ID {
			t.Fatalf("owner %d, want %d", got.ID, p.ID)
		}
		_, err = s.PersonByTokenHash(ctx, "hash-laptop", exp)
		mustIs(t, err, duban.ErrNotFound, "token at its expiry")

		list, err := s.Tokens(ctx, p.ID)
		must(t, err)
		if len(list) != 2 || list[0].Name != "laptop" || list[0].ExpiresAt == nil || !list[0].ExpiresAt.Equal(exp) ||
			list[0].LastUsedAt == nil || !list[0].LastUsedAt.Equal(t0.Add(59*time.Minute)) || list[1].LastUsedAt != nil {
			t.Fatalf("tokens = %+v", list)
		}

		mustIs(t, s.RevokeToken(ctx, p.ID, ids(mustTokens(t, s, other.ID), func(x storage.APIToken) int64 { return x.ID })[0]),
			duban.ErrNotFound, "revoking someone else's token through another person")
		must(t, s.RevokeToken(ctx, p.ID, list[1].ID))
		_, err = s.PersonByTokenHash(ctx, "hash-script", t0)
		mustIs(t, err, duban.ErrNotFound, "revoked token")
		mustIs(t, s.RevokeToken(ctx, p.ID, list[1].ID), duban.ErrNotFound, "revoked twice")
	})
}

func mustTokens(t *testing.T, s *storage.Store, personID int64) []storage.APIToken {
	t.Helper()
	list, err := s.Tokens(t.Context(), personID)
	must(t, err)
	return list
}
