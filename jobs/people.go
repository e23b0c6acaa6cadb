package jobs

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/storage"
)

// People holds the use cases of the people duban knows: add, read, list,
// edit and deactivate. Each asks the rule book (duban.Actor.Check) and
// writes its audit rows in the transaction of its change; the API and the
// command line call them alike.
type People struct {
	store  *storage.Store
	outbox *Outbox
	t      Translator
	clock  duban.Clock
}

// PeopleDeps are what People needs.
type PeopleDeps struct {
	Store *storage.Store
	// Outbox plans the notice to a person's old address when an admin
	// re-binds their chat; nil: no notice is planned (the command line,
	// which re-binds nobody).
	Outbox *Outbox
	// T renders that notice; required with Outbox.
	T Translator
	// Clock makes the notice's key unique; default the wall clock.
	Clock duban.Clock
}

// NewPeople returns the people use cases on d.
func NewPeople(d PeopleDeps) *People {
	p := &People{store: d.Store, outbox: d.Outbox, t: d.T, clock: d.Clock}
	if p.clock == nil {
		p.clock = duban.SystemClock{}
	}
	if p.outbox != nil && p.t == nil {
		panic("jobs: NewPeople: an Outbox needs a Translator for the re-bind notice")
	}
	return p
}

// NotFoundError says a thing named by a caller does not exist, in words
// the caller can act on ("person 7 does not exist"). It matches
// duban.ErrNotFound.
type NotFoundError struct{ What string }

func (e *NotFoundError) Error() string { return e.What + " does not exist" }

// Is makes errors.Is(err, duban.ErrNotFound) true.
func (e *NotFoundError) Is(target error) bool { return target == duban.ErrNotFound }

// missing turns a storage ErrNotFound into a NotFoundError naming what;
// any other error passes through.
func missing(err error, format string, args ...any) error {
	if errors.Is(err, duban.ErrNotFound) {
		return &NotFoundError{What: fmt.Sprintf(format, args...)}
	}
	return err
}

// AgencyRef names an agency by code or by id; neither (the zero value)
// is no agency. A code that is no agency's but a number is read as an id.
type AgencyRef struct {
	Code string
	ID   int64
}

// PersonFields are the fields of a person a caller sets; a nil field is
// left alone (in Add: its default).
type PersonFields struct {
	Name           *string
	Agency         *AgencyRef // the zero AgencyRef removes the agency
	Roles          *[]string
	TelegramChatID *int64 // 0 unbinds
	SlackUserID    *string
	Email          *string
	Phone          *string
	Locale         *string
	Channels       *[]string // the person's order of channels; empty: the global order
	Active         *bool     // Update only
}

// Agency resolves ref in field; the zero ref is no agency (nil). An
// unknown agency is a ValidationError on field.
func (ps *People) Agency(ctx context.Context, ref AgencyRef, field string) (*duban.Agency, error) {
	return resolveAgency(ctx, ps.store, ref, field)
}

func resolveAgency(ctx context.Context, st *storage.Store, ref AgencyRef, field string) (*duban.Agency, error) {
	code := strings.TrimSpace(ref.Code)
	id := ref.ID
	if code != "" {
		ag, err := AgencyByCode(ctx, st, code, field)
		if err == nil {
			return ag, nil
		}
		n, perr := strconv.ParseInt(code, 10, 64)
		if perr != nil {
			return nil, err
		}
		id = n
	}
	if id == 0 && code == "" {
		return nil, nil
	}
	ag, err := st.AgencyByID(ctx, id)
	if errors.Is(err, duban.ErrNotFound) {
		return nil, duban.Invalid(field, "unknown agency %d", id)
	}
	return ag, err
}

// apply sets p's fields from f and validates the result; it returns the
// names of the fields changed, for the audit log (never their values: phone
// and e-mail are personal data).
func (ps *People) apply(ctx context.Context, f PersonFields, p *duban.Person) ([]string, error) {
	var changed []string
	var v duban.ValidationError
	if f.Name != nil {
		p.Name, changed = strings.TrimSpace(*f.Name), append(changed, "name")
	}
	if f.Agency != nil {
		ag, err := ps.Agency(ctx, *f.Agency, "agency")
		var ve *duban.ValidationError
		switch {
		case errors.As(err, &ve):
			v.Details = append(v.Details, ve.Details...)
		case err != nil:
			return nil, err
		case ag == nil:
			p.AgencyID, p.AgencyCode = nil, ""
		default:
			p.AgencyID, p.AgencyCode = &ag.ID, ag.Code
		}
		changed = append(changed, "agency")
	}
	if f.Roles != nil {
		roles, err := duban.ParseRoles(strings.Join(*f.Roles, ","))
		var ve *duban.ValidationError
		if errors.As(err, &ve) {
			v.Details = append(v.Details, ve.Details...)
		}
		p.Roles, changed = roles, append(changed, "roles")
	}
	if f.TelegramChatID != nil {
		p.TelegramChatID, p.TelegramUserID = nil, nil
		if id := *f.TelegramChatID; id != 0 {
			p.TelegramChatID = &id
			if id > 0 { // a private chat's id is its user's id
				uid := id
				p.TelegramUserID = &uid
			}
		}
		changed = append(changed, "telegram_chat_id")
	}
	for _, x := range []struct {
		name string
		src  *string
		dst  *string
	}{{"slack_user_id", f.SlackUserID, &p.SlackUserID}, {"email", f.Email, &p.Email}, {"phone", f.Phone, &p.Phone}, {"locale", f.Locale, &p.Locale}} {
		if x.src != nil {
			*x.dst, changed = strings.TrimSpace(*x.src), append(changed, x.name)
		}
	}
	if f.Channels != nil {
		p.Channels = nil
		for _, c := range *f.Channels {
			p.Channels = append(p.Channels, duban.Channel(strings.TrimSpace(c)))
		}
		changed = append(changed, "channels")
	}
	if f.Active != nil {
		p.Active, changed = *f.Active, append(changed, fmt.Sprintf("active=%t", *f.Active))
	}
	if err := duban.ValidatePerson(p); err != nil {
		var ve *duban.ValidationError
		if !errors.As(err, &ve) {
			return nil, err
		}
		for _, d := range ve.Details {
			if d.Field == "roles" && f.Roles != nil && hasField(v.Details, "roles") {
				continue // an unknown role already said what is wrong
			}
			if d.Field == "agency" && hasField(v.Details, "agency") {
				continue
			}
			v.Details = append(v.Details, d)
		}
	}
	return changed, v.Err()
}

func hasField(ds []duban.FieldError, field string) bool {
	return slices.ContainsFunc(ds, func(d duban.FieldError) bool { return d.Field == field })
}

func sameRoles(a, b duban.Roles) bool {
	x, y := slices.Clone(a), slices.Clone(b)
	slices.Sort(x)
	slices.Sort(y)
	return slices.Equal(slices.Compact(x), slices.Compact(y))
}

// chatsChanged reports which chat addresses of p and q differ.
func chatsChanged(p, q *duban.Person) (telegram, slack bool) {
	telegram = (p.TelegramChatID == nil) != (q.TelegramChatID == nil) ||
		(p.TelegramChatID != nil && *p.TelegramChatID != *q.TelegramChatID)
	return telegram, p.SlackUserID != q.SlackUserID
}

func personDetail(p *duban.Person) string {
	return fmt.Sprintf("roles=%s agency=%s", p.Roles, p.AgencyCode)
}

func personTarget(id int64) string { return fmt.Sprintf("person:%d", id) }

// chatTaken says what a conflict on a person's row means: their Telegram
// chat or Slack user is already someone else's.
func chatTaken(err error) error {
	if errors.Is(err, duban.ErrConflict) {
		return fmt.Errorf("the Telegram chat or Slack user is already bound to someone else: %w", duban.ErrConflict)
	}
	return err
}

// Add creates a person from f: active, zh-CN unless f says otherwise.
// Office staff add people with no role or an agency's roles, and without
// chat addresses (those come from the person's own /start CODE); an
// office role or a chat address needs an admin. Audited in the same
// transaction.
func (ps *People) Add(ctx context.Context, actor Actor, f PersonFields) (*duban.Person, error) {
	if err := actor.Check(duban.PersonAdd, duban.Subject{}); err != nil {
		return nil, err
	}
	if f.Active != nil {
		return nil, duban.Invalid("active", "is set by deactivating, not when adding")
	}
	p := &duban.Person{Locale: duban.LocaleZH, Active: true}
	if f.Name == nil {
		f.Name = new(string)
	}
	if f.Roles == nil {
		f.Roles = &[]string{}
	}
	if _, err := ps.apply(ctx, f, p); err != nil {
		return nil, err
	}
	if err := actor.Check(duban.PersonAdd, duban.OfPerson(p)); err != nil {
		return nil, err
	}
	if p.Roles.Office() {
		if err := actor.Check(duban.PersonRoles, duban.OfPerson(p)); err != nil {
			return nil, err
		}
	}
	if p.Bound() {
		if err := actor.Check(duban.PersonRebind, duban.OfPerson(p)); err != nil {
			return nil, err
		}
	}
	err := ps.store.InTx(ctx, func(tx *storage.Store) error {
		if err := tx.CreatePerson(ctx, p); err != nil {
			return chatTaken(err)
		}
		return tx.Audit(ctx, actor.String(), "person.create", personTarget(p.ID), personDetail(p))
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// person loads person id; a missing one is a NotFoundError.
func (ps *People) person(ctx context.Context, id int64) (*duban.Person, error) {
	p, err := ps.store.PersonByID(ctx, id)
	return p, missing(err, "person %d", id)
}

// Get reads person id, for the office and the person themself.
func (ps *People) Get(ctx context.Context, actor Actor, id int64) (*duban.Person, error) {
	p, err := ps.person(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := actor.Check(duban.PersonRead, duban.OfPerson(p)); err != nil {
		return nil, err
	}
	return p, nil
}

// PeopleQuery narrows a list of people: an agency (by code or id) and a
// role, each optional.
type PeopleQuery struct {
	Agency string
	Role   string
}

// List lists people by id, for staff and supervisors.
func (ps *People) List(ctx context.Context, actor Actor, q PeopleQuery) ([]duban.Person, error) {
	if err := actor.Check(duban.PersonRead, duban.Subject{}); err != nil {
		return nil, err
	}
	var f storage.PeopleFilter
	if q.Agency != "" {
		ag, err := ps.Agency(ctx, AgencyRef{Code: q.Agency}, "agency")
		if err != nil {
			return nil, err
		}
		if ag != nil {
			f.AgencyID = &ag.ID
		}
	}
	if q.Role != "" {
		roles, err := duban.ParseRoles(q.Role)
		if err != nil {
			return nil, duban.Invalid("role", "unknown role %q", q.Role)
		}
		if len(roles) != 1 {
			return nil, duban.Invalid("role", "name one role")
		}
		f.Role = roles[0]
	}
	return ps.store.People(ctx, f)
}

// Update changes person id by f. Each kind of change asks the rule book:
// details (duban.PersonEdit), roles (PersonRoles: admins only, never
// one's own), chat addresses (PersonRebind: admins only; a notice for the
// old address is planned), active (PersonDeactivate). Every change is
// audited in the transaction that makes it; notices are enqueued after it
// commits.
func (ps *People) Update(ctx context.Context, actor Actor, id int64, f PersonFields) (*duban.Person, error) {
	if err := actor.Check(duban.PersonEdit, duban.Subject{}); err != nil {
		return nil, err
	}
	p, err := ps.person(ctx, id)
	if err != nil {
		return nil, err
	}
	old := *p
	old.Roles = slices.Clone(p.Roles)
	if err := actor.Check(duban.PersonEdit, duban.OfPerson(&old)); err != nil {
		return nil, err
	}
	changed, err := ps.apply(ctx, f, p)
	if err != nil {
		return nil, err
	}
	rolesChanged := !sameRoles(old.Roles, p.Roles)
	if rolesChanged {
		if err := actor.Check(duban.PersonRoles, duban.OfPerson(&old)); err != nil {
			return nil, err
		}
	}
	tgChanged, slackChanged := chatsChanged(&old, p)
	if tgChanged || slackChanged {
		if err := actor.Check(duban.PersonRebind, duban.OfPerson(&old)); err != nil {
			return nil, err
		}
	}
	if old.Active != p.Active {
		if err := actor.Check(duban.PersonDeactivate, duban.OfPerson(&old)); err != nil {
			return nil, err
		}
	}
	err = ps.store.InTx(ctx, func(tx *storage.Store) error {
		if err := tx.UpdatePerson(ctx, p); err != nil {
			return chatTaken(err)
		}
		target := personTarget(p.ID)
		if err := tx.Audit(ctx, actor.String(), "person.update", target, "changed "+strings.Join(changed, ",")); err != nil {
			return err
		}
		if rolesChanged {
			if err := tx.Audit(ctx, actor.String(), "person.roles", target, fmt.Sprintf("from %q to %q", old.Roles.String(), p.Roles.String())); err != nil {
				return err
			}
		}
		var notices []*duban.Delivery
		for _, c := range []struct {
			changed bool
			channel duban.Channel
			was     duban.Person // the person as reachable on the old address only
		}{
			{tgChanged, duban.ChannelTelegram, duban.Person{TelegramChatID: old.TelegramChatID}},
			{slackChanged, duban.ChannelSlack, duban.Person{SlackUserID: old.SlackUserID}},
		} {
			if !c.changed {
				continue
			}
			if err := tx.Audit(ctx, actor.String(), "person.rebind", target, string(c.channel)); err != nil {
				return err
			}
			if !c.was.Bound() || ps.outbox == nil {
				continue // nothing was bound: nobody to warn
			}
			d, err := ps.planRebindNotice(ctx, tx, &old, c.was, c.channel)
			if err != nil {
				return err
			}
			notices = append(notices, d)
		}
		if len(notices) > 0 {
			tx.AfterCommit(func() { ps.outbox.Enqueue(ctx, notices...) })
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// MsgRebind tells a person, on the address they had, that an admin
// changed where their messages go.
const MsgRebind duban.MessageKind = "rebind"

// planRebindNotice plans, in tx, the message telling p on their old
// address on channel ch (was holds only that address) that an admin
// changed it.
func (ps *People) planRebindNotice(ctx context.Context, tx *storage.Store, p *duban.Person, was duban.Person, ch duban.Channel) (*duban.Delivery, error) {
	was.ID, was.Name, was.Locale, was.Active = p.ID, p.Name, p.Locale, true
	msg := duban.Message{Kind: MsgRebind, Ref: personTarget(p.ID),
		Text: ps.t.T(p.Locale, "person.rebind", map[string]any{"Name": p.Name, "Channel": channelName(ch)})}
	to := AddressOf(&was)
	msg.To = &to
	key := fmt.Sprintf("rebind:%d:%s:%d", p.ID, ch, ps.clock.Now().UnixNano())
	return ps.outbox.Plan(ctx, tx, &was, key, msg, nil, nil)
}

// channelName is a channel as people know it.
func channelName(ch duban.Channel) string {
	switch ch {
	case duban.ChannelTelegram:
		return "Telegram"
	case duban.ChannelSlack:
		return "Slack"
	}
	return string(ch)
}

// Deactivate deactivates person id: they keep their history but receive
// nothing and their tokens stop working. Audited in the same transaction.
func (ps *People) Deactivate(ctx context.Context, actor Actor, id int64) (*duban.Person, error) {
	p, err := ps.person(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := actor.Check(duban.PersonDeactivate, duban.OfPerson(p)); err != nil {
		return nil, err
	}
	p.Active = false
	err = ps.store.InTx(ctx, func(tx *storage.Store) error {
		if err := tx.UpdatePerson(ctx, p); err != nil {
			return err
		}
		return tx.Audit(ctx, actor.String(), "person.deactivate", personTarget(p.ID), "")
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}
