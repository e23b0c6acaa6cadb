package duban

import (
	"encoding/json"
	"time"
)

// Channel is a way to reach a person.
type Channel string

// Channels.
const (
	ChannelTelegram Channel = "telegram"
	ChannelSlack    Channel = "slack"
	ChannelEmail    Channel = "email"
	ChannelWebhook  Channel = "webhook"
	ChannelConsole  Channel = "console"
)

// DeliveryStatus is where one outbound message stands. Sending is
// write-ahead: a row is sending before the provider is called and sent
// after, so a crash in between is visible rather than silently repeated.
type DeliveryStatus string

// Delivery states: queued → sending → sent | failed; sending → queued when
// the provider asked us to come back later.
const (
	DeliveryQueued  DeliveryStatus = "queued"
	DeliverySending DeliveryStatus = "sending"
	DeliverySent    DeliveryStatus = "sent"
	DeliveryFailed  DeliveryStatus = "failed"
)

// MessageKind names what a message is about; the console prints it as kind=.
type MessageKind string

// Message kinds.
const (
	MsgNotice         MessageKind = "notice"
	MsgReminder       MessageKind = "reminder"
	MsgReschedule     MessageKind = "reschedule"
	MsgCancel         MessageKind = "cancel"
	MsgEscalation     MessageKind = "escalation"
	MsgOutcomeRequest MessageKind = "outcome_request"

	MsgComplaint       MessageKind = "complaint"        // a new complaint, to supervisors
	MsgComplaintUpdate MessageKind = "complaint_update" // to the reporter: accepted, rejected, replied, closed
	MsgAssignment      MessageKind = "assignment"       // to the handler
	MsgUrge            MessageKind = "urge"             // 催办, to the handler
	MsgFollowup        MessageKind = "followup"         // 回访, to the reporter
	MsgCallback        MessageKind = "callback"         // a call-back task, to office staff
	MsgLowRating       MessageKind = "low_rating"       // to supervisors

	// MsgReply is a bot's answer in a conversation (a step of a report,
	// the tracking code, /status): sent ahead of bulk messages.
	MsgReply MessageKind = "reply"
	// MsgBulletin is the periodic bulletin (通报), to supervisors and the
	// office by e-mail and to the supervision channel.
	MsgBulletin MessageKind = "bulletin"
)

// Button is one answer a recipient can tap. Data is what comes back
// (Telegram callback_data, at most 64 bytes; a Slack action value).
type Button struct {
	Label string `json:"label"`
	Data  string `json:"data"`
	Style string `json:"style,omitempty"` // primary | danger | "" (Slack)
}

// Message is a rendered outbound message: text in the recipient's locale
// and rows of buttons.
type Message struct {
	Kind MessageKind `json:"kind"`
	Ref  string      `json:"ref"` // case number or complaint id
	// RefName, when set, is what a person reads for Ref where Ref is an
	// internal key ("complaint:42"): the complaint's tracking code, in an
	// e-mail's subject.
	RefName string     `json:"ref_name,omitempty"`
	Text    string     `json:"text"`
	Buttons [][]Button `json:"buttons,omitempty"`
	// To, when set, is the address the message was planned for, kept
	// instead of the person's current one: a notice that a chat was
	// re-bound goes to the chat it was bound to before.
	To *Address `json:"to,omitempty"`
	// HearingAgencyID names the hearing and agency a head's message is
	// about (notice, reminder, reschedule, cancel): e-mail attaches the
	// hearing as an .ics event and signs answer links for it.
	HearingAgencyID int64 `json:"hearing_agency_id,omitempty"`
	// Markup, when set, is the message's reply markup in the provider's
	// own JSON, for conversation replies that need more than buttons (a
	// Telegram reply keyboard, or its removal); it replaces Buttons.
	Markup json.RawMessage `json:"markup,omitempty"`
	// Edit, when set, names a message sent earlier (a provider message id,
	// as Delivery.ProviderMessageID reads) that this one replaces: its
	// buttons on Telegram, its whole content on Slack (chat.update).
	Edit string `json:"edit,omitempty"`
	// Subject and HTML, when set, are an e-mail's subject and its HTML
	// body, rendered by duban's own templates (the bulletin's tables);
	// Text stays the plain part and what other channels send.
	Subject string `json:"subject,omitempty"`
	HTML    string `json:"html,omitempty"`
	// Attachments go with an e-mail (the bulletin's workbook); other
	// channels leave them out.
	Attachments []Attachment `json:"attachments,omitempty"`
}

// Attachment is a file sent with an e-mail.
type Attachment struct {
	Name string `json:"name"`
	Type string `json:"type"` // MIME type
	Data []byte `json:"data"`
}

// Address is where a message goes on one channel.
type Address struct {
	PersonID       int64
	Name           string
	TelegramChatID int64
	SlackUserID    string
	Email          string
	Phone          string
	// Locale is the person's language, for what a channel writes around
	// the message (an e-mail's subject and links).
	Locale string
}

// Delivery is one message to one person over one channel: the write-ahead
// log of everything duban sends.
type Delivery struct {
	ID                int64          `db:"id" json:"id"`
	DedupeKey         string         `db:"dedupe_key" json:"dedupe_key"`
	PersonID          int64          `db:"person_id" json:"person_id,omitempty"`
	Channel           Channel        `db:"channel" json:"channel"`
	Kind              MessageKind    `db:"kind" json:"kind"`
	Ref               string         `db:"ref" json:"ref"`
	Payload           string         `db:"payload" json:"-"` // JSON of Message
	Status            DeliveryStatus `db:"status" json:"status"`
	Attempts          int            `db:"attempts" json:"attempts"`
	Resends           int            `db:"resends" json:"resends"`
	ProviderMessageID string         `db:"provider_message_id" json:"provider_message_id,omitempty"`
	Error             string         `db:"error" json:"error,omitempty"`
	ReminderID        *int64         `db:"reminder_id" json:"reminder_id,omitempty"`
	HearingAgencyID   *int64         `db:"hearing_agency_id" json:"-"`
	// ComplaintID is set on a message to a complaint's reporter, who is
	// not a person in duban (PersonID is 0 then).
	ComplaintID *int64     `db:"complaint_id" json:"complaint_id,omitempty"`
	CreatedAt   time.Time  `db:"created_at" json:"created_at"`
	UpdatedAt   time.Time  `db:"updated_at" json:"updated_at"`
	SentAt      *time.Time `db:"sent_at" json:"sent_at,omitempty"`
	// Sender names the process that marked the delivery sending; its
	// lease says whether it is alive (storage.TakeOverSending).
	Sender string `db:"sender" json:"-"`
	// PossibleRepeat is set on a delivery sent again after its sender
	// crashed mid-call, or after a connection dropped once the request had
	// left: the recipient may have had it already, and the message starts
	// with a line saying so.
	PossibleRepeat bool `db:"possible_repeat" json:"possible_repeat,omitempty"`
}
