package notifier

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/cityhall/duban"
	"github.com/cityhall/duban/redact"
)

// Webhook headers.
const (
	// SignatureHeader carries "sha256=" and the hex HMAC-SHA256 of the
	// exact request body, keyed with the shared secret.
	SignatureHeader = "X-Duban-Signature"
	// TimestampHeader carries the send time in unix seconds.
	TimestampHeader = "X-Duban-Timestamp"

	signaturePrefix = "sha256="
	// webhookTimeout bounds a call when the caller gives no client.
	webhookTimeout = 10 * time.Second
	// webhookMaxAnswer is as much of an answer as is read.
	webhookMaxAnswer = 64 << 10
)

// Webhook is the generic channel: it POSTs every message as signed JSON to
// one URL, typically a relay that passes it on to WeCom, DingTalk or Feishu
// robots. It reaches every address. It keeps no rate limit of its own (the
// relay's limits are unknown here); a 429 from the relay is honoured.
//
// The body is
//
//	{"kind": "reminder", "ref": "(2025)…", "text": "…", "buttons": [[{"label","data","style"}]],
//	 "to": {"person_id": 7, "name": "王五"}, "timestamp": 1748913000}
//
// and carries no personal data beyond the recipient's name: no phone, no
// e-mail.
//
// Signing: SignatureHeader holds the HMAC of the exact body bytes, so a
// receiver checks it with the body and the secret alone (Verify). The
// timestamp is inside the signed material because it is in the body, as
// "timestamp"; TimestampHeader repeats it, unsigned, for routing and logs.
// A receiver that refuses replays compares the body's timestamp, never the
// header's, with its own clock.
type Webhook struct {
	url    string
	secret string
	client *http.Client
	now    func() time.Time
}

// NewWebhook returns a sender posting to url, signing with secret. A nil
// client means a default one with a 10-second timeout.
func NewWebhook(url string, secret string, client *http.Client) *Webhook {
	if client == nil {
		client = &http.Client{Timeout: webhookTimeout}
	}
	return &Webhook{url: url, secret: secret, client: client, now: time.Now}
}

type webhookBody struct {
	Kind      duban.MessageKind `json:"kind"`
	Ref       string            `json:"ref"`
	Text      string            `json:"text"`
	Buttons   [][]duban.Button  `json:"buttons"`
	To        webhookRecipient  `json:"to"`
	Timestamp int64             `json:"timestamp"`
}

type webhookRecipient struct {
	PersonID int64  `json:"person_id"`
	Name     string `json:"name"`
}

// Channel returns duban.ChannelWebhook.
func (w *Webhook) Channel() duban.Channel { return duban.ChannelWebhook }

// Reachable is true: the relay decides where a message goes.
func (w *Webhook) Reachable(duban.Address) bool { return true }

// Send posts msg for addr. The provider id is the relay's "id" when its
// answer is JSON holding one, else "webhook:" and the signature's first 16
// hex digits, which name the exact body sent.
func (w *Webhook) Send(ctx context.Context, addr duban.Address, msg duban.Message) (string, error) {
	now := w.now().Unix()
	buttons := msg.Buttons
	if buttons == nil {
		buttons = [][]duban.Button{} // always a list, for receivers
	}
	body, err := json.Marshal(webhookBody{
		Kind: msg.Kind, Ref: msg.Ref, Text: msg.Text, Buttons: buttons,
		To:        webhookRecipient{PersonID: addr.PersonID, Name: addr.Name},
		Timestamp: now,
	})
	if err != nil {
		return "", &PermanentError{Channel: duban.ChannelWebhook, Err: fmt.Errorf("webhook: encode: %w", err)}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url, bytes.NewReader(body))
	if err != nil {
		return "", &PermanentError{Channel: duban.ChannelWebhook, Err: w.mask(fmt.Errorf("webhook: build request: %w", stripURL(err)))}
	}
	sig := Sign(w.secret, body)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(SignatureHeader, sig)
	req.Header.Set(TimestampHeader, strconv.FormatInt(now, 10))

	resp, err := w.client.Do(req)
	if err != nil {
		return "", w.mask(fmt.Errorf("webhook: post: %w", stripURL(err)))
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, webhookMaxAnswer))

	if err := w.classify(resp); err != nil {
		return "", err
	}
	var relay struct {
		ID json.RawMessage `json:"id"`
	}
	if json.Unmarshal(answer, &relay) == nil && len(relay.ID) > 0 {
		var s string
		if json.Unmarshal(relay.ID, &s) == nil && s != "" {
			return s, nil
		}
		if id := string(relay.ID); id != "null" && !strings.HasPrefix(id, "{") && !strings.HasPrefix(id, "[") {
			return id, nil
		}
	}
	return "webhook:" + strings.TrimPrefix(sig, signaturePrefix)[:16], nil
}

// classify turns a non-2xx status into an error: 429 is a rate limit, 408
// and 5xx are transient, and every other status is permanent (a relay that
// refuses the request will refuse it again).
func (w *Webhook) classify(resp *http.Response) error {
	code := resp.StatusCode
	if code >= 200 && code < 300 {
		return nil
	}
	err := fmt.Errorf("webhook: post: relay answered %s", resp.Status)
	switch {
	case code == http.StatusTooManyRequests:
		return rateLimited(duban.ChannelWebhook, parseRetryAfter(resp.Header.Get("Retry-After"), w.now()), err)
	case code == http.StatusRequestTimeout, code >= 500:
		return err
	}
	return &PermanentError{Channel: duban.ChannelWebhook, Err: err}
}

// mask removes the URL from err, in case an error quotes it after all:
// relay keys often ride in its path or query. The secret needs no masking;
// it keys the HMAC and never travels.
func (w *Webhook) mask(err error) error {
	return redact.Error(err, w.url)
}

// stripURL drops the URL that net/http puts in its errors, keeping the
// cause (and with it errors.Is for timeouts and cancellation).
func stripURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// parseRetryAfter reads a Retry-After header, in seconds or as an HTTP
// date; 0 when it is absent or unreadable.
func parseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if secs, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && secs > 0 {
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// Sign returns the X-Duban-Signature value of body: "sha256=" and the hex
// HMAC-SHA256 of body keyed with secret.
func Sign(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return signaturePrefix + hex.EncodeToString(mac.Sum(nil))
}

// Verify reports whether header is body's signature under secret, comparing
// in constant time.
func Verify(secret string, body []byte, header string) bool {
	sig, ok := strings.CutPrefix(strings.TrimSpace(header), signaturePrefix)
	if !ok {
		return false
	}
	got, err := hex.DecodeString(sig)
	if err != nil {
		return false
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return hmac.Equal(got, mac.Sum(nil))
}
