package jobs

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/icalendar"
	"github.com/cityhall/duban/storage"
)

// Calendars holds the private calendar feeds (RFC 5545) of heads and
// agencies: minting (which rotates: the old URL stops working), revoking,
// and writing a feed for the token in its URL. The token is the feed's
// only credential and is kept as a hash.
type Calendars struct {
	store     *storage.Store
	t         Translator
	loc       *time.Location
	publicURL string
	alarms    []time.Duration
	clock     duban.Clock
}

// CalendarsDeps are what Calendars needs.
type CalendarsDeps struct {
	Store *storage.Store
	T     Translator     // renders events and calendar names
	Loc   *time.Location // DUBAN_TIMEZONE, for times in descriptions
	// PublicURL is DUBAN_PUBLIC_URL, the base of feed URLs.
	PublicURL string
	// Alarms are DUBAN_REMINDER_OFFSETS: each event reminds at these.
	Alarms []time.Duration
	Clock  duban.Clock // default the wall clock
}

// NewCalendars returns the calendar use cases on d.
func NewCalendars(d CalendarsDeps) *Calendars {
	c := &Calendars{store: d.Store, t: d.T, loc: d.Loc, publicURL: strings.TrimRight(d.PublicURL, "/"), alarms: d.Alarms, clock: d.Clock}
	if c.clock == nil {
		c.clock = duban.SystemClock{}
	}
	if c.loc == nil {
		c.loc = time.Local
	}
	return c
}

// FeedPast is how far back a feed reaches: a calendar keeps the recent
// past, and a year of hearings stays a small file.
const FeedPast = 90 * 24 * time.Hour

// FeedRefresh is how often a subscribing client is asked to fetch a feed
// again (clients may poll less often: Google Calendar takes hours).
const FeedRefresh = time.Hour

// feedTokenBytes is the randomness of a feed token.
const feedTokenBytes = 32

// FeedPath is where feeds are served: FeedPath + token + ".ics".
const FeedPath = "/calendar/"

// FeedURL is the subscription URL of token.
func (c *Calendars) FeedURL(token string) string { return c.publicURL + FeedPath + token + ".ics" }

// MintPerson makes person id a new feed URL, replacing the one they had:
// the person themself (or an admin) only. Audited.
func (c *Calendars) MintPerson(ctx context.Context, actor Actor, id int64) (string, error) {
	p, err := c.personFor(ctx, actor, id)
	if err != nil {
		return "", err
	}
	if !p.Active {
		return "", &duban.StateError{Action: "calendar", State: "deactivated", Allowed: []string{}}
	}
	return c.mint(ctx, actor, &storage.CalendarFeed{PersonID: &p.ID}, personTarget(p.ID))
}

// RevokePerson ends person id's feed, if any. Audited.
func (c *Calendars) RevokePerson(ctx context.Context, actor Actor, id int64) error {
	p, err := c.personFor(ctx, actor, id)
	if err != nil {
		return err
	}
	return c.revoke(ctx, actor, &storage.CalendarFeed{PersonID: &p.ID}, personTarget(p.ID))
}

// MintAgency makes agency code a new feed URL, replacing the one it had:
// the office only. Audited.
func (c *Calendars) MintAgency(ctx context.Context, actor Actor, code string) (string, error) {
	ag, err := c.agencyFor(ctx, actor, code)
	if err != nil {
		return "", err
	}
	return c.mint(ctx, actor, &storage.CalendarFeed{AgencyID: &ag.ID}, "agency:"+ag.Code)
}

// RevokeAgency ends agency code's feed, if any. Audited.
func (c *Calendars) RevokeAgency(ctx context.Context, actor Actor, code string) error {
	ag, err := c.agencyFor(ctx, actor, code)
	if err != nil {
		return err
	}
	return c.revoke(ctx, actor, &storage.CalendarFeed{AgencyID: &ag.ID}, "agency:"+ag.Code)
}

func (c *Calendars) personFor(ctx context.Context, actor Actor, id int64) (*duban.Person, error) {
	p, err := c.store.PersonByID(ctx, id)
	if err != nil {
		return nil, missing(err, "person %d", id)
	}
	if err := actor.Check(duban.PersonCalendar, duban.OfPerson(p)); err != nil {
		return nil, err
	}
	return p, nil
}

func (c *Calendars) agencyFor(ctx context.Context, actor Actor, code string) (*duban.Agency, error) {
	if err := actor.Check(duban.AgencyCalendar, duban.Subject{}); err != nil {
		return nil, err
	}
	ag, err := c.store.AgencyByCode(ctx, code)
	if err != nil {
		return nil, missing(err, "agency %q", code)
	}
	return ag, nil
}

func (c *Calendars) mint(ctx context.Context, actor Actor, f *storage.CalendarFeed, target string) (string, error) {
	b := make([]byte, feedTokenBytes)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("calendars: token: %w", err)
	}
	token := base64.RawURLEncoding.EncodeToString(b)
	err := c.store.InTx(ctx, func(tx *storage.Store) error {
		if err := tx.ReplaceCalendarFeed(ctx, f, HashToken(token)); err != nil {
			return err
		}
		return tx.Audit(ctx, actor.String(), "calendar.mint", target, "")
	})
	if err != nil {
		return "", err
	}
	return c.FeedURL(token), nil
}

func (c *Calendars) revoke(ctx context.Context, actor Actor, f *storage.CalendarFeed, target string) error {
	return c.store.InTx(ctx, func(tx *storage.Store) error {
		had, err := tx.RevokeCalendarFeed(ctx, f)
		if err != nil || !had {
			return err
		}
		return tx.Audit(ctx, actor.String(), "calendar.revoke", target, "")
	})
}

// Feed writes the calendar of the feed whose token is token: the hearings
// of the person's agency (all hearings for the office, as the rule book's
// scope of hearing.read says) or of the agency, from FeedPast ago on. An
// unknown or revoked token, or a deactivated person's, is ErrNotFound.
func (c *Calendars) Feed(ctx context.Context, token string) ([]byte, error) {
	if token == "" || len(token) > 128 {
		return nil, fmt.Errorf("calendar feed: %w", duban.ErrNotFound)
	}
	f, err := c.store.CalendarFeedByHash(ctx, HashToken(token))
	if err != nil {
		return nil, err
	}
	from := c.clock.Now().Add(-FeedPast)
	locale := duban.LocaleZH
	var name string
	var scope duban.Scope
	switch {
	case f.PersonID != nil:
		p, err := c.store.PersonByID(ctx, *f.PersonID)
		if err != nil {
			return nil, err
		}
		if !p.Active {
			return nil, fmt.Errorf("calendar feed of a deactivated person: %w", duban.ErrNotFound)
		}
		locale = p.Locale
		scope = duban.Actor{Person: p}.ScopeOf(duban.HearingRead)
		name = c.t.T(locale, "calendar.name.person", map[string]any{"Name": p.Name})
	case f.AgencyID != nil:
		ag, err := c.store.AgencyByID(ctx, *f.AgencyID)
		if err != nil {
			return nil, err
		}
		scope = duban.Scope{Agency: &ag.ID}
		name = c.t.T(locale, "calendar.name.agency", map[string]any{"Agency": ag.Name})
	}
	var events []icalendar.Event
	if !scope.None() {
		hs, err := c.store.Hearings(ctx, storage.HearingFilter{AgencyID: scope.Agency, From: &from})
		if err != nil {
			return nil, err
		}
		for i := range hs {
			for j := range hs[i].Agencies {
				ha := &hs[i].Agencies[j]
				if scope.Agency != nil && ha.AgencyID != *scope.Agency {
					continue
				}
				events = append(events, icalendar.HearingEvent(c.t, locale, c.loc, &hs[i], ha))
			}
		}
	}
	var buf bytes.Buffer
	err = icalendar.Write(&buf, icalendar.Calendar{Name: name, Method: icalendar.MethodPublish, Alarms: c.alarms, Refresh: FeedRefresh, Events: events})
	if err != nil {
		return nil, fmt.Errorf("calendar feed: %w", err)
	}
	return buf.Bytes(), nil
}

// IsFeedMissing reports whether err means the feed does not exist (an
// unknown, rotated or revoked token).
func IsFeedMissing(err error) bool { return errors.Is(err, duban.ErrNotFound) }
