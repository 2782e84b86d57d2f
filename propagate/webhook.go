package propagate

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/forgetkit/forget"
)

// The Standard Webhooks headers (https://www.standardwebhooks.com).
const (
	HeaderWebhookID        = "webhook-id"
	HeaderWebhookTimestamp = "webhook-timestamp"
	HeaderWebhookSignature = "webhook-signature"
)

// EventType is the type of the webhook payload.
const EventType = "customer.forgotten"

// secretPrefix starts a Standard Webhooks secret: whsec_<base64 key>.
const secretPrefix = "whsec_"

// Webhook POSTs events to a URL, signed as Standard Webhooks prescribe:
// webhook-id is the event id (the same on every attempt, so receivers
// drop repeats by it), webhook-timestamp the attempt's Unix time, and
// webhook-signature "v1,<base64 HMAC-SHA256 of id.timestamp.body>" under
// the shared secret, or under each of several secrets, space-separated,
// while one is rotated. The body is
//
//	{"type":"customer.forgotten","timestamp":"<the forget's time>","data":<the receipt>}
//
// A 2xx answer is a delivery; anything else, redirects included, is a
// failure of class http_<status>. 410 Gone says the receiver wants no
// more events: [Consume] stops delivering to it. 429, 502, 503 and 504
// ask to slow down: Consume retries after their Retry-After, without
// counting a failure.
type Webhook struct {
	url    string
	keys   [][]byte
	client *http.Client
	now    func() time.Time
}

// NewWebhook returns a webhook to rawURL (http or https) signed with
// secret (whsec_<base64>, see [ParseSecret]), or with each of several
// secrets separated by spaces or new lines, in their order: a receiver
// that knows any one of them accepts the requests, so a secret can be
// rotated without downtime. Each attempt is bounded by timeout (0: 10
// seconds). No secret is ever logged nor part of an error.
func NewWebhook(rawURL, secret string, timeout time.Duration) (*Webhook, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("propagate: webhook URL: want an absolute http:// or https:// URL")
	}
	keys, err := parseSecrets(secret)
	if err != nil {
		return nil, err
	}
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	client := &http.Client{
		Timeout: timeout,
		// A redirect is the receiver's mistake: following it would send
		// the event somewhere nobody configured.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return &Webhook{url: u.String(), keys: keys, client: client, now: time.Now}, nil
}

// Where returns the webhook's scheme and host, for logs: its path or
// query may hold a token.
func (w *Webhook) Where() string {
	u, _ := url.Parse(w.url)
	return u.Scheme + "://" + u.Host
}

// Deliver is a [Handler]: it POSTs rc and returns nil on a 2xx answer, an
// [*HTTPStatusError] on another, or the transport's error.
func (w *Webhook) Deliver(ctx context.Context, rc forget.Receipt) error {
	body, err := Payload(rc)
	if err != nil {
		return err
	}
	ts := w.now()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "forget-deliver")
	req.Header.Set(HeaderWebhookID, rc.EventID)
	req.Header.Set(HeaderWebhookTimestamp, strconv.FormatInt(ts.Unix(), 10))
	sigs := make([]string, len(w.keys))
	for i, key := range w.keys {
		sigs[i] = Sign(key, rc.EventID, ts, body)
	}
	req.Header.Set(HeaderWebhookSignature, strings.Join(sigs, " "))
	resp, err := w.client.Do(req)
	if err != nil {
		// The error may quote the URL, which may hold a token: keep its
		// class only.
		return classError{class: ErrorClass(err), msg: "propagate: webhook " + w.Where() + ": " + ErrorClass(err)}
	}
	// Read a little, so that the connection can be reused; never keep it.
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return &HTTPStatusError{StatusCode: resp.StatusCode, RetryAfter: retryAfter(resp.Header.Get("Retry-After"), w.now())}
	}
	return nil
}

// HTTPStatusError is a webhook's answer other than 2xx.
type HTTPStatusError struct {
	StatusCode int
	// RetryAfter is the answer's Retry-After, from now; 0 when it has
	// none, or one in the past or unreadable.
	RetryAfter time.Duration
}

// Gone reports whether the answer is 410 Gone: the receiver wants no
// more events.
func (e *HTTPStatusError) Gone() bool { return e.StatusCode == http.StatusGone }

// Throttled reports whether the answer asks to slow down (429, 502, 503,
// 504, as the Standard Webhooks spec says), and its Retry-After.
func (e *HTTPStatusError) Throttled() (time.Duration, bool) {
	switch e.StatusCode {
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return e.RetryAfter, true
	}
	return 0, false
}

// retryAfter reads a Retry-After header: delay-seconds or an HTTP date.
// Bounds are Consume's business; absurd numbers are cut here only so as
// not to overflow.
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if sec, err := strconv.ParseUint(v, 10, 64); err == nil {
		return time.Duration(min(sec, 366*24*3600)) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return min(t.Sub(now), 366*24*time.Hour)
	}
	return 0
}

func (e *HTTPStatusError) Error() string {
	return fmt.Sprintf("propagate: webhook answered %d", e.StatusCode)
}

// Class is http_<status>.
func (e *HTTPStatusError) Class() string { return "http_" + strconv.Itoa(e.StatusCode) }

type payload struct {
	Type      string         `json:"type"`
	Timestamp time.Time      `json:"timestamp"`
	Data      forget.Receipt `json:"data"`
}

// Payload returns the webhook body of rc: the same bytes on every
// attempt.
func Payload(rc forget.Receipt) ([]byte, error) {
	return json.Marshal(payload{Type: EventType, Timestamp: rc.At.UTC(), Data: rc})
}

// parseSecrets decodes one or several secrets, separated by white space.
func parseSecrets(s string) ([][]byte, error) {
	fields := strings.Fields(s)
	if len(fields) == 0 {
		return nil, errors.New("propagate: webhook secret: none given")
	}
	if len(fields) > 10 {
		return nil, fmt.Errorf("propagate: webhook secret: %d secrets, want at most 10", len(fields))
	}
	keys := make([][]byte, len(fields))
	for i, f := range fields {
		key, err := ParseSecret(f)
		if err != nil {
			if len(fields) > 1 {
				return nil, fmt.Errorf("propagate: webhook secret %d of %d is not valid: %w", i+1, len(fields), err)
			}
			return nil, err
		}
		keys[i] = key
	}
	return keys, nil
}

// ParseSecret decodes a Standard Webhooks secret, whsec_ followed by the
// base64 key (the prefix may be left out), of 16 to 1024 bytes. Its errors
// never quote it.
func ParseSecret(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(s, secretPrefix)
	key, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, errors.New("propagate: webhook secret: want whsec_ followed by base64")
	}
	if len(key) < 16 || len(key) > 1024 {
		return nil, fmt.Errorf("propagate: webhook secret: the key has %d bytes, want 16 to 1024 (24 or more recommended)", len(key))
	}
	return key, nil
}

// NewSecret returns a fresh secret of 32 random bytes, whsec_<base64>.
func NewSecret() string {
	key := make([]byte, 32)
	rand.Read(key) // never fails (crypto/rand)
	return secretPrefix + base64.StdEncoding.EncodeToString(key)
}

// Sign returns the webhook-signature value of one attempt:
// "v1,<base64 HMAC-SHA256(key, id.timestamp.body)>".
func Sign(key []byte, id string, ts time.Time, body []byte) string {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id))
	mac.Write([]byte{'.'})
	mac.Write([]byte(strconv.FormatInt(ts.Unix(), 10)))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// Verify checks a received webhook as a receiver should: the three
// headers present, the timestamp within tolerance of now (5 minutes is
// usual), and one of the space-separated signatures matching, compared
// in constant time. secret may hold several secrets, separated by white
// space, as while a receiver rotates its own: a signature under any of
// them is enough. It returns the webhook-id, by which the receiver
// drops repeats.
func Verify(secret string, h http.Header, body []byte, now time.Time, tolerance time.Duration) (string, error) {
	keys, err := parseSecrets(secret)
	if err != nil {
		return "", err
	}
	id, tsText, sigs := h.Get(HeaderWebhookID), h.Get(HeaderWebhookTimestamp), h.Get(HeaderWebhookSignature)
	if id == "" || tsText == "" || sigs == "" {
		return "", errors.New("propagate: webhook: missing webhook-id, webhook-timestamp or webhook-signature")
	}
	sec, err := strconv.ParseInt(tsText, 10, 64)
	if err != nil {
		return "", errors.New("propagate: webhook: bad webhook-timestamp")
	}
	ts := time.Unix(sec, 0)
	if d := now.Sub(ts); d > tolerance || d < -tolerance {
		return "", errors.New("propagate: webhook: timestamp outside the tolerance")
	}
	for _, key := range keys {
		want := []byte(Sign(key, id, ts, body))
		for _, sig := range strings.Fields(sigs) {
			if subtle.ConstantTimeCompare([]byte(sig), want) == 1 {
				return id, nil
			}
		}
	}
	return "", errors.New("propagate: webhook: no valid signature")
}
