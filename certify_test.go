package forget_test

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/forgetkit/forget"
	"github.com/forgetkit/forget/certificate"
	"github.com/forgetkit/forget/store/memstore"
)

// TestSigningKeyOnMemstore: with WithSigningKey, a forget's receipt and
// its event (the memory store's audit trail) carry the same certificate,
// which verifies; a store that states no mapping leaves the digest empty;
// dry runs, refusals and a Forgetter without a key carry none.
func TestSigningKeyOnMemstore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pub, priv, err := certificate.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	s := memstore.New(memstore.WithAudit(), memstore.WithHold("vip", func(id string) bool { return id == "3" }))
	for _, id := range []string{"1", "2", "3", "4"} {
		if err := s.Add(memstore.Customer{ID: id, Fields: map[forget.Field]string{forget.Firstname: "Ann", forget.Phone: "+1 555 0100"}}); err != nil {
			t.Fatal(err)
		}
	}
	f, err := forget.New(s, forget.WithSigningKey(priv))
	if err != nil {
		t.Fatal(err)
	}
	rc, err := f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: "1"}, Principal: "ops", RequestID: "r-1"})
	if err != nil {
		t.Fatal(err)
	}
	c := rc.Certificate
	if c == nil {
		t.Fatal("no certificate")
	}
	if err := c.Verify(pub); err != nil {
		t.Fatal(err)
	}
	if c.MappingDigest != "" || c.RequestID != "r-1" || c.Principal != "ops" || c.EventID != rc.EventID || c.CustomerID != "1" {
		t.Errorf("certificate %+v does not state the receipt", c)
	}
	events, err := s.CustomerEvents(ctx, "1")
	if err != nil || len(events) != 1 || !reflect.DeepEqual(events[0].Certificate, c) {
		t.Fatalf("events %+v (%v), want one with the receipt's certificate", events, err)
	}
	if dry, err := f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: "2"}, DryRun: true}); err != nil || dry.Certificate != nil {
		t.Fatalf("dry run: %v, certificate %+v", err, dry.Certificate)
	}
	var held *forget.HeldError
	if _, err := f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: "3"}}); !errors.As(err, &held) {
		t.Fatalf("held: %v", err)
	}
	trail, err := s.AuditTrail(ctx, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	refusals := 0
	for _, r := range trail {
		if r.Held != "" {
			refusals++
			if r.Certificate != nil {
				t.Error("a refusal's record has a certificate")
			}
		}
	}
	if refusals != 1 {
		t.Fatalf("%d refusals in the trail, want 1", refusals)
	}
	plain, err := forget.New(s)
	if err != nil {
		t.Fatal(err)
	}
	if rc, err := plain.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: "4"}}); err != nil || rc.Certificate != nil {
		t.Fatalf("without a key: %v, certificate %+v", err, rc.Certificate)
	}
	if _, err := forget.New(s, forget.WithSigningKey(priv[:31])); err == nil {
		t.Fatal("New took a 31-byte key")
	}
}
