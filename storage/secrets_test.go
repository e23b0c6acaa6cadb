package storage_test

import (
	"context"
	"testing"

	"github.com/cityhall/duban/storage/storagetest"
)

// TestKeptSecret_MadeOnceTheSameForEveryReplica: two stores on one
// database (two replicas) get one secret, made by whichever asked first.
func TestKeptSecret_MadeOnceTheSameForEveryReplica(t *testing.T) {
	storagetest.EachURL(t, func(t *testing.T, url string) {
		ctx := context.Background()
		a, b := storagetest.Open(t, url), storagetest.Open(t, url)
		first, err := a.KeptSecret(ctx, "answer_links")
		if err != nil {
			t.Fatal(err)
		}
		again, err := b.KeptSecret(ctx, "answer_links")
		if err != nil {
			t.Fatal(err)
		}
		other, _ := b.KeptSecret(ctx, "something_else")
		if len(first) != 64 || again != first || other == first {
			t.Errorf("secrets %q, %q, other %q; want one 64-hex secret per name", first, again, other)
		}
	})
}
