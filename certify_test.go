package forget_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/forgetkit/forget"
	"github.com/forgetkit/forget/certificate"
	"github.com/forgetkit/forget/store/memstore"
)

// TestSigningKeyOnMemstore: with WithCertifier(certificate.NewSigner), a
// forget's receipt and its event (the memory store's audit trail) carry
// the same certificate, byte for byte, which verifies; a store that
// states no mapping leaves the digest empty; dry runs, refusals and a
// Forgetter without a certifier carry none.
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
	signer, err := certificate.NewSigner(priv)
	if err != nil {
		t.Fatal(err)
	}
	f, err := forget.New(s, forget.WithCertifier(signer))
	if err != nil {
		t.Fatal(err)
	}
	rc, err := f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: "1"}, Principal: "ops", RequestID: "r-1"})
	if err != nil {
		t.Fatal(err)
	}
	if rc.Certificate == nil {
		t.Fatal("no certificate")
	}
	c, err := certificate.Parse(rc.Certificate)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Verify(pub); err != nil {
		t.Fatal(err)
	}
	if c.MappingDigest != "" || c.RequestID != "r-1" || c.Principal != "ops" || c.EventID != rc.EventID || c.CustomerID != "1" {
		t.Errorf("certificate %+v does not state the receipt", c)
	}
	events, err := s.CustomerEvents(ctx, "1")
	if err != nil || len(events) != 1 || !bytes.Equal(events[0].Certificate, rc.Certificate) {
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
	if _, err := certificate.NewSigner(priv[:31]); err == nil {
		t.Fatal("NewSigner took a 31-byte key")
	}
	if _, err := forget.New(s, forget.WithCertifier(nil)); err == nil {
		t.Fatal("New took a nil certifier")
	}
}

// certifierFunc is a Certifier that is a function.
type certifierFunc func(rc forget.Receipt, digest string) (json.RawMessage, error)

func (fn certifierFunc) Certify(rc forget.Receipt, digest string) (json.RawMessage, error) {
	return fn(rc, digest)
}

// TestCertifierContract: the Forgetter asks its Certifier once inside the
// store's transaction and once for the caller, with the same receipt, and
// puts what it returns in the receipt and the record byte for byte. A
// certifier that fails or returns no JSON object leaves the committed
// erasure without a certificate and is logged, with no error text that
// came from the customer's row.
func TestCertifierContract(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := memstore.New(memstore.WithAudit())
	for _, id := range []string{"1", "2", "3", "4"} {
		if err := s.Add(memstore.Customer{ID: id, Fields: map[forget.Field]string{forget.Firstname: "Ann"}}); err != nil {
			t.Fatal(err)
		}
	}
	var calls []forget.Receipt
	answer := func(id string) (json.RawMessage, error) {
		switch id {
		case "1":
			return json.RawMessage(`{"customer": "1"}`), nil
		case "2":
			return nil, errors.New("the HSM is down")
		case "3":
			return json.RawMessage(`"not an object"`), nil
		}
		return json.RawMessage(`{"truncated":`), nil
	}
	var logs bytes.Buffer
	f, err := forget.New(s, forget.WithLogger(slog.New(slog.NewJSONHandler(&logs, nil))),
		forget.WithCertifier(certifierFunc(func(rc forget.Receipt, digest string) (json.RawMessage, error) {
			if digest != "" {
				t.Errorf("digest %q from a store that states none", digest)
			}
			calls = append(calls, rc)
			return answer(rc.CustomerID)
		})))
	if err != nil {
		t.Fatal(err)
	}
	rc, err := f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: "1"}})
	if err != nil {
		t.Fatal(err)
	}
	if string(rc.Certificate) != `{"customer": "1"}` {
		t.Fatalf("certificate %s, want the certifier's bytes", rc.Certificate)
	}
	if len(calls) != 2 || calls[0].EventID != rc.EventID || calls[1].EventID != rc.EventID || calls[0].Certificate != nil {
		t.Fatalf("%d calls %+v, want 2 with the receipt of event %s and no certificate yet", len(calls), calls, rc.EventID)
	}
	trail, err := s.AuditTrail(ctx, time.Time{})
	if err != nil || len(trail) != 1 || string(trail[0].Certificate) != `{"customer": "1"}` {
		t.Fatalf("trail %+v (%v), want the certificate byte for byte", trail, err)
	}
	for _, id := range []string{"2", "3", "4"} {
		logs.Reset()
		rc, err := f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: id}})
		if err != nil {
			t.Fatalf("customer %s: %v: a certifier's failure fails no committed erasure", id, err)
		}
		if rc.Certificate != nil {
			t.Errorf("customer %s: certificate %s from a failed certifier", id, rc.Certificate)
		}
		if !strings.Contains(logs.String(), `"level":"ERROR"`) || !strings.Contains(logs.String(), rc.EventID) || strings.Contains(logs.String(), "Ann") {
			t.Errorf("customer %s: log %s, want an error naming the event", id, logs.String())
		}
	}
	events, err := s.CustomerEvents(ctx, "4")
	if err != nil || len(events) != 1 || events[0].Certificate != nil {
		t.Fatalf("events %+v (%v), want one without a certificate", events, err)
	}
	if _, err := json.Marshal(events[0]); err != nil {
		t.Fatalf("the event of a failed certificate does not marshal: %v", err)
	}
}
