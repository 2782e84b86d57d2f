package forget

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"time"
)

// Past the body limit, the handler reads and discards up to
// maxDrainBytes more, for at most maxDrainTime, before it answers 413.
// net/http closes a connection whose body is left unread (after reading
// at most 256 KiB itself), and the kernel then resets it: a client that
// writes its whole body before reading (Python's urllib) gets ECONNRESET
// or EPIPE and never sees the 413. Both caps keep a hostile client from
// holding the handler.
const (
	maxDrainBytes = 4 << 20
	maxDrainTime  = time.Second
)

// drainOversized reads and discards what is left of a body refused as too
// large, within the caps, so that the client can finish writing and read
// the answer. A body that could not be drained within them is left alone,
// and so is one whose client waits for "100 Continue" before sending it:
// reading would invite the body. It sets a read deadline on the
// connection, so it does nothing where w cannot (a middleware's writer
// without Unwrap): reading would then have no time bound.
func drainOversized(w http.ResponseWriter, r *http.Request, err error) {
	var tooLarge *http.MaxBytesError
	if !errors.As(err, &tooLarge) || r.Body == nil || r.Body == http.NoBody {
		return
	}
	if r.ContentLength > MaxBodyBytes+maxDrainBytes {
		return // the rest would not fit in the caps anyway
	}
	unread := r.ContentLength > MaxBodyBytes // refused by its Content-Length alone
	if unread && strings.EqualFold(r.Header.Get("Expect"), "100-continue") {
		return
	}
	if http.NewResponseController(w).SetReadDeadline(time.Now().Add(maxDrainTime)) != nil {
		return
	}
	// The deadline stays: net/http's own discard after the handler is
	// bounded by it too, and a reused connection gets its own deadlines.
	io.CopyN(io.Discard, r.Body, maxDrainBytes)
}
