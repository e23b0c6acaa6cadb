package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/cityhall/duban/internal/fakes/slackfake"
	"github.com/cityhall/duban/internal/fakes/tgfake"
)

// Constants every deployment shares.
const (
	tgToken       = "123456:dubanload"
	webhookSecret = "dubanload-webhook-secret"
	slackChannel  = "C0SUPERVISION"
)

// deployment is duban as one scenario runs it: its database, the fakes,
// and one or more replicas of `duban serve` on them.
type deployment struct {
	h        *harness
	name     string
	db       string // the database URL
	tg       *tgfake.Server
	sl       *slackfake.Server
	replicas []*replica
	api      *client
	webhook  *webhookPoster
	env      map[string]string // every replica's settings but its address
}

type deployOpts struct {
	name     string
	replicas int
	webhook  bool              // Telegram in webhook mode (else polling)
	env      map[string]string // on top of the defaults
	// db, when set, is a database made and filled beforehand (the memory
	// mode's seed), used instead of a fresh one.
	db string
}

// deploy starts a scenario's duban on a fresh database and an empty Redis,
// with fakes that enforce the providers' limits.
func (h *harness) deploy(ctx context.Context, o deployOpts) (*deployment, error) {
	if err := h.redis.Flush(ctx); err != nil {
		return nil, err
	}
	db := o.db
	if db == "" {
		var err error
		if db, err = h.pg.CreateDB(ctx, o.name); err != nil {
			return nil, err
		}
	}
	d := &deployment{h: h, name: o.name, db: db, tg: tgfake.Start(), sl: slackfake.Start()}
	d.webhook = newWebhookPoster(webhookSecret, d.tg)
	d.tg.EnforceLimits()
	d.sl.EnforceLimits()
	env := map[string]string{
		"DUBAN_DATABASE_URL":              db,
		"DUBAN_REDIS_URL":                 h.redis.URL(),
		"DUBAN_ADMIN_TOKEN":               h.token,
		"DUBAN_TELEGRAM_TOKEN":            tgToken,
		"DUBAN_TELEGRAM_API_ENDPOINT":     d.tg.Endpoint(),
		"DUBAN_TELEGRAM_MODE":             "polling",
		"DUBAN_SLACK_BOT_TOKEN":           "xoxb-dubanload",
		"DUBAN_SLACK_API_URL":             d.sl.APIURL(),
		"DUBAN_SLACK_SIGNING_SECRET":      "dubanload-signing-secret",
		"DUBAN_SLACK_SUPERVISION_CHANNEL": slackChannel,
		// One lead time of an hour: a hearing registered to start an hour
		// and some seconds ahead has its reminder due those seconds ahead.
		"DUBAN_REMINDER_OFFSETS":   "1h",
		"DUBAN_ESCALATE_BEFORE":    "1m",
		"DUBAN_OUTCOME_AFTER":      "4h",
		"DUBAN_QUIET_HOURS":        "off",
		"DUBAN_CONCURRENCY":        "40",
		"DUBAN_RECONCILE_INTERVAL": "10s",
		"DUBAN_LOG_LEVEL":          "info",
		"DUBAN_SHUTDOWN_TIMEOUT":   "10s",
	}
	if o.webhook {
		env["DUBAN_TELEGRAM_MODE"] = "webhook"
		env["DUBAN_TELEGRAM_WEBHOOK_URL"] = "https://duban.invalid/telegram/webhook"
		env["DUBAN_TELEGRAM_WEBHOOK_SECRET"] = webhookSecret
	}
	for k, v := range o.env {
		env[k] = v
	}
	d.env = env
	for i := range max(o.replicas, 1) {
		r, err := d.replica(fmt.Sprintf("%s-replica%d", o.name, i+1), nil)
		if err != nil {
			d.close()
			return nil, err
		}
		d.replicas = append(d.replicas, r)
		if err := r.Start(ctx); err != nil {
			d.close()
			return nil, err
		}
	}
	d.api = newClient(d.replicas[0].URL(), h.token)
	return d, nil
}

// replica makes (without starting it) a replica of the deployment named
// name, on a free port, with extra settings on top of the deployment's.
func (d *deployment) replica(name string, extra map[string]string) (*replica, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	e := environ()
	for k, v := range d.env {
		if _, over := extra[k]; !over {
			e = append(e, k+"="+v)
		}
	}
	for k, v := range extra {
		e = append(e, k+"="+v)
	}
	e = append(e, fmt.Sprintf("DUBAN_HTTP_ADDR=127.0.0.1:%d", port))
	return &replica{name: name, bin: d.h.bin, env: e, addr: fmt.Sprintf("127.0.0.1:%d", port),
		logf: filepath.Join(d.h.tmp, name+".log")}, nil
}

// environ is the harness's environment without any DUBAN_ setting, so that
// an operator's own configuration cannot leak into a scenario.
func environ() []string {
	var out []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "DUBAN_") {
			out = append(out, kv)
		}
	}
	return out
}

// urls are the base URLs of the replicas running now.
func (d *deployment) urls() []string {
	var out []string
	for _, r := range d.replicas {
		if r.Running() {
			out = append(out, r.URL())
		}
	}
	return out
}

func (d *deployment) close() {
	for _, r := range d.replicas {
		r.Stop()
	}
	d.tg.Close()
	d.sl.Close()
}
