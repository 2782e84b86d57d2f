package forget

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Derivation is a rule whose new value the store computes from the old
// one, which only the store reads, inside the forget's transaction: a
// keyed hash, a redaction of free text, a redaction of JSON members. A
// [Plan] carries it as [Value.Derive]; a store that cannot apply it
// refuses the plan.
type Derivation struct {
	kind     deriveKind
	key      []byte
	patterns []string
	paths    []string
	err      error // a constructor's argument that validation refuses
}

type deriveKind uint8

const (
	deriveKeyedHash deriveKind = iota + 1
	deriveRedactText
	deriveRedactJSON
)

// keyedHashLen is the length of every value KeyedHash writes: 64
// hexadecimal digits of HMAC-SHA256.
const keyedHashLen = 2 * sha256.Size

// KeyedHash overwrites the field with HMAC-SHA256 of its old value under
// key, in hexadecimal (64 characters): equal old values give equal
// hashes, so joins and counts by the column still work, but nobody
// without the key can test a guess. A nil key means the store's own key
// (sqlstore.WithHashKey); a store without one refuses the rule. NULL stays
// NULL.
func KeyedHash(key []byte) Rule {
	return Rule{kind: ruleDerived, derive: &Derivation{kind: deriveKeyedHash, key: slices.Clone(key)}}
}

// The patterns [RedactText] knows besides the customer's own values.
const (
	PatternEmail = "email"
	PatternPhone = "phone"
	PatternIP    = "ip"
)

// RedactText removes from free text (a note, a ticket, a gift message)
// every mention of the customer's own values, read in the forget's
// transaction before they are erased, and every e-mail address, phone
// number or IP address when patterns name "email", "phone" or "ip"; each
// mention becomes [Redacted], and every other byte is left as it was. See
// [RedactString] for what counts as a mention.
func RedactText(patterns ...string) Rule {
	d := &Derivation{kind: deriveRedactText}
	for _, p := range patterns {
		switch p {
		case PatternEmail, PatternPhone, PatternIP:
			if !slices.Contains(d.patterns, p) {
				d.patterns = append(d.patterns, p)
			}
		default:
			d.err = fmt.Errorf("redact_text pattern %q is none of email, phone, ip", clipText(p))
		}
	}
	return Rule{kind: ruleDerived, derive: d}
}

// RedactJSON removes from a JSON document the members the paths name,
// leaving every other byte as it was: "phone" (a top-level member),
// "shipping.name", "shipping.*" (every member of shipping), with an
// optional "$." in front. A name applies to every element of an array it
// meets; "*" matches every member of an object and every element of an
// array. See [RedactJSONDocument].
func RedactJSON(paths ...string) Rule {
	d := &Derivation{kind: deriveRedactJSON}
	if len(paths) == 0 {
		d.err = errors.New("redact_json needs at least one path")
	}
	for _, p := range paths {
		segs, err := parsePath(p)
		if err != nil {
			d.err = err
			continue
		}
		d.paths = append(d.paths, strings.Join(segs, "."))
	}
	return Rule{kind: ruleDerived, derive: d}
}

// Derivation is the store-side derivation of a KeyedHash, RedactText or
// RedactJSON rule; nil for every other rule.
func (r Rule) Derivation() *Derivation {
	if r.kind != ruleDerived {
		return nil
	}
	return r.derive
}

// Kind names the derivation: "keyed_hash", "redact_text" or "redact_json".
func (d *Derivation) Kind() string {
	if d == nil {
		return "unset"
	}
	switch d.kind {
	case deriveKeyedHash:
		return "keyed_hash"
	case deriveRedactText:
		return "redact_text"
	case deriveRedactJSON:
		return "redact_json"
	}
	return "unset"
}

// NeedsKey reports whether d is a keyed hash built without a key, which
// the store must supply.
func (d *Derivation) NeedsKey() bool { return d != nil && d.kind == deriveKeyedHash && len(d.key) == 0 }

// Redacts reports whether d is a redaction: its column holds free text
// or JSON, not an identifying value of its own, so a store takes no
// pre-image from it (see [RedactString]).
func (d *Derivation) Redacts() bool {
	return d != nil && (d.kind == deriveRedactText || d.kind == deriveRedactJSON)
}

// NeedsPreimages reports whether d searches the customer's own values,
// which the store must read before the forget erases them.
func (d *Derivation) NeedsPreimages() bool { return d != nil && d.kind == deriveRedactText }

// Patterns and Paths are a redaction's arguments (copies).
func (d *Derivation) Patterns() []string { return slices.Clone(d.patterns) }

// Paths are redact_json's paths, each as dotted segments (a copy).
func (d *Derivation) Paths() []string { return slices.Clone(d.paths) }

// check reports a constructor's argument that cannot work.
func (d *Derivation) check() error {
	if d == nil {
		return nil
	}
	return d.err
}

func (d *Derivation) output() RuleOutput {
	switch d.kind {
	case deriveKeyedHash:
		return RuleOutput{MaxLen: keyedHashLen, Distinct: true, Text: true, FromOld: d.Kind()}
	}
	// A redaction is at most as long as the old value plus a marker per
	// mention: unknown in advance.
	return RuleOutput{MaxLen: -1, Text: true, FromOld: d.Kind()}
}

// DeriveInput is what a store hands a Derivation besides the old value.
type DeriveInput struct {
	// Preimages are the customer's own values (names, e-mail, phone,
	// address as stored), read in the forget's transaction before they
	// are erased: the mentions RedactText removes.
	Preimages []string
	// Key is the store's hash key, for a KeyedHash built without one.
	Key []byte
}

// Derive computes the new value from old and reports how many spans it
// redacted (0 for a keyed hash). A JSON redaction of a value that is not
// JSON returns an error wrapping [ErrNotJSON]; no error holds a value.
func (d *Derivation) Derive(old string, in DeriveInput) (string, int, error) {
	if d == nil {
		return "", 0, errors.New("forget: no derivation")
	}
	if err := d.check(); err != nil {
		return "", 0, err
	}
	switch d.kind {
	case deriveKeyedHash:
		key := d.key
		if len(key) == 0 {
			key = in.Key
		}
		if len(key) == 0 {
			return "", 0, errors.New("forget: keyed_hash has no key (give the store one)")
		}
		m := hmac.New(sha256.New, key)
		m.Write([]byte(old))
		return hex.EncodeToString(m.Sum(nil)), 0, nil
	case deriveRedactText:
		out, n := RedactString(old, in.Preimages, d.patterns)
		return out, n, nil
	case deriveRedactJSON:
		out, n, err := RedactJSONDocument([]byte(old), d.paths)
		if err != nil {
			return "", 0, err
		}
		return string(out), n, nil
	}
	return "", 0, errors.New("forget: derivation has no kind")
}

// parsePath splits a redact_json path into its segments.
func parsePath(p string) ([]string, error) {
	q := strings.TrimPrefix(strings.TrimPrefix(p, "$"), ".")
	if q == "" {
		return nil, fmt.Errorf("redact_json path %q names no member", clipText(p))
	}
	segs := strings.Split(q, ".")
	for _, s := range segs {
		if s == "" {
			return nil, fmt.Errorf("redact_json path %q has an empty segment", clipText(p))
		}
	}
	return segs, nil
}

// clipText cuts an argument quoted in an error to 40 bytes.
func clipText(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}
