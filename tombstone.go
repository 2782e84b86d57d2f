package forget

import (
	"bufio"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Identities and tombstones: what names a person outside the store's keys
// (an e-mail address, a phone number), how it is normalised, and the
// keyed hash a forget leaves of it so that the person can be recognised,
// and refused, when their details come back, without the store keeping
// the value.

// Identity is a value that names a person: Name is the identity as the
// store declares it ("email", "phone"), Value the value as a caller or a
// request has it, before normalisation.
type Identity struct {
	Name  string
	Value string
}

// Normalisations of an identity's value, in Normalization.Kind.
const (
	NormalizeEmail = "email" // trimmed and lower-cased; see Normalization.StripPlus
	NormalizeE164  = "e164"  // a + and digits only; see Normalization.DefaultCountry
)

// Normalization says how an identity's values are compared: every store,
// the guard and the command normalise a value the same way before they
// hash it, so that " Jane@Example.ORG" and "jane@example.org" are one
// person.
type Normalization struct {
	// Kind is NormalizeEmail or NormalizeE164.
	Kind string
	// StripPlus, for e-mail, drops a "+tag" from the local part
	// (jane+news@example.org is jane@example.org).
	StripPlus bool
	// DefaultCountry, for E.164, is the calling code ("+44") of a number
	// written without one: its single leading trunk 0 is dropped and the
	// code put first. Empty, a number without + or 00 is taken as it is.
	DefaultCountry string
}

// Validate reports a normalisation that is not one of the known kinds or
// whose options do not fit its kind.
func (n Normalization) Validate() error {
	switch n.Kind {
	case NormalizeEmail:
		if n.DefaultCountry != "" {
			return errors.New("default_country applies to e164 only")
		}
	case NormalizeE164:
		if n.StripPlus {
			return errors.New("plus_address applies to email only")
		}
		if c := n.DefaultCountry; c != "" && (len(c) < 2 || len(c) > 4 || c[0] != '+' || strings.TrimLeft(c[1:], "0123456789") != "" || c[1] == '0') {
			return fmt.Errorf("default_country %q must be + and a calling code of 1 to 3 digits (+44)", cutName(c, 16))
		}
	default:
		return fmt.Errorf("normalize %q must be email or e164", cutName(n.Kind, 32))
	}
	return nil
}

// Normalize returns v normalised, or "" when nothing of it is left (an
// empty value names nobody, and is never hashed). It never fails: a
// stored value and a value checked later go through the same function,
// and compare equal exactly when their normal forms do.
func (n Normalization) Normalize(v string) string {
	v = strings.TrimSpace(v)
	if n.Kind == NormalizeE164 {
		return n.e164(v)
	}
	v = strings.ToLower(v)
	if n.StripPlus {
		if at := strings.LastIndexByte(v, '@'); at > 0 {
			if plus := strings.IndexByte(v[:at], '+'); plus >= 0 {
				v = v[:plus] + v[at:]
			}
		}
	}
	return v
}

func (n Normalization) e164(v string) string {
	intl := strings.HasPrefix(v, "+")
	var digits strings.Builder
	for _, r := range v {
		if r >= '0' && r <= '9' { // spaces, dashes, dots, brackets fall away
			digits.WriteRune(r)
		}
	}
	d := digits.String()
	switch {
	case d == "":
		return ""
	case intl:
	case strings.HasPrefix(d, "00"):
		d = d[2:]
	case n.DefaultCountry != "":
		d = n.DefaultCountry[1:] + strings.TrimPrefix(d, "0")
	}
	if d == "" {
		return ""
	}
	return "+" + d
}

// TombstoneKey is an operator's key for tombstones. A forget writes one
// tombstone per key that is not Retired; a check matches under every key,
// so that a key can be rotated: add the new one, later retire the old
// (its tombstones still match), and drop it only when its tombstones are
// no longer needed.
type TombstoneKey struct {
	// ID names the key in every tombstone it keyed: 1 to 32 of
	// A-Z a-z 0-9 . _ -.
	ID string
	// Secret is at least MinTombstoneSecret bytes from a good source of
	// randomness (openssl rand -hex 32). Whoever holds it can test a
	// guessed address against the tombstones; nobody else can.
	Secret  []byte
	Retired bool
}

// MinTombstoneSecret is the shortest secret a TombstoneKey accepts.
const MinTombstoneSecret = 32

// Validate reports a key whose id is malformed or whose secret is short.
func (k TombstoneKey) Validate() error {
	if err := k.validate(); err != nil {
		return fmt.Errorf("forget: tombstone key: %w", err)
	}
	return nil
}

func (k TombstoneKey) validate() error {
	if !tombstoneKeyID(k.ID) {
		return fmt.Errorf("the id %q must be 1 to 32 of A-Z a-z 0-9 . _ -", cutName(k.ID, 40))
	}
	if len(k.Secret) < MinTombstoneSecret {
		return fmt.Errorf("%s: the secret must be at least %d bytes", k.ID, MinTombstoneSecret)
	}
	return nil
}

func tombstoneKeyID(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// Hash returns the tombstone of an identity's normalised value under k,
// as 64 lower-case hexadecimal digits: HMAC-SHA-256 with k.Secret of the
// identity's name, a NUL byte and the SHA-256 of the normalised value in
// lower-case hex. The name keeps an e-mail address and a phone number
// with the same text apart; the key makes the hash worthless to anyone
// who has the table but not the key; the inner SHA-256 lets a list of
// hashed identifiers (the Delete Act's) be checked against tombstones
// without the values ([TombstoneKey.HashDigest]).
func (k TombstoneKey) Hash(identity, normalized string) string {
	d := sha256.Sum256([]byte(normalized))
	return k.HashDigest(identity, d)
}

// HashDigest is Hash of the value whose SHA-256 is digest.
func (k TombstoneKey) HashDigest(identity string, digest [sha256.Size]byte) string {
	var hx [2 * sha256.Size]byte
	hex.Encode(hx[:], digest[:])
	m := hmac.New(sha256.New, k.Secret)
	m.Write([]byte(identity))
	m.Write([]byte{0})
	m.Write(hx[:])
	return hex.EncodeToString(m.Sum(nil))
}

// CheckTombstoneKeys reports a malformed key, two keys with one id, or a
// set in which every key is retired (no forget could write a tombstone).
func CheckTombstoneKeys(keys []TombstoneKey) error {
	seen := map[string]bool{}
	active := false
	for _, k := range keys {
		if err := k.Validate(); err != nil {
			return err
		}
		if seen[k.ID] {
			return fmt.Errorf("forget: two tombstone keys have the id %s", k.ID)
		}
		seen[k.ID] = true
		active = active || !k.Retired
	}
	if len(keys) > 0 && !active {
		return errors.New("forget: every tombstone key is retired; a forget needs one active key to write tombstones")
	}
	return nil
}

// ParseTombstoneKeys reads a tombstone key file: one key a line,
// "id:hex" (the secret as hexadecimal, at least 64 digits: openssl rand
// -hex 32) or "id:hex:retired"; blank lines and lines starting with # are
// ignored. Errors name the line, never the secret.
func ParseTombstoneKeys(r io.Reader) ([]TombstoneKey, error) {
	var keys []TombstoneKey
	sc := bufio.NewScanner(r)
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		parts := strings.Split(text, ":")
		if len(parts) < 2 || len(parts) > 3 || (len(parts) == 3 && parts[2] != "retired") {
			return nil, fmt.Errorf("forget: tombstone keys line %d: want id:hex or id:hex:retired", line)
		}
		secret, err := hex.DecodeString(parts[1])
		if err != nil {
			return nil, fmt.Errorf("forget: tombstone keys line %d: the secret is not hexadecimal", line)
		}
		k := TombstoneKey{ID: parts[0], Secret: secret, Retired: len(parts) == 3}
		if err := k.validate(); err != nil {
			return nil, fmt.Errorf("forget: tombstone keys line %d: %w", line, err)
		}
		keys = append(keys, k)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("forget: tombstone keys: %w", err)
	}
	if len(keys) == 0 {
		return nil, errors.New("forget: the tombstone key file holds no key")
	}
	if err := CheckTombstoneKeys(keys); err != nil {
		return nil, err
	}
	return keys, nil
}

// TombstoneChecker is implemented by stores that leave tombstones: a
// forget writes, in its own transaction, a keyed hash of every identity
// value it erases (never the value), and Forgotten answers from them.
type TombstoneChecker interface {
	// Forgotten reports whether a forget erased id's value (normalised as
	// the store declares id.Name). A value that normalises to nothing is
	// not forgotten. It returns an error wrapping ErrInvalid for an
	// identity name the store does not declare; any other error is
	// internal, and holds no value.
	Forgotten(ctx context.Context, id Identity) (bool, error)
}

// Forgotten reports whether id was forgotten, when the store keeps
// tombstones ([TombstoneChecker]); otherwise it returns an error wrapping
// errors.ErrUnsupported.
func (f *Forgetter) Forgotten(ctx context.Context, id Identity) (bool, error) {
	tc, ok := f.store.(TombstoneChecker)
	if !ok {
		return false, fmt.Errorf("forget: the store keeps no tombstones: %w", errors.ErrUnsupported)
	}
	return tc.Forgotten(ctx, id)
}

// UnknownIdentityError is an identity name a store does not declare.
type UnknownIdentityError struct{ Name string }

func (e *UnknownIdentityError) Error() string {
	return fmt.Sprintf("unknown identity %q", cutName(e.Name, 64))
}

func (e *UnknownIdentityError) public() string { return e.Error() }

// Is makes the error match ErrInvalid.
func (e *UnknownIdentityError) Is(target error) bool { return target == ErrInvalid }
