package bot

import (
	"context"
	"errors"

	"github.com/cityhall/duban/storage"
)

// ErrUndo tells an update's handler to roll its effects back but still
// record the update as processed and send the replies prepared with it:
// the update was understood and answered, and changed nothing.
var ErrUndo = errors.New("bot: undo the update's effects")

// Once runs fn in one transaction with the update's id recorded under
// source in processed_updates, and reports false, running nothing, when
// the id was recorded already: a re-delivered update changes nothing and
// gets no second reply. An ErrUndo from fn rolls fn's effects back and
// records the id alone, in a transaction of its own.
func Once(ctx context.Context, store *storage.Store, source, id string, fn func(tx *storage.Store) error) (bool, error) {
	fresh := false
	err := store.InTx(ctx, func(tx *storage.Store) error {
		var err error
		if fresh, err = tx.MarkProcessed(ctx, source, id); err != nil || !fresh {
			return err
		}
		return fn(tx)
	})
	if errors.Is(err, ErrUndo) {
		err = store.InTx(ctx, func(tx *storage.Store) error {
			var err error
			fresh, err = tx.MarkProcessed(ctx, source, id)
			return err
		})
	}
	return fresh, err
}
