package propagate_test

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"

	"github.com/forgetkit/forget"
	"github.com/forgetkit/forget/certificate"
	"github.com/forgetkit/forget/propagate"
	"github.com/forgetkit/forget/store/memstore"
)

// TestWebhookCarriesCertificate: the event a relay publishes, decoded by
// a deliverer and sent as a webhook's body, still holds the erasure's
// certificate byte for byte: a receiver parses the body and verifies it
// with the public key alone.
func TestWebhookCarriesCertificate(t *testing.T) {
	t.Parallel()
	pub, priv, err := certificate.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	s := memstore.New(memstore.WithAudit())
	if err := s.Add(memstore.Customer{ID: "7", Fields: map[forget.Field]string{forget.Firstname: "Ann"}}); err != nil {
		t.Fatal(err)
	}
	signer, err := certificate.NewSigner(priv)
	if err != nil {
		t.Fatal(err)
	}
	f, err := forget.New(s, forget.WithCertifier(signer))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Forget(context.Background(), forget.Request{Lookup: forget.Lookup{CustomerID: "7"}}); err != nil {
		t.Fatal(err)
	}
	events, err := s.CustomerEvents(context.Background(), "7")
	if err != nil || len(events) != 1 {
		t.Fatalf("%d events: %v", len(events), err)
	}
	// What the relay publishes, and the deliverer decodes.
	msg, err := json.Marshal(events[0])
	if err != nil {
		t.Fatal(err)
	}
	var rc forget.Receipt
	if err := json.Unmarshal(msg, &rc); err != nil {
		t.Fatal(err)
	}
	body, err := propagate.Payload(rc)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(body, events[0].Certificate) || !bytes.Equal(rc.Certificate, events[0].Certificate) {
		t.Fatalf("the webhook's body does not hold the certificate byte for byte:\n%s\n%s", body, events[0].Certificate)
	}
	c, err := certificate.Parse(body)
	if err != nil {
		t.Fatalf("Parse(webhook body): %v\n%s", err, body)
	}
	if err := c.Verify(pub); err != nil || c.CustomerID != "7" {
		t.Fatalf("Verify: %v (customer %q)", err, c.CustomerID)
	}
}
