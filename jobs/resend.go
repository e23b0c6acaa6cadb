package jobs

import (
	"context"
	"fmt"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/storage"
)

// Resend queues a failed delivery (or one a crash left sending) once
// more, for those the rule book lets resend; a sent or queued one is a
// conflict. Audited. The API's POST /api/v1/deliveries/{id}/resend and
// the web's failed-deliveries page both call it.
func (o *Outbox) Resend(ctx context.Context, actor Actor, id int64) (*duban.Delivery, error) {
	if err := actor.Check(duban.DeliveryResend, duban.Subject{}); err != nil {
		return nil, err
	}
	err := o.store.InTx(ctx, func(tx *storage.Store) error {
		if err := tx.ResendDelivery(ctx, id); err != nil {
			return err
		}
		return tx.Audit(ctx, actor.String(), "delivery.resend", fmt.Sprintf("delivery:%d", id), "")
	})
	if err != nil {
		return nil, err
	}
	d, err := o.store.DeliveryByID(ctx, id)
	if err != nil {
		return nil, err
	}
	o.Enqueue(ctx, d)
	return d, nil
}
