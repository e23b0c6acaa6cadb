package app

import (
	"context"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/configs"
	"github.com/cityhall/duban/storage"
)

// OpenStore opens the database of cfg and applies its migrations, and
// nothing else: no Redis, no Telegram or Slack, no senders. The command
// line's administration (agencies, people, credentials, listings) needs
// only the database, and must work while Redis or a chat platform is down.
func OpenStore(ctx context.Context, cfg configs.Config, clock duban.Clock) (*storage.Store, error) {
	if clock == nil {
		clock = duban.SystemClock{}
	}
	st, err := storage.Open(ctx, cfg.DatabaseURL.Reveal(), storage.WithClock(clock), storage.WithLocation(cfg.Location))
	if err != nil {
		return nil, err
	}
	if err := st.Migrate(ctx); err != nil {
		st.Close()
		return nil, err
	}
	return st, nil
}
