package app

import (
	"context"
	"fmt"

	"github.com/redis/go-redis/v9"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/configs"
	"github.com/cityhall/duban/i18n"
	"github.com/cityhall/duban/jobs"
	"github.com/cityhall/duban/notifier"
)

// publicURL is DUBAN_PUBLIC_URL, or http://DUBAN_HTTP_ADDR without one.
func publicURL(cfg configs.Config) string {
	if cfg.PublicURL != "" {
		return cfg.PublicURL
	}
	return "http://" + cfg.HTTPAddr
}

// linkKey is the key of the answer links in e-mails: DUBAN_LINK_SECRET,
// or without one a key the database keeps for all replicas (made at the
// first start), so a head reached by e-mail can always answer.
func (a *App) linkKey(cfg configs.Config) ([]byte, error) {
	if cfg.LinkSecret != "" {
		return duban.AnswerKey(cfg.LinkSecret.Reveal()), nil
	}
	s, err := a.Store.KeptSecret(context.Background(), "answer_links")
	if err != nil {
		return nil, fmt.Errorf("app: the key of answer links: %w", err)
	}
	return duban.AnswerKey(s), nil
}

// emailSender builds the e-mail channel of DUBAN_SMTP_URL; nil when it is
// off. It reads hearings from the store for the attached event.
func (a *App) emailSender(cfg configs.Config, bundle *i18n.Bundle) (notifier.Sender, error) {
	if !cfg.MailEnabled() {
		return nil, nil
	}
	key, err := a.linkKey(cfg)
	if err != nil {
		return nil, err
	}
	var shared redis.UniversalClient
	if a.mini == nil {
		shared = a.rdb // replicas share one SMTP server's limit
	}
	return notifier.NewEmail(notifier.EmailConfig{URL: cfg.SMTPURL.Reveal(), From: cfg.MailFrom, T: bundle, Loc: cfg.Location,
		PublicURL: publicURL(cfg), LinkKey: key, Shared: shared, Prefix: limitPrefix(cfg.SMTPURL.Reveal()),
		Hearing: func(ctx context.Context, haID int64) (*duban.Hearing, *duban.HearingAgency, error) {
			ha, err := a.Store.HearingAgencyByID(ctx, haID)
			if err != nil {
				return nil, nil, err
			}
			h, err := a.Store.HearingByID(ctx, ha.HearingID)
			return h, ha, err
		}})
}

// calendars builds the calendar feeds and the answer links of the
// hearings.
func (a *App) calendars(cfg configs.Config, bundle *i18n.Bundle) (*jobs.Calendars, *jobs.LinkAnswers, error) {
	c := jobs.NewCalendars(jobs.CalendarsDeps{Store: a.Store, T: bundle, Loc: cfg.Location, PublicURL: publicURL(cfg),
		Alarms: cfg.ReminderOffsets, Clock: a.Clock})
	key, err := a.linkKey(cfg)
	if err != nil {
		return nil, nil, err
	}
	return c, jobs.NewLinkAnswers(a.Store, a.Hearings, key, a.Clock), nil
}
