package forget

import (
	"errors"
	"strconv"
	"strings"
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
	// ErrUnauthorized: an Authenticator rejected the caller.
	ErrUnauthorized = errors.New("unauthorized")
)

// Bounds of an [UnknownNamesError]: a keep list may hold 200,000 unknown
// names, and the error goes back to the caller and into logs.
const (
	MaxUnknownNamesShown = 5  // names an UnknownNamesError shows
	MaxUnknownNameBytes  = 64 // bytes of each, "..." included
)

// UnknownNamesError reports the names in a keep list that are neither a
// field nor a table of the catalogue. It wraps ErrInvalid.
type UnknownNamesError struct {
	// Names holds the first unknown names, in the order given, without
	// repeats: at most MaxUnknownNamesShown of them, each cut to
	// MaxUnknownNameBytes bytes, ending in "..." when cut.
	Names []string
	// Count is how many distinct unknown names there were, Names
	// included. A Count below len(Names) counts as len(Names).
	Count int
}

func (e *UnknownNamesError) public() string { return e.Error() }

func (e *UnknownNamesError) Error() string {
	// Bounded even when the error was built by hand.
	names := e.Names[:min(len(e.Names), MaxUnknownNamesShown)]
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
		b.WriteString(strconv.Quote(cutName(n, MaxUnknownNameBytes)))
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

func (e *KeyError) Error() string  { return e.Key + " " + e.Reason }
func (e *KeyError) public() string { return e.Error() }

// Is makes errors.Is(err, ErrInvalid) true.
func (e *KeyError) Is(target error) bool { return target == ErrInvalid }

// requestError is an ErrInvalid whose message is safe to show the caller.
type requestError struct{ msg string }

func (e *requestError) Error() string        { return e.msg }
func (e *requestError) public() string       { return e.msg }
func (e *requestError) Is(target error) bool { return target == ErrInvalid }

func invalid(msg string) error { return &requestError{msg: msg} }

// ParseIntKey checks that v is a decimal integer key and returns its
// canonical form ("007" becomes "7"). Stores with integer keys use it so
// that a malformed key is ErrInvalid on every engine.
func ParseIntKey(key, v string) (int64, error) {
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		if errors.Is(err, strconv.ErrRange) {
			return 0, &KeyError{Key: key, Reason: "is out of range"}
		}
		return 0, &KeyError{Key: key, Reason: "must be an integer"}
	}
	return n, nil
}
