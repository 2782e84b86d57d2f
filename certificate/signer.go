package certificate

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/forgetkit/forget"
)

// NewSigner returns the forget.Certifier that signs each erasure's
// Certificate with priv, for forget.WithCertifier:
//
//	signer, err := certificate.NewSigner(priv) // forget keygen's key: ParsePrivateKey
//	if err != nil { ... }
//	f, err := forget.New(store, forget.WithCertifier(signer))
//
// It refuses a key of the wrong size, and keeps its own copy of the key.
// The key is the operator's; keep it out of argv and logs. This is the
// one part of the package that imports package forget (which imports
// only the standard library itself).
func NewSigner(priv ed25519.PrivateKey) (forget.Certifier, error) {
	if len(priv) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("certificate: a signing key is an Ed25519 private key of %d bytes, not %d", ed25519.PrivateKeySize, len(priv))
	}
	return &signer{key: slices.Clone(priv), memo: make(map[string]json.RawMessage, memoSize)}, nil
}

// memoSize bounds the signer's memo: the certificates of the last
// memoSize erasures, more than the forgets one Forgetter runs at once.
const memoSize = 64

// signer is NewSigner's Certifier.
type signer struct {
	key ed25519.PrivateKey

	// memo maps a certificate's JSON before signing to its signed JSON:
	// the store certifies a receipt inside its transaction and the
	// Forgetter the same receipt again for its caller, and a signature
	// costs more than the rest of a forget in memory. Ed25519 signing is
	// deterministic, so the memo changes no certificate, only its cost.
	mu    sync.Mutex
	memo  map[string]json.RawMessage
	order []string // memo's keys, oldest first
}

// Certify is rc's signed certificate, as JSON in canonical form.
func (s *signer) Certify(rc forget.Receipt, mappingDigest string) (json.RawMessage, error) {
	c := fromReceipt(rc, mappingDigest)
	pre, err := json.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("certificate: %w", err) // unreachable: strings, numbers and lists
	}
	s.mu.Lock()
	signed, ok := s.memo[string(pre)]
	s.mu.Unlock()
	if ok {
		return bytes.Clone(signed), nil
	}
	if err := c.Sign(s.key); err != nil {
		return nil, err // unreachable: NewSigner checked the key's size
	}
	if signed, err = json.Marshal(c); err != nil {
		return nil, fmt.Errorf("certificate: %w", err)
	}
	s.mu.Lock()
	if _, ok := s.memo[string(pre)]; !ok {
		if len(s.order) == memoSize {
			delete(s.memo, s.order[0])
			s.order = append(s.order[:0], s.order[1:]...)
		}
		s.memo[string(pre)] = signed
		s.order = append(s.order, string(pre))
	}
	s.mu.Unlock()
	return bytes.Clone(signed), nil
}

// fromReceipt is the unsigned certificate of the erasure rc states.
func fromReceipt(rc forget.Receipt, mappingDigest string) *Certificate {
	return &Certificate{
		EventID:       rc.EventID,
		CustomerID:    rc.CustomerID,
		At:            rc.At,
		Principal:     rc.Principal,
		RequestID:     rc.RequestID,
		MappingDigest: mappingDigest,
		FieldsErased:  names(rc.FieldsErased),
		FieldsKept:    names(rc.FieldsKept),
		Tables:        tableRows(rc),
		TablesKept:    names(rc.TablesKept),
		Absent:        slices.Clone(rc.Absent),
		HoldsIgnored:  slices.Clone(rc.HoldsIgnored),
		Repeat:        rc.Repeat,
		Verification:  Verification{Statement: NotVerified},
		CannotCover:   CannotCover(),
	}
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
func tableRows(rc forget.Receipt) []TableRows {
	out := make([]TableRows, 0, len(rc.RowsDeleted)+len(rc.RowsScrubbed)+len(rc.RowsUpdated))
	for t, n := range rc.RowsDeleted {
		out = append(out, TableRows{Table: string(t), Action: Deleted, Rows: n})
	}
	for t, n := range rc.RowsScrubbed {
		out = append(out, TableRows{Table: string(t), Action: Scrubbed, Rows: n})
	}
	for t, n := range rc.RowsUpdated {
		out = append(out, TableRows{Table: t, Action: Updated, Rows: n})
	}
	slices.SortFunc(out, func(a, b TableRows) int {
		if c := strings.Compare(a.Table, b.Table); c != 0 {
			return c
		}
		return strings.Compare(a.Action, b.Action)
	})
	return out
}
