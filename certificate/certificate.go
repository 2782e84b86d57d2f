// Package certificate is the signed, value-free certificate of one
// erasure that forget issues when its Forgetter has a signer
// (forget.WithCertifier with [NewSigner]), and what a receiver needs to
// check one offline with the public key alone.
//
// A certificate says which customer was forgotten, when, on whose
// request, under which mapping (a digest), which fields and tables were
// erased and how many rows, what verification covered and found, and
// what an erasure cannot reach (backups, the write-ahead log, dead tuples
// until VACUUM, copies downstream). It holds names, counts and digests,
// never a value read from the database.
//
// A receiver of erasure events (a webhook body, a NATS message) reads the
// certificate with [Parse], which takes a certificate, an object with a
// "certificate" member (an event, a receipt) or a webhook's body, and
// checks it with
// [Certificate.Verify]:
//
//	c, err := certificate.Parse(body)
//	if err != nil { ... }
//	if err := c.Verify(pub); err != nil { ... } // not from forget, or altered
//
// The package imports only the standard library and the root package
// forget (which imports only the standard library itself), so that a
// receiver that imports it pulls in no third-party module.
package certificate

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"
)

// Format names this version of the certificate; [Certificate.Verify]
// refuses any other.
const Format = "forget-erasure-certificate/1"

// NotVerified is Verification.Statement of a certificate whose erasure
// was not re-read after its statements ran.
const NotVerified = "no post-erasure verification"

// Actions of [TableRows].
const (
	Deleted  = "deleted"  // the customer's rows were deleted
	Scrubbed = "scrubbed" // named columns of the customer's rows were overwritten
	Updated  = "updated"  // the table holds erased fields: rows written
)

// cannotCover is what no erasure in the host's database reaches, stated
// in every certificate.
var cannotCover = []string{
	"backups: copies of the database taken before the erasure still hold the erased values until they expire; a restore must be followed by forget replay",
	"write-ahead log: the database's WAL, binary log or journal, and any replica or archive fed from it, hold the old values until they are recycled",
	"PostgreSQL dead tuples: the old row versions stay in the table's pages until VACUUM reclaims them (other engines: free pages until reused)",
	"copies downstream: systems the erasure event is delivered to erase their own copies; this certificate covers only the host's database",
}

// CannotCover returns the fixed list of what an erasure cannot cover,
// which every certificate states.
func CannotCover() []string { return slices.Clone(cannotCover) }

// Certificate is one erasure's certificate. Every field is signed.
type Certificate struct {
	Format     string    `json:"format"`
	EventID    string    `json:"event_id"`
	CustomerID string    `json:"customer_id"`
	At         time.Time `json:"at"`
	Principal  string    `json:"principal"`
	RequestID  string    `json:"request_id"`
	// MappingDigest is "sha256:" and the hex SHA-256 of the canonical
	// JSON of the mapping the store erased by (the SQL store's Schema);
	// empty when the store states none (the memory store).
	MappingDigest string      `json:"mapping_digest"`
	FieldsErased  []string    `json:"fields_erased"`
	FieldsKept    []string    `json:"fields_kept"`
	Tables        []TableRows `json:"tables"`
	TablesKept    []string    `json:"tables_kept"`
	// Absent lists the catalogue entries the store had nothing of.
	Absent       []string `json:"absent"`
	HoldsIgnored []string `json:"holds_ignored"`
	// Repeat: the customer was fully forgotten before; nothing was left.
	Repeat       bool         `json:"repeat"`
	Verification Verification `json:"verification"`
	// CannotCover is [CannotCover]'s list.
	CannotCover []string `json:"cannot_cover"`
	// KeyID names the key that signed ([KeyID]).
	KeyID     string `json:"key_id"`
	Signature []byte `json:"signature,omitempty"`
}

// TableRows is what the erasure did to one table.
type TableRows struct {
	Table  string `json:"table"`
	Action string `json:"action"` // Deleted, Scrubbed or Updated
	Rows   int64  `json:"rows"`
}

// Verification is what a re-read of the customer's data after the
// erasure's statements covered and found. Performed is false, and
// Statement [NotVerified], when there was none.
type Verification struct {
	Performed      bool       `json:"performed"`
	Statement      string     `json:"statement"`
	ColumnsChecked int64      `json:"columns_checked"`
	RowsChecked    int64      `json:"rows_checked"`
	Residuals      []Residual `json:"residuals"`
}

// Residual is a column where verification found an erased value again:
// its table, column and row count, never the value.
type Residual struct {
	Table  string `json:"table"`
	Column string `json:"column"`
	Rows   int64  `json:"rows"`
}

// Errors of Verify and Parse.
var (
	// ErrBadSignature: the certificate was altered, or not signed by the
	// key.
	ErrBadSignature = errors.New("certificate: the signature does not match: the certificate was altered or signed by another key")
	// ErrWrongKey: the certificate names another key than the one given.
	ErrWrongKey = errors.New("certificate: signed by another key")
	// ErrUnsigned: the certificate has no signature.
	ErrUnsigned = errors.New("certificate: not signed")
	// ErrMalformed: the input is not a certificate in canonical form.
	ErrMalformed = errors.New("certificate: malformed")
)

// KeyID names a public key: "ed25519:" and the first 8 bytes of its
// SHA-256, in hex.
func KeyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return "ed25519:" + hex.EncodeToString(sum[:8])
}

// Canonical returns the bytes the signature covers: the certificate's
// JSON without its signature, fields in declaration order, no spaces.
func (c *Certificate) Canonical() ([]byte, error) {
	u := *c
	u.Signature = nil
	return json.Marshal(&u)
}

// Sign sets the certificate's Format (when empty), KeyID and Signature.
// Nil lists become empty ones, so that the form is one.
func (c *Certificate) Sign(priv ed25519.PrivateKey) error {
	if len(priv) != ed25519.PrivateKeySize {
		return fmt.Errorf("certificate: a private key is %d bytes, not %d", ed25519.PrivateKeySize, len(priv))
	}
	c.normalize(KeyID(priv.Public().(ed25519.PublicKey)))
	msg, err := c.Canonical()
	if err != nil {
		return fmt.Errorf("certificate: %w", err)
	}
	c.Signature = ed25519.Sign(priv, msg)
	return nil
}

// normalize is Sign but for the signature: the Format (when empty), the
// time in UTC, empty lists for nil ones, and keyID.
func (c *Certificate) normalize(keyID string) {
	if c.Format == "" {
		c.Format = Format
	}
	c.At = c.At.UTC()
	for _, l := range []*[]string{&c.FieldsErased, &c.FieldsKept, &c.TablesKept, &c.Absent, &c.HoldsIgnored, &c.CannotCover} {
		if *l == nil {
			*l = []string{}
		}
	}
	if c.Tables == nil {
		c.Tables = []TableRows{}
	}
	if c.Verification.Residuals == nil {
		c.Verification.Residuals = []Residual{}
	}
	c.KeyID = keyID
}

// Verify checks that the certificate is of this Format and signed by
// pub. It returns ErrUnsigned, ErrWrongKey (KeyID names another key) or
// ErrBadSignature (altered, or signed by another key).
func (c *Certificate) Verify(pub ed25519.PublicKey) error {
	if len(pub) != ed25519.PublicKeySize {
		return fmt.Errorf("certificate: a public key is %d bytes, not %d", ed25519.PublicKeySize, len(pub))
	}
	if c.Format != Format {
		return fmt.Errorf("%w: format %q, not %q", ErrMalformed, c.Format, Format)
	}
	if len(c.Signature) == 0 {
		return ErrUnsigned
	}
	if want := KeyID(pub); c.KeyID != want {
		return fmt.Errorf("%w: %s, not %s", ErrWrongKey, c.KeyID, want)
	}
	msg, err := c.Canonical()
	if err != nil {
		return fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if !ed25519.Verify(pub, msg, c.Signature) {
		return ErrBadSignature
	}
	return nil
}

// Parse reads a certificate from data: a certificate's JSON, a JSON
// object with a "certificate" member (an erasure event, a receipt, a line
// of forget audit), or a webhook's body (the event in its "data"). The
// certificate must be in canonical form but for spaces between tokens:
// no unknown or repeated member, members in order and spelt exactly, no
// alternative encodings of a value. So a certificate that parses and
// verifies is byte for byte what was signed.
func Parse(data []byte) (*Certificate, error) {
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(data, &probe); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if _, isCert := probe["format"]; !isCert {
		inner, ok := probe["certificate"]
		if !ok {
			if body, isWebhook := probe["data"]; isWebhook && bytes.HasPrefix(bytes.TrimSpace(body), []byte("{")) {
				return Parse(body) // a webhook's body: the event is its data
			}
		}
		if !ok || bytes.Equal(bytes.TrimSpace(inner), []byte("null")) {
			return nil, fmt.Errorf("%w: neither a certificate nor an object with one", ErrMalformed)
		}
		data = inner
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, data); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	dec := json.NewDecoder(bytes.NewReader(compact.Bytes()))
	dec.DisallowUnknownFields()
	var c Certificate
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: data after the certificate", ErrMalformed)
	}
	again, err := json.Marshal(&c)
	if err != nil || !bytes.Equal(again, compact.Bytes()) {
		return nil, fmt.Errorf("%w: not in canonical form", ErrMalformed)
	}
	if c.At.Location() != time.UTC {
		return nil, fmt.Errorf("%w: the time is not in UTC", ErrMalformed)
	}
	return &c, nil
}
