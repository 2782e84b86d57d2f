package memstore_test

import (
	"context"
	"errors"
	"testing"

	"github.com/forgetkit/forget"
	"github.com/forgetkit/forget/store/memstore"
)

func TestTombstones(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	key := forget.TombstoneKey{ID: "k1", Secret: []byte("0123456789abcdef0123456789abcdef")}
	const email forget.Field = "email"
	newForgetter := func(t *testing.T, keys ...forget.TombstoneKey) *forget.Forgetter {
		s := memstore.New(memstore.WithIdentity("email", email, forget.Normalization{Kind: forget.NormalizeEmail, StripPlus: true}),
			memstore.WithIdentity("phone", forget.Phone, forget.Normalization{Kind: forget.NormalizeE164, DefaultCountry: "+44"}),
			memstore.WithTombstoneKeys(keys...), memstore.WithHold("chargeback", func(id string) bool { return id == "3" }))
		for _, id := range []string{"1", "2", "3"} {
			if err := s.Add(memstore.Customer{ID: id, Fields: map[forget.Field]string{forget.Username: "u" + id, email: "Jane+" + id + "@Example.org", forget.Phone: "07700 90012" + id}}); err != nil {
				t.Fatal(err)
			}
		}
		cat := forget.DefaultCatalogue()
		cat.Fields = append(cat.Fields, forget.FieldSpec{Name: email, Rule: forget.Empty()})
		f, err := forget.New(s, forget.WithCatalogue(cat))
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	forgotten := func(t *testing.T, f *forget.Forgetter, name, v string) bool {
		t.Helper()
		ok, err := f.Forgotten(ctx, forget.Identity{Name: name, Value: v})
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	f := newForgetter(t, key)
	if forgotten(t, f, "email", "jane@example.org") {
		t.Fatal("forgotten before any forget")
	}
	if _, err := f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: "1"}, DryRun: true}); err != nil {
		t.Fatal(err)
	}
	if forgotten(t, f, "email", "jane@example.org") {
		t.Fatal("a dry run left a tombstone")
	}
	if _, err := f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: "3"}}); !errors.Is(err, forget.ErrHeld) {
		t.Fatalf("err = %v, want held", err)
	}
	if _, err := f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: "2"}, Keep: []string{"phone"}}); err != nil {
		t.Fatal(err)
	}
	if !forgotten(t, f, "email", " JANE@example.org") || forgotten(t, f, "phone", "+447700900122") || forgotten(t, f, "phone", "07700 900123") {
		t.Error("after forgetting 2 but its phone: want the e-mail alone forgotten")
	}
	if _, err := f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: "1"}}); err != nil {
		t.Fatal(err)
	}
	if !forgotten(t, f, "phone", "+447700900121") || forgotten(t, f, "email", "bob@example.org") {
		t.Error("after forgetting 1: wrong answers")
	}
	if _, err := f.Forgotten(ctx, forget.Identity{Name: "username"}); !errors.Is(err, forget.ErrInvalid) {
		t.Errorf("unknown identity: %v, want invalid", err)
	}
	bad := newForgetter(t, forget.TombstoneKey{ID: "k", Secret: []byte("short")})
	if _, err := bad.Forgotten(ctx, forget.Identity{Name: "email", Value: "x"}); err == nil {
		t.Error("a short key was accepted")
	}
}
