package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// redacted stands for every secret the command prints.
const redacted = "xxxxx"

// redactDSN returns a DSN fit to print: scheme, user, host and database,
// with the password and every query parameter's value replaced (a
// parameter may be a password, an sslkey path or a token). A DSN that is
// not a URL is not shown at all.
func redactDSN(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil || u.Scheme == "" {
		return "(a DSN that is not a URL, not shown)"
	}
	if u.Opaque != "" {
		return clip(u.Scheme, 40) + ":" + redacted
	}
	r := url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path, RawPath: u.RawPath}
	if u.User != nil {
		if _, has := u.User.Password(); has {
			r.User = url.UserPassword(u.User.Username(), redacted)
		} else {
			r.User = url.User(u.User.Username())
		}
	}
	if u.RawQuery != "" || u.ForceQuery {
		parts := strings.Split(u.RawQuery, "&")
		for i, p := range parts {
			if k, _, ok := strings.Cut(p, "="); ok {
				parts[i] = k + "=" + redacted
			}
		}
		r.RawQuery = strings.Join(parts, "&")
		r.ForceQuery = u.ForceQuery
	}
	if u.Fragment != "" {
		r.Fragment = redacted
	}
	return clip(r.String(), 500)
}

// dsnSecrets returns the strings of a DSN that must not be printed: the
// whole DSN, its password and its query parameters' values, raw and
// decoded. Values shorter than 3 bytes are left out: hiding them would
// garble every message, and they protect nothing.
func dsnSecrets(dsn string) []string {
	if dsn == "" {
		return nil
	}
	set := map[string]bool{dsn: true}
	add := func(s string) {
		if len(s) >= 3 {
			set[s] = true
		}
	}
	if u, err := url.Parse(dsn); err == nil {
		if u.User != nil {
			if p, ok := u.User.Password(); ok {
				add(p)
				add(url.PathEscape(p))
				add(url.QueryEscape(p))
			}
		}
		add(u.RawQuery)
		add(u.Fragment)
		for _, part := range strings.Split(u.RawQuery, "&") {
			if _, v, ok := strings.Cut(part, "="); ok {
				add(v)
				if dv, err := url.QueryUnescape(v); err == nil {
					add(dv)
				}
			}
		}
	} else {
		// Not a URL: hide what looks like a password in it.
		for _, f := range strings.FieldsFunc(dsn, func(r rune) bool { return r == ' ' || r == '&' || r == '?' || r == '@' }) {
			if _, v, ok := strings.Cut(f, "="); ok {
				add(v)
			}
			if _, v, ok := strings.Cut(f, ":"); ok {
				add(v)
			}
		}
	}
	var out []string
	for s := range set {
		out = append(out, s)
		// Loggers quote and escape: hide the escaped forms too.
		q := strconv.Quote(s)
		out = append(out, q[1:len(q)-1])
		if j, err := json.Marshal(s); err == nil {
			out = append(out, string(j[1:len(j)-1]))
		}
	}
	// Longest first, so that a secret inside another is not half hidden.
	sort.Slice(out, func(i, j int) bool { return len(out[i]) > len(out[j]) })
	return out
}

// scrubWriter hides secrets in everything written to w. Every write of
// the command's messages and log records is one whole line, so a secret
// is never split across writes.
type scrubWriter struct {
	mu      sync.Mutex
	w       io.Writer
	secrets [][]byte
}

func newScrubWriter(w io.Writer, secrets []string) *scrubWriter {
	sw := &scrubWriter{w: w}
	for _, s := range secrets {
		if s != "" {
			sw.secrets = append(sw.secrets, []byte(s))
		}
	}
	return sw
}

func (sw *scrubWriter) Write(p []byte) (int, error) {
	out := p
	for _, s := range sw.secrets {
		if bytes.Contains(out, s) {
			out = bytes.ReplaceAll(out, s, []byte(redacted))
		}
	}
	sw.mu.Lock()
	defer sw.mu.Unlock()
	if _, err := sw.w.Write(out); err != nil {
		return 0, err
	}
	return len(p), nil
}
