package app

import (
	"maps"
	"net/http"
	"time"

	"github.com/hibiken/asynqmon"

	"github.com/cityhall/duban/api"
	"github.com/cityhall/duban/configs"
	"github.com/cityhall/duban/i18n"
	"github.com/cityhall/duban/ratelimit"
	"github.com/cityhall/duban/web"
)

// mountWeb builds the web pages and adds their paths to routes, which the
// API serves beside its own.
func (a *App) mountWeb(cfg configs.Config, bundle *i18n.Bundle, routes map[string]http.Handler) error {
	var files *web.TelegramFiles
	if cfg.TelegramEnabled() {
		files = web.NewTelegramFiles(a.tgToken, cfg.TelegramAPIEndpoint, cfg.TelegramFileEndpoint, &http.Client{Timeout: 60 * time.Second})
	}
	pages, err := web.New(web.Deps{Store: a.Store, Hearings: a.Hearings, Complaints: a.Complaints, T: bundle, Clock: a.Clock,
		Loc: cfg.Location, PublicURL: cfg.PublicURL, Limiter: ratelimit.New(a.rdb), ClientAddr: api.ClientAddr(cfg.Proxies),
		Files: files, Monitor: a.queueMonitor(), Reports: a.Reports, Bulletins: a.Bulletins, Log: a.Log.With("component", "web")})
	if err != nil {
		return err
	}
	maps.Copy(routes, pages.Routes())
	return nil
}

// queueMonitor is asynq's own web monitor on the Redis in use, served by
// the pages at /admin/queues to admins. Its connections are closed with
// the App's Redis client (asynqmon closes its own on Close, which
// closeMonitor calls).
func (a *App) queueMonitor() http.Handler {
	h := asynqmon.New(asynqmon.Options{RootPath: "/admin/queues", RedisConnOpt: a.redisOpt})
	a.closeMonitor = func() { _ = h.Close() }
	return h
}
