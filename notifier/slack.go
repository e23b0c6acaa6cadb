package notifier

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/slack-go/slack"
	"golang.org/x/time/rate"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/redact"
)

// Slack message limits, in characters.
const (
	// https://api.slack.com/reference/block-kit/blocks#section: text is
	// at most 3000 characters.
	slackMaxSectionText = 3000
	// https://api.slack.com/methods/chat.postMessage#truncating: text over
	// 40,000 characters is truncated, longer still is msg_too_long.
	slackMaxText = 40000
	// https://api.slack.com/reference/block-kit/block-elements#button: the
	// label is at most 75 characters.
	slackMaxButtonLabel = 75
)

// slackPermanent lists the Web API error codes that no retry can cure
// (https://api.slack.com/methods/chat.postMessage#errors).
var slackPermanent = map[string]bool{
	"channel_not_found":   true,
	"user_not_found":      true,
	"not_in_channel":      true,
	"is_archived":         true,
	"account_inactive":    true,
	"invalid_auth":        true,
	"not_authed":          true,
	"token_revoked":       true,
	"token_expired":       true,
	"missing_scope":       true,
	"msg_too_long":        true,
	"invalid_blocks":      true,
	"no_text":             true,
	"cannot_dm_bot":       true,
	"restricted_action":   true,
	"message_not_found":   true, // chat.update
	"cant_update_message": true, // chat.update
	"edit_window_closed":  true, // chat.update
}

// Slack sends Block Kit messages through the Web API: to a person's direct
// messages (posting to a user id lands in the bot's DM with them), and to
// the supervision channel, where messages are updated in place.
type Slack struct {
	client   *slack.Client
	interval time.Duration // the least time between two posts to one channel
	limiter  *KeyedLimiter
	shared   *sharedKeyedLimiter // when set, instead of limiter
	secrets  []string
	now      func() time.Time
}

// SlackOption configures a Slack sender.
type SlackOption func(*Slack)

// WithSlackSecrets names secrets (the bot token) to mask from every error.
// slack-go sends the token in the request body, not the URL, so no error is
// known to carry it; this keeps it so.
func WithSlackSecrets(secrets ...string) SlackOption {
	return func(s *Slack) { s.secrets = append(s.secrets, secrets...) }
}

// WithSlackSharedLimits keeps Slack's per-channel limit in Redis under keys
// starting with prefix, shared by every replica posting as the same bot,
// instead of in this process.
func WithSlackSharedLimits(rdb redis.UniversalClient, prefix string) SlackOption {
	return func(s *Slack) {
		s.shared = &sharedKeyedLimiter{rdb: rdb, prefix: prefix + "slack:", sleepFor: sleep} // its interval set by NewSlack
	}
}

// WithSlackChannelInterval sets the least time between two posts to one
// channel (or one user's direct messages), 1.1 s by default (Slack's one
// a second, with a margin); 0 lifts it. For tests of conversations only,
// which would otherwise wait a second between the posts to one user.
func WithSlackChannelInterval(d time.Duration) SlackOption {
	return func(s *Slack) { s.interval = d }
}

// wait blocks until key's next slot comes, or ctx ends.
func (s *Slack) wait(ctx context.Context, key string) error {
	yield := time.Duration(0)
	if yielding(ctx) {
		yield = slackYieldAfter
	}
	var busy time.Duration
	if s.shared != nil {
		var err error
		if busy, err = s.shared.waitWithin(ctx, key, yield); err != nil {
			return err
		}
	} else {
		now := s.now()
		if ready := s.limiter.ReadyAt(key, now).Sub(now); yield > 0 && ready > yield {
			busy = ready
		} else if err := keyedWait(ctx, s.limiter, key, s.now); err != nil {
			return err
		}
	}
	if busy > 0 {
		// Come back when the channel is free, give or take: the posts
		// told to come back together would otherwise all come back at
		// that moment, one take the slot and the rest be told again.
		return &RateLimitError{Channel: duban.ChannelSlack, RetryAfter: busy + rand.N(busy/2+1), Err: errChatBusy}
	}
	return nil
}

// NewSlack returns a sender using client.
func NewSlack(client *slack.Client, opts ...SlackOption) *Slack {
	s := &Slack{client: client, interval: slackChannelInterval, now: time.Now}
	for _, o := range opts {
		o(s)
	}
	s.limiter = NewKeyedLimiter(rate.Every(s.interval), 1)
	if s.shared != nil {
		s.shared.interval = s.interval
	}
	return s
}

// Channel returns duban.ChannelSlack.
func (s *Slack) Channel() duban.Channel { return duban.ChannelSlack }

// Reachable reports whether addr has a Slack user id.
func (s *Slack) Reachable(addr duban.Address) bool { return addr.SlackUserID != "" }

// Send posts msg to addr's direct messages (or to the channel whose id
// addr.SlackUserID holds: Slack posts to either) and returns "channel:ts",
// the channel and timestamp that chat.update needs. A message with Edit
// replaces the message it names instead (chat.update).
func (s *Slack) Send(ctx context.Context, addr duban.Address, msg duban.Message) (string, error) {
	if !s.Reachable(addr) {
		return "", unreachable(duban.ChannelSlack)
	}
	if msg.Edit != "" {
		channel, ts, ok := strings.Cut(msg.Edit, ":")
		if !ok {
			return "", &PermanentError{Channel: duban.ChannelSlack, Err: fmt.Errorf("slack: message id %q is not channel:ts", msg.Edit)}
		}
		if err := s.update(ctx, channel, ts, msg, reserved(ctx)); err != nil {
			return "", err
		}
		return msg.Edit, nil
	}
	channel, ts, err := s.post(ctx, addr.SlackUserID, msg, reserved(ctx))
	if err != nil {
		return "", err
	}
	return channel + ":" + ts, nil
}

// Wait waits for the next slot to post to addr's direct messages, then
// runs prepare (see Waiter): Slack's one post a second per channel leaves
// a margin of a tenth of a second, which prepare's few milliseconds after
// the slot do not come near.
func (s *Slack) Wait(ctx context.Context, addr duban.Address, prepare func() error) error {
	if err := s.wait(ctx, addr.SlackUserID); err != nil {
		return fmt.Errorf("slack: wait for rate limit: %w", err)
	}
	if prepare != nil {
		return prepare()
	}
	return nil
}

// PostChannel posts msg to channel (the supervision channel) and returns its
// timestamp, for Update.
func (s *Slack) PostChannel(ctx context.Context, channel string, msg duban.Message) (string, error) {
	_, ts, err := s.post(ctx, channel, msg, false)
	return ts, err
}

func (s *Slack) post(ctx context.Context, channel string, msg duban.Message, slotHeld bool) (string, string, error) {
	if !slotHeld {
		if err := s.wait(ctx, channel); err != nil {
			return "", "", fmt.Errorf("slack: wait for rate limit: %w", err)
		}
	}
	respChannel, ts, err := s.client.PostMessageContext(ctx, channel, slackMessage(msg)...)
	if err != nil {
		return "", "", s.classify("post message", err)
	}
	return respChannel, ts, nil
}

// Update replaces the message at ts in channel with msg (chat.update).
func (s *Slack) Update(ctx context.Context, channel, ts string, msg duban.Message) error {
	return s.update(ctx, channel, ts, msg, false)
}

func (s *Slack) update(ctx context.Context, channel, ts string, msg duban.Message, slotHeld bool) error {
	if !slotHeld {
		if err := s.wait(ctx, channel); err != nil {
			return fmt.Errorf("slack: wait for rate limit: %w", err)
		}
	}
	if _, _, _, err := s.client.UpdateMessageContext(ctx, channel, ts, slackMessage(msg)...); err != nil {
		return s.classify("update message", err)
	}
	return nil
}

// slackMessage renders msg as a section of mrkdwn text and one actions block
// per row of buttons, with the plain text as the notification fallback.
// Text is escaped (&, <, >) so that a name or a complaint cannot mention
// @channel or forge a link.
func slackMessage(msg duban.Message) []slack.MsgOption {
	blocks := []slack.Block{slack.NewSectionBlock(
		slack.NewTextBlockObject(slack.MarkdownType, escapeTruncate(msg.Text, slackMaxSectionText), false, false),
		nil, nil)}
	for _, row := range msg.Buttons {
		var elements []slack.BlockElement
		for _, b := range row {
			label := slack.NewTextBlockObject(slack.PlainTextType, duban.Truncate(b.Label, slackMaxButtonLabel), true, false)
			// Slack wants action_ids unique within a block; Data is unique.
			btn := slack.NewButtonBlockElement(b.Data, b.Data, label)
			switch b.Style {
			case string(slack.StylePrimary):
				btn.Style = slack.StylePrimary
			case string(slack.StyleDanger):
				btn.Style = slack.StyleDanger
			}
			elements = append(elements, btn)
		}
		if len(elements) > 0 {
			blocks = append(blocks, slack.NewActionBlock("", elements...))
		}
	}
	return []slack.MsgOption{
		slack.MsgOptionText(escapeTruncate(msg.Text, slackMaxText), false),
		slack.MsgOptionBlocks(blocks...),
	}
}

// classify sorts a Web API error into a rate limit, a permanent error or a
// transient one, with the secrets masked first.
func (s *Slack) classify(op string, err error) error {
	wrapped := redact.Error(fmt.Errorf("slack: %s: %w", op, err), s.secrets...)
	var rl *slack.RateLimitedError
	if errors.As(err, &rl) {
		return rateLimited(duban.ChannelSlack, rl.RetryAfter, wrapped)
	}
	var sc slack.StatusCodeError
	if errors.As(err, &sc) {
		switch {
		case sc.Code == http.StatusTooManyRequests: // without Retry-After
			return rateLimited(duban.ChannelSlack, 0, wrapped)
		case sc.Code >= 500, sc.Code == http.StatusRequestTimeout:
			return wrapped
		case sc.Code >= 400: // a wrong API URL, for every message alike
			return &PermanentError{Channel: duban.ChannelSlack, Err: wrapped}
		}
		return wrapped
	}
	code := err.Error()
	var se slack.SlackErrorResponse
	if errors.As(err, &se) {
		code = se.Err
	}
	switch {
	case code == "ratelimited":
		return rateLimited(duban.ChannelSlack, 0, wrapped)
	case slackPermanent[code]:
		return &PermanentError{Channel: duban.ChannelSlack, Err: wrapped}
	}
	return wrapped
}

// slackEscapes is what Slack needs escaped in text
// (https://api.slack.com/reference/surfaces/formatting#escaping).
var slackEscapes = map[rune]string{'&': "&amp;", '<': "&lt;", '>': "&gt;"}

// escapeTruncate escapes s for Slack and cuts it to at most limit
// characters, never inside an escape, ending it with an ellipsis when cut.
func escapeTruncate(s string, limit int) string {
	var b strings.Builder
	n := 0
	budget := limit - 1 // room for the ellipsis
	cut := -1
	for _, r := range s {
		piece, ok := slackEscapes[r]
		if !ok {
			piece = string(r)
		}
		size := len([]rune(piece))
		if n+size > budget && cut < 0 {
			cut = b.Len()
		}
		n += size
		if n > limit {
			return b.String()[:cut] + ellipsis
		}
		b.WriteString(piece)
	}
	return b.String()
}
