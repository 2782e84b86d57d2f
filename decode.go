package forget

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// The request parameters, all read from the body.
const (
	paramKeep   = "keep"
	paramDryRun = "dry_run"
)

// maxParams is the most parameters a request body may hold, each item of
// a JSON keep array counting as one (PHP's max_input_vars, and the part
// limit of Go's multipart.ReadForm, are 1000 too). It bounds the work a
// body can ask for; a real request has a handful.
const maxParams = 1000

// maxBoundary is RFC 2046's limit on a multipart boundary.
const maxBoundary = 70

var errQuery = invalid("parameters belong in the request body; the query string must be empty")

// decodeRequest reads a forget request's parameters from r's body, which
// may be form-urlencoded, multipart/form-data or JSON, under contract c
// (nil is Offerit's). Any query string is refused (a bare "?" carries
// none and is allowed): a keep or dry_run the server ignored would erase
// what the caller meant to keep. Unknown parameters are refused for the
// same reason (a misspelt "kep"). The body is limited to MaxBodyBytes and
// maxParams.
func decodeRequest(r *http.Request, c *Contract) (Request, error) {
	// Refused whatever it holds: the server's parser drops pairs it
	// cannot read (";"), and "dryRun" or "keep[]" would be ignored too.
	if r.URL != nil && r.URL.RawQuery != "" {
		return Request{}, errQuery
	}
	if r.ContentLength > MaxBodyBytes {
		return Request{}, &http.MaxBytesError{Limit: MaxBodyBytes}
	}
	// A compressed body would be parsed as its compressed bytes.
	if ce := r.Header.Get("Content-Encoding"); ce != "" && !strings.EqualFold(ce, "identity") {
		return Request{}, errEncoding
	}
	// The media type first: an unsupported one costs no body read.
	ct := r.Header.Get("Content-Type")
	var mediaType string
	var mparams map[string]string
	if ct != "" {
		var err error
		mediaType, mparams, err = mime.ParseMediaType(ct)
		if err != nil {
			return Request{}, errMediaType
		}
		switch mediaType {
		case "application/x-www-form-urlencoded", "multipart/form-data", "application/json":
		default:
			return Request{}, errMediaType
		}
	}
	body, err := readBody(r)
	if err != nil {
		return Request{}, err
	}
	if ct == "" {
		if strings.TrimSpace(body) == "" {
			return Request{}, invalid("the request body is empty; give customer_id, subscription_id or orderid")
		}
		return Request{}, errMediaType
	}
	return decodeBody(mediaType, mparams, body, c)
}

// DecodeBody decodes a request body of the given Content-Type with the
// handler's rules (only customer_id, subscription_id, orderid, keep and
// dry_run; each lookup key at most once; dry_run 1/true/0/false; ids as
// strings or numbers and keep as a string or an array in JSON). Operator
// tools use it so that a batch row means what the same HTTP request
// would: a CSV row is its form encoding, a JSON line its object.
func DecodeBody(contentType string, body []byte) (Request, error) {
	if len(body) > MaxBodyBytes {
		return Request{}, &http.MaxBytesError{Limit: MaxBodyBytes}
	}
	mediaType, mparams, err := mime.ParseMediaType(contentType)
	if err != nil {
		return Request{}, errMediaType
	}
	return decodeBody(mediaType, mparams, string(body), nil)
}

// decodeBody decodes body under contract c; nil is Offerit's.
func decodeBody(mediaType string, mparams map[string]string, body string, c *Contract) (Request, error) {
	p := params{c: c}
	var err error
	switch mediaType {
	case "application/x-www-form-urlencoded":
		err = p.readForm(body)
	case "multipart/form-data":
		err = p.readMultipart(body, mparams["boundary"])
	case "application/json":
		err = p.readJSON(body)
	default:
		err = errMediaType
	}
	if err != nil {
		return Request{}, err
	}
	if l := p.req.Lookup; c != nil && strings.TrimSpace(l.CustomerID+l.SubscriptionID+l.OrderID) == "" {
		return Request{}, invalid("give " + c.lookupNames())
	}
	return p.req, nil
}

// readBody reads at most MaxBodyBytes into a string, which the decoders
// slice without copying.
func readBody(r *http.Request) (string, error) {
	if r.Body == nil {
		return "", nil
	}
	var b strings.Builder
	if n := r.ContentLength; n > 0 {
		b.Grow(int(min(n, MaxBodyBytes+1))) // a declared length is a hint, not a promise
	}
	if _, err := io.Copy(&b, http.MaxBytesReader(nil, r.Body, MaxBodyBytes)); err != nil {
		var tl *http.MaxBytesError
		if errors.As(err, &tl) {
			return "", err
		}
		return "", invalid("could not read the request body")
	}
	return b.String(), nil
}

// params accumulates decoded parameters, refusing repeats and unknowns.
type params struct {
	c                         *Contract // nil: Offerit's
	req                       Request
	seenCID, seenSID, seenOID bool
	seenDry                   bool
	n                         int // parameters so far, keep items included
}

// count refuses the parameter past maxParams.
func (p *params) count() error {
	p.n++
	if p.n > maxParams {
		return errTooManyParams
	}
	return nil
}

var errTooManyParams = invalid("the body holds more than " + strconv.Itoa(maxParams) + " parameters")

func (p *params) set(name, v string) error {
	once := func(seen *bool, dst *string) error {
		if *seen {
			return invalid(name + " is given more than once")
		}
		*seen = true
		*dst = v
		return nil
	}
	switch p.key(name) {
	case KeyCustomerID:
		return once(&p.seenCID, &p.req.Lookup.CustomerID)
	case KeySubscriptionID:
		return once(&p.seenSID, &p.req.Lookup.SubscriptionID)
	case KeyOrderID:
		return once(&p.seenOID, &p.req.Lookup.OrderID)
	case paramKeep:
		p.req.Keep = append(p.req.Keep, v)
		return nil
	case paramDryRun:
		if p.seenDry {
			return invalid(name + " is given more than once")
		}
		p.seenDry = true
		switch strings.ToLower(strings.TrimSpace(v)) {
		case "1", "true", "yes", "on":
			p.req.DryRun = true
		case "0", "false", "no", "off":
		case "":
			// "dry_run=$DRY" with DRY unset: a preview was meant, or
			// nothing was; an erasure must not be the guess.
			return invalid("dry_run is empty: send 1 or true for a preview, 0 or false (or no dry_run) to erase")
		default:
			return invalid("dry_run must be 1, true, 0 or false")
		}
		return nil
	}
	expected := "customer_id, subscription_id, orderid, keep or dry_run"
	if p.c != nil {
		expected = p.c.expected()
	}
	return invalid("unknown parameter " + quoteName(name) + "; expected " + expected)
}

// key returns the lookup key a lookup parameter fills under the contract
// (under Offerit's, its own name); other names come back as they are,
// and the other contracts' lookup names as "".
func (p *params) key(name string) string {
	if p.c == nil || name == paramKeep || name == paramDryRun {
		return name
	}
	return p.c.key(name)
}

// quoteName quotes a caller's parameter name for a message, cut short so a
// hostile name cannot flood the response or the log.
func quoteName(s string) string {
	return strconv.Quote(cutName(s, 43))
}

// readForm reads an application/x-www-form-urlencoded body as
// url.ParseQuery does, but stops at the first bad or unknown parameter
// and never builds a map: the cost is one pass over the body.
func (p *params) readForm(body string) error {
	for body != "" {
		var pair string
		pair, body, _ = strings.Cut(body, "&")
		if strings.Contains(pair, ";") {
			return invalid("the form body is malformed: separate parameters with &, not ;")
		}
		if pair == "" {
			continue
		}
		if err := p.count(); err != nil {
			return err
		}
		k, v, _ := strings.Cut(pair, "=")
		k, err := url.QueryUnescape(k)
		if err != nil {
			return invalid("the form body is malformed: a parameter name is not URL-encoded")
		}
		v, err = url.QueryUnescape(v)
		if err != nil {
			return invalid("the form body is malformed: a parameter value is not URL-encoded")
		}
		if err := p.set(k, v); err != nil {
			return err
		}
	}
	return nil
}

func (p *params) readMultipart(body, boundary string) error {
	if boundary == "" {
		return invalid("multipart body has no boundary")
	}
	if len(boundary) > maxBoundary {
		return invalid("the multipart boundary is longer than 70 characters")
	}
	mr := multipart.NewReader(strings.NewReader(body), boundary)
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return invalid("the multipart body is malformed")
		}
		if err := p.count(); err != nil {
			return err
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

func (p *params) readJSON(body string) error {
	dec := json.NewDecoder(strings.NewReader(body))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil || tok != json.Delim('{') {
		return invalid("the JSON body must be an object")
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return errMalformedJSON
		}
		name, _ := tok.(string)
		if err := p.count(); err != nil {
			return err
		}
		switch p.key(name) {
		case KeyCustomerID, KeySubscriptionID, KeyOrderID, paramDryRun:
			var raw json.RawMessage
			if err := dec.Decode(&raw); err != nil {
				return errMalformedJSON
			}
			if err := p.setJSON(name, raw); err != nil {
				return err
			}
		case paramKeep:
			if err := p.readJSONKeep(dec); err != nil {
				return err
			}
		default:
			// Refused before its value is read, however large.
			return p.set(name, "")
		}
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return errMalformedJSON
	}
	if _, err := dec.Token(); err != io.EOF {
		return invalid("the JSON body has data after its object")
	}
	return nil
}

var (
	errMalformedJSON = invalid("the JSON body is malformed")
	errKeepType      = invalid("keep must be a string or an array of strings")
)

// readJSONKeep reads keep's value, a string, null or an array of strings
// (null items ignored), one token at a time: each item counts against
// maxParams before it costs anything more.
func (p *params) readJSONKeep(dec *json.Decoder) error {
	tok, err := dec.Token()
	if err != nil {
		return errMalformedJSON
	}
	switch t := tok.(type) {
	case nil:
		return nil
	case string:
		return p.set(paramKeep, t)
	case json.Delim:
		if t != '[' {
			return errKeepType
		}
		for dec.More() {
			tok, err := dec.Token()
			if err != nil {
				return errMalformedJSON
			}
			if err := p.count(); err != nil {
				return err
			}
			switch item := tok.(type) {
			case nil:
			case string:
				p.req.Keep = append(p.req.Keep, item)
			default:
				return errKeepType
			}
		}
		if _, err := dec.Token(); err != nil { // the closing bracket
			return errMalformedJSON
		}
		return nil
	}
	return errKeepType
}

func (p *params) setJSON(name string, raw json.RawMessage) error {
	if string(raw) == "null" {
		return nil
	}
	switch p.key(name) {
	case KeyCustomerID, KeySubscriptionID, KeyOrderID:
		if v, ok := jsonScalar(raw); ok {
			return p.set(name, v)
		}
		return invalid(name + " must be a string or a number")
	case paramDryRun:
		var b bool
		if err := json.Unmarshal(raw, &b); err == nil {
			return p.set(name, strconv.FormatBool(b))
		}
		if v, ok := jsonScalar(raw); ok {
			return p.set(name, v)
		}
		return invalid("dry_run must be true, false, 1 or 0")
	}
	return p.set(name, "")
}

// jsonScalar returns raw's text when it is a JSON string or number: the
// form sends every value as a string, and JSON clients may send numbers.
func jsonScalar(raw json.RawMessage) (string, bool) {
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return s, true
	}
	var n json.Number
	if err := json.Unmarshal(raw, &n); err == nil {
		return n.String(), true
	}
	return "", false
}
