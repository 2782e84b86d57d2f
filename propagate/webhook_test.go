package propagate_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/forgetkit/forget"
	"github.com/forgetkit/forget/propagate"
)

// secretValue stands for a personal value: no error may quote it.
const secretValue = "qzx-personal"

// The Standard Webhooks reference libraries' test vector.
const (
	vectorSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	vectorID     = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	vectorBody   = `{"test": 2432232314}`
	vectorSig    = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)

func TestSignMatchesStandardWebhooks(t *testing.T) {
	t.Parallel()
	key, err := propagate.ParseSecret(vectorSecret)
	if err != nil {
		t.Fatal(err)
	}
	if got := propagate.Sign(key, vectorID, time.Unix(1614265330, 0), []byte(vectorBody)); got != vectorSig {
		t.Fatalf("Sign = %s, want %s", got, vectorSig)
	}
}

func TestVerify(t *testing.T) {
	t.Parallel()
	now := time.Unix(1614265330, 0)
	headers := func(ts time.Time, sig string) http.Header {
		h := http.Header{}
		h.Set("webhook-id", vectorID)
		h.Set("webhook-timestamp", strconv.FormatInt(ts.Unix(), 10))
		h.Set("webhook-signature", sig)
		return h
	}
	if id, err := propagate.Verify(vectorSecret, headers(now, vectorSig), []byte(vectorBody), now, 5*time.Minute); err != nil || id != vectorID {
		t.Fatalf("Verify(valid) = %q, %v", id, err)
	}
	multi := "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= v2,abc " + vectorSig
	if _, err := propagate.Verify(vectorSecret, headers(now, multi), []byte(vectorBody), now, 5*time.Minute); err != nil {
		t.Errorf("Verify(several signatures, one valid) = %v", err)
	}
	for name, c := range map[string]struct {
		h      http.Header
		body   string
		secret string
		now    time.Time
	}{
		"tampered body": {headers(now, vectorSig), `{"test": 2432232315}`, vectorSecret, now},
		"wrong secret":  {headers(now, vectorSig), vectorBody, "whsec_" + "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", now},
		"old timestamp": {headers(now, vectorSig), vectorBody, vectorSecret, now.Add(6 * time.Minute)},
		"future":        {headers(now, vectorSig), vectorBody, vectorSecret, now.Add(-6 * time.Minute)},
		"no signature":  {headers(now, ""), vectorBody, vectorSecret, now},
		"bad timestamp": {http.Header{"Webhook-Id": {vectorID}, "Webhook-Timestamp": {"soon"}, "Webhook-Signature": {vectorSig}}, vectorBody, vectorSecret, now},
		"invalid sig":   {headers(now, "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc="), vectorBody, vectorSecret, now},
		"v2 of the sig": {headers(now, strings.Replace(vectorSig, "v1,", "v2,", 1)), vectorBody, vectorSecret, now},
		"no headers":    {http.Header{}, vectorBody, vectorSecret, now},
		"malformed key": {headers(now, vectorSig), vectorBody, "whsec_!!!", now},
		"key too short": {headers(now, vectorSig), vectorBody, "whsec_YWJj", now},
		"empty secret":  {headers(now, vectorSig), vectorBody, "", now},
		"secret as is":  {headers(now, vectorSig), vectorBody, "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSx", now},
		"id replaced":   {func() http.Header { h := headers(now, vectorSig); h.Set("webhook-id", "msg_other"); return h }(), vectorBody, vectorSecret, now},
		"huge timestamp": {func() http.Header {
			h := headers(now, vectorSig)
			h.Set("webhook-timestamp", "99999999999999999999")
			return h
		}(), vectorBody, vectorSecret, now},
		"negative offset": {func() http.Header { h := headers(now, vectorSig); h.Set("webhook-timestamp", "-1614265330"); return h }(), vectorBody, vectorSecret, now},
	} {
		_, err := propagate.Verify(c.secret, c.h, []byte(c.body), c.now, 5*time.Minute)
		if err == nil {
			t.Errorf("%s: Verify succeeded", name)
			continue
		}
		if c.secret != "" && strings.Contains(err.Error(), strings.TrimPrefix(c.secret, "whsec_")) {
			t.Errorf("%s: the error quotes the secret: %v", name, err)
		}
	}
}

func TestParseSecretAndNewSecret(t *testing.T) {
	t.Parallel()
	s := propagate.NewSecret()
	key, err := propagate.ParseSecret(s)
	if err != nil || len(key) != 32 || !strings.HasPrefix(s, "whsec_") {
		t.Fatalf("NewSecret() = %q: %d bytes, %v", s, len(key), err)
	}
	if s == propagate.NewSecret() {
		t.Fatal("NewSecret repeats itself")
	}
	if _, err := propagate.ParseSecret("  " + s + "\n"); err != nil {
		t.Errorf("a secret file's trailing newline: %v", err)
	}
	if _, err := propagate.ParseSecret("whsec_" + strings.Repeat("A", 1<<20)); err == nil {
		t.Error("a 768 KiB key was accepted")
	}
}

// TestWebhookDeliver: the request a receiver gets verifies, carries the
// event id as webhook-id and the receipt as data; answers other than 2xx,
// redirects, timeouts and refused connections are failures of their
// class.
func TestWebhookDeliver(t *testing.T) {
	t.Parallel()
	secret := propagate.NewSecret()
	var got struct {
		h    http.Header
		body []byte
	}
	var mu sync.Mutex
	status := http.StatusNoContent
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got.h = r.Header.Clone()
		got.body = readAll(r)
		answer := status
		mu.Unlock()
		switch answer {
		case http.StatusFound:
			http.Redirect(w, r, "/elsewhere", answer)
			return
		case 0: // hang past the client's timeout
			time.Sleep(300 * time.Millisecond)
			return
		}
		w.WriteHeader(answer)
		fmt.Fprint(w, "a body that must never be logged: "+secretValue)
	}))
	defer srv.Close()
	wh, err := propagate.NewWebhook(srv.URL+"/hook?token=t0ken", secret, 100*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if wh.Where() != srv.URL {
		t.Errorf("Where() = %q, want scheme and host only", wh.Where())
	}
	rc := forget.Receipt{EventID: "abcdefghijklmnopqrstuvwxyz", CustomerID: "191", At: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), FieldsErased: []forget.Field{"phone"}}
	ctx := context.Background()
	if err := wh.Deliver(ctx, rc); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	id, err := propagate.Verify(secret, got.h, got.body, time.Now(), 5*time.Minute)
	if err != nil || id != rc.EventID {
		t.Fatalf("the receiver cannot verify: %q, %v", id, err)
	}
	want, _ := propagate.Payload(rc)
	if string(got.body) != string(want) || !strings.Contains(string(got.body), `"type":"customer.forgotten"`) || !strings.Contains(string(got.body), `"customer_id":"191"`) {
		t.Errorf("body = %s", got.body)
	}
	for _, c := range []struct {
		status int
		class  string
	}{{500, "http_500"}, {404, "http_404"}, {http.StatusFound, "http_302"}, {0, "timeout"}} {
		status = c.status
		mu.Unlock()
		err := wh.Deliver(ctx, rc)
		mu.Lock()
		if cl := propagate.ErrorClass(err); cl != c.class {
			t.Errorf("answer %d: class %q (%v), want %s", c.status, cl, err, c.class)
		}
		if err != nil && (strings.Contains(err.Error(), "t0ken") || strings.Contains(err.Error(), secretValue)) {
			t.Errorf("answer %d: the error quotes the URL's token or the body: %v", c.status, err)
		}
	}
	// A port nobody listens on.
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	dead, _ := propagate.NewWebhook("http://"+addr+"/x?token=t0ken", secret, time.Second)
	if err := dead.Deliver(ctx, rc); propagate.ErrorClass(err) != "connection_refused" || strings.Contains(err.Error(), "t0ken") {
		t.Errorf("refused connection: %q (%v)", propagate.ErrorClass(err), err)
	}
	for _, bad := range []string{"", "ftp://x/y", "/relative", "http://", "::::"} {
		if _, err := propagate.NewWebhook(bad, secret, 0); err == nil {
			t.Errorf("NewWebhook(%q) succeeded", bad)
		}
	}
	if _, err := propagate.NewWebhook(srv.URL, "not a secret", 0); err == nil || strings.Contains(err.Error(), "not a secret") {
		t.Errorf("a bad secret: %v", err)
	}
}

func TestErrorClass(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		err  error
		want string
	}{
		{nil, ""},
		{context.DeadlineExceeded, "timeout"},
		{fmt.Errorf("wrapped: %w", context.DeadlineExceeded), "timeout"},
		{context.Canceled, "cancelled"},
		{&propagate.HTTPStatusError{StatusCode: 503}, "http_503"},
		{&net.DNSError{Err: "no such host", Name: "x"}, "dns"},
		{errors.New("anything at all"), "error"},
		{classed("Bad Class!"), "error"}, // not a token: ignored
		{classed("rate_limited"), "rate_limited"},
	} {
		if got := propagate.ErrorClass(c.err); got != c.want {
			t.Errorf("ErrorClass(%v) = %q, want %q", c.err, got, c.want)
		}
	}
}

type classed string

func (c classed) Error() string { return "classed: " + string(c) }
func (c classed) Class() string { return string(c) }

func readAll(r *http.Request) []byte {
	var b strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := r.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			return []byte(b.String())
		}
	}
}

// TestWebhookSeveralSecrets: a webhook given two secrets signs every
// request under both, in order, space-separated; a receiver that knows
// either one, or both, accepts it; one that knows neither refuses it.
func TestWebhookSeveralSecrets(t *testing.T) {
	old, current, other := propagate.NewSecret(), propagate.NewSecret(), propagate.NewSecret()
	var mu sync.Mutex
	var h http.Header
	var body []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		h, body = r.Header.Clone(), readAll(r)
	}))
	defer srv.Close()
	wh, err := propagate.NewWebhook(srv.URL, old+"\n"+current+"\n", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	rc := forget.Receipt{EventID: "abcdefghijklmnopqrstuvwxyz", CustomerID: "191", At: time.Now()}
	if err := wh.Deliver(context.Background(), rc); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	sigs := strings.Fields(h.Get("webhook-signature"))
	if len(sigs) != 2 {
		t.Fatalf("webhook-signature = %q, want two signatures", h.Get("webhook-signature"))
	}
	ts, _ := strconv.ParseInt(h.Get("webhook-timestamp"), 10, 64)
	for i, s := range []string{old, current} {
		key, _ := propagate.ParseSecret(s)
		if want := propagate.Sign(key, rc.EventID, time.Unix(ts, 0), body); sigs[i] != want {
			t.Errorf("signature %d is not under secret %d", i+1, i+1)
		}
	}
	for name, secret := range map[string]string{"old": old, "current": current, "both": current + " " + old, "other and old": other + "\n" + old} {
		if id, err := propagate.Verify(secret, h, body, time.Now(), 5*time.Minute); err != nil || id != rc.EventID {
			t.Errorf("a receiver with the %s secret: %q, %v", name, id, err)
		}
	}
	if _, err := propagate.Verify(other, h, body, time.Now(), 5*time.Minute); err == nil {
		t.Error("a receiver with another secret accepted the request")
	}
	for _, bad := range []string{"", " \n ", current + " not-base64!", current + " whsec_YWJj"} {
		_, err := propagate.NewWebhook(srv.URL, bad, 0)
		if err == nil {
			t.Errorf("NewWebhook(%q) succeeded", bad)
			continue
		}
		if strings.Contains(err.Error(), strings.TrimPrefix(current, "whsec_")) || strings.Contains(err.Error(), "not-base64") {
			t.Errorf("the error quotes a secret: %v", err)
		}
	}
}

// TestWebhookGoneAndThrottled: 410 says gone; 429, 502, 503 and 504 ask
// to slow down, with their Retry-After in seconds or as an HTTP date;
// other answers are plain failures.
func TestWebhookGoneAndThrottled(t *testing.T) {
	var mu sync.Mutex
	status, retryAfter := 0, ""
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if retryAfter != "" {
			w.Header().Set("Retry-After", retryAfter)
		}
		w.WriteHeader(status)
	}))
	defer srv.Close()
	wh, err := propagate.NewWebhook(srv.URL, propagate.NewSecret(), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	rc := forget.Receipt{EventID: "abcdefghijklmnopqrstuvwxyz", CustomerID: "191", At: time.Now()}
	inAMinute := time.Now().Add(time.Minute).UTC().Format(http.TimeFormat)
	for _, c := range []struct {
		status         int
		retryAfter     string
		gone, throttle bool
		min, max       time.Duration
	}{
		{410, "", true, false, 0, 0},
		{429, "2", false, true, 2 * time.Second, 2 * time.Second},
		{503, "120", false, true, 2 * time.Minute, 2 * time.Minute},
		{503, inAMinute, false, true, 58 * time.Second, time.Minute},
		{502, "", false, true, 0, 0},
		{504, "soon", false, true, 0, 0},
		{429, "Wed, 21 Oct 2015 07:28:00 GMT", false, true, 0, 0}, // past
		{429, "99999999999999999999999", false, true, 0, 0},
		{429, "31622400000", false, true, 366 * 24 * time.Hour, 366 * 24 * time.Hour},
		{500, "5", false, false, 0, 0},
		{404, "", false, false, 0, 0},
	} {
		mu.Lock()
		status, retryAfter = c.status, c.retryAfter
		mu.Unlock()
		err := wh.Deliver(context.Background(), rc)
		var he *propagate.HTTPStatusError
		if !errors.As(err, &he) || he.StatusCode != c.status {
			t.Fatalf("%d: %v", c.status, err)
		}
		after, throttle := he.Throttled()
		if he.Gone() != c.gone || throttle != c.throttle {
			t.Errorf("%d: gone %v, throttled %v", c.status, he.Gone(), throttle)
		}
		if throttle && (after < c.min || after > c.max) {
			t.Errorf("%d with Retry-After %q: %s, want %s to %s", c.status, c.retryAfter, after, c.min, c.max)
		}
	}
}
