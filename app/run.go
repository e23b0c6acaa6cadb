package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/cityhall/duban/configs"
	"github.com/cityhall/duban/jobs"
	"github.com/cityhall/duban/redact"
)

// Run serves until ctx ends: HTTP, the bots, the asynq server and the
// periodic reconcile. Then it stops intake, drains asynq, closes HTTP and
// the database, in that order.
func (a *App) Run(ctx context.Context) error {
	defer a.Close()
	ln, err := net.Listen("tcp", a.Cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("app: listen on %s: %w", a.Cfg.HTTPAddr, err)
	}
	a.mu.Lock()
	a.listener = ln
	a.mu.Unlock()

	// A first reconcile before the workers start: whatever is due and
	// missing from Redis (a flush, an in-process Redis after a restart)
	// is enqueued again.
	if st, err := a.Reconciler.Reconcile(ctx); err != nil {
		a.Log.Warn("start-up reconcile", slog.Any("error", err))
	} else {
		a.Log.Info("start-up reconcile", slog.Int("reminders", st.Reminders), slog.Int("deliveries", st.Deliveries), slog.Int("uncertain", st.Uncertain))
	}

	// The sender lease is held before any row can be marked sending, and
	// kept (with the take-over of rows of senders that are gone) until the
	// workers have drained.
	if err := a.Outbox.RenewLease(ctx); err != nil {
		a.Log.Warn("sender lease", slog.Any("error", err))
	}
	leaseCtx, stopLease := context.WithCancel(context.WithoutCancel(ctx))
	leaseDone := make(chan struct{})
	go func() {
		defer close(leaseDone)
		a.Outbox.KeepLease(leaseCtx)
	}()
	defer func() { stopLease(); <-leaseDone }()

	srv := jobs.NewServer(a.redisOpt, jobs.ServerConfig{Concurrency: a.Cfg.Concurrency, ShutdownTimeout: a.Cfg.ShutdownTimeout}, a.Log)
	mux := jobs.NewMux(a.Hearings, a.Outbox, a.Reconciler, a.Complaints, a.housekeeping...)
	mux.HandleFunc(jobs.TypeBulletin, a.Bulletins.HandleBulletin)
	if err := srv.Start(mux); err != nil {
		ln.Close()
		return fmt.Errorf("app: start workers: %w", err)
	}

	intake, stopIntake := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		periodic := []jobs.Periodic{jobs.PeriodicReconcile(a.Cfg.ReconcileInterval), jobs.PeriodicSLACheck(a.Cfg.SLAInterval)}
		if a.Cfg.Bulletin != nil {
			periodic = append(periodic, jobs.PeriodicCron(jobs.TypeBulletin, a.Cfg.Bulletin, a.Cfg.Location, jobs.NewBulletinTask))
		}
		a.Queue.Schedule(intake, a.Log, periodic...)
	}()

	httpSrv := &http.Server{Handler: a.handler, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 60 * time.Second,
		WriteTimeout: 60 * time.Second, IdleTimeout: 120 * time.Second}
	httpErr := make(chan error, 1)
	go func() { httpErr <- httpSrv.Serve(ln) }()

	if a.Telegram != nil {
		if a.Cfg.TelegramMode == configs.TelegramWebhook {
			if err := a.Telegram.SetWebhook(ctx, a.Cfg.TelegramWebhookURL, a.Cfg.TelegramWebhookSecret.Reveal()); err != nil {
				a.Log.Error("telegram setWebhook", slog.Any("error", redact.Error(err, a.tgToken)))
			}
		} else {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := a.Telegram.Poll(intake); err != nil && intake.Err() == nil {
					a.Log.Error("telegram polling stopped", slog.Any("error", redact.Error(err, a.tgToken)))
				}
			}()
		}
	}
	if a.Slack != nil && a.Cfg.SlackSocketMode() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := a.Slack.RunSocketMode(intake, a.Cfg.SlackAppToken.Reveal()); err != nil && intake.Err() == nil {
				a.Log.Error("slack socket mode stopped", slog.Any("error", err))
			}
		}()
	}
	a.Log.Info("duban serving", slog.String("http", ln.Addr().String()), slog.String("database", string(a.Store.Dialect())),
		slog.Bool("in_process_redis", a.mini != nil), slog.Any("channels", channelNames(a)))

	select {
	case <-ctx.Done():
	case err = <-httpErr:
		a.Log.Error("http server stopped", slog.Any("error", err))
	}
	a.Log.Info("shutting down: stopping intake")
	stopIntake()
	shutCtx, cancel := context.WithTimeout(context.Background(), a.Cfg.ShutdownTimeout)
	defer cancel()
	_ = httpSrv.Shutdown(shutCtx)
	wg.Wait()
	a.Log.Info("shutting down: draining workers")
	srv.Shutdown()
	a.Log.Info("stopped")
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func channelNames(a *App) []string {
	var out []string
	for _, c := range jobs.DefaultChannelOrder {
		if a.Outbox.Has(c) {
			out = append(out, string(c))
		}
	}
	return out
}
