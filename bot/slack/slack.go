// Package slack is duban's Slack app: the /duban command, the buttons of
// reminder and supervision messages and the modals they open
// (interactions.go, modals.go), and the complaint queue (complaints*.go,
// supervision.go), over HTTP or Socket Mode (socket.go). Each request is
// handled once, in one transaction with its id (bot.Once), and answered
// after the commit; the direct messages it leads to are planned in that
// transaction and sent through the delivery log (jobs.Outbox.PlanReply).
// It imports slack-go under the same name, slack.
package slack

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/bot"
	"github.com/cityhall/duban/i18n"
	"github.com/cityhall/duban/jobs"
	"github.com/cityhall/duban/redact"
	"github.com/cityhall/duban/storage"
)

// sourceSlack names Slack's request ids in processed_updates.
const sourceSlack = "slack"

// replyTimeout bounds the posts to a response_url made after a request
// was answered.
const replyTimeout = 30 * time.Second

// Deps is what the Slack app needs.
type Deps struct {
	Client        *slack.Client // slack.New(botToken, slack.OptionAPIURL(APIURL)), made by the caller
	APIURL        string        // the Web API base URL of Client, for the Socket Mode client; empty is Slack's
	SigningSecret string        // verifies every HTTP request from Slack
	Store         *storage.Store
	Hearings      *jobs.Hearings   // its Outbox sends the direct messages
	Complaints    *jobs.Complaints // the complaint queue; nil turns its commands off
	T             *i18n.Bundle
	Clock         duban.Clock
	Loc           *time.Location // local time of the courts, for the times typed in modals
	Log           *slog.Logger
	// HTTPClient posts to response_url; a client with a 10-second timeout
	// when nil.
	HTTPClient *http.Client
}

// App serves the Slack app: the /duban command, the buttons of reminder
// direct messages and the modals they open, over HTTP (CommandsHandler,
// InteractionsHandler, EventsHandler) or Socket Mode (RunSocketMode), both
// through the same functions.
type App struct {
	client   *slack.Client
	apiURL   string
	secret   string
	store    *storage.Store
	hearings *jobs.Hearings
	outbox   *jobs.Outbox
	cs       *jobs.Complaints
	t        *i18n.Bundle
	clock    duban.Clock
	loc      *time.Location
	log      *slog.Logger
	http     *http.Client
}

// New returns the Slack app of d.
func New(d Deps) *App {
	s := &App{client: d.Client, apiURL: d.APIURL, secret: d.SigningSecret, store: d.Store, hearings: d.Hearings,
		outbox: d.Hearings.Outbox, cs: d.Complaints, t: d.T, clock: d.Clock, loc: d.Loc, log: d.Log, http: d.HTTPClient}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.clock == nil {
		s.clock = duban.SystemClock{}
	}
	if s.loc == nil {
		s.loc = time.Local
	}
	if s.http == nil {
		s.http = &http.Client{Timeout: 10 * time.Second}
	}
	return s
}

// verified wraps next with Slack's request signing: the signature over the
// body and a timestamp within five minutes, checked before anything else
// (401 otherwise). The body, read once by bot.ReadPost, is handed to
// next and restored on the request.
// https://api.slack.com/authentication/verifying-requests-from-slack
func (s *App) verified(next func(w http.ResponseWriter, r *http.Request, body []byte)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sv, err := slack.NewSecretsVerifier(r.Header, s.secret)
		if err != nil {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		body, ok := bot.ReadPost(w, r)
		if !ok {
			return
		}
		if _, err := sv.Write(body); err != nil || sv.Ensure() != nil {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		next(w, r, body)
	})
}

// writeJSON answers v as JSON.
func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_ = json.NewEncoder(w).Encode(v)
}

// ephemeral is a message only the user who acted sees: the answer to a
// slash command, or a post to a response_url.
type ephemeral struct {
	ResponseType    string `json:"response_type,omitempty"`
	Text            string `json:"text"`
	ReplaceOriginal bool   `json:"replace_original"`
}

// tell is the ephemeral message of id in locale, escaped for Slack.
func (s *App) tell(locale, id string, data map[string]any) *ephemeral {
	return &ephemeral{ResponseType: slack.ResponseTypeEphemeral, Text: escape(s.t.T(locale, id, data))}
}

// person finds who a Slack user is; nil when nobody is bound to the id.
func (s *App) person(ctx context.Context, st *storage.Store, userID string) (*duban.Person, error) {
	if userID == "" {
		return nil, nil
	}
	return bot.Optional(st.PersonBySlackUser(ctx, userID))
}

// localeOf is the person's language, zh-CN for anyone else.
func localeOf(p *duban.Person) string {
	if p != nil && p.Locale != "" {
		return p.Locale
	}
	return duban.LocaleZH
}

// slackEscaper escapes what Slack reads as markup in text.
// https://api.slack.com/reference/surfaces/formatting#escaping
var slackEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// escape keeps names and case text from mentioning @channel or forging links.
func escape(s string) string { return slackEscaper.Replace(s) }

// later runs fns after the request was answered (Slack wants an answer
// within three seconds), each failure logged.
func (s *App) later(fns ...func(ctx context.Context) error) {
	if len(fns) == 0 {
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), replyTimeout)
		defer cancel()
		for _, f := range fns {
			if err := f(ctx); err != nil {
				s.log.Warn("slack: reply failed", slog.Any("error", err))
			}
		}
	}()
}

// respond posts msg to a response_url. The URL is a credential for a while,
// so it is masked from the error.
func (s *App) respond(url string, msg *ephemeral) func(context.Context) error {
	return func(ctx context.Context) error {
		if url == "" {
			return nil
		}
		wm := &slack.WebhookMessage{Text: msg.Text, ResponseType: msg.ResponseType, ReplaceOriginal: msg.ReplaceOriginal}
		if err := slack.PostWebhookCustomHTTPContext(ctx, url, s.http, wm); err != nil {
			return redact.Error(fmt.Errorf("slack: post to response_url: %w", err), url)
		}
		return nil
	}
}

// planDirect plans text, in locale, as a reply in the direct messages of
// userID with the app, inside tx: the transaction of the change it
// reports, so that the message is committed with the change or not at
// all. key makes it unique (directKey): planning it again yields the
// first. The caller hands it to the outbox after the commit (send); it
// then takes the road of every message, through the delivery log and
// Slack's limit, retried after a 429 or a 5xx (README.md, Reliability).
func (s *App) planDirect(ctx context.Context, tx *storage.Store, key, userID, locale, text string) (*duban.Delivery, error) {
	to := duban.Address{SlackUserID: userID, Locale: locale}
	return s.outbox.PlanReply(ctx, tx, key, duban.ChannelSlack, to, duban.Message{Text: text})
}

// directKey is the dedupe key of the direct message answering the
// submission of view v: its id alone, which stays the same when Slack
// delivers the submission again, even with another hash, so that one
// modal is answered once.
func directKey(v slack.View) string { return "slack:view:" + v.ID + ":dm" }

// send hands the direct messages planned for a request to the outbox once
// they are committed: the workers send them, on the conversation queue
// served ahead of bulk messages; a failure to enqueue leaves them queued
// for reconcile.
func (s *App) send(ctx context.Context, ds ...*duban.Delivery) {
	s.outbox.EnqueueReplies(ctx, ds...)
}

// markOnce runs fn at most once for the request id, as bot.Once does.
func (s *App) markOnce(ctx context.Context, id string, fn func(tx *storage.Store) error) (bool, error) {
	return bot.Once(ctx, s.store, sourceSlack, id, fn)
}
