package forget

import (
	"errors"
	"strconv"
)

// ErrHeld: a hold the host declared (an open chargeback, a dispute, a
// retention window) protects the customer. Nothing was erased; a store
// that keeps an audit trail has recorded the refusal.
var ErrHeld = errors.New("customer is under a hold")

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
