package api_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/storage"
	"github.com/cityhall/duban/storage/storagetest"
)

type deliveryAnswer struct {
	ID      int64  `json:"id"`
	Status  string `json:"status"`
	Channel string `json:"channel"`
	Kind    string `json:"kind"`
	Person  string `json:"person"`
	Resends int    `json:"resends"`
	Payload any    `json:"payload"`
}

func TestDeliveries_ListFailedAndResendThem(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		e := newEnv(t, s)
		e.register("D-1")
		e.register("D-2")
		ds, err := s.Deliveries(e.ctx, storage.DeliveryFilter{})
		if err != nil || len(ds) != 2 {
			t.Fatalf("deliveries %v, %v: want the two notices", ds, err)
		}
		failed, sent := ds[0], ds[1]
		if err := s.DeliveryFailed(e.ctx, failed.ID, "telegram: bot was blocked by the user"); err != nil {
			t.Fatal(err)
		}
		if ok, err := s.ClaimDelivery(e.ctx, sent.ID); !ok || err != nil {
			t.Fatal(ok, err)
		}
		if err := s.DeliverySent(e.ctx, sent.ID, "console:1"); err != nil {
			t.Fatal(err)
		}

		var list []deliveryAnswer
		e.call("GET", "/api/v1/deliveries?status=failed", e.token(e.sup), nil).want(http.StatusOK).decode(&list)
		if len(list) != 1 || list[0].ID != failed.ID || list[0].Person != "张局长" || list[0].Kind != "notice" || list[0].Channel != "console" || list[0].Payload != nil {
			t.Fatalf("failed deliveries %+v", list)
		}
		e.call("GET", "/api/v1/deliveries?status=lost", e.token(e.sup), nil).want(http.StatusUnprocessableEntity)
		e.call("GET", "/api/v1/deliveries", e.token(e.head), nil).want(http.StatusForbidden)

		var again deliveryAnswer
		e.call("POST", fmt.Sprintf("/api/v1/deliveries/%d/resend", failed.ID), e.token(e.staff), nil).want(http.StatusAccepted).decode(&again)
		if again.Status != string(duban.DeliveryQueued) || again.Resends != 1 {
			t.Errorf("resent %+v", again)
		}
		for _, id := range []int64{sent.ID, failed.ID} { // sent, and now queued
			r := e.call("POST", fmt.Sprintf("/api/v1/deliveries/%d/resend", id), e.token(e.staff), nil).want(http.StatusConflict)
			if _, ok := r.obj()["allowed"].([]any); !ok {
				t.Errorf("409 without allowed: %s", r.Body)
			}
		}
		e.call("POST", "/api/v1/deliveries/999/resend", e.token(e.staff), nil).want(http.StatusNotFound)
		e.call("POST", fmt.Sprintf("/api/v1/deliveries/%d/resend", failed.ID), e.token(e.head), nil).want(http.StatusForbidden)
	})
}
