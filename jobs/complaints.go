package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/storage"
)

// Complaints holds the use cases of the supervision queue: intake from
// every source, the supervisors' actions, and what each tells whom. Build
// it with NewComplaints.
type Complaints struct {
	// T, Loc and Calendar are read by the adapters (the API's Open311
	// texts, the bots' times and deadlines); NewComplaints sets them,
	// nothing else does.
	T        Translator
	Loc      *time.Location
	Calendar *duban.Calendar

	store   *storage.Store
	queue   *Queue
	outbox  *Outbox
	quiet   duban.QuietHours
	clock   duban.Clock
	log     *slog.Logger
	metrics *Metrics

	// supervision posts new complaints to the Slack supervision channel
	// and updates the message in place; nil without Slack, when
	// supervisors are told through their own channels.
	supervision SupervisionPoster
	channel     string
	// retention is how long after closing the reporter's identity is
	// kept; zero keeps it.
	retention time.Duration
}

// ComplaintsConfig is what Complaints are given beside the store, queue
// and outbox. T is required; the rest has defaults.
type ComplaintsConfig struct {
	T        Translator      // the texts of the messages
	Loc      *time.Location  // DUBAN_TIMEZONE; default time.Local
	Calendar *duban.Calendar // working days; default every weekday in Loc
	Quiet    duban.QuietHours
	// Supervision and Channel, when both set, post new complaints to the
	// Slack supervision channel and keep the message up to date.
	Supervision SupervisionPoster
	Channel     string
	// Retention is how long after closing the reporter's identity is kept
	// (DUBAN_CONTACT_RETENTION, 3 years by default); zero keeps it.
	Retention time.Duration
	Clock     duban.Clock  // default the wall clock
	Log       *slog.Logger // default discards
	Metrics   *Metrics     // default unregistered collectors
}

// NewComplaints makes the complaints' use cases on outbox.
func NewComplaints(store *storage.Store, queue *Queue, outbox *Outbox, cfg ComplaintsConfig) *Complaints {
	if cfg.T == nil {
		panic("jobs: NewComplaints needs a translator (ComplaintsConfig.T)")
	}
	if cfg.Loc == nil {
		cfg.Loc = time.Local
	}
	if cfg.Calendar == nil {
		cfg.Calendar = duban.NewCalendar(cfg.Loc)
	}
	cs := &Complaints{T: cfg.T, Calendar: cfg.Calendar, store: store, queue: queue, outbox: outbox, Loc: cfg.Loc,
		quiet: cfg.Quiet, clock: orClock(cfg.Clock), log: orLog(cfg.Log), metrics: orMetrics(cfg.Metrics), retention: cfg.Retention}
	if cfg.Supervision != nil && cfg.Channel != "" {
		cs.supervision, cs.channel = cfg.Supervision, cfg.Channel
	}
	return cs
}

// With returns a copy of cs working inside tx.
func (cs *Complaints) With(tx *storage.Store) *Complaints {
	c := *cs
	c.store = tx
	return &c
}

// Intake is a complaint as it enters, from any source.
type Intake struct {
	Source         duban.Source
	Category       string
	Agency         string // a code; unknown codes are refused
	AgencyText     string // an agency named in free text (the bot), kept as said
	Description    string
	OccurredAt     *time.Time
	Location       string
	Latitude       *float64
	Longitude      *float64
	ReporterName   string
	ReporterPhone  string
	Anonymous      bool
	ReporterChatID *int64
	ReporterLocale string
	Outlet         string
	Link           string
	Headline       string
	Attachments    []storage.Attachment
	// IdempotencyKey makes a retry answer the first result: a Telegram
	// update id, a Slack view id, an Idempotency-Key header.
	IdempotencyKey string
}

// Validate checks an intake; every bad field is named.
func (in *Intake) Validate() error {
	var v duban.ValidationError
	if _, err := duban.ParseSource(string(in.Source)); err != nil {
		v.Add("source", "must be one of telegram, hotline_call, media, open311, npc_deputy, cppcc_member, other")
	}
	if _, err := duban.ParseCategory(in.Category); err != nil {
		v.Add("category", "must be one of illegal_fine, illegal_fee, illegal_levy, inaction, abuse, efficiency, other")
	}
	if err := duban.ValidateReportText(in.Description); err != nil {
		var ve *duban.ValidationError
		if errors.As(err, &ve) {
			v.Details = append(v.Details, ve.Details...)
		}
	}
	if (in.Latitude == nil) != (in.Longitude == nil) {
		v.Add("location", "needs both latitude and longitude")
	} else if in.Latitude != nil {
		if err := duban.ValidateCoordinates(*in.Latitude, *in.Longitude); err != nil {
			var ve *duban.ValidationError
			if errors.As(err, &ve) {
				v.Details = append(v.Details, ve.Details...)
			}
		}
	}
	for field, s := range map[string]string{"location": in.Location, "reporter.name": in.ReporterName, "reporter.phone": in.ReporterPhone,
		"outlet": in.Outlet, "link": in.Link, "headline": in.Headline, "agency": in.AgencyText} {
		if !utf8.ValidString(s) {
			v.Add(field, "is not valid UTF-8")
		} else if strings.ContainsRune(s, 0) {
			v.Add(field, "contains a NUL character")
		} else if utf8.RuneCountInString(s) > duban.MaxFieldRunes {
			v.Add(field, "must be at most %d characters", duban.MaxFieldRunes)
		}
	}
	total := utf8.RuneCountInString(in.Description) + utf8.RuneCountInString(in.Location)
	if total > duban.MaxReportRunes {
		v.Add("description", "the report is over %d characters in all", duban.MaxReportRunes)
	}
	for _, a := range in.Attachments {
		if a.Size > duban.MaxAttachmentBytes {
			v.Add("attachments", "a file is over %d MB", duban.MaxAttachmentBytes>>20)
		}
	}
	if in.Source == duban.SourceMedia && strings.TrimSpace(in.Outlet) == "" {
		v.Add("outlet", "is required for a media report")
	}
	if in.Source == duban.SourceHotlineCall && !in.Anonymous && strings.TrimSpace(in.ReporterPhone) == "" {
		v.Add("reporter.phone", "is required for a hotline call unless the caller stays anonymous")
	}
	return v.Err()
}

// Create takes a complaint in: one transaction with its first event, and
// the supervisors are told after the commit. An idempotency key already
// used answers the first complaint with created false.
func (cs *Complaints) Create(ctx context.Context, actor Actor, in Intake) (*duban.Complaint, bool, error) {
	if in.IdempotencyKey != "" {
		if c, err := cs.store.ComplaintByIdempotencyKey(ctx, in.IdempotencyKey); err == nil {
			return c, false, nil
		} else if !errors.Is(err, duban.ErrNotFound) {
			return nil, false, err
		}
	}
	if err := in.Validate(); err != nil {
		return nil, false, err
	}
	c := &duban.Complaint{Status: duban.ComplaintReceived, Source: in.Source, Category: duban.Category(in.Category),
		AgencyText: strings.TrimSpace(in.AgencyText), Description: strings.TrimSpace(in.Description), OccurredAt: in.OccurredAt,
		Location: strings.TrimSpace(in.Location), Latitude: in.Latitude, Longitude: in.Longitude, Anonymous: in.Anonymous,
		Outlet: strings.TrimSpace(in.Outlet), Link: strings.TrimSpace(in.Link), Headline: strings.TrimSpace(in.Headline),
		ReporterLocale: duban.NormalizeLocale(in.ReporterLocale)}
	if !in.Anonymous {
		// An anonymous report keeps no identity, not even the chat: it is
		// followed only through its tracking code.
		c.ReporterName, c.ReporterPhone, c.ReporterChatID = strings.TrimSpace(in.ReporterName), strings.TrimSpace(in.ReporterPhone), in.ReporterChatID
	}
	err := cs.store.InTx(ctx, func(tx *storage.Store) error {
		if code := strings.TrimSpace(in.Agency); code != "" {
			a, err := tx.AgencyByCode(ctx, code)
			if errors.Is(err, duban.ErrNotFound) {
				return duban.Invalid("agency", "unknown agency %q", code)
			}
			if err != nil {
				return err
			}
			c.ReportedAgencyID = &a.ID
		}
		for try := 0; ; try++ {
			c.TrackingCode = duban.NewTrackingCode()
			err := tx.CreateComplaint(ctx, c)
			if err == nil {
				break
			}
			if !errors.Is(err, duban.ErrConflict) || try > 3 || tx.Dialect() == storage.Postgres {
				// On PostgreSQL a failed statement aborts the transaction;
				// 60 random bits make a collision a non-event anyway.
				return err
			}
		}
		for i := range in.Attachments {
			a := in.Attachments[i]
			a.ComplaintID = c.ID
			if err := tx.AddAttachment(ctx, &a); err != nil {
				return err
			}
		}
		if in.IdempotencyKey != "" {
			if err := tx.SaveIdempotencyKey(ctx, in.IdempotencyKey, c.ID); err != nil {
				return err
			}
		}
		if err := tx.AppendEvent(ctx, &duban.Event{ComplaintID: c.ID, Action: duban.ActionReceive, Actor: actor.String(),
			At: cs.clock.Now(), Text: string(c.Source), Public: true}); err != nil {
			return err
		}
		ds, err := cs.tellSupervisors(ctx, tx, c, "new", duban.MsgComplaint)
		if err != nil {
			return err
		}
		tx.AfterCommit(func() {
			cs.outbox.Enqueue(ctx, ds...)
			cs.sync(ctx, c.ID)
		})
		return tx.Audit(ctx, actor.String(), "complaint.create", fmt.Sprintf("complaint:%d", c.ID), string(c.Source))
	})
	if err != nil {
		if in.IdempotencyKey != "" && errors.Is(err, duban.ErrConflict) {
			if c, gerr := cs.store.ComplaintByIdempotencyKey(ctx, in.IdempotencyKey); gerr == nil {
				return c, false, nil
			}
		}
		return nil, false, err
	}
	cs.log.Info("complaint received", slog.Int64("complaint_id", c.ID), slog.String("source", string(c.Source)))
	return c, true, nil
}

// Lookup finds a complaint by id or tracking code (with or without dashes).
func (cs *Complaints) Lookup(ctx context.Context, idOrCode string) (*duban.Complaint, error) {
	if id, err := strconv.ParseInt(strings.TrimSpace(idOrCode), 10, 64); err == nil {
		return cs.store.ComplaintByID(ctx, id)
	}
	code, err := duban.ParseTrackingCode(idOrCode)
	if err != nil {
		return nil, fmt.Errorf("complaint %q: %w", idOrCode, duban.ErrNotFound)
	}
	return cs.store.ComplaintByCode(ctx, code)
}

// MaySeeReporter reports whether actor may see a reporter's identity
// (the rule book: the office and supervisors, audited; never an agency).
func MaySeeReporter(actor Actor) bool { return actor.May(duban.ComplaintReporter, duban.Subject{}) }

// Subject is c as the rule book weighs it: with every agency it has been
// assigned to.
func (cs *Complaints) Subject(ctx context.Context, c *duban.Complaint) (duban.Subject, error) {
	before, err := cs.store.AssignedAgencies(ctx, c.ID)
	if err != nil {
		return duban.Subject{}, err
	}
	return duban.Of(c, before...), nil
}

// View returns c as actor may see it: without the reporter for the agency
// and its handler; every read of an identity is in the audit log.
func (cs *Complaints) View(ctx context.Context, actor Actor, c *duban.Complaint) (duban.Complaint, error) {
	subj, err := cs.Subject(ctx, c)
	if err != nil {
		return duban.Complaint{}, err
	}
	if err := actor.Check(duban.ComplaintRead, subj); err != nil {
		return duban.Complaint{}, err
	}
	if !MaySeeReporter(actor) {
		return c.Redacted(), nil
	}
	if c.ReporterName != "" || c.ReporterPhone != "" || c.ReporterChatID != nil {
		if err := cs.store.Audit(ctx, actor.String(), "complaint.read_identity", fmt.Sprintf("complaint:%d", c.ID), ""); err != nil {
			return duban.Complaint{}, err
		}
	}
	return *c, nil
}

// PublicTimeline is what a reporter reads of their own complaint through
// its code (/status, Open311): its status and its public events. A merged
// complaint mirrors its survivor's progress — the survivor's status and
// public steps since the merge — without the survivor's code or text.
func PublicTimeline(ctx context.Context, st *storage.Store, c *duban.Complaint) (duban.ComplaintStatus, []duban.Event, error) {
	own, err := st.Events(ctx, c.ID)
	if err != nil {
		return "", nil, err
	}
	status := c.Status
	var out []duban.Event
	var mergedAt time.Time
	for _, e := range own {
		if duban.PublicEvent(e) {
			if e.Action == duban.ActionMerge {
				e.Text, mergedAt = "", e.At
			}
			out = append(out, e)
		}
	}
	if c.Status != duban.ComplaintMerged || c.MergedInto == nil {
		return status, out, nil
	}
	into, err := st.ComplaintByID(ctx, *c.MergedInto)
	if err != nil {
		return "", nil, err
	}
	theirs, err := st.Events(ctx, into.ID)
	if err != nil {
		return "", nil, err
	}
	for _, e := range theirs {
		if duban.PublicEvent(e) && e.Action != duban.ActionReceive && e.Action != duban.ActionMerge && !e.At.Before(mergedAt) {
			out = append(out, e)
		}
	}
	return into.Status, out, nil
}
