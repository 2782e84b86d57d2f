package forget

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"sync/atomic"
	"time"
)

// MaxBodyBytes is the largest request body the handler reads.
const MaxBodyBytes = 1 << 20

// HeaderRequestID carries the request id that ties a response to its logs
// and receipt. The handler reuses a well-formed incoming one and makes one
// otherwise.
const HeaderRequestID = "X-Request-Id"

// Handler serves Offerit's PATCH /api/customer/forget. Build it with
// [NewHandler]; mount it at any path.
type Handler struct {
	f    *Forgetter
	auth Authenticator
	log  *slog.Logger
	// Request ids are a random prefix, fixed per handler, and a counter:
	// unique without a read of the randomness source per request.
	idPrefix string
	idSeq    atomic.Uint64
	contract *Contract // nil: Offerit's
	// hostID, when set, reads the id the host's middleware gave the
	// request (chi's middleware.GetReqID, say), so that logs line up.
	hostID func(context.Context) string
	// The limiter of failed authentications (nil: off), as configured by
	// WithAuthLimit, WithoutAuthLimit and WithClientAddr.
	limit      AuthLimit
	limitOff   bool
	limiter    *limiter
	clientAddr func(*http.Request) string
	observers  []HandlerObserver
}

// HandlerOption configures a [Handler].
type HandlerOption func(*Handler)

// WithRequestIDFrom makes the handler use the request id the host's own
// middleware put in the request's context, read by fn (with chi:
// forget.WithRequestIDFrom(middleware.GetReqID)), so that the host's logs
// and the receipt's request id line up. An id that is empty, longer than
// 128 bytes or not printable ASCII is ignored, as an X-Request-Id header
// would be.
func WithRequestIDFrom(fn func(context.Context) string) HandlerOption {
	return func(h *Handler) { h.hostID = fn }
}

// NewHandler returns the HTTP handler for f. auth is required: pass a
// [*APIKeys], your own Authenticator, or [HostAuthenticated] when your
// middleware authenticates callers itself.
//
// By default it serves Offerit's contract; [WithContract] serves another.
func NewHandler(f *Forgetter, auth Authenticator, opts ...HandlerOption) (*Handler, error) {
	if f == nil {
		return nil, errors.New("forget: NewHandler needs a Forgetter")
	}
	if auth == nil {
		return nil, errors.New("forget: NewHandler needs an Authenticator (use forget.HostAuthenticated() if your middleware authenticates)")
	}
	var raw [10]byte
	if _, err := io.ReadFull(f.rand, raw[:]); err != nil {
		return nil, fmt.Errorf("forget: read randomness: %w", err)
	}
	h := &Handler{f: f, auth: auth, log: f.log, idPrefix: lowerBase32.EncodeToString(raw[:])[:12],
		clientAddr: ClientAddr, observers: handlerObservers(f.observers)}
	for _, opt := range opts {
		opt(h)
	}
	if h.clientAddr == nil {
		h.clientAddr = ClientAddr
	}
	if !h.limitOff {
		l, err := h.limit.withDefaults()
		if err != nil {
			return nil, err
		}
		h.limiter = newLimiter(l)
	}
	if h.contract != nil {
		if err := h.contract.Validate(); err != nil {
			return nil, err
		}
	}
	return h, nil
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	given := r.Header.Get(HeaderRequestID)
	if h.hostID != nil {
		if id := h.hostID(r.Context()); id != "" {
			given = id
		}
	}
	reqID := h.requestID(given)
	w.Header().Set(HeaderRequestID, reqID)
	// Receipts and refusals are about a person: no cache may keep them.
	w.Header().Set("Cache-Control", "no-store")
	ctx := r.Context()
	defer h.recoverPanic(ctx, w, r, reqID)
	// decodeRequest reads through reqBody, so that drainRefused knows what
	// is left. It is r.Body only meanwhile: net/http looks at r.Body's
	// type when it answers (an unread "100-continue" body closes).
	var reqBody *trackedBody
	if body := r.Body; body != nil && body != http.NoBody {
		reqBody = &trackedBody{ReadCloser: body}
		defer func() { r.Body = body }() // runs before recoverPanic answers
	}
	if r.Method != http.MethodPatch {
		w.Header().Set("Allow", http.MethodPatch)
		drainRefused(w, r, reqBody, errMethod)
		h.refuse(ctx, w, r, reqID, errMethod)
		return
	}
	principal, err := h.authenticate(ctx, w, r, reqID)
	if err != nil {
		drainRefused(w, r, reqBody, err)
		h.fail(ctx, w, r, reqID, err)
		return
	}
	if reqBody != nil {
		r.Body = reqBody
	}
	req, err := decodeRequest(r, h.contract)
	if reqBody != nil {
		r.Body = reqBody.ReadCloser
	}
	if err != nil {
		drainRefused(w, r, reqBody, err)
		h.refuse(ctx, w, r, reqID, err)
		return
	}
	req.Principal = principal
	req.RequestID = reqID
	rc, err := h.f.Forget(ctx, req)
	if err != nil {
		h.fail(ctx, w, r, reqID, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	if !req.DryRun {
		// Offerit answers a bare true; existing clients test for it.
		success := "true"
		if h.contract != nil {
			success = h.contract.Success
		}
		io.WriteString(w, success)
		return
	}
	body, err := json.Marshal(rc)
	if err != nil {
		h.fail(ctx, w, r, reqID, err)
		return
	}
	w.Write(body)
}

// authenticate runs the Authenticator behind the limiter: a client address
// or username out of tokens is refused before its key is compared. A
// failure is counted and logged with the username tried, never the key.
func (h *Handler) authenticate(ctx context.Context, w http.ResponseWriter, r *http.Request, reqID string) (string, error) {
	user := r.Header.Get(headerAPIUsername)
	addr := h.clientAddr(r)
	var rv reservation
	if h.limiter != nil {
		var wait time.Duration
		if rv, wait = h.limiter.reserve(addr, user); wait > 0 {
			w.Header().Set("Retry-After", retryAfter(wait))
			h.authFailed(ctx, reqID, AuthLimited, user, addr)
			return "", errAuthLimited
		}
	}
	principal, err := h.auth.Authenticate(r)
	switch {
	case err == nil:
		if h.limiter != nil {
			h.limiter.succeeded(rv)
		}
	case errors.Is(err, ErrUnauthorized):
		if h.limiter != nil {
			h.limiter.failed(rv)
		}
		h.authFailed(ctx, reqID, authReason(err), user, addr)
	default: // the authenticator could not decide: not the caller's failure
		if h.limiter != nil {
			h.limiter.release(rv)
		}
	}
	return principal, err
}

// maxLoggedUsername bounds the username a failure log shows: it is
// whatever the client sent.
const maxLoggedUsername = 64

// authFailed logs and counts a failed authentication. Refusals by the
// limiter are logged at DEBUG only: they are counted, and an attack
// would otherwise write a line per guess it is not allowed.
func (h *Handler) authFailed(ctx context.Context, reqID, reason, user, addr string) {
	level := slog.LevelWarn
	status, code := http.StatusUnauthorized, CodeUnauthorized
	if reason == AuthLimited {
		level = slog.LevelDebug
		status, code = http.StatusTooManyRequests, CodeTooManyRequests
	}
	if h.log.Enabled(ctx, level) {
		h.log.LogAttrs(ctx, level, "forget: authentication failed",
			slog.String("reason", reason),
			slog.String("username", escapeClipped(user, maxLoggedUsername)),
			slog.String("client", escapeClipped(addr, maxLimitKeyBytes)),
			slog.String("request_id", reqID),
		)
	}
	h.refused(ctx, RefusalStats{Status: status, Code: code, AuthReason: reason})
}

// escapeClipped cuts s to n bytes and escapes what is not printable
// ASCII (control characters, invalid UTF-8, newlines that would forge
// log lines), without the quotes strconv adds.
func escapeClipped(s string, n int) string {
	q := strconv.QuoteToASCII(clip(s, n))
	return q[1 : len(q)-1]
}

// refuse answers a refusal made before any forget, and tells the handler
// observers of it.
func (h *Handler) refuse(ctx context.Context, w http.ResponseWriter, r *http.Request, reqID string, err error) {
	if p := ProblemOf(h.contract.rename(err)); p.Status < http.StatusInternalServerError {
		h.refused(ctx, RefusalStats{Status: p.Status, Code: p.Code})
	}
	h.fail(ctx, w, r, reqID, err)
}

func (h *Handler) fail(ctx context.Context, w http.ResponseWriter, r *http.Request, reqID string, err error) {
	err = h.contract.rename(err)
	p := ProblemOf(err)
	status, code := p.Status, p.Code
	switch {
	case status == http.StatusInternalServerError && errors.Is(ctx.Err(), context.Canceled):
		// The client hung up (or the host cancelled the request) and the
		// store gave up: nothing is wrong with the server. Whatever error
		// the driver made of it, the cancel is its cause.
		h.log.LogAttrs(ctx, slog.LevelInfo, "forget: request cancelled before it completed",
			slog.String("method", r.Method),
			slog.String("request_id", reqID),
			slog.String("error", err.Error()),
		)
		err = errCanceled
	case status == http.StatusInternalServerError:
		h.log.LogAttrs(ctx, slog.LevelError, "forget: internal error",
			slog.String("method", r.Method),
			slog.String("request_id", reqID),
			slog.String("error", err.Error()),
		)
	default:
		h.log.LogAttrs(ctx, slog.LevelDebug, "forget: request refused",
			slog.Int("status", status),
			slog.String("code", code),
			slog.String("request_id", reqID),
		)
	}
	p = ProblemOf(err)
	writeError(w, p.Status, p.Code, p.Message)
}

// recoverPanic turns a panic (in a host's Store or Authenticator) into a
// 500. net/http would recover it too, but would log the panic value, which
// may hold a customer's data, and drop the connection without an answer.
func (h *Handler) recoverPanic(ctx context.Context, w http.ResponseWriter, r *http.Request, reqID string) {
	v := recover()
	if v == nil {
		return
	}
	if v == http.ErrAbortHandler { // the sanctioned way to abort: not ours to stop
		panic(v)
	}
	h.log.LogAttrs(ctx, slog.LevelError, "forget: internal error",
		slog.String("method", r.Method),
		slog.String("request_id", reqID),
		slog.String("error", fmt.Sprintf("panic of type %T (its value is not logged)", v)),
		slog.String("stack", string(debug.Stack())),
	)
	writeError(w, http.StatusInternalServerError, CodeInternal, msgInternal)
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	body, _ := json.Marshal(struct {
		Result string `json:"result"`
		Code   string `json:"code"`
		Data   string `json:"data"`
	}{"error", code, msg})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	w.Write(body)
}

// requestID returns the caller's id when it is short printable ASCII (so it
// is safe to log and echo), else a fresh one.
func (h *Handler) requestID(given string) string {
	if n := len(given); n > 0 && n <= 128 {
		ok := true
		for i := 0; i < n; i++ {
			if c := given[i]; c <= ' ' || c > '~' || c == '"' || c == '\\' {
				ok = false
				break
			}
		}
		if ok {
			return given
		}
	}
	var buf [32]byte
	b := append(buf[:0], h.idPrefix...)
	b = append(b, '-')
	b = strconv.AppendUint(b, h.idSeq.Add(1), 36)
	return string(b)
}
