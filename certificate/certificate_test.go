package certificate_test

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/forgetkit/forget/certificate"
)

func testKey(t *testing.T, seed byte) (ed25519.PublicKey, ed25519.PrivateKey) {
	t.Helper()
	priv := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, ed25519.SeedSize))
	return priv.Public().(ed25519.PublicKey), priv
}

// sample fills every field, lists with two entries, so that a change of
// any of them can be seen.
func sample(t *testing.T, priv ed25519.PrivateKey) *certificate.Certificate {
	t.Helper()
	c := &certificate.Certificate{
		EventID:       "abcdefghijklmnopqrstuvwxyz",
		CustomerID:    "191",
		At:            time.Date(2026, 12, 8, 3, 4, 5, 6000, time.UTC),
		Principal:     "ops",
		RequestID:     "req-7",
		MappingDigest: "sha256:00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
		FieldsErased:  []string{"firstname", "lastname"},
		FieldsKept:    []string{"city", "zip"},
		Tables: []certificate.TableRows{
			{Table: "member_note", Action: certificate.Deleted, Rows: 3},
			{Table: "customers", Action: certificate.Updated, Rows: 1},
		},
		TablesKept:   []string{"member_auth", "orders"},
		Absent:       []string{"token_hash", "session"},
		HoldsIgnored: []string{"chargeback", "dispute"},
		Repeat:       true,
		Verification: certificate.Verification{
			Performed: true, Statement: "re-read", ColumnsChecked: 12, RowsChecked: 4,
			Residuals: []certificate.Residual{{Table: "tickets", Column: "body", Rows: 2}, {Table: "notes", Column: "text", Rows: 1}},
		},
		CannotCover: certificate.CannotCover(),
	}
	if err := c.Sign(priv); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestSignVerify(t *testing.T) {
	t.Parallel()
	pub, priv := testKey(t, 1)
	c := sample(t, priv)
	if err := c.Verify(pub); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if c.Format != certificate.Format || c.KeyID != certificate.KeyID(pub) || len(c.Signature) != ed25519.SignatureSize {
		t.Fatalf("Sign left format %q key %q signature %d bytes", c.Format, c.KeyID, len(c.Signature))
	}
	other, _ := testKey(t, 2)
	if err := c.Verify(other); !errors.Is(err, certificate.ErrWrongKey) {
		t.Fatalf("another key: %v, want ErrWrongKey", err)
	}
	unsigned := *c
	unsigned.Signature = nil
	if err := unsigned.Verify(pub); !errors.Is(err, certificate.ErrUnsigned) {
		t.Fatalf("unsigned: %v, want ErrUnsigned", err)
	}
	// A certificate that names the key but was signed by another.
	_, priv2 := testKey(t, 2)
	forged := sample(t, priv2)
	forged.KeyID = c.KeyID
	if err := forged.Verify(pub); !errors.Is(err, certificate.ErrBadSignature) {
		t.Fatalf("forged: %v, want ErrBadSignature", err)
	}
	if err := c.Sign(priv[:10]); err == nil {
		t.Fatal("Sign took a 10-byte key")
	}
	if err := c.Verify(pub[:10]); err == nil {
		t.Fatal("Verify took a 10-byte key")
	}
}

// TestEveryFieldIsSigned changes each field (and each field of each
// nested struct and list entry) in turn: every change must fail Verify.
func TestEveryFieldIsSigned(t *testing.T) {
	t.Parallel()
	pub, priv := testKey(t, 1)
	base := sample(t, priv)
	var paths []string
	var walk func(v reflect.Value, path string, change func(mut func(reflect.Value)))
	count := 0
	walk = func(v reflect.Value, path string, change func(mut func(reflect.Value))) {
		switch v.Kind() {
		case reflect.Struct:
			if v.Type() == reflect.TypeOf(time.Time{}) {
				break
			}
			for i := range v.NumField() {
				name := path + "." + v.Type().Field(i).Name
				if name == ".Signature" {
					continue
				}
				walk(v.Field(i), name, func(mut func(reflect.Value)) {
					change(func(p reflect.Value) { mut(p.Field(i)) })
				})
			}
			return
		case reflect.Slice:
			if v.Type().Elem().Kind() == reflect.Struct {
				for j := range v.Len() {
					walk(v.Index(j), path+"["+string(rune('0'+j))+"]", func(mut func(reflect.Value)) {
						change(func(p reflect.Value) { mut(p.Index(j)) })
					})
				}
			}
		}
		paths = append(paths, path)
		change(func(f reflect.Value) {
			switch f.Kind() {
			case reflect.String:
				f.SetString(f.String() + "x")
			case reflect.Bool:
				f.SetBool(!f.Bool())
			case reflect.Int64, reflect.Int:
				f.SetInt(f.Int() + 1)
			case reflect.Slice:
				if f.Type().Elem().Kind() == reflect.String {
					f.Index(0).SetString(f.Index(0).String() + "x")
				} else {
					f.Set(f.Slice(0, f.Len()-1))
				}
			case reflect.Struct: // time.Time
				f.Set(reflect.ValueOf(f.Interface().(time.Time).Add(time.Nanosecond)))
			default:
				t.Fatalf("%s: no change for a %s", path, f.Kind())
			}
		})
	}
	walk(reflect.ValueOf(base).Elem(), "", func(mut func(reflect.Value)) {
		c := deepCopy(t, base)
		mut(reflect.ValueOf(c).Elem())
		count++
		if err := c.Verify(pub); err == nil {
			t.Errorf("change %d (%s) still verifies", count, paths[len(paths)-1])
		}
	})
	if count < 25 {
		t.Fatalf("only %d changes tried: %v", count, paths)
	}
	if err := base.Verify(pub); err != nil {
		t.Fatalf("the original no longer verifies: %v", err)
	}
}

func deepCopy(t *testing.T, c *certificate.Certificate) *certificate.Certificate {
	t.Helper()
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	var out certificate.Certificate
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return &out
}

// TestEveryBitOfTheFile flips each bit of a certificate's file, compact
// and indented, and inside an event: none may parse and verify.
func TestEveryBitOfTheFile(t *testing.T) {
	t.Parallel()
	pub, priv := testKey(t, 1)
	c := sample(t, priv)
	compact, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	indented, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	event, err := json.Marshal(map[string]any{"event_id": c.EventID, "customer_id": c.CustomerID, "certificate": c})
	if err != nil {
		t.Fatal(err)
	}
	webhook, err := json.Marshal(map[string]any{"type": "customer.forgotten", "data": json.RawMessage(event)})
	if err != nil {
		t.Fatal(err)
	}
	for name, file := range map[string][]byte{"compact": append(compact, '\n'), "indented": indented, "event": event, "webhook": webhook} {
		got, err := certificate.Parse(file)
		if err != nil {
			t.Fatalf("%s: Parse: %v", name, err)
		}
		if err := got.Verify(pub); err != nil {
			t.Fatalf("%s: Verify: %v", name, err)
		}
		if !reflect.DeepEqual(got, c) {
			t.Fatalf("%s: parsed %+v, want %+v", name, got, c)
		}
		// In the event, the certificate's bytes: the others are the
		// event's own.
		from, to := 0, len(file)
		if name == "event" || name == "webhook" {
			from = bytes.Index(file, compact)
			to = from + len(compact)
		}
		passed := 0
		for i := from; i < to; i++ {
			for bit := range 8 {
				m := bytes.Clone(file)
				m[i] ^= 1 << bit
				got, err := certificate.Parse(m)
				if err != nil {
					continue
				}
				if err := got.Verify(pub); err == nil {
					passed++
					if passed < 5 {
						t.Errorf("%s: byte %d bit %d flipped (%q to %q) still verifies", name, i, bit, file[i], m[i])
					}
				}
			}
		}
		if passed > 0 {
			t.Errorf("%s: %d flipped bits verify", name, passed)
		}
	}
}

func TestParseRefuses(t *testing.T) {
	t.Parallel()
	_, priv := testKey(t, 1)
	c := sample(t, priv)
	good, _ := json.Marshal(c)
	for name, in := range map[string]string{
		"NotJSON":       "certificate",
		"Array":         "[]",
		"NoCertificate": `{"event_id":"x"}`,
		"NullInEvent":   `{"certificate":null}`,
		"Unknown":       strings.Replace(string(good), `"format"`, `"extra":1,"format"`, 1),
		"Repeated":      strings.Replace(string(good), `"customer_id":"191"`, `"customer_id":"191","customer_id":"191"`, 1),
		"KeyCase":       strings.Replace(string(good), `"customer_id"`, `"Customer_id"`, 1),
		"Reordered":     strings.Replace(strings.Replace(string(good), `"principal":"ops",`, ``, 1), `"mapping_digest"`, `"principal":"ops","mapping_digest"`, 1),
		"OtherOffset":   strings.Replace(string(good), `03:04:05.000006Z`, `04:04:05.000006+01:00`, 1),
		"Trailing":      string(good) + "{}",
		"EscapedLetter": strings.Replace(string(good), `"ops"`, `"\u006fps"`, 1),
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := certificate.Parse([]byte(in)); !errors.Is(err, certificate.ErrMalformed) {
				t.Fatalf("Parse: %v, want ErrMalformed", err)
			}
		})
	}
}

func TestKeyFiles(t *testing.T) {
	t.Parallel()
	pub, priv, err := certificate.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	pp, err := certificate.MarshalPrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	pu, err := certificate.MarshalPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	gotPriv, err := certificate.ParsePrivateKey(pp)
	if err != nil || !gotPriv.Equal(priv) {
		t.Fatalf("ParsePrivateKey: %v", err)
	}
	gotPub, err := certificate.ParsePublicKey(pu)
	if err != nil || !gotPub.Equal(pub) {
		t.Fatalf("ParsePublicKey: %v", err)
	}
	if _, err := certificate.ParsePublicKey(pp); err == nil {
		t.Fatal("ParsePublicKey took a private key")
	}
	if _, err := certificate.ParsePrivateKey(pu); err == nil {
		t.Fatal("ParsePrivateKey took a public key")
	}
	if _, err := certificate.ParsePublicKey([]byte("not a key")); err == nil {
		t.Fatal("ParsePublicKey took text")
	}
}
