package slack

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"slices"
	"strconv"
	"strings"

	"github.com/slack-go/slack"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/jobs"
	"github.com/cityhall/duban/storage"
)

// queueLimit is how many complaints `/duban queue` lists at most.
const queueLimit = 20

// showEvents is how many of the latest events `/duban show` lists.
const showEvents = 50

// slackMaxText bounds a message's text; Slack truncates longer ones.
// https://api.slack.com/methods/chat.postMessage#truncating
const slackMaxText = 40000

// openStatuses are the states of a complaint still being handled.
var openStatuses = []duban.ComplaintStatus{duban.ComplaintReceived, duban.ComplaintAccepted, duban.ComplaintAssigned, duban.ComplaintReplied}

// queueCommand lists open complaints, newest first: `/duban queue [mine |
// overdue | agency CODE]`. Mine is what a handler handles, or for a
// supervisor what waits to be accepted or assigned. Agency people see only
// their agency's complaints, never who reported them.
func (s *App) queueCommand(ctx context.Context, p *duban.Person, args []string) *ephemeral {
	locale := localeOf(p)
	if p == nil {
		return s.tell(locale, "bot.not_yours", nil)
	}
	actor := duban.Actor{Person: p}
	scope := actor.ScopeOf(duban.ComplaintRead)
	if !actor.May(duban.ComplaintQueue, duban.Subject{}) || scope.None() {
		return s.tell(locale, "bot.not_yours", nil)
	}
	f := storage.ComplaintFilter{Limit: queueLimit + 1}
	statuses := openStatuses
	mode := ""
	if len(args) > 0 {
		mode = strings.ToLower(args[0])
	}
	switch mode {
	case "":
	case "mine":
		// A supervisor's own are those waiting for what supervisors decide.
		if actor.May(duban.ComplaintDo(duban.ActionAssign), duban.Subject{}) {
			statuses = []duban.ComplaintStatus{duban.ComplaintReceived, duban.ComplaintAccepted}
		} else {
			f.HandlerID = &p.ID
		}
	case "overdue":
		now := s.clock.Now()
		f.OverdueAt, statuses = &now, []duban.ComplaintStatus{duban.ComplaintAssigned}
	case "agency":
		if len(args) < 2 {
			return s.tell(locale, "slack.help", nil)
		}
		a, err := s.store.AgencyByCode(ctx, args[1])
		if errors.Is(err, duban.ErrNotFound) && strings.ToUpper(args[1]) != args[1] {
			a, err = s.store.AgencyByCode(ctx, strings.ToUpper(args[1])) // codes are mostly typed in capitals
		}
		if errors.Is(err, duban.ErrNotFound) {
			return s.tell(locale, "slack.c.no_agency", map[string]any{"Code": args[1]})
		}
		if err != nil {
			s.log.Error("slack: queue", slog.Any("error", err))
			return s.tell(locale, "bot.error", nil)
		}
		f.AgencyID = &a.ID
	default:
		return s.tell(locale, "slack.help", nil)
	}
	// The rule book's scope, in the query: an agency's people list what
	// has been assigned to their agency, now or before.
	f.Scope = &scope
	// One query a state: a list of every state would fill up with closed
	// ones and hide the open.
	var list []duban.Complaint
	for _, st := range statuses {
		f.Status = st
		some, err := s.store.Complaints(ctx, f)
		if err != nil {
			s.log.Error("slack: queue", slog.Any("error", err))
			return s.tell(locale, "bot.error", nil)
		}
		list = append(list, some...)
	}
	if len(list) == 0 {
		return s.tell(locale, "slack.c.queue_empty", nil)
	}
	slices.SortFunc(list, func(a, b duban.Complaint) int { return cmp.Compare(b.ID, a.ID) })
	lines := []string{s.t.T(locale, "slack.c.queue_head", map[string]any{"Filter": s.queueFilter(locale, mode, args)})}
	for i := range list[:min(len(list), queueLimit)] {
		lines = append(lines, s.t.T(locale, "slack.c.queue_line", s.complaintFields(ctx, locale, &list[i])))
	}
	if len(list) > queueLimit {
		lines = append(lines, s.t.T(locale, "slack.c.queue_more", map[string]any{"Max": queueLimit}))
	}
	return &ephemeral{ResponseType: slack.ResponseTypeEphemeral, Text: escape(strings.Join(lines, "\n"))}
}

// queueFilter names the list asked for.
func (s *App) queueFilter(locale, mode string, args []string) string {
	if mode == "agency" {
		return s.t.T(locale, "slack.c.queue.agency", map[string]any{"Code": strings.ToUpper(args[1])})
	}
	return s.t.T(locale, "slack.c.queue."+cmp.Or(mode, "open"), nil)
}

// showCommand shows one complaint and its timeline: `/duban show
// ID_OR_CODE`. Office staff and supervisors see the reporter, and that read
// is in the audit log; the agency's people see the complaint without the
// reporter and without internal notes; anyone else nothing.
func (s *App) showCommand(ctx context.Context, p *duban.Person, args []string) *ephemeral {
	locale := localeOf(p)
	if p == nil {
		return s.tell(locale, "bot.not_yours", nil)
	}
	if len(args) == 0 {
		return s.tell(locale, "slack.help", nil)
	}
	c, err := s.cs.Lookup(ctx, strings.Join(args, ""))
	if errors.Is(err, duban.ErrNotFound) {
		return s.tell(locale, "slack.c.not_found", nil)
	}
	if err != nil {
		s.log.Error("slack: show", slog.Any("error", err))
		return s.tell(locale, "bot.error", nil)
	}
	actor := jobs.Actor{Person: p}
	seen, err := s.cs.View(ctx, actor, c)
	if errors.Is(err, duban.ErrForbidden) {
		return s.tell(locale, "bot.not_yours", nil)
	}
	if err != nil {
		s.log.Error("slack: show", slog.Any("error", err))
		return s.tell(locale, "bot.error", nil)
	}
	office := duban.Actor{Person: p}.May(duban.ComplaintReporter, duban.Of(&seen))
	files, err := s.store.Attachments(ctx, c.ID)
	if err != nil {
		s.log.Error("slack: show", slog.Any("error", err))
		return s.tell(locale, "bot.error", nil)
	}
	events, err := s.store.Events(ctx, c.ID)
	if err != nil {
		s.log.Error("slack: show", slog.Any("error", err))
		return s.tell(locale, "bot.error", nil)
	}
	data := s.complaintFields(ctx, locale, &seen)
	data["Attachments"] = len(files)
	lines := []string{s.t.T(locale, "slack.c.show", data)}
	if office {
		switch {
		case seen.Anonymous:
			lines = append(lines, s.t.T(locale, "slack.c.show_anonymous", nil))
		case seen.ReporterName != "" || seen.ReporterPhone != "" || seen.ReporterChatID != nil:
			lines = append(lines, s.t.T(locale, "slack.c.show_reporter", map[string]any{"Name": seen.ReporterName,
				"Phone": seen.ReporterPhone, "Telegram": seen.ReporterChatID != nil}))
		}
	}
	events = slices.DeleteFunc(events, func(e duban.Event) bool { return !duban.Actor{Person: p}.SeesEvent(e) })
	events = events[max(0, len(events)-showEvents):]
	lines = append(lines, s.t.T(locale, "slack.c.timeline", nil))
	names := map[string]string{}
	for _, e := range events {
		action := "slack.c.action." + string(e.Action)
		if e.OnPaper() {
			// The agency's letter, typed in by the office member named.
			action = "slack.c.action.reply_paper"
		}
		lines = append(lines, s.t.T(locale, "slack.c.show_event", map[string]any{"At": e.At.In(s.loc).Format("2006-01-02 15:04"),
			"Action": s.t.T(locale, action, nil), "Actor": s.actorName(ctx, names, e.Actor, office), "Text": e.Text}))
	}
	return &ephemeral{ResponseType: slack.ResponseTypeEphemeral, Text: duban.Truncate(escape(strings.Join(lines, "\n")), slackMaxText)}
}

// actorName shows who took an action: a person by name, anyone else
// (system, telegram, the API) by what the event says; seen caches names.
// Agency people see the kind of a non-person actor only.
func (s *App) actorName(ctx context.Context, seen map[string]string, actor string, office bool) string {
	if n, ok := seen[actor]; ok {
		return n
	}
	name := actor
	if rest, ok := strings.CutPrefix(actor, "person:"); ok {
		if id, err := strconv.ParseInt(rest, 10, 64); err == nil {
			if p, err := s.store.PersonByID(ctx, id); err == nil {
				name = p.Name
			}
		}
	} else if !office {
		name, _, _ = strings.Cut(actor, ":")
	}
	seen[actor] = name
	return name
}

// complaintFields are the template data of a complaint for Slack, never
// with the reporter.
func (s *App) complaintFields(ctx context.Context, locale string, c *duban.Complaint) map[string]any {
	agency := c.AgencyText
	if c.AgencyID != nil {
		if a, err := s.store.AgencyByID(ctx, *c.AgencyID); err == nil {
			agency = a.Code
		}
	}
	if agency == "" {
		agency = s.t.T(locale, "complaint.agency_unknown", nil)
	}
	due := ""
	if c.DueAt != nil {
		due = c.DueAt.In(s.loc).Format("2006-01-02")
	}
	occurred := ""
	if c.OccurredAt != nil {
		occurred = c.OccurredAt.In(s.loc).Format("2006-01-02")
	}
	return map[string]any{"Code": duban.FormatTrackingCode(c.TrackingCode), "ID": c.ID,
		"Status": s.t.T(locale, "complaint.status."+string(c.Status), nil), "Category": s.t.T(locale, "category."+string(c.Category), nil),
		"Source": s.t.T(locale, "source."+string(c.Source), nil), "Agency": agency, "DueAt": due, "Overdue": c.Overdue(s.clock.Now()),
		"Description": duban.Truncate(c.Description, 1500), "Location": c.Location, "OccurredAt": occurred,
		"Outlet": c.Outlet, "Headline": c.Headline, "Link": c.Link}
}
