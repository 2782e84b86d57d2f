package propagate

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"os"
	"syscall"
	"time"
)

// ErrorClass names the kind of a delivery failure for status and logs: a
// short token such as http_500, timeout, connection_refused,
// connection_reset, dns, tls or error. An error that has a method
// Class() string names its own class (see [HTTPStatusError]), when that
// is such a token. The error's text is never used: it may quote a
// response.
func ErrorClass(err error) string {
	var c interface{ Class() string }
	if errors.As(err, &c) {
		if cl := c.Class(); validClass(cl) {
			return cl
		}
	}
	var (
		dns     *net.DNSError
		netErr  net.Error
		certErr *tls.CertificateVerificationError
		unknown x509.UnknownAuthorityError
		host    x509.HostnameError
		recErr  tls.RecordHeaderError
	)
	switch {
	case err == nil:
		return ""
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded):
		return "timeout"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection_refused"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return "connection_reset"
	case errors.As(err, &dns):
		return "dns"
	case errors.As(err, &certErr), errors.As(err, &unknown), errors.As(err, &host), errors.As(err, &recErr):
		return "tls"
	case errors.As(err, &netErr) && netErr.Timeout():
		return "timeout"
	case errors.Is(err, context.Canceled):
		return "cancelled"
	}
	return "error"
}

// validClass: 1 to 32 lower-case letters, digits and _.
func validClass(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// classError is an error of a known class.
type classError struct{ class, msg string }

func (e classError) Error() string { return e.msg }
func (e classError) Class() string { return e.class }

// What a handler's error may say besides its class. [HTTPStatusError]
// says both, for 410 and for 429, 502, 503 and 504; a host's handler may
// return its own.
type (
	// goner is an error that says the destination wants no more events
	// (a webhook's 410 Gone).
	goner interface{ Gone() bool }
	// throttler is an error that asks for the next attempt to come later,
	// after retryAfter when ok and retryAfter > 0, or after the schedule's
	// delay (a webhook's 429 or 503, with or without Retry-After).
	throttler interface {
		Throttled() (retryAfter time.Duration, ok bool)
	}
)

// gone reports whether err says the destination is gone.
func gone(err error) bool {
	var g goner
	return errors.As(err, &g) && g.Gone()
}

// throttled reports whether err asks to slow down, and how long to wait
// when it says (0: the schedule's delay).
func throttled(err error) (time.Duration, bool) {
	var t throttler
	if !errors.As(err, &t) {
		return 0, false
	}
	after, ok := t.Throttled()
	return max(after, 0), ok
}
