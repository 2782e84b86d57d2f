package sqlstore_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/forgetkit/forget"
	"github.com/forgetkit/forget/certificate"
	"github.com/forgetkit/forget/internal/syncbuf"
	"github.com/forgetkit/forget/store/sqlstore"
	"github.com/forgetkit/forget/store/storetest"
)

// TestCertificates: with certificate.NewSigner, a single forget and each forget
// of a batch get a certificate that verifies with the public key, states
// the store's mapping digest and the row counts, and is the same in the
// receipt, the audit record and the event, byte for byte (and in the
// event's JSON, as a receiver gets it); a dry run and a refusal get none. No value planted
// in the customers' rows appears in any receipt, certificate, audit
// record, event or log line.
func TestCertificates(t *testing.T) {
	t.Parallel()
	pub, priv, err := certificate.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := certificate.NewSigner(priv)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			ctx := forget.WithPrincipal(context.Background(), "ops")
			vip := sqlstore.WithHold("vip", func(_ context.Context, _ sqlstore.Querier, key any) (bool, error) {
				return fmt.Sprint(key) == "105", nil
			})
			b := newDefaultBackend(t, e, sqlstore.WithAudit(sqlstore.DefaultAuditTable), vip)
			var planted []string
			var cs []storetest.Customer
			for id := 101; id <= 105; id++ {
				c := storetest.NewCustomer(id)
				for _, v := range c.Fields {
					planted = append(planted, v)
				}
				cs = append(cs, c)
			}
			if err := b.Seed(ctx, cs); err != nil {
				t.Fatal(err)
			}
			var logs syncbuf.Buffer
			f, err := forget.New(b.Store, forget.WithCertifier(signer),
				forget.WithLogger(slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
			if err != nil {
				t.Fatal(err)
			}
			if err := f.Verify(ctx); err != nil {
				t.Fatal(err)
			}
			digest, err := sqlstore.SchemaDigest(sqlstore.DefaultSchema())
			if err != nil || digest != b.MappingDigest() || len(digest) != len("sha256:")+64 {
				t.Fatalf("digest %q (%v), the store's %q", digest, err, b.MappingDigest())
			}

			var receipts []*forget.Receipt
			rc, err := f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: "101"}, Keep: []string{"city"}})
			if err != nil {
				t.Fatal(err)
			}
			receipts = append(receipts, rc)
			for _, o := range f.ForgetBatch(ctx, []forget.Request{{Lookup: forget.Lookup{CustomerID: "102"}}, {Lookup: forget.Lookup{CustomerID: "103"}}}) {
				if o.Err != nil {
					t.Fatal(o.Err)
				}
				receipts = append(receipts, o.Receipt)
			}
			dry, err := f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: "104"}, DryRun: true})
			if err != nil || dry.Certificate != nil {
				t.Fatalf("dry run: %v, certificate %v, want none", err, dry.Certificate)
			}
			var held *forget.HeldError
			if _, err := f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: "105"}}); !errors.As(err, &held) {
				t.Fatalf("forget of a held customer: %v", err)
			}

			byEvent := map[string]*certificate.Certificate{}
			rawByEvent := map[string][]byte{}
			for _, rc := range receipts {
				if rc.Certificate == nil {
					t.Fatalf("customer %s: no certificate", rc.CustomerID)
				}
				c, err := certificate.Parse(rc.Certificate)
				if err != nil {
					t.Fatalf("customer %s: %v", rc.CustomerID, err)
				}
				if err := c.Verify(pub); err != nil {
					t.Fatalf("customer %s: %v", rc.CustomerID, err)
				}
				if c.EventID != rc.EventID || c.CustomerID != rc.CustomerID || c.MappingDigest != digest || c.Principal != "ops" ||
					!c.At.Equal(rc.At) || len(c.FieldsErased) != len(rc.FieldsErased) || len(c.CannotCover) != 4 ||
					c.Verification.Performed || c.Verification.Statement != certificate.NotVerified {
					t.Errorf("customer %s: certificate %+v does not state the receipt %+v", rc.CustomerID, c, rc)
				}
				if want := (certificate.TableRows{Table: "member_note", Action: certificate.Deleted, Rows: 3}); !containsRows(c.Tables, want) {
					t.Errorf("customer %s: tables %+v lack %+v", rc.CustomerID, c.Tables, want)
				}
				byEvent[rc.EventID], rawByEvent[rc.EventID] = c, rc.Certificate
			}
			if got := byEvent[receipts[0].EventID].FieldsKept; len(got) != 1 || got[0] != "city" {
				t.Errorf("kept %q in the certificate, want city", got)
			}

			trail, err := b.AuditTrail(ctx, time.Time{})
			if err != nil {
				t.Fatal(err)
			}
			erasures := 0
			for _, rec := range trail {
				if rec.Held != "" {
					if rec.Certificate != nil {
						t.Errorf("the refusal's record has a certificate")
					}
					continue
				}
				erasures++
				if want := rawByEvent[rec.EventID]; !bytes.Equal(rec.Certificate, want) {
					t.Errorf("audit record %s: certificate %s, want the receipt's %s", rec.EventID, rec.Certificate, want)
				}
			}
			if erasures != 3 || len(trail) != 4 {
				t.Fatalf("%d records, %d erasures; want 4 and 3", len(trail), erasures)
			}
			var everything bytes.Buffer
			for _, id := range []string{"101", "102", "103", "105"} {
				events, err := b.CustomerEvents(ctx, id)
				if err != nil {
					t.Fatal(err)
				}
				for _, ev := range events {
					if ev.Held == "" && !bytes.Equal(ev.Certificate, rawByEvent[ev.EventID]) {
						t.Errorf("event %s: certificate %s, want the receipt's %s", ev.EventID, ev.Certificate, rawByEvent[ev.EventID])
					}
					body, err := json.Marshal(ev)
					if err != nil {
						t.Fatal(err)
					}
					everything.Write(body)
					c, err := certificate.Parse(body)
					if err != nil {
						t.Fatalf("event %s: %v", ev.EventID, err)
					}
					if err := c.Verify(pub); err != nil || !reflect.DeepEqual(c, byEvent[ev.EventID]) {
						t.Fatalf("event %s: %v, certificate %+v", ev.EventID, err, c)
					}
				}
			}
			for _, v := range []any{receipts, dry, trail} {
				body, err := json.Marshal(v)
				if err != nil {
					t.Fatal(err)
				}
				everything.Write(body)
			}
			everything.WriteString(logs.String())
			if !bytes.Contains(everything.Bytes(), []byte(`"signature"`)) || logs.String() == "" {
				t.Fatal("nothing to scan")
			}
			for _, v := range planted {
				if bytes.Contains(everything.Bytes(), []byte(v)) {
					t.Errorf("the value %q is in a receipt, certificate, record, event or log", v)
				}
			}
		})
	}
}

func containsRows(rows []certificate.TableRows, want certificate.TableRows) bool {
	for _, r := range rows {
		if r == want {
			return true
		}
	}
	return false
}

// TestSigningKeyRefused: NewSigner refuses a signing key of the wrong
// size, and New a nil certifier.
func TestSigningKeyRefused(t *testing.T) {
	t.Parallel()
	b := newDefaultBackend(t, engines(t)[0])
	for _, key := range []ed25519.PrivateKey{make([]byte, 10), nil} {
		if s, err := certificate.NewSigner(key); err == nil || s != nil {
			t.Fatalf("NewSigner took a %d-byte signing key", len(key))
		}
	}
	if _, err := forget.New(b.Store, forget.WithCertifier(nil)); err == nil {
		t.Fatal("New took a nil certifier")
	}
}

// TestCertificateColumnNotJSON: a certificate column changed behind the
// store's back into something that is not JSON fails the audit trail's
// and the events' reads with an error that names the certificate, not
// its content (the column is read byte for byte, never re-encoded).
func TestCertificateColumnNotJSON(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, priv, err := certificate.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := certificate.NewSigner(priv)
	if err != nil {
		t.Fatal(err)
	}
	b := newDefaultBackend(t, engines(t)[0], sqlstore.WithAudit(sqlstore.DefaultAuditTable))
	if err := b.Seed(ctx, []storetest.Customer{storetest.NewCustomer(101)}); err != nil {
		t.Fatal(err)
	}
	f, err := forget.New(b.Store, forget.WithCertifier(signer))
	if err != nil {
		t.Fatal(err)
	}
	rc, err := f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: "101"}})
	if err != nil {
		t.Fatal(err)
	}
	trail, err := b.AuditTrail(ctx, time.Time{})
	if err != nil || len(trail) != 1 || !bytes.Equal(trail[0].Certificate, rc.Certificate) {
		t.Fatalf("trail %+v (%v), want the receipt's certificate", trail, err)
	}
	if _, err := b.db.ExecContext(ctx, "UPDATE "+sqlstore.DefaultAuditTable+" SET certificate = 'Ann Smith {'"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.AuditTrail(ctx, time.Time{}); err == nil || !strings.Contains(err.Error(), "certificate") || strings.Contains(err.Error(), "Ann") {
		t.Fatalf("AuditTrail of a broken certificate: %v", err)
	}
	if _, err := b.CustomerEvents(ctx, "101"); err == nil || !strings.Contains(err.Error(), "certificate") || strings.Contains(err.Error(), "Ann") {
		t.Fatalf("CustomerEvents of a broken certificate: %v", err)
	}
}
