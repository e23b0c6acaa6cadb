package jobs

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/bulletin"
	"github.com/cityhall/duban/reports"
	"github.com/cityhall/duban/storage"
)

// Bulletins sends the periodic bulletin (通报): the summary to the
// supervision channel, and to every supervisor and member of the office
// with an e-mail address an HTML mail in their language with the tables
// attached as a workbook; on its schedule (the bulletin task) or on
// demand. Build it with NewBulletins.
type Bulletins struct {
	store   *storage.Store
	outbox  *Outbox
	reports *reports.Reports
	t       Translator
	loc     *time.Location
	period  bulletin.Period
	channel string // the supervision channel; "": no post
	clock   duban.Clock
	log     *slog.Logger
}

// BulletinsConfig is what Bulletins may be given beside its store, outbox
// and reports.
type BulletinsConfig struct {
	T       Translator // required
	Loc     *time.Location
	Period  bulletin.Period // DUBAN_BULLETIN_PERIOD; default a week
	Channel string          // DUBAN_SLACK_SUPERVISION_CHANNEL
	Clock   duban.Clock
	Log     *slog.Logger
}

// NewBulletins makes the bulletins.
func NewBulletins(store *storage.Store, outbox *Outbox, rs *reports.Reports, cfg BulletinsConfig) *Bulletins {
	if cfg.T == nil {
		panic("jobs: NewBulletins needs a translator")
	}
	if cfg.Loc == nil {
		cfg.Loc = time.Local
	}
	if cfg.Period == "" {
		cfg.Period = bulletin.Week
	}
	return &Bulletins{store: store, outbox: outbox, reports: rs, t: cfg.T, loc: cfg.Loc, period: cfg.Period,
		channel: cfg.Channel, clock: orClock(cfg.Clock), log: orLog(cfg.Log)}
}

// Sent is what sending a bulletin did.
type Sent struct {
	Key    string   `json:"key"`
	From   string   `json:"from"`
	To     string   `json:"to"`
	Mailed []string `json:"mailed"` // who it was mailed to, by name
	Posted bool     `json:"posted"` // whether the supervision channel has it
}

// Covered is the range the bulletin sent at t covers.
func (b *Bulletins) Covered(t time.Time) reports.Range { return bulletin.Covered(b.period, t, b.loc) }

// Send sends the bulletin of rg as actor asks. Sending the same range
// again sends nothing twice: each mail and the post are written ahead
// under the bulletin's key.
func (b *Bulletins) Send(ctx context.Context, actor Actor, rg reports.Range) (*Sent, error) {
	if err := actor.Check(duban.ReportBulletin, duban.Subject{}); err != nil {
		return nil, err
	}
	key := bulletin.Key(rg)
	out := &Sent{Key: key, From: rg.From.Format(time.DateOnly), To: rg.To.Format(time.DateOnly), Mailed: []string{}}
	composed := map[string]*bulletin.Bulletin{}
	compose := func(locale string) (*bulletin.Bulletin, error) {
		if c, ok := composed[locale]; ok {
			return c, nil
		}
		c, err := bulletin.Compose(ctx, b.reports, b.t, locale, rg)
		if err == nil {
			composed[locale] = c
		}
		return c, err
	}
	var recipients []duban.Person
	for _, role := range []duban.Role{duban.RoleSupervisor, duban.RoleStaff} {
		ps, err := b.store.People(ctx, storage.PeopleFilter{Role: role, ActiveOnly: true})
		if err != nil {
			return nil, err
		}
		recipients = append(recipients, ps...)
	}
	seen := map[int64]bool{}
	var ds []*duban.Delivery
	err := b.store.InTx(ctx, func(tx *storage.Store) error {
		for _, p := range recipients {
			if seen[p.ID] || p.Email == "" || !b.outbox.Has(duban.ChannelEmail) {
				continue
			}
			seen[p.ID] = true
			c, err := compose(p.Locale)
			if err != nil {
				return err
			}
			var xlsx bytes.Buffer
			if err := c.Tables.WriteXLSX(&xlsx); err != nil {
				return err
			}
			msg := duban.Message{Kind: duban.MsgBulletin, Ref: key, Text: c.Text, Subject: c.Subject, HTML: c.HTML,
				Attachments: []duban.Attachment{{Name: "duban-" + rg.From.Format("20060102") + "-" + rg.To.Format("20060102") + ".xlsx",
					Type: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", Data: xlsx.Bytes()}}}
			d, err := b.outbox.PlanOn(ctx, tx, &p, duban.ChannelEmail, fmt.Sprintf("%s:%d", key, p.ID), msg)
			if err != nil {
				return err
			}
			if d != nil {
				ds = append(ds, d)
				out.Mailed = append(out.Mailed, p.Name)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	b.outbox.Enqueue(ctx, ds...)
	if b.channel != "" && b.outbox.Has(duban.ChannelSlack) {
		c, err := compose(duban.LocaleZH)
		if err != nil {
			return nil, err
		}
		msg := duban.Message{Kind: duban.MsgBulletin, Ref: key, Text: c.Text}
		if _, err := b.outbox.Post(ctx, key+":channel", duban.ChannelSlack, duban.Address{Name: "supervision", SlackUserID: b.channel}, msg); err != nil {
			return out, fmt.Errorf("jobs: post the bulletin: %w", err)
		}
		out.Posted = true
	}
	b.log.Info("bulletin sent", slog.String("key", key), slog.Int("mailed", len(out.Mailed)), slog.Bool("posted", out.Posted),
		slog.String("by", actor.String()))
	return out, nil
}

// HandleBulletin sends the bulletin of the period its task was scheduled
// for, as duban.
func (b *Bulletins) HandleBulletin(ctx context.Context, t *asynq.Task) error {
	var p BulletinPayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil || p.At == 0 {
		return fmt.Errorf("jobs: bulletin payload %q: %w", t.Payload(), asynq.SkipRetry)
	}
	_, err := b.Send(ctx, duban.System("bulletin"), b.Covered(time.Unix(p.At, 0)))
	return err
}
