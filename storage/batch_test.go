package storage_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/storage"
	"github.com/cityhall/duban/storage/storagetest"
)

// batchSizes are the sizes the batch lookups are tested at: everything
// in one IN list, and one id a list, so that rows come from many batches.
var batchSizes = []int{500, 1}

// reminderDelivery plans a delivery of reminder r to p on ch.
func reminderDelivery(t testing.TB, s *storage.Store, r *duban.Reminder, p *duban.Person, ch duban.Channel) *duban.Delivery {
	t.Helper()
	d := &duban.Delivery{DedupeKey: fmt.Sprintf("remind:%d:%s:%d", r.ID, ch, time.Now().UnixNano()), PersonID: p.ID,
		Channel: ch, Kind: duban.MsgReminder, Payload: `{}`, ReminderID: &r.ID}
	created, err := s.CreateDelivery(t.Context(), d)
	must(t, err)
	if !created {
		t.Fatalf("delivery %s: not created", d.DedupeKey)
	}
	return d
}

func TestLatestDeliveryChannels_TheHighestIDOfEachReminderNoneAbsent(t *testing.T) {
	for _, n := range batchSizes {
		t.Run(fmt.Sprintf("batches of %d", n), func(t *testing.T) {
			defer storage.SetBatchIDs(n)()
			storagetest.Each(t, func(t *testing.T, s *storage.Store) {
				ctx := t.Context()
				ga := newAgency(t, s, "GA")
				head := newPerson(t, s, "李局长", ga, duban.RoleAgencyHead)
				h := newHearing(t, s, "(2026)沪0101行初30号", t0, ga)
				resent := newReminder(t, s, h, t0.Add(-72*time.Hour))
				once := newReminder(t, s, h, t0.Add(-24*time.Hour))
				none := newReminder(t, s, h, t0.Add(-2*time.Hour))
				unasked := newReminder(t, s, h, t0.Add(-time.Hour))

				// The first went out on Telegram, failed over to Slack, then
				// was sent again by email: the last one made counts, however
				// the earlier ones ended.
				first := reminderDelivery(t, s, resent, head, duban.ChannelTelegram)
				_, err := s.ClaimDelivery(ctx, first.ID)
				must(t, err)
				must(t, s.DeliverySent(ctx, first.ID, "m1"))
				reminderDelivery(t, s, resent, head, duban.ChannelSlack)
				reminderDelivery(t, s, resent, head, duban.ChannelEmail)
				reminderDelivery(t, s, once, head, duban.ChannelSlack)
				reminderDelivery(t, s, unasked, head, duban.ChannelTelegram)
				newDelivery(t, s, "not-a-reminder", head) // a delivery of no reminder

				got, err := s.LatestDeliveryChannels(ctx, []int64{resent.ID, once.ID, none.ID, once.ID, 9999})
				must(t, err)
				diff(t, "latest channels", map[int64]duban.Channel{resent.ID: duban.ChannelEmail, once.ID: duban.ChannelSlack}, got)

				empty, err := s.LatestDeliveryChannels(ctx, nil)
				must(t, err)
				diff(t, "latest channels of no reminders", map[int64]duban.Channel{}, empty)
			})
		})
	}
}

func TestPeopleByIDs_ActiveOrNotUnknownAbsent(t *testing.T) {
	for _, n := range batchSizes {
		t.Run(fmt.Sprintf("batches of %d", n), func(t *testing.T) {
			defer storage.SetBatchIDs(n)()
			storagetest.Each(t, func(t *testing.T, s *storage.Store) {
				ctx := t.Context()
				ga := newAgency(t, s, "GA")
				head := newPerson(t, s, "李局长", ga, duban.RoleAgencyHead)
				staff := newPerson(t, s, "小刘", nil, duban.RoleStaff)
				left := newPerson(t, s, "王科长", ga, duban.RoleAgencyHead)
				left.Active = false
				must(t, s.UpdatePerson(ctx, left))
				newPerson(t, s, "不问", ga, duban.RoleHandler)

				got, err := s.PeopleByIDs(ctx, []int64{left.ID, head.ID, staff.ID, head.ID, 9999})
				must(t, err)
				want := map[int64]duban.Person{}
				for _, id := range []int64{head.ID, staff.ID, left.ID} {
					p, err := s.PersonByID(ctx, id)
					must(t, err)
					want[id] = *p
				}
				diff(t, "people by id, as PersonByID reads each", want, got)
				if got[head.ID].AgencyCode != "GA" || got[left.ID].Active {
					t.Errorf("head %+v, inactive %+v: want GA's code and inactive", got[head.ID], got[left.ID])
				}

				empty, err := s.PeopleByIDs(ctx, nil)
				must(t, err)
				diff(t, "people of no ids", map[int64]duban.Person{}, empty)
			})
		})
	}
}

func TestRemindersOfHearings_EachOnceByDueTimeAcrossBatches(t *testing.T) {
	for _, n := range batchSizes {
		t.Run(fmt.Sprintf("batches of %d", n), func(t *testing.T) {
			defer storage.SetBatchIDs(n)()
			storagetest.Each(t, func(t *testing.T, s *storage.Store) {
				ctx := t.Context()
				ga := newAgency(t, s, "GA")
				h1 := newHearing(t, s, "(2026)沪0101行初31号", t0, ga)
				h2 := newHearing(t, s, "(2026)沪0101行初32号", t0.Add(time.Hour), ga)
				bare := newHearing(t, s, "(2026)沪0101行初33号", t0.Add(2*time.Hour), ga)
				late := newReminder(t, s, h1, t0.Add(-time.Hour))
				early := newReminder(t, s, h1, t0.Add(-72*time.Hour))
				h2r := newReminder(t, s, h2, t0.Add(-24*time.Hour))
				newReminder(t, s, newHearing(t, s, "(2026)沪0101行初34号", t0, ga), t0.Add(-time.Hour))

				// h1 twice, as an import that lists a notice twice passes it.
				got, err := s.RemindersOfHearings(ctx, []int64{h2.ID, h1.ID, bare.ID, h1.ID})
				must(t, err)
				byHearing := map[int64][]int64{}
				for id, rs := range got {
					byHearing[id] = ids(rs, reminderID)
				}
				diff(t, "reminders by hearing", map[int64][]int64{h1.ID: {early.ID, late.ID}, h2.ID: {h2r.ID}}, byHearing)
			})
		})
	}
}

func TestHearings_ListReadsEachAsHearingByIDAcrossBatches(t *testing.T) {
	for _, n := range batchSizes {
		t.Run(fmt.Sprintf("batches of %d", n), func(t *testing.T) {
			defer storage.SetBatchIDs(n)()
			storagetest.Each(t, func(t *testing.T, s *storage.Store) {
				ctx := t.Context()
				ga, gov, edu := newAgency(t, s, "GA"), newAgency(t, s, "GOV"), newAgency(t, s, "EDU")
				head := newPerson(t, s, "李局长", gov, duban.RoleAgencyHead)
				// Created out of start order, agencies out of id order.
				later := newHearing(t, s, "(2026)沪0101行初40号", t0.Add(time.Hour), edu, ga)
				first := newHearing(t, s, "(2026)沪0101行初41号", t0, gov, ga, edu)
				newHearing(t, s, "(2026)沪0101行初42号", t0.Add(2*time.Hour), ga)
				answered := first.Agencies[0]
				answered.Answer, answered.AnsweredAt, answered.AnsweredBy = duban.AnswerConfirmed, ptr(t0.Add(-time.Hour)), &head.ID
				must(t, s.SetAnswer(ctx, &answered))

				got, err := s.Hearings(ctx, storage.HearingFilter{})
				must(t, err)
				var want []duban.Hearing
				for _, h := range got {
					one, err := s.HearingByID(ctx, h.ID)
					must(t, err)
					want = append(want, *one)
				}
				diff(t, "listed hearings, as HearingByID reads each", want, got)
				if len(got) != 3 || got[0].ID != first.ID || got[1].ID != later.ID || len(got[0].Agencies) != 3 ||
					got[0].Agencies[0].AnsweredBy == nil || got[1].Agencies[0].AgencyCode != "EDU" {
					t.Errorf("listed %+v", got)
				}
			})
		})
	}
}
