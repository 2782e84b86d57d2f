package forget

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
)

func authAs(t *testing.T, kt *APIKeys, user, key string) (string, bool) {
	t.Helper()
	r := httptest.NewRequest("PATCH", "/", nil)
	r.Header.Set(HeaderAPIUsername, user)
	r.Header.Set(HeaderAPIKey, key)
	p, err := kt.Authenticate(r)
	if err != nil && !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("Authenticate: %v is not ErrUnauthorized", err)
	}
	return p, err == nil
}

func mustParseKeys(t *testing.T, file string) *APIKeys {
	t.Helper()
	kt, err := ParseAPIKeyFile(strings.NewReader(file))
	if err != nil {
		t.Fatalf("ParseAPIKeyFile: %v", err)
	}
	return kt
}

// TestKeyFileHashInKey: '#' inside a key is part of it. It used to start
// a comment, so the real key was refused and its prefix accepted.
func TestKeyFileHashInKey(t *testing.T) {
	t.Parallel()
	kt := mustParseKeys(t, "offerit_admin:Xy7#kP9qLm2Zr8Tw\n")
	if _, ok := authAs(t, kt, "offerit_admin", "Xy7#kP9qLm2Zr8Tw"); !ok {
		t.Error("the real key is refused")
	}
	for _, k := range []string{"Xy7", "Xy7#", "Xy7#kP9qLm2Zr8T"} {
		if _, ok := authAs(t, kt, "offerit_admin", k); ok {
			t.Errorf("the prefix %q is accepted", k)
		}
	}
}

func TestKeyFileSyntax(t *testing.T) {
	t.Parallel()
	const k1, k2 = "first-key-0123456789", "second-key-0123456789"
	sum := sha256.Sum256([]byte("hashed-key-0123456789"))
	file := "\ufeff# who may call\r\n" +
		"   # an indented comment\r\n" +
		"\r\n" +
		"offerit_admin : " + k1 + "\r\n" +
		"reporting:sha256:" + hex.EncodeToString(sum[:]) + "\r\n" +
		"offerit_admin:" + k2 + "\n" + // rotation: the second key of the same user
		"offerit_admin:" + k2 + "\n" // a repeated line is harmless
	kt := mustParseKeys(t, file)
	if kt.Len() != 3 {
		t.Errorf("Len() = %d, want 3", kt.Len())
	}
	for _, c := range []struct {
		user, key string
		ok        bool
	}{
		{"offerit_admin", k1, true},
		{"offerit_admin", k2, true},
		{"reporting", "hashed-key-0123456789", true},
		{"reporting", "sha256:" + hex.EncodeToString(sum[:]), false}, // the digest is not the key
		{"reporting", k1, false},                                     // another user's key
		{"offerit_admin", "hashed-key-0123456789", false},
		{"nobody", k1, false},
		{"offerit_admin", "", false},
		{"", k1, false},
	} {
		p, ok := authAs(t, kt, c.user, c.key)
		if ok != c.ok || (ok && p != c.user) {
			t.Errorf("%s with %q: principal %q, accepted %v; want accepted %v", c.user, c.key, p, ok, c.ok)
		}
	}
}

// TestKeyFileRefusals: every refusal names the line and never its content.
func TestKeyFileRefusals(t *testing.T) {
	t.Parallel()
	const good = "ok_user:good-key-0123456789\n"
	for _, c := range []struct {
		name, line, want string
	}{
		{"NoColon", "oops-no-colon-secret", "want username:key"},
		{"EmptyKey", "user:", "want username:key"},
		{"EmptyUser", ":secret-key-0123456789", "want username:key"},
		{"ShortKey", "user:short-secret", "shorter than 16 characters"},
		{"TrailingComment", "user:secret-key-0123456789   # dashboards", "'#' starts a comment only at the start of a line"},
		{"SpaceInKey", "user:secret key 0123456789", "holds a space"},
		{"ControlInKey", "user:secret\x01key-0123456789", "control character"},
		{"BadUTF8InKey", "user:secret\xffkey-0123456789", "invalid UTF-8"},
		{"BadDigest", "user:sha256:secretdeadbeef", "64 hex digits"},
		{"LongDigest", "user:sha256:" + strings.Repeat("ab", 33), "64 hex digits"},
		{"LongUser", strings.Repeat("u", 65) + ":secret-key-0123456789", "longer than 64 bytes"},
		{"SpaceInUser", "the user:secret-key-0123456789", "printable ASCII"},
		{"UnicodeUser", "usér:secret-key-0123456789", "printable ASCII"},
		{"LongLine", "user:" + strings.Repeat("s", 70<<10), "longer than 64 KiB"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseAPIKeyFile(strings.NewReader(good + "# comment\n" + c.line + "\n" + good))
			var kfe *APIKeyFileError
			if !errors.As(err, &kfe) {
				t.Fatalf("err = %v, want a *APIKeyFileError", err)
			}
			if kfe.Line != 3 || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "line 3") {
				t.Errorf("err = %q (line %d), want line 3 and %q", err, kfe.Line, c.want)
			}
			for _, secret := range []string{"secret", "short-secret", "oops"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("the error %q shows the line's content", err)
				}
			}
		})
	}
	for _, file := range []string{"", "# only comments\n\n"} {
		if _, err := ParseAPIKeyFile(strings.NewReader(file)); err == nil || !strings.Contains(err.Error(), "no keys") {
			t.Errorf("ParseAPIKeyFile(%q) = %v, want no keys", file, err)
		}
	}
}

// TestNewAPIKeysUsernames: usernames are bounded where the table is
// built, so a principal always fits the audit table's column.
func TestNewAPIKeysUsernames(t *testing.T) {
	t.Parallel()
	for _, u := range []string{strings.Repeat("u", 65), "a b", "a:b", "usér", "tab\tuser", "nul\x00"} {
		if _, err := NewAPIKeys(map[string]string{u: "a-key"}); err == nil {
			t.Errorf("NewAPIKeys accepted the username %q", u)
		}
	}
	kt, err := NewAPIKeys(map[string]string{strings.Repeat("u", 64): "a-key", "offerit_admin": "s3cret-key"})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := authAs(t, kt, "offerit_admin", "s3cret-key"); !ok {
		t.Error("a table from NewAPIKeys refuses its key")
	}
}

// TestAPIKeysComparesEverySlot: every user, and the stand-in for unknown
// users, has as many slots as the user with the most keys, so every check
// does the same number of comparisons; a match in any slot counts.
func TestAPIKeysComparesEverySlot(t *testing.T) {
	t.Parallel()
	kt := mustParseKeys(t, "a:key-a1-0123456789abc\nb:key-b1-0123456789abc\nb:key-b2-0123456789abc\nb:key-b3-0123456789abc\n")
	if kt.slots != 3 || len(kt.none) != 3 {
		t.Fatalf("slots %d, unknown-user slots %d, want 3", kt.slots, len(kt.none))
	}
	for u, s := range kt.users {
		if len(s) != kt.slots {
			t.Errorf("user %s has %d slots, want %d", u, len(s), kt.slots)
		}
	}
	for _, k := range []string{"key-b1-0123456789abc", "key-b2-0123456789abc", "key-b3-0123456789abc"} {
		if _, ok := authAs(t, kt, "b", k); !ok {
			t.Errorf("key %s of b refused", k)
		}
	}
	// Padding slots hold the zero digest and never match, even a key
	// whose digest would be compared against them.
	if _, ok := authAs(t, kt, "a", "key-b2-0123456789abc"); ok {
		t.Error("a padding slot matched")
	}
	var zero APIKeys
	if _, ok := authAs(t, &zero, "a", "x"); ok {
		t.Error("the zero APIKeys accepts")
	}
}

// TestKeyFileCutOff: a file whose last line has no newline may be a write
// cut off mid-line (a prefix of a key, which locks its user out): it is
// refused, naming the line and not its content.
func TestKeyFileCutOff(t *testing.T) {
	t.Parallel()
	const whole = "alice:alice-key-0123456789\nbob:bob-key-0123456789abcdef\n"
	mustParseKeys(t, whole)
	for _, file := range []string{
		whole[:len(whole)-1], // the last newline missing
		whole[:len(whole)-6], // bob's key cut to a prefix still long enough
		"# comment\nalice:x", // a short key cut: refused, whichever reason is given
	} {
		_, err := ParseAPIKeyFile(strings.NewReader(file))
		var kfe *APIKeyFileError
		if !errors.As(err, &kfe) {
			t.Errorf("ParseAPIKeyFile(%q) = %v, want a *APIKeyFileError", file, err)
			continue
		}
		if strings.Contains(err.Error(), "key-0123") {
			t.Errorf("the error %q shows the line's content", err)
		}
	}
	_, err := ParseAPIKeyFile(strings.NewReader(whole[:len(whole)-6]))
	if err == nil || !strings.Contains(err.Error(), "line 2: the last line does not end with a newline") {
		t.Errorf("err = %v, want line 2 without a newline", err)
	}
}
