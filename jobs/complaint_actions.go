package jobs

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/storage"
)

// Act takes one action on a complaint: checked against its state (409
// with the allowed ones), recorded as an event, and told to whom it
// concerns after the commit.
func (cs *Complaints) Act(ctx context.Context, actor Actor, id int64, req duban.ActionRequest) (*duban.Complaint, error) {
	if err := req.Validate(); err != nil {
		return nil, err
	}
	if req.Action == duban.ActionReply && strings.TrimSpace(req.Text) == "" {
		return nil, duban.Invalid("text", "the reply is required")
	}
	var c *duban.Complaint
	err := cs.store.InTx(ctx, func(tx *storage.Store) error {
		var err error
		if c, err = tx.ComplaintForUpdate(ctx, id); err != nil {
			return err
		}
		subj, err := cs.With(tx).Subject(ctx, c)
		if err != nil {
			return err
		}
		if err := actor.Check(duban.ComplaintDo(req.Action), subj); err != nil {
			return err
		}
		next, err := duban.Transition(c.Status, req.Action)
		if err != nil {
			return err
		}
		now := cs.clock.Now()
		text := strings.TrimSpace(req.Text)
		if req.Reason != "" {
			text = strings.TrimSpace(req.Reason)
		}
		var ds []*duban.Delivery
		ev := duban.Event{ComplaintID: c.ID, Action: req.Action, Actor: actor.String(), At: now}
		if req.Action == duban.ActionNote && !MaySeeReporter(actor) && actor.Person != nil {
			// An agency's note is seen by the office and that agency only.
			ev.AgencyID = actor.Person.AgencyID
		}
		switch req.Action {
		case duban.ActionReply:
			if MaySeeReporter(actor) {
				// The office replies for an agency only by recording a
				// reply that came on paper: the event names that agency,
				// so the timeline shows it as such (Event.OnPaper).
				ev.AgencyID = c.AgencyID
			}
		case duban.ActionAssign:
			a, err := tx.AgencyByCode(ctx, req.Agency)
			if errors.Is(err, duban.ErrNotFound) {
				return duban.Invalid("agency", "unknown agency %q", req.Agency)
			}
			if err != nil {
				return err
			}
			c.AgencyID, c.HandlerID, ev.AgencyID = &a.ID, nil, &a.ID
			if req.HandlerID != nil {
				h, err := tx.PersonByID(ctx, *req.HandlerID)
				if errors.Is(err, duban.ErrNotFound) || (err == nil && (!h.Active || h.AgencyID == nil || *h.AgencyID != a.ID)) {
					return duban.Invalid("handler", "is not an active person of agency %s", a.Code)
				}
				if err != nil {
					return err
				}
				c.HandlerID = &h.ID
			}
			due := cs.Calendar.Deadline(now, req.Limit())
			c.AssignedAt, c.DueAt = &now, &due
			text = fmt.Sprintf("%s, %d", a.Code, req.Limit())
		case duban.ActionExtend:
			due := cs.Calendar.AddWorkingDays(*c.DueAt, req.WorkingDays)
			c.DueAt = &due
		case duban.ActionClose, duban.ActionReject:
			// Either ends the complaint: the reporter's contact is kept a
			// retention from here.
			c.ClosedAt = &now
			if req.Action == duban.ActionClose && c.AssignedAt != nil && c.DueAt != nil {
				// Kept for the reports, which never recount the calendar.
				days, onTime := cs.Calendar.WorkingDaysBetween(*c.AssignedAt, now), !now.After(*c.DueAt)
				c.CloseWorkingDays, c.ClosedOnTime = &days, &onTime
			}
		case duban.ActionReopen:
			c.ClosedAt = nil
			c.Rating = nil
			c.CloseWorkingDays, c.ClosedOnTime = nil, nil
		case duban.ActionMerge:
			into, err := cs.With(tx).Lookup(ctx, req.Into)
			if errors.Is(err, duban.ErrNotFound) {
				return duban.Invalid("into", "no complaint %q", req.Into)
			}
			if err != nil {
				return err
			}
			if into.ID == c.ID || into.Status == duban.ComplaintMerged {
				return duban.Invalid("into", "cannot merge into itself or into a merged complaint")
			}
			c.MergedInto = &into.ID
			c.ClosedAt = &now
			text = into.TrackingCode
		case duban.ActionRate:
			r := req.Rating
			c.Rating = &r
			text = fmt.Sprintf("%d %s", r, text)
			if err := tx.CompleteCallbackTasks(ctx, c.ID, actor.String()); err != nil {
				return err
			}
		}
		c.Status = next
		if err := tx.UpdateComplaint(ctx, c); err != nil {
			return err
		}
		ev.Text, ev.Public = strings.TrimSpace(text), duban.PublicEvent(duban.Event{Action: req.Action, Public: true})
		if err := tx.AppendEvent(ctx, &ev); err != nil {
			return err
		}
		if ds, err = cs.tellAbout(ctx, tx, c, req, text); err != nil {
			return err
		}
		tx.AfterCommit(func() {
			cs.outbox.Enqueue(ctx, ds...)
			cs.sync(ctx, c.ID)
			if c.MergedInto != nil {
				cs.sync(ctx, *c.MergedInto)
			}
		})
		return tx.Audit(ctx, actor.String(), "complaint."+string(req.Action), fmt.Sprintf("complaint:%d", c.ID), "")
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// Rate records a reporter's own 回访 answer from the bot: once, and only
// from the chat the report came from.
func (cs *Complaints) Rate(ctx context.Context, chatID int64, id int64, rating int) (*duban.Complaint, error) {
	c, err := cs.store.ComplaintByID(ctx, id)
	if err != nil {
		return nil, err
	}
	if c.ReporterChatID == nil || *c.ReporterChatID != chatID {
		return nil, duban.ErrForbidden
	}
	if c.Rating != nil {
		return nil, &duban.StateError{Action: "rate", State: "rated", Allowed: []string{}}
	}
	return cs.Act(ctx, Actor{Name: "reporter"}, id, duban.ActionRequest{Action: duban.ActionRate, Rating: rating})
}

// tellAbout plans what an action tells the reporter, the handler and the
// supervisors.
func (cs *Complaints) tellAbout(ctx context.Context, tx *storage.Store, c *duban.Complaint, req duban.ActionRequest, text string) ([]*duban.Delivery, error) {
	switch req.Action {
	case duban.ActionAccept, duban.ActionReject, duban.ActionReply, duban.ActionClose:
		return cs.tellReporters(ctx, tx, c, string(req.Action), text)
	case duban.ActionAssign:
		return cs.tellAgency(ctx, tx, c, "assign", duban.MsgAssignment, "complaint.assigned")
	case duban.ActionUrge:
		return cs.tellAgency(ctx, tx, c, "urge", duban.MsgUrge, "complaint.urge")
	case duban.ActionEscalate:
		ds, err := cs.tellSupervisors(ctx, tx, c, "escalate", duban.MsgEscalation)
		if err != nil {
			return nil, err
		}
		more, err := cs.tellAgency(ctx, tx, c, "escalate", duban.MsgEscalation, "complaint.escalate")
		return append(ds, more...), err
	case duban.ActionMerge:
		return cs.tellReporters(ctx, tx, c, "merge", text)
	case duban.ActionRate:
		if req.Rating <= 2 {
			return cs.tellSupervisors(ctx, tx, c, "low_rating", duban.MsgLowRating)
		}
	}
	return nil, nil
}
