package forget_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/forgetkit/forget"
	"github.com/forgetkit/forget/internal/syncbuf"
)

// limitClock is a limiter's clock that moves only when told.
type limitClock struct{ ns atomic.Int64 }

func newLimitClock() *limitClock {
	c := &limitClock{}
	c.ns.Store(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC).UnixNano())
	return c
}
func (c *limitClock) now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *limitClock) advance(d time.Duration) { c.ns.Add(int64(d)) }

// limitedHandler is a handler over the seeded memory store with a
// frozen limiter clock; its logs go to the returned buffer.
func limitedHandler(t testing.TB, fopts []forget.Option, opts ...forget.HandlerOption) (*forget.Handler, *limitClock, *syncbuf.Buffer) {
	t.Helper()
	logs := &syncbuf.Buffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	f := newForgetter(t, seeded(t), append([]forget.Option{forget.WithLogger(logger)}, fopts...)...)
	keys, err := forget.NewAPIKeys(map[string]string{testUser: testKey, "other": "another-key-for-tests"})
	if err != nil {
		t.Fatal(err)
	}
	h, err := forget.NewHandler(f, keys, opts...)
	if err != nil {
		t.Fatal(err)
	}
	clock := newLimitClock()
	h.SetLimiterClock(clock.now)
	return h, clock, logs
}

// attempt sends one dry run of customer 101 from addr as user with key.
func attempt(h http.Handler, addr, user, key string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPatch, "/api/customer/forget", strings.NewReader("customer_id=101&dry_run=1"))
	req.Header.Set("Content-Type", form)
	req.RemoteAddr = addr
	if user != "" {
		req.Header.Set("api-username", user)
	}
	if key != "" {
		req.Header.Set("api-key", key)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// checkLimited fails unless rec is the limiter's 429 in the contract's
// error shape, with a Retry-After of whole seconds.
func checkLimited(t *testing.T, rec *httptest.ResponseRecorder) {
	t.Helper()
	if rec.Code != http.StatusTooManyRequests {
		t.Errorf("status %d, want 429: %s", rec.Code, rec.Body) // not Fatal: workers call it
		return
	}
	if s, err := strconv.Atoi(rec.Header().Get("Retry-After")); err != nil || s < 1 {
		t.Errorf("Retry-After %q, want whole seconds, at least 1", rec.Header().Get("Retry-After"))
	}
	var body struct{ Result, Code, Data string }
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body.Result != "error" || body.Code != forget.CodeTooManyRequests || body.Data == "" {
		t.Errorf("body %s, want the JSON error with code %s", rec.Body, forget.CodeTooManyRequests)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
}

// TestAuthLimitBruteForceOneAddress: 1,000 wrong keys for the real
// username from one address, eight at a time. All but the burst are
// answered 429, and meanwhile the real user, from its own address, is
// served every time, no slower than before the attack (loosely).
func TestAuthLimitBruteForceOneAddress(t *testing.T) {
	h, _, _ := limitedHandler(t, nil)
	const (
		attacker = "203.0.113.7:4242"
		user     = "198.51.100.1:5000"
	)
	served := func() time.Duration {
		start := time.Now()
		if rec := attempt(h, user, testUser, testKey); rec.Code != http.StatusOK {
			t.Errorf("the real user got %d: %s", rec.Code, rec.Body)
		}
		return time.Since(start)
	}
	var before []time.Duration
	for range 50 {
		before = append(before, served())
	}

	var status sync.Map // status -> *atomic.Int64
	count := func(code int) *atomic.Int64 {
		v, _ := status.LoadOrStore(code, new(atomic.Int64))
		return v.(*atomic.Int64)
	}
	guesses := make(chan int)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for i := range guesses {
				rec := attempt(h, attacker, testUser, fmt.Sprintf("guess-%04d-0123456789", i))
				count(rec.Code).Add(1)
				if rec.Code == http.StatusTooManyRequests && i%100 == 0 {
					checkLimited(t, rec)
				}
			}
		})
	}
	done := make(chan struct{})
	var during []time.Duration
	go func() {
		defer close(done)
		for i := range 1000 {
			guesses <- i
			if i%10 == 0 {
				during = append(during, served())
			}
		}
		close(guesses)
	}()
	<-done
	wg.Wait()

	if n := count(http.StatusUnauthorized).Load(); n != forget.DefaultAuthBurst {
		t.Errorf("%d wrong keys answered 401, want the burst, %d", n, forget.DefaultAuthBurst)
	}
	if n := count(http.StatusTooManyRequests).Load(); n != 1000-forget.DefaultAuthBurst {
		t.Errorf("%d answered 429, want %d", n, 1000-forget.DefaultAuthBurst)
	}
	if len(during) != 100 {
		t.Fatalf("%d requests of the real user during the attack", len(during))
	}
	slices.Sort(before)
	slices.Sort(during)
	t.Logf("the real user's median request: %v before the attack, %v during it (slowest %v)", before[len(before)/2], during[len(during)/2], during[len(during)-1])
	// Loose on purpose: the limiter never waits, so anything near a
	// Retry-After (a second) is a limiter that slows successes.
	if slowest := during[len(during)-1]; slowest > 500*time.Millisecond {
		t.Errorf("the real user's slowest request during the attack took %v", slowest)
	}
	if a, _, _ := h.LimiterEntries(); a != 1 {
		t.Errorf("%d address buckets, want the attacker's only: successes leave none", a)
	}
}

// TestAuthLimitByUsername: 1,000 wrong keys for one username, each from
// another address, are limited by the username's bucket; an address the
// user has authenticated from is still served, a new one is not.
func TestAuthLimitByUsername(t *testing.T) {
	h, clock, _ := limitedHandler(t, nil)
	const known = "198.51.100.1:5000"
	if rec := attempt(h, known, testUser, testKey); rec.Code != http.StatusOK {
		t.Fatalf("first request: %d %s", rec.Code, rec.Body)
	}
	statuses := map[int]int{}
	for i := range 1000 {
		rec := attempt(h, fmt.Sprintf("10.%d.%d.%d:1234", i>>16, (i>>8)&0xff, i&0xff), testUser, "wrong-key-0123456789")
		statuses[rec.Code]++
		if rec.Code == http.StatusTooManyRequests && i == 999 {
			checkLimited(t, rec)
		}
	}
	if statuses[401] != forget.DefaultAuthBurst || statuses[429] != 1000-forget.DefaultAuthBurst {
		t.Errorf("statuses %v, want %d 401 and the rest 429", statuses, forget.DefaultAuthBurst)
	}
	if rec := attempt(h, known, testUser, testKey); rec.Code != http.StatusOK {
		t.Errorf("the user's known address got %d during the attack: %s", rec.Code, rec.Body)
	}
	if rec := attempt(h, "192.0.2.99:1", testUser, testKey); rec.Code != http.StatusTooManyRequests {
		t.Errorf("a new address of the attacked user got %d, want 429 (its key is not compared)", rec.Code)
	}
	if rec := attempt(h, "192.0.2.99:1", "other", "another-key-for-tests"); rec.Code != http.StatusOK {
		t.Errorf("another user got %d: %s", rec.Code, rec.Body)
	}
	// Refill: one more failure per second.
	rec := attempt(h, "192.0.2.100:1", testUser, "wrong-key-0123456789")
	retry, _ := strconv.Atoi(rec.Header().Get("Retry-After"))
	clock.advance(time.Duration(retry) * time.Second)
	if rec := attempt(h, "192.0.2.100:1", testUser, "wrong-key-0123456789"); rec.Code != http.StatusUnauthorized {
		t.Errorf("after Retry-After (%ds): %d, want a 401", retry, rec.Code)
	}
	if rec := attempt(h, "192.0.2.100:1", testUser, "wrong-key-0123456789"); rec.Code != http.StatusTooManyRequests {
		t.Errorf("the second guess after one refill: %d, want 429", rec.Code)
	}
}

// TestAuthLimitBoundedMemory: 100,000 addresses, each guessing a
// username of its own, leave at most MaxEntries entries per table, and
// the limiter still limits.
func TestAuthLimitBoundedMemory(t *testing.T) {
	// A log line per guess would be most of the time.
	h, _, _ := limitedHandler(t, []forget.Option{forget.WithLogger(quiet())}, forget.WithAuthLimit(forget.AuthLimit{MaxEntries: 1000}))
	for i := range 100000 {
		addr := fmt.Sprintf("10.%d.%d.%d:1", i>>16, (i>>8)&0xff, i&0xff)
		if rec := attempt(h, addr, fmt.Sprintf("user%d", i), "wrong-key-0123456789"); rec.Code != http.StatusUnauthorized {
			t.Fatalf("guess %d: %d %s", i, rec.Code, rec.Body)
		}
	}
	if a, u, e := h.LimiterEntries(); a != 1000 || u != 1000 || e != 0 {
		t.Errorf("entries: %d addresses, %d usernames, %d exempt; want 1000, 1000, 0", a, u, e)
	}
	for range forget.DefaultAuthBurst - 1 { // one was taken above
		attempt(h, "10.1.134.159:1", "user99999", "wrong-key-0123456789")
	}
	checkLimited(t, attempt(h, "10.1.134.159:1", "user99999", "wrong-key-0123456789"))
}

// TestAuthLimitConfigured: the burst is the host's; WithoutAuthLimit
// turns it off; a negative setting is refused.
func TestAuthLimitConfigured(t *testing.T) {
	h, clock, _ := limitedHandler(t, nil, forget.WithAuthLimit(forget.AuthLimit{Burst: 3, Refill: time.Minute}))
	for i := range 3 {
		if rec := attempt(h, "203.0.113.7:1", "x", "y"); rec.Code != http.StatusUnauthorized {
			t.Fatalf("guess %d: %d", i, rec.Code)
		}
	}
	rec := attempt(h, "203.0.113.7:2", "z", "y")
	checkLimited(t, rec)
	if got := rec.Header().Get("Retry-After"); got != "60" {
		t.Errorf("Retry-After %s, want 60 (one failure a minute)", got)
	}
	clock.advance(30 * time.Second)
	if got := attempt(h, "203.0.113.7:2", "z", "y").Header().Get("Retry-After"); got != "30" {
		t.Errorf("Retry-After %s after 30s, want 30", got)
	}

	off, _, _ := limitedHandler(t, nil, forget.WithAuthLimit(forget.AuthLimit{Burst: 1}), forget.WithoutAuthLimit())
	for range 50 {
		if rec := attempt(off, "203.0.113.7:1", testUser, "y"); rec.Code != http.StatusUnauthorized {
			t.Fatalf("without a limit: %d", rec.Code)
		}
	}
	f := newForgetter(t, seeded(t))
	if _, err := forget.NewHandler(f, forget.HostAuthenticated(), forget.WithAuthLimit(forget.AuthLimit{Burst: -1})); err == nil {
		t.Error("a negative burst was accepted")
	}
}

// TestAuthLimitClientAddr: by default X-Forwarded-For is not trusted and
// the port is not part of the address; a host's function decides
// otherwise.
func TestAuthLimitClientAddr(t *testing.T) {
	h, _, _ := limitedHandler(t, nil, forget.WithAuthLimit(forget.AuthLimit{Burst: 2}))
	for i := range 3 {
		req := httptest.NewRequest(http.MethodPatch, "/", nil)
		req.RemoteAddr = fmt.Sprintf("203.0.113.7:%d", 1000+i)
		req.Header.Set("X-Forwarded-For", fmt.Sprintf("192.0.2.%d", i))
		req.Header.Set("api-username", fmt.Sprintf("u%d", i))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if want := []int{401, 401, 429}[i]; rec.Code != want {
			t.Errorf("request %d: %d, want %d", i, rec.Code, want)
		}
	}
	proxied, _, _ := limitedHandler(t, nil, forget.WithAuthLimit(forget.AuthLimit{Burst: 2}),
		forget.WithClientAddr(func(r *http.Request) string { return r.Header.Get("X-Forwarded-For") }))
	for i := range 3 {
		req := httptest.NewRequest(http.MethodPatch, "/", nil)
		req.RemoteAddr = "203.0.113.7:1000"
		req.Header.Set("X-Forwarded-For", fmt.Sprintf("192.0.2.%d", i))
		rec := httptest.NewRecorder()
		proxied.ServeHTTP(rec, req)
		if rec.Code != http.StatusUnauthorized {
			t.Errorf("request %d behind the proxy: %d, want 401", i, rec.Code)
		}
	}

	for addr, want := range map[string]string{
		"203.0.113.7:1234":              "203.0.113.7",
		"[2001:db8:1:2:3:4:5:6]:443":    "2001:db8:1:2::/64",
		"[2001:db8:1:2:ffff::1%eth0]:1": "2001:db8:1:2::/64",
		"[::ffff:192.0.2.1]:80":         "192.0.2.1",
		"not an address":                "unknown", // shares one bucket, never escapes
		"":                              "unknown",
		"@":                             "unknown", // a Unix socket
	} {
		if got := forget.ClientAddr(&http.Request{RemoteAddr: addr}); got != want {
			t.Errorf("ClientAddr(%q) = %q, want %q", addr, got, want)
		}
	}
}

// refusalRecorder is an Observer that also keeps the handler's refusals.
type refusalRecorder struct {
	recorder
	mu       sync.Mutex
	refusals []forget.RefusalStats
}

func (r *refusalRecorder) HandlerRefused(_ context.Context, s forget.RefusalStats) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.refusals = append(r.refusals, s)
}

// TestAuthFailuresObservedAndLogged: every failure reaches the handler
// observers with its reason, and the log with the username tried,
// escaped and clipped, never the key; 405, 413 and 415 are reported
// too. The caller cannot tell an unknown username from a wrong key.
func TestAuthFailuresObservedAndLogged(t *testing.T) {
	obs := &refusalRecorder{}
	h, _, logs := limitedHandler(t, []forget.Option{forget.WithObserver(obs)}, forget.WithAuthLimit(forget.AuthLimit{Burst: 3}))
	hostile := "evil\n{\"level\":\"ERROR\"}\x1b[31m" + strings.Repeat("é", 100)
	unknown := attempt(h, "203.0.113.7:1", "mallory", "secret-key-never-logged-1")
	wrong := attempt(h, "203.0.113.7:1", testUser, "secret-key-never-logged-2")
	attempt(h, "203.0.113.7:1", hostile, "")
	attempt(h, "203.0.113.7:1", testUser, "secret-key-never-logged-3") // limited
	if unknown.Code != 401 || wrong.Code != 401 || unknown.Body.String() != wrong.Body.String() {
		t.Errorf("unknown user %d %s, wrong key %d %s: want the same 401", unknown.Code, unknown.Body, wrong.Code, wrong.Body)
	}
	for _, c := range []struct{ method, contentType, body string }{
		{"GET", "", ""},
		{"PATCH", "text/plain", "customer_id=101"},
		{"PATCH", form, "customer_id=101&keep=" + strings.Repeat("x", forget.MaxBodyBytes)},
	} {
		req := httptest.NewRequest(c.method, "/", strings.NewReader(c.body))
		req.Header.Set("Content-Type", c.contentType)
		req.Header.Set("api-username", testUser)
		req.Header.Set("api-key", testKey)
		h.ServeHTTP(httptest.NewRecorder(), req)
	}
	want := []forget.RefusalStats{
		{Status: 401, Code: forget.CodeUnauthorized, AuthReason: forget.AuthUnknownUser},
		{Status: 401, Code: forget.CodeUnauthorized, AuthReason: forget.AuthWrongKey},
		{Status: 401, Code: forget.CodeUnauthorized, AuthReason: forget.AuthMissing},
		{Status: 429, Code: forget.CodeTooManyRequests, AuthReason: forget.AuthLimited},
		{Status: 405, Code: forget.CodeMethodNotAllowed},
		{Status: 415, Code: forget.CodeUnsupportedMediaType},
		{Status: 413, Code: forget.CodeTooLarge},
	}
	if !slices.Equal(obs.refusals, want) {
		t.Errorf("refusals\n%v, want\n%v", obs.refusals, want)
	}
	if n := len(obs.take()); n != 0 {
		t.Errorf("%d forgets reported for refused requests", n)
	}

	var failures []map[string]any
	for line := range strings.Lines(logs.String()) {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if rec["msg"] == "forget: authentication failed" {
			failures = append(failures, rec)
		}
	}
	if len(failures) != 4 {
		t.Fatalf("%d failures logged, want 4:\n%s", len(failures), logs)
	}
	for i, w := range []struct{ level, reason, user string }{
		{"WARN", forget.AuthUnknownUser, "mallory"},
		{"WARN", forget.AuthWrongKey, testUser},
		{"WARN", forget.AuthMissing, ""},
		{"DEBUG", forget.AuthLimited, testUser},
	} {
		f := failures[i]
		if f["level"] != w.level || f["reason"] != w.reason || f["client"] != "203.0.113.7" || f["request_id"] == "" {
			t.Errorf("failure %d logged as %v", i, f)
		}
		if w.user != "" && f["username"] != w.user {
			t.Errorf("failure %d: username %v, want %s", i, f["username"], w.user)
		}
	}
	got, _ := failures[2]["username"].(string)
	if !strings.HasPrefix(got, `evil\n{\"level\":\"ERROR\"}\x1b[31m\u00e9`) || len(got) > 6*64+3 || !strings.HasSuffix(got, "...") {
		t.Errorf("hostile username logged as %q: want it escaped and clipped", got)
	}
	if strings.Contains(logs.String(), "secret-key-never-logged") {
		t.Errorf("a key was logged:\n%s", logs)
	}
}
