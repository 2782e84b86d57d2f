package forget

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"unicode/utf8"
)

// The headers Offerit's API authenticates with. net/http matches header
// names case-insensitively.
const (
	headerAPIKey      = "api-key"
	headerAPIUsername = "api-username"
)

// Authenticator decides who makes a request. It returns the principal's
// name, an error wrapping ErrUnauthorized when the caller is not allowed,
// or any other error when it cannot decide (the handler answers 500).
type Authenticator interface {
	Authenticate(r *http.Request) (principal string, err error)
}

// AuthenticatorFunc adapts a function to Authenticator.
type AuthenticatorFunc func(r *http.Request) (string, error)

// Authenticate calls fn(r).
func (fn AuthenticatorFunc) Authenticate(r *http.Request) (string, error) { return fn(r) }

// HostAuthenticated is the explicit opt-out for hosts whose own middleware
// authenticates every request before it reaches the handler. The principal
// is the one that middleware stored with [WithPrincipal].
func HostAuthenticated() Authenticator {
	return AuthenticatorFunc(func(r *http.Request) (string, error) {
		return principalFrom(r.Context()), nil
	})
}

// maxUsernameBytes bounds a key table's usernames: a username becomes the
// principal of receipts and audit records, whose columns have a size.
const maxUsernameBytes = 64

// minKeyFileKeyLength is the shortest key [ParseAPIKeyFile] accepts, in
// characters: a short key can be guessed.
const minKeyFileKeyLength = 16

// APIKeys authenticates Offerit's api-username and api-key headers against
// a fixed table. A user may have several keys at once, so that a key can be
// rotated without downtime. Keys are held as SHA-256 digests and compared
// in constant time: every request is compared against as many digests as
// the user with the most keys has, whether or not the username exists, so
// neither a username's existence nor its number of keys shows in timing.
type APIKeys struct {
	users map[string][]keySlot
	slots int       // the most keys any user has
	none  []keySlot // compared against for unknown users
	keys  int
}

// keySlot is one digest; padding slots never match.
type keySlot struct {
	digest [sha256.Size]byte
	valid  int // 1 for a real key, 0 for padding
}

// NewAPIKeys returns a APIKeys from username → key. Usernames must be
// 1 to 64 bytes of printable ASCII without spaces or ':';
// keys must be non-empty and free of surrounding spaces.
func NewAPIKeys(keys map[string]string) (*APIKeys, error) {
	if len(keys) == 0 {
		return nil, errors.New("forget: key table is empty")
	}
	users := make([]string, 0, len(keys))
	for u := range keys {
		users = append(users, u)
	}
	sort.Strings(users) // the same bad table always gets the same message
	b := newAPIKeysBuilder()
	for _, u := range users {
		if err := checkUsername(u); err != nil {
			return nil, fmt.Errorf("forget: key table: %w", err)
		}
		k := keys[u]
		if k == "" || strings.TrimSpace(k) != k {
			return nil, fmt.Errorf("forget: key table: the key of %q is empty or has surrounding spaces", u)
		}
		b.add(u, sha256.Sum256([]byte(k)))
	}
	return b.build(), nil
}

// ParseAPIKeyFile reads a keys file: one "username:key" or
// "username:sha256:<64 hex digits>" (the SHA-256 digest of the key, so the
// file need not hold the key) per line. Spaces around the username and the
// key are ignored; blank lines are skipped, and a line whose first
// non-space character is '#' is a comment ('#' elsewhere is part of the
// key). Keys are at least 16 characters, with no spaces
// or control characters. A username may appear on several lines: all its
// keys are valid, which is how a key is rotated. Every line, the last
// included, ends with a newline: a file whose last line lacks one is
// refused, as it may have been cut off while it was written (replace the
// file by rename instead). Errors are *APIKeyFileError.
func ParseAPIKeyFile(r io.Reader) (*APIKeys, error) {
	b := newAPIKeysBuilder()
	lr := &lastByteReader{r: r}
	sc := bufio.NewScanner(lr)
	sc.Buffer(make([]byte, 0, 4096), 64<<10)
	n := 0
	for sc.Scan() {
		n++
		line := sc.Bytes()
		if n == 1 {
			line = bytes.TrimPrefix(line, []byte("\ufeff")) // a byte-order mark from an editor
		}
		if err := b.addLine(n, string(line)); err != nil {
			return nil, err
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, &APIKeyFileError{Line: n + 1, Reason: "the line is longer than 64 KiB"}
		}
		return nil, &APIKeyFileError{Reason: "read: " + err.Error()}
	}
	if lr.read && lr.last != '\n' {
		// A write cut off mid-line leaves a prefix of a key that would lock
		// its user out. A cut just after a newline cannot be told from a
		// whole file: hence replacing the file by rename.
		return nil, &APIKeyFileError{Line: n, Reason: "the last line does not end with a newline: the file may be cut off mid-write (write a new file and rename it over the old one)"}
	}
	if b.keys == 0 {
		return nil, &APIKeyFileError{Reason: "no keys"}
	}
	return b.build(), nil
}

// lastByteReader remembers the last byte read through it.
type lastByteReader struct {
	r    io.Reader
	last byte
	read bool
}

func (l *lastByteReader) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	if n > 0 {
		l.last, l.read = p[n-1], true
	}
	return n, err
}

func (b *apiKeysBuilder) addLine(n int, line string) error {
	line = strings.TrimSpace(line)
	if line == "" || line[0] == '#' {
		return nil
	}
	user, key, ok := strings.Cut(line, ":")
	user, key = strings.TrimSpace(user), strings.TrimSpace(key)
	if !ok || user == "" || key == "" {
		return &APIKeyFileError{Line: n, Reason: "want username:key"}
	}
	if err := checkUsername(user); err != nil {
		return &APIKeyFileError{Line: n, Reason: err.Error()}
	}
	if rest, ok := strings.CutPrefix(key, "sha256:"); ok {
		d, err := hex.DecodeString(rest)
		if err != nil || len(d) != sha256.Size {
			return &APIKeyFileError{Line: n, Reason: "want sha256: followed by 64 hex digits"}
		}
		b.add(user, [sha256.Size]byte(d))
		return nil
	}
	for _, c := range key {
		if c <= ' ' || c == 0x7f || c == utf8.RuneError {
			return &APIKeyFileError{Line: n, Reason: "the key holds a space, a control character or invalid UTF-8 ('#' starts a comment only at the start of a line)"}
		}
	}
	if utf8.RuneCountInString(key) < minKeyFileKeyLength {
		return &APIKeyFileError{Line: n, Reason: fmt.Sprintf("the key is shorter than %d characters", minKeyFileKeyLength)}
	}
	b.add(user, sha256.Sum256([]byte(key)))
	return nil
}

// checkUsername keeps usernames short printable ASCII: they become
// principals, which are logged and stored in sized columns.
func checkUsername(u string) error {
	if u == "" {
		return errors.New("a username is empty")
	}
	if len(u) > maxUsernameBytes {
		return fmt.Errorf("a username is longer than %d bytes", maxUsernameBytes)
	}
	for i := 0; i < len(u); i++ {
		if c := u[i]; c <= ' ' || c > '~' || c == ':' {
			return errors.New("a username holds a character other than printable ASCII without spaces or ':'")
		}
	}
	return nil
}

type apiKeysBuilder struct {
	users map[string][]keySlot
	keys  int
}

func newAPIKeysBuilder() *apiKeysBuilder {
	return &apiKeysBuilder{users: make(map[string][]keySlot)}
}

func (b *apiKeysBuilder) add(user string, d [sha256.Size]byte) {
	for _, s := range b.users[user] {
		if s.digest == d {
			return // the same key twice is harmless
		}
	}
	b.users[user] = append(b.users[user], keySlot{digest: d, valid: 1})
	b.keys++
}

// build pads every user's digests to the same number of slots.
func (b *apiKeysBuilder) build() *APIKeys {
	kt := &APIKeys{users: b.users, keys: b.keys}
	for _, s := range b.users {
		kt.slots = max(kt.slots, len(s))
	}
	for u, s := range kt.users {
		for len(s) < kt.slots {
			s = append(s, keySlot{})
		}
		kt.users[u] = s
	}
	kt.none = make([]keySlot, kt.slots)
	return kt
}

// Len returns how many keys the table holds.
func (kt *APIKeys) Len() int { return kt.keys }

// Authenticate implements Authenticator.
func (kt *APIKeys) Authenticate(r *http.Request) (string, error) {
	user := r.Header.Get(headerAPIUsername)
	key := r.Header.Get(headerAPIKey)
	if user == "" || key == "" {
		return "", errNoCredentials
	}
	slots, known := kt.users[user]
	if !known {
		slots = kt.none
	}
	got := sha256.Sum256([]byte(key))
	match := 0
	for i := range slots { // every slot, never stopping at a match
		match |= subtle.ConstantTimeCompare(got[:], slots[i].digest[:]) & slots[i].valid
	}
	if match != 1 {
		if !known {
			return "", errUnknownUser
		}
		return "", errWrongKey
	}
	return user, nil
}

// authFailure is a refusal by APIKeys with the reason the metrics and the
// log give. Unknown user and wrong key have the same message, and the
// caller sees neither (ProblemOf answers every 401 alike): which
// usernames exist is for the operator only.
type authFailure struct {
	reason string
	msg    string
}

func (e *authFailure) Error() string { return e.msg }

// Is makes errors.Is(err, ErrUnauthorized) true.
func (e *authFailure) Is(target error) bool { return target == ErrUnauthorized }

var (
	errNoCredentials = &authFailure{AuthMissing, "unauthorized: send the api-username and api-key headers"}
	errUnknownUser   = &authFailure{AuthUnknownUser, "unauthorized: wrong api-username or api-key"}
	errWrongKey      = &authFailure{AuthWrongKey, "unauthorized: wrong api-username or api-key"}
)

// authReason is the reason of an authenticator's refusal: APIKeys' own,
// or AuthRejected for any other Authenticator's.
func authReason(err error) string {
	var af *authFailure
	if errors.As(err, &af) {
		return af.reason
	}
	return AuthRejected
}
