package forget

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"time"
)

// A refused request's body is read and discarded, within caps, before the
// refusal is answered. net/http closes a connection whose body is left
// unread (after reading at most 256 KiB itself), and the kernel then
// resets it: a client that writes its whole body before reading (Python's
// urllib) gets ECONNRESET or EPIPE and never sees the answer. Past the
// body limit (413), up to maxDrainBytes more are read; a request refused
// before its body was read (401, 405, a query string...), up to
// MaxBodyBytes, the most an accepted request carries. Both, for at most
// maxDrainTime, keep a hostile client from holding the handler.
const (
	maxDrainBytes = 4 << 20
	maxDrainTime  = time.Second
)

// trackedBody is a request body that knows whether it was read from and
// whether it was read to its end.
type trackedBody struct {
	io.ReadCloser
	read, eof bool
}

func (b *trackedBody) Read(p []byte) (int, error) {
	b.read = true
	n, err := b.ReadCloser.Read(p)
	if err == io.EOF {
		b.eof = true
	}
	return n, err
}

// drainRefused reads and discards what is left of the body of a request
// refused with err, within the caps, so that the client can finish
// writing and read the answer. It does nothing for a body read to its
// end, one that would not fit the caps anyway, and one whose client waits
// for "100 Continue" before sending it: reading would invite the body. It
// sets a read deadline on the connection, so it does nothing where w
// cannot (a middleware's writer without Unwrap): reading would then have
// no time bound. body is r's body wrapped by ServeHTTP.
func drainRefused(w http.ResponseWriter, r *http.Request, body *trackedBody, err error) {
	if body == nil || body.eof {
		return
	}
	var tooLarge *http.MaxBytesError
	limit := int64(MaxBodyBytes)
	if errors.As(err, &tooLarge) {
		limit = maxDrainBytes
		if r.ContentLength > MaxBodyBytes+maxDrainBytes {
			return // the rest would not fit in the caps anyway
		}
	} else if r.ContentLength > MaxBodyBytes {
		return
	}
	if !body.read && strings.EqualFold(r.Header.Get("Expect"), "100-continue") {
		return
	}
	if http.NewResponseController(w).SetReadDeadline(time.Now().Add(maxDrainTime)) != nil {
		return
	}
	// The deadline stays: net/http's own discard after the handler is
	// bounded by it too, and a reused connection gets its own deadlines.
	io.CopyN(io.Discard, body, limit)
}
