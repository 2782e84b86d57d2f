package forget

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/forgetkit/forget/certificate"
)

// Certificates: with a signing key, every committed erasure's receipt
// carries a signed certificate (package certificate), made by
// [Plan.Receipt] inside the store's transaction, so that the audit record
// and the erasure event hold it.

// WithSigningKey makes the Forgetter sign a [certificate.Certificate] of
// every committed erasure (not of dry runs nor refusals): a store that
// keeps an audit trail records it with the erasure, in the same
// transaction, and its event carries it downstream. Receivers check it
// with the public key alone ([certificate.Certificate.Verify]). [New]
// refuses a key of the wrong size. The key is the operator's (forget
// keygen); keep it out of argv and logs.
func WithSigningKey(key ed25519.PrivateKey) Option {
	return func(cfg *config) { cfg.signingKey = key; cfg.signingKeySet = true }
}

// MappingDigester is implemented by stores that can name the mapping
// they erase by (the SQL store: a digest of its Schema). A certificate
// states it, so that an authority can tell which mapping was in force.
type MappingDigester interface {
	// MappingDigest returns "sha256:" and the hex SHA-256 of the
	// mapping's canonical form.
	MappingDigest() string
}

// certifier signs the certificates of a Forgetter's plans.
type certifier struct {
	key    ed25519.PrivateKey
	digest string
}

func newCertifier(key ed25519.PrivateKey, store Store) (*certifier, error) {
	if len(key) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("forget: a signing key is an Ed25519 private key of %d bytes, not %d", ed25519.PrivateKeySize, len(key))
	}
	c := &certifier{key: slices.Clone(key)}
	if md, ok := store.(MappingDigester); ok {
		c.digest = md.MappingDigest()
		if c.digest != "" && !strings.HasPrefix(c.digest, "sha256:") {
			return nil, errors.New("forget: the store's mapping digest does not start with \"sha256\"")
		}
	}
	return c, nil
}

// certMemo is one plan's last certificate: the store makes the receipt
// inside its transaction and the Forgetter again for its caller, and a
// signature costs more than the rest of a forget in memory.
type certMemo struct {
	mu   sync.Mutex
	pre  []byte // the certificate's JSON before signing
	cert *certificate.Certificate
}

// certify is rc's certificate. Ed25519 signing is deterministic, so that
// the store's record and the receipt the caller gets hold the same
// certificate; memo (nil: none) saves signing the same one twice.
func (c *certifier) certify(rc *Receipt, memo *certMemo) *certificate.Certificate {
	cert := &certificate.Certificate{
		EventID:       rc.EventID,
		CustomerID:    rc.CustomerID,
		At:            rc.At,
		Principal:     rc.Principal,
		RequestID:     rc.RequestID,
		MappingDigest: c.digest,
		FieldsErased:  names(rc.FieldsErased),
		FieldsKept:    names(rc.FieldsKept),
		Tables:        tableRows(rc),
		TablesKept:    names(rc.TablesKept),
		Absent:        slices.Clone(rc.Absent),
		HoldsIgnored:  slices.Clone(rc.HoldsIgnored),
		Repeat:        rc.Repeat,
		Verification:  certificate.Verification{Statement: certificate.NotVerified},
		CannotCover:   certificate.CannotCover(),
	}
	pre, err := json.Marshal(cert)
	if err != nil {
		return nil // unreachable: a certificate is strings, numbers and lists
	}
	if memo != nil {
		memo.mu.Lock()
		defer memo.mu.Unlock()
		if bytes.Equal(memo.pre, pre) {
			return memo.cert // the same content signs the same: shared, never changed
		}
	}
	if err := cert.Sign(c.key); err != nil {
		return nil // unreachable: newCertifier checked the key's size
	}
	if memo != nil {
		memo.pre, memo.cert = pre, cert
	}
	return cert
}

func names[N ~string](in []N) []string {
	out := make([]string, len(in))
	for i, n := range in {
		out[i] = string(n)
	}
	return out
}

// tableRows lists what the forget did to each table, sorted by table and
// action so that the certificate is one however the maps iterate.
func tableRows(rc *Receipt) []certificate.TableRows {
	out := make([]certificate.TableRows, 0, len(rc.RowsDeleted)+len(rc.RowsScrubbed)+len(rc.RowsUpdated))
	for t, n := range rc.RowsDeleted {
		out = append(out, certificate.TableRows{Table: string(t), Action: certificate.Deleted, Rows: n})
	}
	for t, n := range rc.RowsScrubbed {
		out = append(out, certificate.TableRows{Table: string(t), Action: certificate.Scrubbed, Rows: n})
	}
	for t, n := range rc.RowsUpdated {
		out = append(out, certificate.TableRows{Table: t, Action: certificate.Updated, Rows: n})
	}
	slices.SortFunc(out, func(a, b certificate.TableRows) int {
		if c := strings.Compare(a.Table, b.Table); c != 0 {
			return c
		}
		return strings.Compare(a.Action, b.Action)
	})
	return out
}
