package forget

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Sentinel errors. Every error a Forgetter or Store returns for a request
// that cannot be honoured wraps exactly one of them; test with errors.Is.
var (
	// ErrInvalid: the request is malformed (no lookup key, a key of the
	// wrong form, an unknown keep name, an undecodable body). Nothing was
	// changed.
	ErrInvalid = errors.New("invalid request")
	// ErrNotFound: a lookup key matches no customer. Nothing was changed.
	ErrNotFound = errors.New("customer not found")
	// ErrConflict: the lookup keys name different customers. Nothing was
	// changed.
	ErrConflict = errors.New("lookup keys name different customers")
	// ErrHeld: a hold the host declared (an open chargeback, a dispute,
	// a retention window) protects the customer. Nothing was erased; a
	// store that keeps an audit trail has recorded the refusal.
	ErrHeld = errors.New("customer is under a hold")
	// ErrUnauthorized: an Authenticator rejected the caller.
	ErrUnauthorized = errors.New("unauthorized")
)

// ErrUnverified: the store failed its check against the live database
// ([Verifier]), so the Forgetter refuses to erase. It is an internal
// (500-class) error: the host's mapping or database is at fault, not the
// request. The cause is logged and wrapped.
var ErrUnverified = errors.New("the store failed verification; nothing was erased")

// ErrAlreadyForgotten is a sweep's customer that the store found fully
// forgotten since the sweep's cutoff once it held the customer's lock:
// another sweep, running at the same time, got there first. Nothing was
// changed or recorded. It wraps ErrConflict.
var ErrAlreadyForgotten = fmt.Errorf("forget: the customer was fully forgotten since the sweep's cutoff, by another sweep at the same time: %w", ErrConflict)

// Bounds of an [UnknownNamesError]: a keep list may hold 200,000 unknown
// names, and the error goes back to the caller and into logs.
const (
	maxUnknownNamesShown = 5  // names an UnknownNamesError shows
	maxUnknownNameBytes  = 64 // bytes of each, "..." included
)

// UnknownNamesError reports the names in a keep list that are neither a
// field nor a table of the catalogue. It wraps ErrInvalid.
type UnknownNamesError struct {
	// Names holds the first unknown names, in the order given, without
	// repeats: at most five of them, each cut to 64 bytes, ending in
	// "..." when cut.
	Names []string
	// Count is how many distinct unknown names there were, Names
	// included. A Count below len(Names) counts as len(Names).
	Count int
}

func (e *UnknownNamesError) public() string { return e.Error() }

func (e *UnknownNamesError) Error() string {
	// Bounded even when the error was built by hand.
	names := e.Names[:min(len(e.Names), maxUnknownNamesShown)]
	total := max(e.Count, len(e.Names))
	var b strings.Builder
	b.WriteString("unknown keep name")
	if total > 1 {
		b.WriteString("s")
	}
	b.WriteString(": ")
	for i, n := range names {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.Quote(cutName(n, maxUnknownNameBytes)))
	}
	if more := total - len(names); more > 0 {
		b.WriteString(" and ")
		b.WriteString(strconv.Itoa(more))
		b.WriteString(" more")
	}
	b.WriteString("; nothing was erased")
	return b.String()
}

// Is makes errors.Is(err, ErrInvalid) true.
func (e *UnknownNamesError) Is(target error) bool { return target == ErrInvalid }

// KeyError reports a lookup key whose value cannot be a key of its type,
// such as "abc" for an integer customer_id. It never holds the value. It
// wraps ErrInvalid.
type KeyError struct {
	Key    string // customer_id, subscription_id or orderid
	Reason string // for example "must be an integer"
}

func (e *KeyError) Error() string { return e.Key + " " + e.Reason }

func (e *KeyError) public() string { return e.Error() }

// Is makes errors.Is(err, ErrInvalid) true.
func (e *KeyError) Is(target error) bool { return target == ErrInvalid }

// HeldError names the hold that refused a forget. It wraps ErrHeld. Hold
// is the host's name for the hold, never a value from the database.
type HeldError struct {
	Hold string
}

func (e *HeldError) Error() string {
	return "the customer is under hold " + strconv.Quote(e.Hold) + "; nothing was erased"
}

func (e *HeldError) public() string { return e.Error() }

// Is makes errors.Is(err, ErrHeld) true.
func (e *HeldError) Is(target error) bool { return target == ErrHeld }

// UnknownHoldError reports a hold named in Request.IgnoreHolds that the
// store does not declare. It wraps ErrInvalid: an operator who mistypes
// the hold they cleared must not get a different one ignored.
type UnknownHoldError struct {
	Hold string
}

func (e *UnknownHoldError) Error() string {
	return "unknown hold " + strconv.Quote(clip(e.Hold, 64)) + " in the holds to ignore; nothing was erased"
}

func (e *UnknownHoldError) public() string { return e.Error() }

// Is makes errors.Is(err, ErrInvalid) true.
func (e *UnknownHoldError) Is(target error) bool { return target == ErrInvalid }

// CascadeError reports a keep list that the database's foreign keys
// would break: erasing Erased deletes or changes the rows of Kept (a
// catalogue table, or a field's column) through an ON DELETE (or ON
// UPDATE) action, Via being the chain of tables and actions. Nothing was
// erased. It wraps ErrInvalid.
type CascadeError struct {
	Kept   string // the kept catalogue table or field
	Erased string // the catalogue table or field whose erasure reaches Kept
	Via    string // e.g. "member_auth -(ON DELETE CASCADE)-> member_note"
}

func (e *CascadeError) Error() string {
	return e.Kept + " cannot be kept while " + e.Erased + " is erased: the database's foreign keys change its rows (" +
		e.Via + "); keep " + e.Erased + " too. Nothing was erased"
}

func (e *CascadeError) public() string { return e.Error() }

// Is makes errors.Is(err, ErrInvalid) true.
func (e *CascadeError) Is(target error) bool { return target == ErrInvalid }

// APIKeyFileError is a line of a keys file that [ParseAPIKeyFile] refuses. It
// names the line, never its content, which may hold a key.
type APIKeyFileError struct {
	Line   int // 1-based; 0 when the error is about the whole file
	Reason string
}

func (e *APIKeyFileError) Error() string {
	if e.Line == 0 {
		return "forget: keys file: " + e.Reason
	}
	return fmt.Sprintf("forget: keys file line %d: %s", e.Line, e.Reason)
}

// requestError is an ErrInvalid whose message is safe to show the caller.
type requestError struct{ msg string }

func (e *requestError) Error() string { return e.msg }

func (e *requestError) public() string { return e.msg }

func (e *requestError) Is(target error) bool { return target == ErrInvalid }

func invalid(msg string) error { return &requestError{msg: msg} }

// cutName cuts s to at most max bytes, "..." included, at a rune
// boundary. Cutting a cut name changes nothing.
func cutName(s string, max int) string {
	if len(s) <= max {
		return s
	}
	n := max - len("...")
	for i := 1; i < utf8.UTFMax && n > 0 && !utf8.RuneStart(s[n]); i++ {
		n-- // back to the start of a rune, unless s is not UTF-8 there
	}
	return s[:n] + "..."
}

// clip cuts s to at most n bytes at a rune boundary, marking the cut.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xc0 == 0x80 {
		n--
	}
	return s[:n] + "..."
}
