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
	CodeInternal             = "internal"
	CodeCanceled             = "canceled"
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

// ErrorStatus maps an error from the Forgetter, an Authenticator or request
// decoding to its HTTP status and error code. Unrecognised errors are 500
// "internal".
func ErrorStatus(err error) (status int, code string) {
	var he *httpError
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &he):
		return he.status, he.code
	case errors.As(err, &tooLarge):
		return http.StatusRequestEntityTooLarge, CodeTooLarge
	case errors.Is(err, ErrUnauthorized):
		return http.StatusUnauthorized, CodeUnauthorized
	case errors.Is(err, ErrInvalid):
		return http.StatusBadRequest, CodeInvalid
	case errors.Is(err, ErrNotFound):
		return http.StatusNotFound, CodeNotFound
	case errors.Is(err, ErrConflict):
		return http.StatusConflict, CodeConflict
	}
	return http.StatusInternalServerError, CodeInternal
}

// PublicMessage returns what a caller may be told of err: the message of
// this package's own error types, which hold no values, or a generic text
// for its class. An internal error's cause is never shown.
func PublicMessage(err error) string {
	var (
		he   *httpError
		re   *requestError
		un   *UnknownNamesError
		ke   *KeyError
		tl   *http.MaxBytesError
		auth = errors.Is(err, ErrUnauthorized)
	)
	switch {
	case errors.As(err, &he):
		return he.msg
	case errors.As(err, &tl):
		return fmt.Sprintf("the request body is larger than %d bytes", tl.Limit)
	case auth:
		return "missing or wrong api-username or api-key"
	case errors.As(err, &un):
		return un.Error()
	case errors.As(err, &ke):
		return ke.Error()
	case errors.As(err, &re):
		return re.msg
	case errors.Is(err, ErrInvalid):
		return ErrInvalid.Error()
	case errors.Is(err, ErrNotFound):
		return "no customer matches the lookup"
	case errors.Is(err, ErrConflict):
		return ErrConflict.Error()
	}
	return msgInternal
}

const msgInternal = "internal error; the server log has the cause"
