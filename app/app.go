// Package app assembles duban for `serve`: configuration, storage, Redis,
// asynq, the notifier's senders, the bots and HTTP, in one value that the
// binary runs and end-to-end tests boot in-process.
package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/alicebob/miniredis/v2"
	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/redis/go-redis/v9"
	"github.com/slack-go/slack"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/api"
	slackbot "github.com/cityhall/duban/bot/slack"
	"github.com/cityhall/duban/bot/telegram"
	"github.com/cityhall/duban/bulletin"
	"github.com/cityhall/duban/configs"
	"github.com/cityhall/duban/i18n"
	"github.com/cityhall/duban/jobs"
	"github.com/cityhall/duban/notifier"
	"github.com/cityhall/duban/ratelimit"
	"github.com/cityhall/duban/redact"
	"github.com/cityhall/duban/reports"
	"github.com/cityhall/duban/storage"
)

// Options are what a caller may set beside the configuration.
type Options struct {
	Clock  duban.Clock  // default: the wall clock
	Logger *slog.Logger // default: text on stderr at the configured level
	Stdout io.Writer    // where the console channel prints; default os.Stdout
	// TelegramGlobalRate overrides Telegram's 30 messages/s (benchmarks).
	TelegramGlobalRate float64
}

// App is duban assembled.
type App struct {
	Cfg        configs.Config
	Log        *slog.Logger
	Clock      duban.Clock
	Store      *storage.Store
	Queue      *jobs.Queue
	Outbox     *jobs.Outbox
	Hearings   *jobs.Hearings
	Reconciler *jobs.Reconciler
	Complaints *jobs.Complaints
	Bulletins  *jobs.Bulletins
	Reports    *reports.Reports
	Telegram   *telegram.Bot
	Slack      *slackbot.App
	Registry   *prometheus.Registry

	mini     *miniredis.Miniredis
	stopTTLs func() // stops the in-process Redis's TTL clock (advanceTTLs)
	redisOpt asynq.RedisConnOpt
	rdb      redis.UniversalClient
	handler  http.Handler
	tgToken  string
	// housekeeping runs with every SLA check (jobs.NewMux).
	housekeeping []jobs.Housekeeping

	mu       sync.Mutex
	listener net.Listener

	closeMonitor func() // asynq's web monitor (app/web.go)
}

// New builds everything and migrates the database; nothing runs until Run.
func New(ctx context.Context, cfg configs.Config, opts Options) (*App, error) {
	a := &App{Cfg: cfg, Clock: opts.Clock, Log: opts.Logger, tgToken: cfg.TelegramToken.Reveal()}
	if a.Clock == nil {
		a.Clock = duban.SystemClock{}
	}
	if a.Log == nil {
		a.Log = NewLogger(os.Stderr, cfg.LogLevel, cfg.LogFormat)
	}
	if opts.Stdout == nil {
		opts.Stdout = os.Stdout
	}
	ok := false
	defer func() {
		if !ok {
			a.Close()
		}
	}()
	var err error
	if a.Store, err = storage.Open(ctx, cfg.DatabaseURL.Reveal(), storage.WithClock(a.Clock), storage.WithLocation(cfg.Location)); err != nil {
		return nil, err
	}
	if err := a.Store.Migrate(ctx); err != nil {
		return nil, err
	}
	if err := a.openRedis(); err != nil {
		return nil, err
	}
	a.Queue = jobs.NewQueue(a.rdb, a.Clock)

	a.Registry = prometheus.NewRegistry()
	a.Registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	metrics := jobs.NewMetrics(a.Registry)
	bundle, err := i18n.New()
	if err != nil {
		return nil, err
	}
	senders, tgAPI, slackClient, err := a.senders(cfg, opts, bundle)
	if err != nil {
		return nil, err
	}
	a.Outbox = jobs.NewOutbox(a.Store, a.Queue, senders, jobs.OutboxConfig{Clock: a.Clock, Log: a.Log.With("component", "outbox"),
		Metrics: metrics, T: bundle})
	var supervision jobs.SupervisionPoster
	if sl, ok := senders[duban.ChannelSlack].(*notifier.Slack); ok {
		supervision = sl
	}
	a.Hearings = jobs.NewHearings(a.Store, a.Queue, a.Outbox, jobs.HearingsConfig{Render: jobs.Renderer{T: bundle, Loc: cfg.Location},
		Policy: cfg.Policy(), Supervision: supervision, Channel: cfg.SlackSupervisionChannel, Clock: a.Clock,
		Log: a.Log.With("component", "hearings"), Metrics: metrics})
	a.Reconciler = jobs.NewReconciler(a.Store, a.Queue, jobs.ReconcilerConfig{Interval: cfg.ReconcileInterval, Clock: a.Clock,
		Log: a.Log.With("component", "reconcile"), Metrics: metrics})
	a.Complaints = jobs.NewComplaints(a.Store, a.Queue, a.Outbox, jobs.ComplaintsConfig{T: bundle, Loc: cfg.Location,
		Calendar: duban.NewCalendar(cfg.Location, cfg.Holidays...), Quiet: cfg.Quiet, Supervision: supervision,
		Channel: cfg.SlackSupervisionChannel, Retention: cfg.ContactRetention, Clock: a.Clock,
		Log: a.Log.With("component", "complaints"), Metrics: metrics})
	a.Reports = reports.New(a.Store, cfg.Location, a.Clock, bundle)
	a.Bulletins = jobs.NewBulletins(a.Store, a.Outbox, a.Reports, jobs.BulletinsConfig{
		T: bundle, Loc: cfg.Location, Period: bulletin.Period(cfg.BulletinPeriod), Channel: cfg.SlackSupervisionChannel,
		Clock: a.Clock, Log: a.Log.With("component", "bulletin")})

	routes := map[string]http.Handler{}
	botName := ""
	if tgAPI != nil {
		botName = tgAPI.Self.UserName
		a.Telegram = telegram.New(telegram.Deps{API: tgAPI, Token: a.tgToken, Store: a.Store, Hearings: a.Hearings,
			Complaints: a.Complaints, T: bundle, Clock: a.Clock, Log: a.Log.With("integration", "telegram"), ReportsPerChat: cfg.ReportsPerChat,
			Redis: a.rdb})
		a.housekeeping = append(a.housekeeping, a.Telegram.DropIdleReports)
		if cfg.TelegramMode == configs.TelegramWebhook {
			routes["POST /telegram/webhook"] = a.Telegram.WebhookHandler(cfg.TelegramWebhookSecret.Reveal())
		}
	}
	if slackClient != nil {
		a.Slack = slackbot.New(slackbot.Deps{Client: slackClient, APIURL: cfg.SlackAPIURL, SigningSecret: cfg.SlackSigningSecret.Reveal(),
			Store: a.Store, Hearings: a.Hearings, Complaints: a.Complaints, T: bundle, Clock: a.Clock, Loc: cfg.Location, Log: a.Log.With("integration", "slack")})
		if !cfg.SlackSocketMode() {
			routes["POST /slack/commands"] = a.Slack.CommandsHandler()
			routes["POST /slack/interactions"] = a.Slack.InteractionsHandler()
			routes["POST /slack/events"] = a.Slack.EventsHandler()
		}
	}
	calendars, linkAnswers, err := a.calendars(cfg, bundle)
	if err != nil {
		return nil, err
	}
	if err := a.mountWeb(cfg, bundle, routes); err != nil {
		return nil, err
	}
	a.handler = api.New(api.Deps{Store: a.Store, Hearings: a.Hearings, Complaints: a.Complaints, Outbox: a.Outbox, Clock: a.Clock, Loc: cfg.Location,
		Calendars: calendars, LinkAnswers: linkAnswers, Bulletins: a.Bulletins,
		AdminToken: cfg.AdminToken.Reveal(), BindCodeTTL: cfg.BindCodeTTL, TelegramBotUsername: botName,
		Limiter: ratelimit.New(a.rdb), Open311Rate: cfg.Open311Limit, TrustedProxies: cfg.Proxies,
		Ready: a.Ready, Metrics: promhttp.HandlerFor(a.Registry, promhttp.HandlerOpts{}), Routes: routes,
		Log: a.Log.With("component", "api")})
	ok = true
	return a, nil
}

// openRedis connects to DUBAN_REDIS_URL, or starts an in-process Redis.
func (a *App) openRedis() error {
	if a.Cfg.RedisURL == "" {
		a.mini = miniredis.NewMiniRedis()
		if err := a.mini.Start(); err != nil {
			return fmt.Errorf("app: in-process redis: %w", err)
		}
		a.stopTTLs = advanceTTLs(a.mini, ttlTick)
		a.redisOpt = asynq.RedisClientOpt{Addr: a.mini.Addr()}
	} else {
		opt, err := asynq.ParseRedisURI(a.Cfg.RedisURL.Reveal())
		if err != nil {
			return fmt.Errorf("app: DUBAN_REDIS_URL: %w", err)
		}
		a.redisOpt = opt
	}
	rc, ok := a.redisOpt.MakeRedisClient().(redis.UniversalClient)
	if !ok {
		return errors.New("app: unexpected redis client type")
	}
	a.rdb = rc
	return nil
}

// senders builds one sender per configured channel.
func (a *App) senders(cfg configs.Config, opts Options, bundle *i18n.Bundle) (notifier.Senders, *tgbotapi.BotAPI, *slack.Client, error) {
	s := notifier.Senders{}
	var tgAPI *tgbotapi.BotAPI
	var sc *slack.Client
	if cfg.TelegramEnabled() {
		api, err := tgbotapi.NewBotAPIWithAPIEndpoint(a.tgToken, cfg.TelegramAPIEndpoint)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("app: telegram: %w", redact.Error(err, a.tgToken))
		}
		api.Client = &http.Client{Transport: providerTransport(cfg.Concurrency+inboundConns, 60*time.Second)}
		var topts []notifier.TelegramOption
		if opts.TelegramGlobalRate > 0 {
			topts = append(topts, notifier.WithGlobalRate(opts.TelegramGlobalRate))
		}
		if a.mini == nil {
			// Replicas share one Redis: they share the bot's limits there.
			topts = append(topts, notifier.WithSharedLimits(a.rdb, limitPrefix(a.tgToken)))
		}
		tgAPI = api
		s[duban.ChannelTelegram] = notifier.NewTelegram(api, a.tgToken, topts...)
	}
	if cfg.SlackEnabled() {
		sc = slack.New(cfg.SlackBotToken.Reveal(), slack.OptionAPIURL(cfg.SlackAPIURL),
			slack.OptionHTTPClient(&http.Client{Transport: providerTransport(cfg.Concurrency+inboundConns, 30*time.Second)}))
		sopts := []notifier.SlackOption{notifier.WithSlackSecrets(cfg.SlackBotToken.Reveal())}
		if a.mini == nil {
			sopts = append(sopts, notifier.WithSlackSharedLimits(a.rdb, limitPrefix(cfg.SlackBotToken.Reveal())))
		}
		s[duban.ChannelSlack] = notifier.NewSlack(sc, sopts...)
	}
	if cfg.WebhookEnabled() {
		s[duban.ChannelWebhook] = notifier.NewWebhook(cfg.WebhookURL, cfg.WebhookSecret.Reveal(), &http.Client{Timeout: 15 * time.Second})
	}
	if email, err := a.emailSender(cfg, bundle); err != nil {
		return nil, nil, nil, fmt.Errorf("app: %w", err)
	} else if email != nil {
		s[duban.ChannelEmail] = email
	}
	if cfg.Console || len(s) == 0 {
		if !cfg.Console {
			a.Log.Warn("no channel configured (Telegram, Slack, e-mail, webhook): printing messages on the console channel")
		}
		s[duban.ChannelConsole] = notifier.NewConsole(opts.Stdout)
	}
	return s, tgAPI, sc, nil
}

// inboundConns is how many of Telegram's or Slack's posts duban may be
// answering at once, each of which may call the provider: Telegram opens
// 40 connections to a webhook unless told otherwise
// (https://core.telegram.org/bots/api#setwebhook, max_connections).
const inboundConns = 40

// providerTransport is the transport of a provider's API client, which
// calls one host from callers at once: the asynq workers sending and the
// handlers of inbound posts (answerCallbackQuery). It keeps that many
// connections idle, where http.DefaultTransport keeps two a host and, with
// more callers, opened and closed a connection (on the internet, a TLS
// handshake) for most calls (docs/PERFORMANCE.md, the webhook intake).
// TrackWrites tells a request lost after it left (a possible repeat) from
// one that never reached the provider, and bounds each call to timeout
// (the clients' own Timeout stays 0: see notifier.TrackWrites).
func providerTransport(callers int, timeout time.Duration) http.RoundTripper {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = callers
	t.MaxIdleConns = max(t.MaxIdleConns, callers)
	return notifier.TrackWrites(t, timeout)
}

// limitPrefix is where the provider limits of the bot with token are kept
// in Redis: per bot, since each bot has limits of its own, and named by a
// hash, never by the token.
func limitPrefix(token string) string {
	sum := sha256.Sum256([]byte(token))
	return "duban:limit:" + hex.EncodeToString(sum[:6]) + ":"
}

// Handler is the HTTP handler, for tests that serve it themselves.
func (a *App) Handler() http.Handler { return a.handler }

// Ready checks that the database and Redis answer.
func (a *App) Ready(ctx context.Context) error {
	if err := a.Store.Ping(ctx); err != nil {
		return fmt.Errorf("database: %w", err)
	}
	if err := a.rdb.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("redis: %w", err)
	}
	return nil
}

// RedisAddr is the address of the Redis in use (the in-process one too).
func (a *App) RedisAddr() string {
	if a.mini != nil {
		return a.mini.Addr()
	}
	return ""
}

// Redis is the client of the Redis in use.
func (a *App) Redis() redis.UniversalClient { return a.rdb }

// Addr is the address HTTP listens on, once Run has started.
func (a *App) Addr() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.listener == nil {
		return ""
	}
	return a.listener.Addr().String()
}

// Close releases what New opened. Run calls it on the way out.
func (a *App) Close() {
	if a.closeMonitor != nil {
		a.closeMonitor()
	}
	if a.rdb != nil {
		a.rdb.Close()
	}
	if a.Store != nil {
		a.Store.Close()
	}
	if a.stopTTLs != nil {
		a.stopTTLs()
	}
	if a.mini != nil {
		a.mini.Close()
	}
}

// ttlTick is how often the in-process Redis's TTLs follow the clock:
// asynq's locks and leases expire by TTL. miniredis's own ClockTTL moves
// them on every command, a Lua script's every call included, and sorts all
// keys each time; with every finished task kept for jobs.Retention, each of
// asynq's scripts then cost time in proportion to the tasks of the last two
// hours — at the webhook's intake rate, most of the CPU
// (docs/PERFORMANCE.md). A key now expires up to a tick late.
const ttlTick = 100 * time.Millisecond

// advanceTTLs moves m's TTLs on with the wall clock every tick, until stop
// is called.
func advanceTTLs(m *miniredis.Miniredis, tick time.Duration) (stop func()) {
	done, exited := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(exited)
		t := time.NewTicker(tick)
		defer t.Stop()
		last := time.Now()
		for {
			select {
			case <-done:
				return
			case now := <-t.C:
				m.FastForward(now.Sub(last))
				last = now
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() { close(done) })
		<-exited
	}
}

// NewLogger makes the slog logger of the configuration.
func NewLogger(w io.Writer, level, format string) *slog.Logger {
	var lv slog.Level
	_ = lv.UnmarshalText([]byte(level))
	o := &slog.HandlerOptions{Level: lv}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, o))
	}
	return slog.New(slog.NewTextHandler(w, o))
}
