package forget_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/forgetkit/forget"
)

func TestRedactString(t *testing.T) {
	t.Parallel()
	pre := []string{"Alice", "Liddell", "alice.liddell@example.com", "+1-555-0101", "12 Rabbit Hole", "Al", " NY ", "12.50", "90210"}
	for _, tc := range []struct {
		name, in, want string
		patterns       []string
		n              int
	}{
		{name: "Names", in: "Dear Alice Liddell, thanks", want: "Dear [redacted] [redacted], thanks", n: 2},
		{name: "CaseInsensitive", in: "ALICE wrote to ALICE.LIDDELL@EXAMPLE.COM.", want: "[redacted] wrote to [redacted].", n: 2},
		{name: "WholeWordsOnly", in: "Malice and Alicef are not her", want: "Malice and Alicef are not her"},
		{name: "ShortValuesNotSearched", in: "Al lives in NY", want: "Al lives in NY"},
		{name: "PhoneOtherSeparators", in: "call 1 (555) 0101 or 555.0101!", want: "call [redacted] or [redacted]!", n: 2},
		{name: "PhoneInsideLongerNumber", in: "order 9155501019", want: "order 9155501019"},
		{name: "Address", in: "ship to 12 rabbit hole, Wonderland", want: "ship to [redacted], Wonderland", n: 1},
		{name: "Overlapping", in: "alice.liddell@example.com", want: "[redacted]", n: 1},
		{name: "OthersUntouched", in: "Bob at bob@example.org, +1-555-0199", want: "Bob at bob@example.org, +1-555-0199"},
		{name: "PatternEmail", in: "cc bob@example.org.", want: "cc [redacted].", patterns: []string{"email"}, n: 1},
		{name: "PatternPhone", in: "ring +44 20 7946 0958 now", want: "ring [redacted] now", patterns: []string{"phone"}, n: 1},
		{name: "PatternIP", in: "from 192.0.2.10 and 2001:db8::1, not 999.1.1.1", want: "from [redacted] and [redacted], not 999.1.1.1", patterns: []string{"ip"}, n: 2},
		{name: "InvalidUTF8Kept", in: "\xff Alice \xfe", want: "\xff [redacted] \xfe", n: 1},
		{name: "NUL", in: "a\x00Alice\x00b", want: "a\x00[redacted]\x00b", n: 1},
		{name: "Empty", in: "", want: ""},
		{name: "ShortNumbersNotSearched", in: "paid 12.50, zip 90210", want: "paid 12.50, zip 90210"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, n := forget.RedactString(tc.in, pre, tc.patterns)
			if got != tc.want || n != tc.n {
				t.Errorf("RedactString(%q) = %q, %d; want %q, %d", tc.in, got, n, tc.want, tc.n)
			}
		})
	}
}

func TestRedactStringRegexLikePreimages(t *testing.T) {
	t.Parallel()
	pre := []string{"a.*b+(c)", "100%_off"}
	got, n := forget.RedactString("x a.*b+(c) y aXXb 100%_off z", pre, nil)
	if want := "x [redacted] y aXXb [redacted] z"; got != want || n != 2 {
		t.Errorf("got %q, %d; want %q, 2", got, n, want)
	}
}

func TestRedactStringHuge(t *testing.T) {
	t.Parallel()
	text := strings.Repeat("lorem ipsum dolor ", 1<<16) + "Alice"
	got, n := forget.RedactString(text, []string{"Alice", "Liddell"}, []string{"email", "phone", "ip"})
	if n != 1 || !strings.HasSuffix(got, forget.Redacted) || len(got) != len(text)-5+len(forget.Redacted) {
		t.Errorf("huge text: %d spans, length %d", n, len(got))
	}
}

func TestRedactJSONDocument(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, in, want string
		paths          []string
		n              int
	}{
		{name: "TopLevel", in: `{"a": 1, "phone": "+1 555", "z": [1, 2]}`, want: `{"a": 1, "z": [1, 2]}`, paths: []string{"phone"}, n: 1},
		{name: "Last", in: `{"a": 1,  "phone" : "x" }`, want: `{"a": 1 }`, paths: []string{"phone"}, n: 1},
		{name: "First", in: "{\n  \"phone\": 1,\n  \"b\": {\"c\": 2}\n}", want: "{\n  \"b\": {\"c\": 2}\n}", paths: []string{"$.phone"}, n: 1},
		{name: "Nested", in: `{"s":{"name":"A","city":"B","keep":1},"k":"v"}`, want: `{"s":{"keep":1},"k":"v"}`, paths: []string{"s.name", "s.city"}, n: 2},
		{name: "Star", in: `{"s":{"name":"A","city":"B"},"k":"v"}`, want: `{"s":{},"k":"v"}`, paths: []string{"s.*"}, n: 2},
		{name: "ArrayElements", in: `{"addr":[{"phone":1,"x":2},{"phone":3}]}`, want: `{"addr":[{"x":2},{}]}`, paths: []string{"addr.phone"}, n: 2},
		{name: "EscapedKey", in: `{"ph\u006fne":1,"b":"}\"{"}`, want: `{"b":"}\"{"}`, paths: []string{"phone"}, n: 1},
		{name: "Missing", in: `{"a":1}`, want: `{"a":1}`, paths: []string{"phone"}},
		{name: "NotObject", in: `"phone"`, want: `"phone"`, paths: []string{"phone"}},
		{name: "Empty", in: ``, want: ``, paths: []string{"phone"}},
		{name: "MiddleOfThree", in: `[1,2,3]`, want: `[]`, paths: []string{"*"}, n: 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, n, err := forget.RedactJSONDocument([]byte(tc.in), tc.paths)
			if err != nil || string(got) != tc.want || n != tc.n {
				t.Errorf("RedactJSONDocument(%s) = %s, %d, %v; want %s, %d", tc.in, got, n, err, tc.want, tc.n)
			}
		})
	}
	if _, _, err := forget.RedactJSONDocument([]byte(`{"phone": `), []string{"phone"}); !errors.Is(err, forget.ErrNotJSON) {
		t.Errorf("invalid JSON: %v, want ErrNotJSON", err)
	}
}

func TestRedactRulesRefuseBadArguments(t *testing.T) {
	t.Parallel()
	for name, r := range map[string]forget.Rule{
		"UnknownPattern": forget.RedactText("email", "ssn"),
		"NoPaths":        forget.RedactJSON(),
		"EmptySegment":   forget.RedactJSON("a..b"),
	} {
		t.Run(name, func(t *testing.T) {
			cat := forget.DefaultCatalogue()
			if err := cat.SetRule(forget.Firstname, r); err != nil {
				t.Fatal(err)
			}
			if err := cat.Validate(); err == nil {
				t.Error("Validate accepted the rule")
			}
		})
	}
}

func TestKeyedHash(t *testing.T) {
	t.Parallel()
	d := planValue(t, forget.KeyedHash([]byte("k1"))).Derive
	a, _, err := d.Derive("alice", forget.DeriveInput{})
	b, _, _ := d.Derive("alice", forget.DeriveInput{Key: []byte("other")})
	c, _, _ := planValue(t, forget.KeyedHash([]byte("k2"))).Derive.Derive("alice", forget.DeriveInput{})
	if err != nil || len(a) != 64 || a != b || a == c || strings.Contains(a, "alice") {
		t.Errorf("keyed hash: %q %q %q %v", a, b, c, err)
	}
	store := planValue(t, forget.KeyedHash(nil)).Derive
	if !store.NeedsKey() {
		t.Error("KeyedHash(nil) does not need the store's key")
	}
	if _, _, err := store.Derive("alice", forget.DeriveInput{}); err == nil {
		t.Error("a keyed hash without any key derived a value")
	}
}

// planValue is the value a forget's plan carries for rule r.
func planValue(t *testing.T, r forget.Rule) forget.Value {
	t.Helper()
	v, err := forget.ApplyRule(r)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func FuzzRedactString(f *testing.F) {
	f.Add("Dear Alice, mail alice@example.com or +1 555 0101 from 10.0.0.1", "Alice")
	f.Add("\xff\x00ALİCE", "alİce")
	f.Fuzz(func(t *testing.T, text, pre string) {
		got, n := forget.RedactString(text, []string{pre, "alice@example.com", "+1-555-0101"}, []string{"email", "phone", "ip"})
		if n == 0 && got != text {
			t.Fatalf("nothing redacted but the text changed")
		}
		if n > 0 && strings.Count(got, forget.Redacted) < n {
			t.Fatalf("%d spans, fewer markers", n)
		}
		if utf8.ValidString(text) && !utf8.ValidString(got) {
			t.Fatalf("valid UTF-8 became invalid")
		}
		// Every byte outside the spans is kept: the text's start and end,
		// up to the first and after the last marker, are unchanged.
		if i := strings.Index(got, forget.Redacted); i >= 0 && !strings.HasPrefix(text, got[:i]) {
			t.Fatalf("the text before the first span changed")
		}
		if i := strings.LastIndex(got, forget.Redacted); i >= 0 && !strings.HasSuffix(text, got[i+len(forget.Redacted):]) {
			t.Fatalf("the text after the last span changed")
		}
	})
}

func FuzzRedactJSONDocument(f *testing.F) {
	f.Add([]byte(`{"phone":"1","a":{"phone":[1,{"phone":2}]},"b":[{"x":1,"phone":null}]}`), "phone")
	f.Add([]byte(`[{"a":{"b":1}},2]`), "*.a.b")
	f.Fuzz(func(t *testing.T, doc []byte, path string) {
		out, n, err := forget.RedactJSONDocument(doc, []string{path, "*.phone"})
		if err != nil {
			return
		}
		if len(bytes.TrimSpace(doc)) > 0 && !json.Valid(out) {
			t.Fatalf("redacted JSON is invalid: %q -> %q", doc, out)
		}
		if n == 0 && !bytes.Equal(out, doc) {
			t.Fatalf("nothing removed but the document changed")
		}
		if len(out) > len(doc) {
			t.Fatalf("redaction grew the document")
		}
	})
}
