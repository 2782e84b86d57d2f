package certificate_test

import (
	"bytes"
	"crypto/ed25519"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/forgetkit/forget"
	"github.com/forgetkit/forget/certificate"
)

func sampleReceipt(eventID string) forget.Receipt {
	return forget.Receipt{
		EventID: eventID, CustomerID: "191", At: time.Date(2026, 12, 8, 3, 4, 5, 6000, time.FixedZone("CET", 3600)),
		Principal: "ops", RequestID: "req-7",
		FieldsErased: []forget.Field{forget.Firstname, forget.Lastname},
		FieldsKept:   []forget.Field{forget.City},
		RowsDeleted:  map[forget.Table]int64{"member_note": 3, "member_auth": 0},
		RowsScrubbed: map[forget.Table]int64{"tickets": 2},
		RowsUpdated:  map[string]int64{"customers": 1},
		TablesKept:   []forget.Table{"orders"},
		Absent:       []string{"session"},
		HoldsIgnored: []string{"vip"},
	}
}

// TestSigner: NewSigner's certificate of a receipt states it (tables
// sorted by name and action, time in UTC), is in canonical form (Parse
// takes it) and verifies; certifying the same receipt again returns the
// same bytes from the memo, which a caller's change to them does not
// reach; the signer keeps its own copy of the key; the memo is bounded.
func TestSigner(t *testing.T) {
	t.Parallel()
	pub, priv := testKey(t, 3)
	key := bytes.Clone(priv)
	s, err := certificate.NewSigner(key)
	if err != nil {
		t.Fatal(err)
	}
	clear(key) // the signer's copy is its own
	digest := "sha256:00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
	rc := sampleReceipt("ev-1")
	raw, err := s.Certify(rc, digest)
	if err != nil {
		t.Fatal(err)
	}
	c, err := certificate.Parse(raw)
	if err != nil {
		t.Fatalf("Parse: %v\n%s", err, raw)
	}
	if err := c.Verify(pub); err != nil {
		t.Fatal(err)
	}
	want := []certificate.TableRows{
		{Table: "customers", Action: certificate.Updated, Rows: 1},
		{Table: "member_auth", Action: certificate.Deleted, Rows: 0},
		{Table: "member_note", Action: certificate.Deleted, Rows: 3},
		{Table: "tickets", Action: certificate.Scrubbed, Rows: 2},
	}
	if fmt.Sprint(c.Tables) != fmt.Sprint(want) {
		t.Errorf("tables %+v, want %+v", c.Tables, want)
	}
	if c.EventID != "ev-1" || c.CustomerID != "191" || !c.At.Equal(rc.At) || c.At.Location() != time.UTC || c.Principal != "ops" ||
		c.RequestID != "req-7" || c.MappingDigest != digest || fmt.Sprint(c.FieldsErased, c.FieldsKept, c.TablesKept, c.Absent, c.HoldsIgnored) != "[firstname lastname] [city] [orders] [session] [vip]" ||
		c.Repeat || c.Verification.Performed || c.Verification.Statement != certificate.NotVerified || len(c.CannotCover) != 4 {
		t.Errorf("certificate %+v does not state the receipt", c)
	}
	if c.KeyID != certificate.KeyID(pub) {
		t.Errorf("key id %s, want %s", c.KeyID, certificate.KeyID(pub))
	}

	// The memo: the same receipt again is the same certificate, not
	// signed anew, and the bytes returned before are the caller's.
	if n := certificate.MemoLen(s); n != 1 {
		t.Fatalf("memo holds %d, want 1", n)
	}
	first := bytes.Clone(raw)
	clear(raw)
	again, err := s.Certify(sampleReceipt("ev-1"), digest)
	if err != nil || !bytes.Equal(again, first) {
		t.Fatalf("again: %v\n%s\nwant\n%s", err, again, first)
	}
	if n := certificate.MemoLen(s); n != 1 {
		t.Fatalf("memo holds %d after a repeat, want 1", n)
	}
	// Another digest, another receipt: another certificate.
	other, err := s.Certify(rc, "")
	if err != nil || bytes.Equal(other, first) {
		t.Fatalf("another digest: %v, the same certificate", err)
	}
	rc.Repeat = true
	if repeat, err := s.Certify(rc, digest); err != nil || bytes.Equal(repeat, first) {
		t.Fatalf("another receipt: %v, the same certificate", err)
	}

	// Many at once: each verifies, and the memo stays bounded.
	var wg sync.WaitGroup
	errs := make(chan error, 200)
	for i := range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			raw, err := s.Certify(sampleReceipt(fmt.Sprint("ev-many-", i)), digest)
			if err == nil {
				var c *certificate.Certificate
				if c, err = certificate.Parse(raw); err == nil {
					err = c.Verify(pub)
				}
			}
			if err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if n := certificate.MemoLen(s); n < 1 || n > 64 {
		t.Fatalf("memo holds %d, want at most 64", n)
	}
}

// TestNewSignerRefuses: keys of the wrong size.
func TestNewSignerRefuses(t *testing.T) {
	t.Parallel()
	for _, n := range []int{0, 31, 32, 63, 65} {
		if s, err := certificate.NewSigner(make(ed25519.PrivateKey, n)); err == nil || s != nil {
			t.Errorf("NewSigner took a %d-byte key", n)
		}
	}
}
