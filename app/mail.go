package app

import (
	"context"

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

// linkKey is the key of the answer links in e-mails; nil without
// DUBAN_LINK_SECRET (the links are left out).
func linkKey(cfg configs.Config) []byte {
	if cfg.LinkSecret == "" {
		return nil
	}
	return duban.AnswerKey(cfg.LinkSecret.Reveal())
}

// emailSender builds the e-mail channel of DUBAN_SMTP_URL; nil when it is
// off. It reads hearings from the store for the attached event.
func (a *App) emailSender(cfg configs.Config, bundle *i18n.Bundle) (notifier.Sender, error) {
	if !cfg.MailEnabled() {
		return nil, nil
	}
	if cfg.LinkSecret == "" {
		a.Log.Warn("DUBAN_LINK_SECRET is empty: e-mails carry no answer links; heads reached by e-mail answer in chat or by phone")
	}
	return notifier.NewEmail(notifier.EmailConfig{URL: cfg.SMTPURL.Reveal(), From: cfg.MailFrom, T: bundle, Loc: cfg.Location,
		PublicURL: publicURL(cfg), LinkKey: linkKey(cfg),
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
func (a *App) calendars(cfg configs.Config, bundle *i18n.Bundle) (*jobs.Calendars, *jobs.LinkAnswers) {
	c := jobs.NewCalendars(jobs.CalendarsDeps{Store: a.Store, T: bundle, Loc: cfg.Location, PublicURL: publicURL(cfg),
		Alarms: cfg.ReminderOffsets, Clock: a.Clock})
	var la *jobs.LinkAnswers
	if key := linkKey(cfg); key != nil {
		la = jobs.NewLinkAnswers(a.Store, a.Hearings, key, a.Clock)
	}
	return c, la
}
