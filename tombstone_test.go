package forget_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"strings"
	"testing"

	"github.com/forgetkit/forget"
	"github.com/forgetkit/forget/store/memstore"
)

func TestNormalize(t *testing.T) {
	t.Parallel()
	email := forget.Normalization{Kind: forget.NormalizeEmail}
	plus := forget.Normalization{Kind: forget.NormalizeEmail, StripPlus: true}
	phone := forget.Normalization{Kind: forget.NormalizeE164}
	uk := forget.Normalization{Kind: forget.NormalizeE164, DefaultCountry: "+44"}
	for _, c := range []struct {
		n      forget.Normalization
		in, ok string
	}{
		{email, " Jane@Example.ORG\t", "jane@example.org"},
		{email, "jane+news@example.org", "jane+news@example.org"},
		{plus, "Jane+News@example.org", "jane@example.org"},
		{plus, "+x@example.org", "@example.org"},
		{plus, "no-at+sign", "no-at+sign"},
		{email, "   ", ""},
		{phone, "+1 (555) 010-9999", "+15550109999"},
		{phone, "0044 7700 900123", "+447700900123"},
		{phone, "5550109999", "+5550109999"},
		{uk, "07700 900123", "+447700900123"},
		{uk, "+33 1 23 45 67 89", "+33123456789"},
		{uk, "ext. -", ""},
		{phone, "00", ""},
	} {
		if got := c.n.Normalize(c.in); got != c.ok {
			t.Errorf("%+v.Normalize(%q) = %q, want %q", c.n, c.in, got, c.ok)
		}
	}
	for _, bad := range []forget.Normalization{{Kind: "lower"}, {Kind: "email", DefaultCountry: "+1"}, {Kind: "e164", StripPlus: true},
		{Kind: "e164", DefaultCountry: "44"}, {Kind: "e164", DefaultCountry: "+0"}, {Kind: "e164", DefaultCountry: "+12345"}} {
		if bad.Validate() == nil {
			t.Errorf("%+v: valid", bad)
		}
	}
}

func TestTombstoneHash(t *testing.T) {
	t.Parallel()
	k := forget.TombstoneKey{ID: "a", Secret: []byte(strings.Repeat("s", 32))}
	k2 := forget.TombstoneKey{ID: "b", Secret: []byte(strings.Repeat("t", 32))}
	h := k.Hash("email", "jane@example.org")
	if len(h) != 64 || h != k.Hash("email", "jane@example.org") {
		t.Fatalf("hash %q: not 64 digits or not stable", h)
	}
	// The documented construction, pinned: HMAC-SHA-256(secret, name NUL
	// hex(SHA-256(value))), as docs/mapping.md's openssl lines give it.
	if h != "caec15b32f960766641abd175ed79aeb6bf314fa756361c50092dfb6c350bb4b" {
		t.Errorf("hash changed: %s (every stored tombstone would stop matching)", h)
	}
	if k.HashDigest("email", sha256.Sum256([]byte("jane@example.org"))) != h {
		t.Error("HashDigest of the value's SHA-256 differs from Hash")
	}
	for _, other := range []string{k2.Hash("email", "jane@example.org"), k.Hash("phone", "jane@example.org"), k.Hash("email", "jane@example.com"), k.Hash("emai", "ljane@example.org")} {
		if other == h {
			t.Error("two different inputs hash alike")
		}
	}
}

func TestParseTombstoneKeys(t *testing.T) {
	t.Parallel()
	hex64 := strings.Repeat("ab", 32)
	keys, err := forget.ParseTombstoneKeys(strings.NewReader("# keys\n\nk1:" + hex64 + "\n  k0:" + strings.Repeat("cd", 32) + ":retired  \n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 || keys[0].ID != "k1" || keys[0].Retired || len(keys[0].Secret) != 32 || keys[1].ID != "k0" || !keys[1].Retired {
		t.Fatalf("keys %+v", keys)
	}
	for _, c := range []struct{ file, want string }{
		{"", "holds no key"},
		{"k1", "line 1: want id:hex"},
		{"k1:" + hex64 + ":old", "line 1: want id:hex"},
		{"k1:" + strings.Repeat("zz", 32), "line 1: the secret is not hexadecimal"},
		{"\nk1:abcd", "line 2: k1: the secret must be at least 32 bytes"},
		{"k/1:" + hex64, "must be 1 to 32"},
		{"k1:" + hex64 + "\nk1:" + hex64, "two tombstone keys"},
		{"k1:" + hex64 + ":retired", "every tombstone key is retired"},
	} {
		_, err := forget.ParseTombstoneKeys(strings.NewReader(c.file))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v, want %q", c.file, err, c.want)
		}
		if err != nil && strings.Contains(err.Error(), "zzzz") {
			t.Errorf("%q: the error holds the secret: %v", c.file, err)
		}
	}
}

func TestForgottenUnsupported(t *testing.T) {
	t.Parallel()
	// A store that is only a Store: no tombstones.
	f, err := forget.New(struct{ forget.Store }{memstore.New()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Forgotten(context.Background(), forget.Identity{Name: "email", Value: "x@y"}); !errors.Is(err, errors.ErrUnsupported) {
		t.Fatalf("err = %v, want ErrUnsupported", err)
	}
}
