package forget

import "time"

// Limits and names the tests check, unexported because hosts need not
// build on them.
const (
	HeaderAPIKey         = headerAPIKey
	HeaderAPIUsername    = headerAPIUsername
	MaxParams            = maxParams
	MaxUnknownNamesShown = maxUnknownNamesShown
	MaxUnknownNameBytes  = maxUnknownNameBytes
	PseudonymLen         = pseudonymLen
	RandomLen            = randomLen
	LiveMemberLoginlog   = liveMemberLoginlog
)

// SetLimiterClock makes h's limiter of failed authentications read now;
// call it before h serves.
func (h *Handler) SetLimiterClock(now func() time.Time) {
	if h.limiter != nil {
		h.limiter.now = now
	}
}

// LimiterEntries counts the entries of h's limiter's tables.
func (h *Handler) LimiterEntries() (addrs, users, exempt int) { return h.limiter.len() }

// ApplyRule is the value a plan carries for rule r (no randomness needed).
func ApplyRule(r Rule) (Value, error) {
	var entropy []byte
	return r.apply("test", &entropy, nil, time.Time{})
}

// Decompositions is the fold's table of canonical decompositions.
var Decompositions = decompositions
