package storage_test

import (
	"testing"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/storage"
	"github.com/cityhall/duban/storage/storagetest"
)

func TestAgencies_CreateThenReadByCodeAndID(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := t.Context()
		parent := newAgency(t, s, "GOV")
		a := &duban.Agency{Code: "GA", Name: "公安局", ParentID: &parent.ID}
		must(t, s.CreateAgency(ctx, a))
		if a.ID == 0 || !a.Active || a.CreatedAt.IsZero() {
			t.Fatalf("created agency not filled in: %+v", a)
		}

		byCode, err := s.AgencyByCode(ctx, "GA")
		must(t, err)
		diff(t, "by code", a, byCode)
		byID, err := s.AgencyByID(ctx, a.ID)
		must(t, err)
		diff(t, "by id", a, byID)
	})
}

func TestAgencies_DuplicateCodeConflicts(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		newAgency(t, s, "GA")
		err := s.CreateAgency(t.Context(), &duban.Agency{Code: "GA", Name: "另一个公安局"})
		mustIs(t, err, duban.ErrConflict, "second agency GA")
		all, err := s.Agencies(t.Context())
		must(t, err)
		if len(all) != 1 || all[0].Name != "机关 GA" {
			t.Fatalf("agencies after conflict = %+v, want the first GA only", all)
		}
	})
}

func TestAgencies_UnknownIsNotFound(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := t.Context()
		newAgency(t, s, "GA")
		for name, call := range map[string]func() error{
			"by code": func() error { _, err := s.AgencyByCode(ctx, "NOPE"); return err },
			"by id":   func() error { _, err := s.AgencyByID(ctx, 9999); return err },
			"update":  func() error { return s.UpdateAgency(ctx, &duban.Agency{ID: 9999, Code: "NOPE", Name: "x"}) },
		} {
			mustIs(t, call(), duban.ErrNotFound, name)
		}
	})
}

func TestAgencies_UpdateSavesNameParentAndActive(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := t.Context()
		gov := newAgency(t, s, "GOV")
		a := newAgency(t, s, "GA")
		a.Name, a.ParentID, a.Active = "市公安局", &gov.ID, false
		must(t, s.UpdateAgency(ctx, a))

		got, err := s.AgencyByCode(ctx, "GA")
		must(t, err)
		diff(t, "after update", a, got)

		a.ParentID = nil
		must(t, s.UpdateAgency(ctx, a))
		got, err = s.AgencyByID(ctx, a.ID)
		must(t, err)
		if got.ParentID != nil {
			t.Errorf("parent after clearing = %v, want nil", *got.ParentID)
		}
	})
}

func TestAgencies_ListedByCodeActiveOrNot(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := t.Context()
		empty, err := s.Agencies(ctx)
		must(t, err)
		if empty == nil || len(empty) != 0 {
			t.Fatalf("no agencies = %#v, want an empty list", empty)
		}
		for _, code := range []string{"GOV", "EDU", "GA", "A1"} {
			newAgency(t, s, code)
		}
		edu, err := s.AgencyByCode(ctx, "EDU")
		must(t, err)
		edu.Active = false
		must(t, s.UpdateAgency(ctx, edu))

		all, err := s.Agencies(ctx)
		must(t, err)
		var codes []string
		for _, a := range all {
			codes = append(codes, a.Code)
		}
		diff(t, "codes", []string{"A1", "EDU", "GA", "GOV"}, codes)
	})
}
