package jobs

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/storage"
)

// Callback is a call the office must make to a reporter without
// Telegram, with the complaint and whom to call.
type Callback struct {
	Task      storage.CallbackTask
	Complaint *duban.Complaint
}

// Callbacks lists the call-back tasks (open ones only when open is set),
// oldest first, for those the rule book lets make them. The list holds
// reporters' names and phones, so it is one entry of the audit log naming
// every complaint whose reporter it shows. The API's GET /api/v1/callbacks
// and the web's call-back page both call it.
func (cs *Complaints) Callbacks(ctx context.Context, actor Actor, open bool) ([]Callback, error) {
	if err := actor.Check(duban.ComplaintCallbacks, duban.Subject{}); err != nil {
		return nil, err
	}
	tasks, err := cs.store.CallbackTasks(ctx, 0, open)
	if err != nil {
		return nil, err
	}
	out := make([]Callback, 0, len(tasks))
	complaints := map[int64]*duban.Complaint{}
	var shown []string
	for _, t := range tasks {
		c, ok := complaints[t.ComplaintID]
		if !ok {
			if c, err = cs.store.ComplaintByID(ctx, t.ComplaintID); err != nil {
				return nil, err
			}
			complaints[t.ComplaintID] = c
			if c.ReporterName != "" || c.ReporterPhone != "" {
				shown = append(shown, strconv.FormatInt(c.ID, 10))
			}
		}
		out = append(out, Callback{Task: t, Complaint: c})
	}
	if len(shown) > 0 {
		if err := cs.store.Audit(ctx, actor.String(), "complaint.read_identity", "complaint:"+strings.Join(shown, ","),
			fmt.Sprintf("callbacks: %d reporters", len(shown))); err != nil {
			return nil, err
		}
	}
	return out, nil
}
