package certificate

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
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
	key := slices.Clone(priv)
	return &signer{key: key, keyID: KeyID(key.Public().(ed25519.PublicKey)), memo: make(map[string]json.RawMessage, memoSize)}, nil
}

// memoSize bounds the signer's memo: the certificates of the last
// memoSize erasures, more than the forgets one Forgetter runs at once.
const memoSize = 64

// signer is NewSigner's Certifier.
type signer struct {
	key   ed25519.PrivateKey
	keyID string

	// memo maps a certificate's canonical form to its signed JSON:
	// the store certifies a receipt inside its transaction and the
	// Forgetter the same receipt again for its caller, and a signature
	// costs more than the rest of a forget in memory. Ed25519 signing is
	// deterministic, so the memo changes no certificate, only its cost.
	mu    sync.Mutex
	memo  map[string]json.RawMessage
	order []string // memo's keys, oldest first
}

// Certify is rc's signed certificate, as JSON in canonical form: what
// json.Marshal makes of it once [Certificate.Sign] has signed it, built
// from the canonical form the signature covers with the signature added
// as its last member, so that the certificate is marshalled once.
func (s *signer) Certify(rc forget.Receipt, mappingDigest string) (json.RawMessage, error) {
	c := fromReceipt(rc, mappingDigest)
	c.normalize(s.keyID)
	canon, err := c.Canonical()
	if err != nil || len(canon) < 2 || canon[len(canon)-1] != '}' {
		return nil, fmt.Errorf("certificate: the canonical form: %v", err) // unreachable: strings, numbers and lists
	}
	s.mu.Lock()
	signed, ok := s.memo[string(canon)]
	s.mu.Unlock()
	if ok {
		return bytes.Clone(signed), nil
	}
	sig := ed25519.Sign(s.key, canon)
	signed = make([]byte, 0, len(canon)+len(`,"signature":""`)+base64.StdEncoding.EncodedLen(len(sig)))
	signed = append(signed, canon[:len(canon)-1]...)
	signed = append(signed, `,"signature":"`...)
	signed = base64.StdEncoding.AppendEncode(signed, sig)
	signed = append(signed, `"}`...)
	s.mu.Lock()
	if _, ok := s.memo[string(canon)]; !ok {
		if len(s.order) == memoSize {
			delete(s.memo, s.order[0])
			s.order = append(s.order[:0], s.order[1:]...)
		}
		s.memo[string(canon)] = signed
		s.order = append(s.order, string(canon))
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
