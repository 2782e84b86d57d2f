package forget

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// The request parameters, all read from the body.
const (
	ParamKeep   = "keep"
	ParamDryRun = "dry_run"
)

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
