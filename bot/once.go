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
	return OnceThen(ctx, store, source, id, fn, nil)
}

// OnceThen is Once with then run in whichever transaction records the
// update: fn's, or the undo's after an ErrUndo. The replies that answer
// the update are planned there, so that they are committed with it
// whatever fn did.
func OnceThen(ctx context.Context, store *storage.Store, source, id string, fn, then func(tx *storage.Store) error) (bool, error) {
	fresh := false
	record := func(tx *storage.Store, fn func(tx *storage.Store) error) error {
		var err error
		if fresh, err = tx.MarkProcessed(ctx, source, id); err != nil || !fresh {
			return err
		}
		if fn != nil {
			if err := fn(tx); err != nil {
				return err
			}
		}
		if then != nil {
			return then(tx)
		}
		return nil
	}
	err := store.InTx(ctx, func(tx *storage.Store) error { return record(tx, fn) })
	if errors.Is(err, ErrUndo) {
		err = store.InTx(ctx, func(tx *storage.Store) error { return record(tx, nil) })
	}
	return fresh, err
}
