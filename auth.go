package forget

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
)

// The headers Offerit's API authenticates with. net/http matches header
// names case-insensitively.
const (
	HeaderAPIKey      = "api-key"
	HeaderAPIUsername = "api-username"
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
		return PrincipalFrom(r.Context()), nil
	})
}

// KeyTable authenticates Offerit's api-username and api-key headers against
// a fixed table. Keys are held as SHA-256 digests and compared in constant
// time, whether or not the username exists.
type KeyTable struct {
	digests map[string][sha256.Size]byte
	absent  [sha256.Size]byte // compared against for unknown users
}

// NewKeyTable returns a KeyTable from username → key. Usernames and keys
// must be non-empty and free of surrounding spaces.
func NewKeyTable(keys map[string]string) (*KeyTable, error) {
	if len(keys) == 0 {
		return nil, errors.New("forget: key table is empty")
	}
	kt := &KeyTable{digests: make(map[string][sha256.Size]byte, len(keys))}
	users := make([]string, 0, len(keys))
	for u := range keys {
		users = append(users, u)
	}
	sort.Strings(users)
	for _, u := range users {
		k := keys[u]
		if u == "" || strings.TrimSpace(u) != u {
			return nil, fmt.Errorf("forget: key table: username %q is empty or has surrounding spaces", u)
		}
		if k == "" || strings.TrimSpace(k) != k {
			return nil, fmt.Errorf("forget: key table: key of %q is empty or has surrounding spaces", u)
		}
		kt.digests[u] = sha256.Sum256([]byte(k))
	}
	kt.absent = sha256.Sum256([]byte("\x00no such user"))
	return kt, nil
}

// Authenticate implements Authenticator.
func (kt *KeyTable) Authenticate(r *http.Request) (string, error) {
	user := r.Header.Get(HeaderAPIUsername)
	key := r.Header.Get(HeaderAPIKey)
	if user == "" || key == "" {
		return "", fmt.Errorf("%w: send the api-username and api-key headers", ErrUnauthorized)
	}
	want, known := kt.digests[user]
	if !known {
		want = kt.absent
	}
	got := sha256.Sum256([]byte(key))
	if subtle.ConstantTimeCompare(got[:], want[:]) != 1 || !known {
		return "", fmt.Errorf("%w: wrong api-username or api-key", ErrUnauthorized)
	}
	return user, nil
}
