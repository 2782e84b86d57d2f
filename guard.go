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
	"strings"
	"sync/atomic"
)

// Guard is net/http middleware in front of the endpoints through which a
// forgotten person's details can come back (sign-ups, imports, an
// advertiser's post-backs): it reads the request's named fields, from the
// query string and from a form, multipart or JSON body, and checks each
// against the tombstones ([TombstoneChecker]). A match is refused with
// 409 and the code "forgotten" (the field named, never the value), or,
// with [GuardFlagOnly], passed on with [GuardMatches] set in the request's
// context. The body is read (up to the limit) and given back intact to
// the next handler.
type Guard struct {
	tc       TombstoneChecker
	fields   []guardField
	flag     bool
	failOpen bool
	limit    int64
	log      *slog.Logger
	observe  func(ctx context.Context, m GuardMatch)

	checked, matched, failed atomic.Int64
}

type guardField struct {
	name     string // the request's field, a dotted path into JSON
	identity string
}

// GuardMatch is one field of a request that matched a tombstone.
type GuardMatch struct {
	Field    string // the request's field
	Identity string // the identity it was checked as
	Flagged  bool   // passed on (GuardFlagOnly), not refused
}

// GuardOption configures a Guard.
type GuardOption func(*Guard)

// GuardFlagOnly passes matching requests on, with [GuardMatches] telling
// the next handler what matched, instead of refusing them.
func GuardFlagOnly() GuardOption { return func(g *Guard) { g.flag = true } }

// GuardFailOpen passes a request on when the tombstones cannot be checked
// (the database is down); by default it is refused with 503.
func GuardFailOpen() GuardOption { return func(g *Guard) { g.failOpen = true } }

// GuardBodyLimit sets how many bytes of a body the guard reads; a longer
// body is refused with 413. The default is 1 MiB.
func GuardBodyLimit(n int64) GuardOption { return func(g *Guard) { g.limit = n } }

// GuardLogger sets where failed checks are logged (never a value); the
// default is slog.Default().
func GuardLogger(l *slog.Logger) GuardOption { return func(g *Guard) { g.log = l } }

// GuardObserver is told of every match, for metrics or an audit of
// attempts; fn must be quick and safe for concurrent use.
func GuardObserver(fn func(ctx context.Context, m GuardMatch)) GuardOption {
	return func(g *Guard) { g.observe = fn }
}

// NewGuard returns a guard that checks each request field of fields (its
// key: a form field, or a dotted path into a JSON body such as
// "customer.email") as the identity it names (its value: "email").
func NewGuard(tc TombstoneChecker, fields map[string]string, opts ...GuardOption) (*Guard, error) {
	if tc == nil {
		return nil, errors.New("forget: NewGuard needs a TombstoneChecker (a store built with tombstone keys)")
	}
	if len(fields) == 0 {
		return nil, errors.New("forget: NewGuard needs at least one field to check")
	}
	g := &Guard{tc: tc, limit: MaxBodyBytes}
	for name, id := range fields {
		if strings.TrimSpace(name) == "" || id == "" {
			return nil, fmt.Errorf("forget: NewGuard: field %q and identity %q must both be named", cutName(name, 64), cutName(id, 64))
		}
		g.fields = append(g.fields, guardField{name: name, identity: id})
	}
	sort.Slice(g.fields, func(i, j int) bool { return g.fields[i].name < g.fields[j].name })
	for _, o := range opts {
		o(g)
	}
	if g.limit < 1 {
		return nil, errors.New("forget: GuardBodyLimit must be positive")
	}
	if g.log == nil {
		g.log = slog.Default()
	}
	return g, nil
}

// GuardStats counts what a guard has done since it was built.
type GuardStats struct {
	Checked int64 // requests checked
	Matched int64 // requests with at least one match (refused or flagged)
	Failed  int64 // requests whose check failed (refused, or passed with GuardFailOpen)
}

// Stats returns the guard's counters, for a metrics endpoint.
func (g *Guard) Stats() GuardStats {
	return GuardStats{Checked: g.checked.Load(), Matched: g.matched.Load(), Failed: g.failed.Load()}
}

type guardKey struct{}

// GuardMatches returns the matches a flagging guard ([GuardFlagOnly])
// found in the request whose context ctx is; nil when none.
func GuardMatches(ctx context.Context) []GuardMatch {
	m, _ := ctx.Value(guardKey{}).([]GuardMatch)
	return m
}

// Wrap returns next behind the guard.
func (g *Guard) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		values, err := g.read(r)
		if errors.Is(err, errEncoded) {
			writeError(w, http.StatusUnsupportedMediaType, CodeUnsupportedMediaType, "send the body without a Content-Encoding")
			return
		}
		if err != nil {
			var tooLarge *http.MaxBytesError
			if errors.As(err, &tooLarge) {
				writeError(w, http.StatusRequestEntityTooLarge, CodeTooLarge, fmt.Sprintf("the body is larger than %d bytes", g.limit))
				return
			}
			writeError(w, http.StatusBadRequest, CodeInvalid, "the body cannot be read")
			return
		}
		g.checked.Add(1)
		var matches []GuardMatch
		for _, f := range g.fields {
			for _, v := range values[f.name] {
				ok, err := g.tc.Forgotten(r.Context(), Identity{Name: f.identity, Value: v})
				if err != nil {
					g.failed.Add(1)
					g.log.LogAttrs(r.Context(), slog.LevelError, "forget: guard: the tombstones cannot be checked",
						slog.String("field", f.name), slog.String("error", err.Error()))
					if g.failOpen {
						next.ServeHTTP(w, r)
						return
					}
					writeError(w, http.StatusServiceUnavailable, CodeUnavailable, "the request cannot be checked now; try again later")
					return
				}
				if ok {
					matches = append(matches, GuardMatch{Field: f.name, Identity: f.identity, Flagged: g.flag})
					break
				}
			}
		}
		if len(matches) == 0 {
			next.ServeHTTP(w, r)
			return
		}
		g.matched.Add(1)
		if g.observe != nil {
			for _, m := range matches {
				g.observe(r.Context(), m)
			}
		}
		if g.flag {
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), guardKey{}, matches)))
			return
		}
		writeError(w, http.StatusConflict, CodeForgotten, fmt.Sprintf("field %s names a person who asked to be forgotten; it is not accepted", cutName(matches[0].Field, 64)))
	})
}

// Error codes of a Guard's refusals.
const (
	CodeForgotten   = "forgotten"   // 409: a field matched a tombstone
	CodeUnavailable = "unavailable" // 503: the tombstones could not be checked
)

var errEncoded = errors.New("forget: guard: an encoded body")

// read returns the values of every field the guard checks, from the
// query string and the body, and puts the body back for the next handler.
func (g *Guard) read(r *http.Request) (map[string][]string, error) {
	out := map[string][]string{}
	want := make(map[string]bool, len(g.fields))
	for _, f := range g.fields {
		want[f.name] = true
	}
	for k, vs := range r.URL.Query() {
		if want[k] {
			out[k] = append(out[k], vs...)
		}
	}
	if r.Body == nil || r.Body == http.NoBody {
		return out, nil
	}
	if ce := r.Header.Get("Content-Encoding"); ce != "" && !strings.EqualFold(ce, "identity") {
		return nil, errEncoded // its fields cannot be read: never let it past unread
	}
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, g.limit))
	r.Body.Close()
	r.Body = io.NopCloser(bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	media, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch {
	case media == "application/x-www-form-urlencoded":
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, err
		}
		for k, vs := range form {
			if want[k] {
				out[k] = append(out[k], vs...)
			}
		}
	case media == "multipart/form-data":
		mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
		for {
			p, err := mr.NextPart()
			if err == io.EOF {
				break
			}
			if err != nil {
				return nil, err
			}
			name := p.FormName()
			if want[name] && p.FileName() == "" {
				v, err := io.ReadAll(p)
				if err != nil {
					return nil, err
				}
				out[name] = append(out[name], string(v))
			}
		}
	case media == "application/json" || strings.HasSuffix(media, "+json"):
		var doc any
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		if err := dec.Decode(&doc); err != nil {
			return nil, err
		}
		for _, f := range g.fields {
			out[f.name] = append(out[f.name], jsonValues(doc, strings.Split(f.name, "."))...)
		}
	}
	return out, nil
}

// jsonValues returns the strings (and numbers, as a phone number may be
// one) at path in doc, member names compared case-insensitively; an
// array on the way is searched element by element, so that
// "contacts.email" finds every contact's.
func jsonValues(doc any, path []string) []string {
	switch v := doc.(type) {
	case []any:
		var out []string
		for _, e := range v {
			out = append(out, jsonValues(e, path)...)
		}
		return out
	case map[string]any:
		if len(path) == 0 {
			return nil
		}
		// Case-insensitively, as encoding/json matches a host's struct
		// fields: {"EMAIL": ...} must not pass where {"email": ...} is
		// refused.
		var out []string
		for k, e := range v {
			if strings.EqualFold(k, path[0]) {
				out = append(out, jsonValues(e, path[1:])...)
			}
		}
		return out
	case string:
		if len(path) == 0 {
			return []string{v}
		}
	case json.Number:
		if len(path) == 0 {
			return []string{v.String()}
		}
	}
	return nil
}
