package forget

import (
	"errors"
	"fmt"
	"net/http"
)

// Error codes of the JSON error body, one per status.
const (
	CodeInvalid              = "invalid"
	CodeUnauthorized         = "unauthorized"
	CodeNotFound             = "not_found"
	CodeMethodNotAllowed     = "method_not_allowed"
	CodeConflict             = "conflict"
	CodeTooLarge             = "too_large"
	CodeUnsupportedMediaType = "unsupported_media_type"
	CodeTooManyRequests      = "too_many_requests"
	CodeInternal             = "internal"
	CodeCanceled             = "canceled"
	CodeHeld                 = "held"
)

var (
	errMethod    = &httpError{http.StatusMethodNotAllowed, CodeMethodNotAllowed, "use PATCH"}
	errMediaType = &httpError{http.StatusUnsupportedMediaType, CodeUnsupportedMediaType,
		"send application/x-www-form-urlencoded, multipart/form-data or application/json"}
	errEncoding = &httpError{http.StatusUnsupportedMediaType, CodeUnsupportedMediaType,
		"send the body without a Content-Encoding"}
	// The request's context was cancelled (the client went away, or the
	// host cancelled it) before the forget was done. The transaction does
	// not commit then, but a cancel that races the commit cannot be told
	// apart: the caller, if still there, repeats the request, which is safe.
	errCanceled = &httpError{http.StatusServiceUnavailable, CodeCanceled,
		"the request was cancelled before the forget completed; send it again (a forget can be repeated safely)"}
)

// httpError is a refusal that has its own status.
type httpError struct {
	status int
	code   string
	msg    string
}

func (e *httpError) Error() string { return e.msg }

// Problem is what a caller is told of an error: its HTTP status, its
// code, and a message that holds no value from the database. [ProblemOf]
// makes it from any error the Forgetter, a Store, an Authenticator or the
// request decoder returns.
type Problem struct {
	Status  int
	Code    string
	Message string
}

// publicError is implemented by this package's own error types, whose
// messages are safe to show a caller: they name parameters, fields and
// holds, never a value read from the database.
type publicError interface {
	error
	public() string
}

// classes maps each sentinel to its status, code and the message shown
// when the error is not one of this package's own types. The order
// matters only for errors that are several things at once.
var classes = []struct {
	sentinel error
	status   int
	code     string
	msg      string
}{
	{ErrUnauthorized, http.StatusUnauthorized, CodeUnauthorized, "missing or wrong api-username or api-key"},
	{ErrInvalid, http.StatusBadRequest, CodeInvalid, ErrInvalid.Error()},
	{ErrNotFound, http.StatusNotFound, CodeNotFound, "no customer matches the lookup"},
	{ErrConflict, http.StatusConflict, CodeConflict, ErrConflict.Error()},
	{ErrHeld, http.StatusConflict, CodeHeld, ErrHeld.Error()},
}

// ProblemOf returns the public face of err. Unrecognised errors are 500
// "internal", with a message that says nothing of the cause.
func ProblemOf(err error) Problem {
	var he *httpError
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &he):
		return Problem{he.status, he.code, he.msg}
	case errors.As(err, &tooLarge):
		return Problem{http.StatusRequestEntityTooLarge, CodeTooLarge, fmt.Sprintf("the request body is larger than %d bytes", tooLarge.Limit)}
	}
	for _, c := range classes {
		if !errors.Is(err, c.sentinel) {
			continue
		}
		p := Problem{c.status, c.code, c.msg}
		var pe publicError
		if c.sentinel != ErrUnauthorized && errors.As(err, &pe) {
			p.Message = pe.public()
		}
		return p
	}
	return Problem{http.StatusInternalServerError, CodeInternal, msgInternal}
}

// Refused reports whether err is a refusal of the request as asked (it is
// invalid, names nobody or several, or a hold protects the customer):
// nothing was changed, and repeating the same request will not help. Any
// other error from a forget is a failure.
func Refused(err error) bool {
	return errors.Is(err, ErrInvalid) || errors.Is(err, ErrNotFound) || errors.Is(err, ErrConflict) || errors.Is(err, ErrHeld)
}

const msgInternal = "internal error; the server log has the cause"
