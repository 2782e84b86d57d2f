package forget

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
)

// MaxBodyBytes is the largest request body the handler reads.
const MaxBodyBytes = 1 << 20

// HeaderRequestID carries the request id that ties a response to its logs
// and receipt. The handler reuses a well-formed incoming one and makes one
// otherwise.
const HeaderRequestID = "X-Request-Id"

// The request parameters, all read from the body.
const (
	ParamKeep   = "keep"
	ParamDryRun = "dry_run"
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
)

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
}

// NewHandler returns the HTTP handler for f. auth is required: pass a
// [*KeyTable], your own Authenticator, or [HostAuthenticated] when your
// middleware authenticates callers itself.
func NewHandler(f *Forgetter, auth Authenticator) (*Handler, error) {
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
	return &Handler{f: f, auth: auth, log: f.log, idPrefix: lowerBase32.EncodeToString(raw[:])[:12]}, nil
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	reqID := h.requestID(r.Header.Get(HeaderRequestID))
	w.Header().Set(HeaderRequestID, reqID)
	// Receipts and refusals are about a person: no cache may keep them.
	w.Header().Set("Cache-Control", "no-store")
	ctx := r.Context()
	if r.Method != http.MethodPatch {
		w.Header().Set("Allow", http.MethodPatch)
		h.fail(ctx, w, r, reqID, errMethod)
		return
	}
	principal, err := h.auth.Authenticate(r)
	if err != nil {
		h.fail(ctx, w, r, reqID, err)
		return
	}
	req, err := DecodeRequest(r)
	if err != nil {
		h.fail(ctx, w, r, reqID, err)
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
		io.WriteString(w, "true")
		return
	}
	body, err := json.Marshal(rc)
	if err != nil {
		h.fail(ctx, w, r, reqID, err)
		return
	}
	w.Write(body)
}

func (h *Handler) fail(ctx context.Context, w http.ResponseWriter, r *http.Request, reqID string, err error) {
	status, code := ErrorStatus(err)
	if status == http.StatusInternalServerError {
		h.log.LogAttrs(ctx, slog.LevelError, "forget: internal error",
			slog.String("method", r.Method),
			slog.String("request_id", reqID),
			slog.String("error", err.Error()),
		)
	} else {
		h.log.LogAttrs(ctx, slog.LevelDebug, "forget: request refused",
			slog.Int("status", status),
			slog.String("code", code),
			slog.String("request_id", reqID),
		)
	}
	writeError(w, status, code, PublicMessage(err))
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

var (
	errMethod    = &httpError{http.StatusMethodNotAllowed, CodeMethodNotAllowed, "use PATCH"}
	errMediaType = &httpError{http.StatusUnsupportedMediaType, CodeUnsupportedMediaType,
		"send application/x-www-form-urlencoded, multipart/form-data or application/json"}
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
	return "internal error; the server log has the cause"
}

// DecodeRequest reads a forget request's parameters from r's body, which
// may be form-urlencoded, multipart/form-data or JSON. Parameters in the
// query string are refused: a keep or dry_run the server ignored would
// erase what the caller meant to keep. Unknown parameters are refused for
// the same reason (a misspelt "kep"). The body is limited to MaxBodyBytes.
func DecodeRequest(r *http.Request) (Request, error) {
	if r.URL != nil && r.URL.RawQuery != "" {
		query := r.URL.Query()
		for _, name := range [...]string{KeyCustomerID, KeySubscriptionID, KeyOrderID, ParamKeep, ParamDryRun} {
			if query.Has(name) {
				return Request{}, invalid(name + " belongs in the request body, not the query string")
			}
		}
	}
	var body []byte
	if r.Body != nil {
		var err error
		body, err = io.ReadAll(http.MaxBytesReader(nil, r.Body, MaxBodyBytes))
		if err != nil {
			var tl *http.MaxBytesError
			if errors.As(err, &tl) {
				return Request{}, err
			}
			return Request{}, invalid("could not read the request body")
		}
	}
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		if len(bytes.TrimSpace(body)) == 0 {
			return Request{}, invalid("the request body is empty; give customer_id, subscription_id or orderid")
		}
		return Request{}, errMediaType
	}
	mediaType, mparams, err := mime.ParseMediaType(ct)
	if err != nil {
		return Request{}, errMediaType
	}
	var p params
	switch mediaType {
	case "application/x-www-form-urlencoded":
		vals, err := url.ParseQuery(string(body))
		if err != nil {
			return Request{}, invalid("the form body is malformed")
		}
		return RequestFromValues(vals)
	case "multipart/form-data":
		if err := p.readMultipart(body, mparams["boundary"]); err != nil {
			return Request{}, err
		}
	case "application/json":
		if err := p.readJSON(body); err != nil {
			return Request{}, err
		}
	default:
		return Request{}, errMediaType
	}
	return p.req, nil
}

// RequestFromValues builds a Request from form-style parameters with the
// handler's rules: only customer_id, subscription_id, orderid, keep and
// dry_run; each key at most once; dry_run 1/true/0/false. Operator tools
// use it so that a batch row means what the same HTTP request would.
func RequestFromValues(vals url.Values) (Request, error) {
	var p params
	names := make([]string, 0, len(vals))
	for name := range vals {
		names = append(names, name)
	}
	sort.Strings(names) // the same bad request always gets the same message
	for _, name := range names {
		for _, v := range vals[name] {
			if err := p.set(name, v); err != nil {
				return Request{}, err
			}
		}
	}
	return p.req, nil
}

// RequestFromJSON builds a Request from a JSON object with the handler's
// rules: ids as strings or numbers, keep as a string or an array.
func RequestFromJSON(data []byte) (Request, error) {
	var p params
	if err := p.readJSON(data); err != nil {
		return Request{}, err
	}
	return p.req, nil
}

// params accumulates decoded parameters, refusing repeats and unknowns.
type params struct {
	req                       Request
	seenCID, seenSID, seenOID bool
	seenDry                   bool
}

func (p *params) set(name, v string) error {
	once := func(seen *bool, dst *string) error {
		if *seen {
			return invalid(name + " is given more than once")
		}
		*seen = true
		*dst = v
		return nil
	}
	switch name {
	case KeyCustomerID:
		return once(&p.seenCID, &p.req.Lookup.CustomerID)
	case KeySubscriptionID:
		return once(&p.seenSID, &p.req.Lookup.SubscriptionID)
	case KeyOrderID:
		return once(&p.seenOID, &p.req.Lookup.OrderID)
	case ParamKeep:
		p.req.Keep = append(p.req.Keep, v)
		return nil
	case ParamDryRun:
		if p.seenDry {
			return invalid(name + " is given more than once")
		}
		p.seenDry = true
		switch strings.ToLower(strings.TrimSpace(v)) {
		case "1", "true", "yes", "on":
			p.req.DryRun = true
		case "", "0", "false", "no", "off":
		default:
			return invalid("dry_run must be 1, true, 0 or false")
		}
		return nil
	}
	return invalid("unknown parameter " + quoteName(name) + "; expected customer_id, subscription_id, orderid, keep or dry_run")
}

// quoteName quotes a caller's parameter name for a message, cut short so a
// hostile name cannot flood the response or the log.
func quoteName(s string) string {
	if len(s) > 40 {
		s = s[:40] + "..."
	}
	return strconv.Quote(s)
}

func (p *params) readMultipart(body []byte, boundary string) error {
	if boundary == "" {
		return invalid("multipart body has no boundary")
	}
	mr := multipart.NewReader(bytes.NewReader(body), boundary)
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return invalid("the multipart body is malformed")
		}
		name := part.FormName()
		if name == "" {
			return invalid("a multipart part has no form name")
		}
		v, err := io.ReadAll(part)
		if err != nil {
			return invalid("the multipart body is malformed")
		}
		if err := p.set(name, string(v)); err != nil {
			return err
		}
	}
}

func (p *params) readJSON(body []byte) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil || tok != json.Delim('{') {
		return invalid("the JSON body must be an object")
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return invalid("the JSON body is malformed")
		}
		name, _ := tok.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return invalid("the JSON body is malformed")
		}
		if err := p.setJSON(name, raw); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return invalid("the JSON body is malformed")
	}
	if _, err := dec.Token(); err != io.EOF {
		return invalid("the JSON body has data after its object")
	}
	return nil
}

func (p *params) setJSON(name string, raw json.RawMessage) error {
	if string(raw) == "null" {
		switch name {
		case KeyCustomerID, KeySubscriptionID, KeyOrderID, ParamKeep, ParamDryRun:
			return nil
		}
		return p.set(name, "")
	}
	switch name {
	case KeyCustomerID, KeySubscriptionID, KeyOrderID:
		var s string
		if err := json.Unmarshal(raw, &s); err == nil {
			return p.set(name, s)
		}
		var n json.Number
		if err := json.Unmarshal(raw, &n); err == nil {
			return p.set(name, n.String())
		}
		return invalid(name + " must be a string or a number")
	case ParamKeep:
		var s string
		if err := json.Unmarshal(raw, &s); err == nil {
			return p.set(name, s)
		}
		var list []string
		if err := json.Unmarshal(raw, &list); err == nil {
			p.req.Keep = append(p.req.Keep, list...)
			return nil
		}
		return invalid("keep must be a string or an array of strings")
	case ParamDryRun:
		var b bool
		if err := json.Unmarshal(raw, &b); err == nil {
			return p.set(name, strconv.FormatBool(b))
		}
		var s string
		if err := json.Unmarshal(raw, &s); err == nil {
			return p.set(name, s)
		}
		var n json.Number
		if err := json.Unmarshal(raw, &n); err == nil {
			return p.set(name, n.String())
		}
		return invalid("dry_run must be true, false, 1 or 0")
	}
	return p.set(name, "")
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
