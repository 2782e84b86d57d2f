package forget

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Certificates: with a [Certifier], every committed erasure's receipt
// carries a signed certificate, made by [Plan.Receipt] inside the store's
// transaction, so that the audit record and the erasure event hold it.
// This package only carries the certificate's bytes; what one says, how
// it is signed and how a receiver checks it is package
// github.com/forgetkit/forget/certificate, whose NewSigner is the
// Certifier to use.

// Certifier makes the certificate of a committed erasure.
type Certifier interface {
	// Certify returns the signed certificate of the erasure rc states,
	// under the mapping mappingDigest names ("" when the store states
	// none; see [MappingDigester]), as a JSON object: it becomes
	// Receipt.Certificate byte for byte. It is called inside the store's
	// transaction and again for the receipt the caller gets, with the
	// same receipt: it must return the same certificate both times, and
	// must not keep rc's maps or slices. It must be safe for concurrent
	// use.
	Certify(rc Receipt, mappingDigest string) (json.RawMessage, error)
}

// WithCertifier makes the Forgetter have c certify every committed
// erasure (not dry runs nor refusals): a store that keeps an audit trail
// records the certificate with the erasure, in the same transaction, and
// its event carries it downstream. Use certificate.NewSigner with the
// operator's Ed25519 key (forget keygen); receivers check certificates
// with the public key alone. [New] refuses a nil c.
//
// When c fails, or returns anything but a JSON object, the erasure is
// committed all the same, without a certificate, and the Forgetter logs
// the failure at level Error with the event id.
func WithCertifier(c Certifier) Option {
	return func(cfg *config) { cfg.certifier = c; cfg.certifierSet = true }
}

// MappingDigester is implemented by stores that can name the mapping
// they erase by (the SQL store: a digest of its Schema). A certificate
// states it, so that an authority can tell which mapping was in force.
type MappingDigester interface {
	// MappingDigest returns "sha256:" and the hex SHA-256 of the
	// mapping's canonical form.
	MappingDigest() string
}

// certifying is a Forgetter's Certifier and the digest of its store's
// mapping, shared by its plans.
type certifying struct {
	c      Certifier
	digest string
}

func newCertifying(c Certifier, store Store) (*certifying, error) {
	if isNil(c) {
		return nil, errors.New("forget: WithCertifier: the certifier is nil")
	}
	cc := &certifying{c: c}
	if md, ok := store.(MappingDigester); ok {
		cc.digest = md.MappingDigest()
		if cc.digest != "" && !strings.HasPrefix(cc.digest, "sha256:") {
			return nil, errors.New("forget: the store's mapping digest does not start with \"sha256:\"")
		}
	}
	return cc, nil
}

// certify is rc's certificate, or nil and why there is none.
func (cc *certifying) certify(rc Receipt) (json.RawMessage, error) {
	raw, err := cc.c.Certify(rc, cc.digest)
	if err != nil {
		return nil, fmt.Errorf("forget: certificate: %w", err)
	}
	if t := bytes.TrimLeft(raw, " \t\r\n"); len(t) == 0 || t[0] != '{' || !json.Valid(raw) {
		return nil, errors.New("forget: certificate: the certifier returned no JSON object")
	}
	return raw, nil
}
