package forget

import (
	"container/list"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"math"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"time"
)

// Defaults of [AuthLimit].
const (
	DefaultAuthBurst      = 10
	DefaultAuthRefill     = time.Second
	DefaultAuthMaxEntries = 10000
)

// errAuthLimited answers a request refused by the limiter.
var errAuthLimited = &httpError{http.StatusTooManyRequests, CodeTooManyRequests,
	"too many failed authentications from this client or for this username; retry after the seconds Retry-After says"}

// maxLimitKeyBytes bounds a username or client key as the limiter holds
// it: both come from the client.
const maxLimitKeyBytes = 128

// AuthLimit configures how the handler limits failed authentications,
// with one token bucket per client address and one per username (the
// api-username header): each failure takes a token, and Refill gives one
// back. A request whose address or username has no token left is
// answered 429 too_many_requests, with Retry-After, before it is
// authenticated. Successes take nothing: a client is limited only by
// failures, its own address's or its username's.
//
// A client address that has authenticated as a username is exempt from
// that username's bucket (not from its address's) until it fails or is
// evicted, so that an attacker guessing a user's key from elsewhere does
// not lock that user out of the addresses it uses; a new address of that
// user is refused while the user's bucket is empty.
//
// Each of the three tables (addresses, usernames, exempt address and
// username pairs) holds at most MaxEntries entries, evicting the least
// recently used one. A bucket that has refilled is dropped. At the cap,
// an attacker with more addresses or usernames than MaxEntries can evict
// the bucket of another address or username, which then starts full
// again: it buys Burst more guesses against one username for each
// MaxEntries failures elsewhere, themselves limited per address.
type AuthLimit struct {
	// Burst is how many failures a bucket allows at once; 0 means
	// DefaultAuthBurst (10).
	Burst int
	// Refill is how long a bucket takes to regain one failure; 0 means
	// DefaultAuthRefill (1s).
	Refill time.Duration
	// MaxEntries bounds each table; 0 means DefaultAuthMaxEntries
	// (10,000).
	MaxEntries int
}

// WithAuthLimit sets the limits of failed authentications (see
// [AuthLimit]). Without it, the defaults hold: 10 failures at once, one
// more each second.
func WithAuthLimit(l AuthLimit) HandlerOption {
	return func(h *Handler) { h.limit, h.limitOff = l, false }
}

// WithoutAuthLimit turns the limiter off, for a host that limits failed
// authentications itself. Failures are still counted and logged.
func WithoutAuthLimit() HandlerOption {
	return func(h *Handler) { h.limitOff = true }
}

// WithClientAddr sets how the limiter tells clients apart. By default
// it is the connection's address (r.RemoteAddr without its port; an
// IPv6 address by its /64, which one client usually holds whole). A host
// behind a reverse proxy passes a function that reads the address the
// proxy vouches for: X-Forwarded-For is never trusted by default, as any
// client can send it. An empty key is not limited by address.
func WithClientAddr(fn func(r *http.Request) string) HandlerOption {
	return func(h *Handler) { h.clientAddr = fn }
}

// ClientAddr is the default client key of the limiter: r.RemoteAddr
// without its port, an IPv6 address cut to its /64 prefix. A RemoteAddr
// that holds no IP address (a Unix socket's, or none) is the one key
// "unknown": such clients share a bucket rather than escape the limit.
func ClientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return "unknown"
	}
	a = a.Unmap().WithZone("")
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}

func (l AuthLimit) withDefaults() (AuthLimit, error) {
	if l.Burst < 0 || l.Refill < 0 || l.MaxEntries < 0 {
		return l, errors.New("forget: AuthLimit's Burst, Refill and MaxEntries must not be negative")
	}
	if l.Burst == 0 {
		l.Burst = DefaultAuthBurst
	}
	if l.Refill == 0 {
		l.Refill = DefaultAuthRefill
	}
	if l.MaxEntries == 0 {
		l.MaxEntries = DefaultAuthMaxEntries
	}
	return l, nil
}

// limiter holds the token buckets of failed authentications. Every
// request reserves a token of its buckets, under one lock, before it is
// authenticated, and a success gives it back: concurrent guesses cannot
// overrun a bucket, and a success leaves no entry behind.
type limiter struct {
	burst  float64
	refill time.Duration
	now    func() time.Time

	mu     sync.Mutex
	addrs  *lru[bucket]
	users  *lru[bucket]
	exempt *lru[struct{}] // addr + "\x00" + user
}

type bucket struct {
	tokens float64
	at     time.Time // when tokens was computed
}

func newLimiter(l AuthLimit) *limiter {
	return &limiter{
		burst:  float64(l.Burst),
		refill: l.Refill,
		now:    time.Now,
		addrs:  newLRU[bucket](l.MaxEntries),
		users:  newLRU[bucket](l.MaxEntries),
		exempt: newLRU[struct{}](l.MaxEntries),
	}
}

// reservation is what a request took from its buckets.
type reservation struct {
	addr, user         string
	tookAddr, tookUser bool
}

// reserve takes a token from the buckets of addr and user, or none of
// them, when one is empty, and then says how long until it has one.
func (l *limiter) reserve(addr, user string) (reservation, time.Duration) {
	addr, user = clipKey(addr), clipKey(user)
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	rv := reservation{addr: addr, user: user}
	useUser := user != ""
	if useUser && addr != "" {
		if _, ok := l.exempt.get(addr + "\x00" + user); ok {
			useUser = false
		}
	}
	var wait time.Duration
	if addr != "" {
		wait = max(wait, l.wait(l.addrs, addr, now))
	}
	if useUser {
		wait = max(wait, l.wait(l.users, user, now))
	}
	if wait > 0 {
		return rv, wait
	}
	if addr != "" {
		l.take(l.addrs, addr, now)
		rv.tookAddr = true
	}
	if useUser {
		l.take(l.users, user, now)
		rv.tookUser = true
	}
	return rv, 0
}

// succeeded gives the reservation's tokens back and exempts its address
// from its username's bucket.
func (l *limiter) succeeded(rv reservation) {
	l.giveBack(rv, true)
}

// release gives the reservation's tokens back: the request neither
// failed nor succeeded (the authenticator could not decide).
func (l *limiter) release(rv reservation) {
	l.giveBack(rv, false)
}

func (l *limiter) giveBack(rv reservation, exempt bool) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if rv.tookAddr {
		l.give(l.addrs, rv.addr, now)
	}
	if rv.tookUser {
		l.give(l.users, rv.user, now)
	}
	if exempt && rv.addr != "" && rv.user != "" {
		l.exempt.put(rv.addr+"\x00"+rv.user, struct{}{})
	}
}

// failed ends an address's exemption: the key it authenticated with may
// be the one that failed, retired or guessed at from a shared address.
func (l *limiter) failed(rv reservation) {
	if rv.addr == "" || rv.user == "" || rv.tookUser {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.exempt.remove(rv.addr + "\x00" + rv.user)
}

// level returns b's tokens at now.
func (l *limiter) level(b bucket, now time.Time) float64 {
	d := now.Sub(b.at)
	if d <= 0 {
		return b.tokens
	}
	return math.Min(l.burst, b.tokens+float64(d)/float64(l.refill))
}

// wait is how long key's bucket needs to hold a token, 0 if it has one.
func (l *limiter) wait(t *lru[bucket], key string, now time.Time) time.Duration {
	b, ok := t.get(key)
	if !ok {
		return 0
	}
	tokens := l.level(b, now)
	if tokens >= 1 {
		return 0
	}
	return time.Duration(math.Ceil((1 - tokens) * float64(l.refill)))
}

func (l *limiter) take(t *lru[bucket], key string, now time.Time) {
	b, ok := t.get(key)
	tokens := l.burst
	if ok {
		tokens = l.level(b, now)
	}
	t.put(key, bucket{tokens: tokens - 1, at: now})
}

func (l *limiter) give(t *lru[bucket], key string, now time.Time) {
	b, ok := t.get(key)
	if !ok {
		return // evicted meanwhile: it starts full anyway
	}
	if tokens := l.level(b, now) + 1; tokens < l.burst {
		t.put(key, bucket{tokens: tokens, at: now})
		return
	}
	t.remove(key) // full: the same as no entry
}

// len returns the entries of each table, for tests.
func (l *limiter) len() (addrs, users, exempt int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.addrs.len(), l.users.len(), l.exempt.len()
}

func clipKey(s string) string {
	if len(s) > maxLimitKeyBytes {
		// A prefix alone would let one long name's failures empty the
		// bucket of every name that starts the same: the digest of the
		// whole name keeps them apart.
		sum := sha256.Sum256([]byte(s))
		return s[:maxLimitKeyBytes-33] + "#" + hex.EncodeToString(sum[:16])
	}
	return s
}

// retryAfter is the Retry-After header's value for d: whole seconds,
// rounded up, at least 1.
func retryAfter(d time.Duration) string {
	return strconv.FormatInt(max(1, int64(math.Ceil(d.Seconds()))), 10)
}

// lru is a map of at most max entries that evicts the least recently
// used one. It is not safe for concurrent use.
type lru[V any] struct {
	max   int
	m     map[string]*list.Element
	order list.List // front: most recent; values are *lruEntry[V]
}

type lruEntry[V any] struct {
	key string
	v   V
}

func newLRU[V any](max int) *lru[V] {
	return &lru[V]{max: max, m: make(map[string]*list.Element)}
}

func (c *lru[V]) get(key string) (V, bool) {
	e, ok := c.m[key]
	if !ok {
		var zero V
		return zero, false
	}
	c.order.MoveToFront(e)
	return e.Value.(*lruEntry[V]).v, true
}

func (c *lru[V]) put(key string, v V) {
	if e, ok := c.m[key]; ok {
		e.Value.(*lruEntry[V]).v = v
		c.order.MoveToFront(e)
		return
	}
	if len(c.m) >= c.max {
		if old := c.order.Back(); old != nil {
			c.order.Remove(old)
			delete(c.m, old.Value.(*lruEntry[V]).key)
		}
	}
	c.m[key] = c.order.PushFront(&lruEntry[V]{key: key, v: v})
}

func (c *lru[V]) remove(key string) {
	if e, ok := c.m[key]; ok {
		c.order.Remove(e)
		delete(c.m, key)
	}
}

func (c *lru[V]) len() int { return len(c.m) }
