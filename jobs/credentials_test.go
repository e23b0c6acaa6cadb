package jobs_test

import (
	"context"
	"errors"
	"regexp"
	"testing"
	"time"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/jobs"
	"github.com/cityhall/duban/storage"
	"github.com/cityhall/duban/storage/storagetest"
)

func TestCredentials_TokensAndBindCodesAskTheRuleBookAndAuditTheirMaking(t *testing.T) {
	ctx := context.Background()
	sh, _ := time.LoadLocation("Asia/Shanghai")
	clock := duban.NewManualClock(time.Date(2026, 12, 1, 9, 0, 0, 0, sh))
	st := storagetest.Open(t, storagetest.SQLiteURL(t), storage.WithClock(clock))
	ga := storagetest.Agency(t, st, "GA", "市公安局")
	head := storagetest.Person(t, st, duban.Person{Name: "张局长", AgencyID: &ga.ID, Roles: duban.Roles{duban.RoleAgencyHead}})
	staff := storagetest.Person(t, st, duban.Person{Name: "小刘", Roles: duban.Roles{duban.RoleStaff}})
	creds := jobs.NewCredentials(jobs.CredentialsDeps{Store: st, Clock: clock, Loc: sh, BindCodeTTL: time.Hour})
	cli := duban.System("cli")

	if _, err := creds.MintToken(ctx, duban.Actor{Person: staff}, head.ID, jobs.TokenSpec{}); !errors.Is(err, duban.ErrForbidden) {
		t.Errorf("staff mint a head's token: %v, want forbidden", err)
	}
	tok, err := creds.MintToken(ctx, cli, head.ID, jobs.TokenSpec{Name: "OA sync", ExpiresAt: "2026-12-31 18:00"})
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^dbn_[A-Za-z0-9_-]{43}$`).MatchString(tok.Secret) || tok.Name != "OA sync" ||
		!tok.ExpiresAt.Equal(time.Date(2026, 12, 31, 18, 0, 0, 0, sh)) {
		t.Errorf("minted %+v", tok)
	}
	if p, err := st.PersonByTokenHash(ctx, jobs.HashToken(tok.Secret), clock.Now()); err != nil || p.ID != head.ID {
		t.Errorf("the token stands for %+v, %v; want the head", p, err)
	}

	bc, err := creds.BindCode(ctx, duban.Actor{Person: staff}, head.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^[0-9A-HJKMNP-TV-Z]{8}$`).MatchString(bc.Code) || !bc.ExpiresAt.Equal(clock.Now().Add(time.Hour)) {
		t.Errorf("bind code %+v", bc)
	}
	if _, err := creds.BindCode(ctx, cli, 999); !errors.Is(err, duban.ErrNotFound) || err.Error() != "person 999 does not exist" {
		t.Errorf("bind code of nobody: %v", err)
	}

	log, err := st.AuditLog(ctx, 10)
	if err != nil || len(log) != 2 {
		t.Fatalf("audit %+v, %v: want the token and the code", log, err)
	}
	if log[1].Actor != "cli" || log[1].Action != "person.token" || log[1].Detail != `token:1 name="OA sync" expires 2026-12-31T18:00:00+08:00` ||
		log[0].Actor != "person:2" || log[0].Action != "person.bind_code" {
		t.Errorf("audit %+v", log)
	}
}

func TestPeople_ARefusedAuditRowTakesTheChangeWithIt(t *testing.T) {
	ctx := context.Background()
	st := storagetest.Open(t, storagetest.SQLiteURL(t))
	storagetest.Agency(t, st, "GA", "市公安局")
	if _, err := st.DB().Exec(`CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_log BEGIN SELECT RAISE(ABORT, 'audit refused'); END`); err != nil {
		t.Fatal(err)
	}
	name, roles := "张局长", []string{"agency_head"}
	people := jobs.NewPeople(jobs.PeopleDeps{Store: st})
	if _, err := people.Add(ctx, duban.System("cli"), jobs.PersonFields{Name: &name, Roles: &roles, Agency: &jobs.AgencyRef{Code: "GA"}}); err == nil {
		t.Fatal("added without its audit row")
	}
	if all, err := st.People(ctx, storage.PeopleFilter{}); err != nil || len(all) != 0 {
		t.Errorf("people %+v, %v: want none", all, err)
	}
}
