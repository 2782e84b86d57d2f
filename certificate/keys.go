package certificate

import (
	"bytes"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
)

// Key files: PEM, PKCS #8 for the private key and PKIX for the public
// one, as openssl writes them (openssl pkey -in key.pem -pubout).

// GenerateKey returns a new key pair drawn from rand (crypto/rand.Reader
// when nil).
func GenerateKey(rand io.Reader) (ed25519.PublicKey, ed25519.PrivateKey, error) {
	return ed25519.GenerateKey(rand)
}

// MarshalPrivateKey returns priv as a PEM "PRIVATE KEY" block.
func MarshalPrivateKey(priv ed25519.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, fmt.Errorf("certificate: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// MarshalPublicKey returns pub as a PEM "PUBLIC KEY" block.
func MarshalPublicKey(pub ed25519.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("certificate: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}

// ParsePrivateKey reads an Ed25519 private key from a PEM "PRIVATE KEY"
// block (PKCS #8).
func ParsePrivateKey(data []byte) (ed25519.PrivateKey, error) {
	b, _ := pem.Decode(data)
	if b == nil || b.Type != "PRIVATE KEY" {
		return nil, errors.New("certificate: not a PEM PRIVATE KEY block")
	}
	k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
	if err != nil {
		return nil, fmt.Errorf("certificate: private key: %w", err)
	}
	priv, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("certificate: the private key is a %T, not Ed25519", k)
	}
	return priv, nil
}

// ParsePublicKey reads an Ed25519 public key from a PEM "PUBLIC KEY"
// block (PKIX), or from the standard base64 of its 32 bytes.
func ParsePublicKey(data []byte) (ed25519.PublicKey, error) {
	b, _ := pem.Decode(data)
	if b == nil {
		raw, err := base64.StdEncoding.DecodeString(string(bytes.TrimSpace(data)))
		if err != nil || len(raw) != ed25519.PublicKeySize {
			return nil, errors.New("certificate: not a PEM PUBLIC KEY block nor the base64 of a 32-byte Ed25519 key")
		}
		return ed25519.PublicKey(raw), nil
	}
	if b.Type != "PUBLIC KEY" {
		return nil, fmt.Errorf("certificate: a PEM %q block, not PUBLIC KEY", b.Type)
	}
	k, err := x509.ParsePKIXPublicKey(b.Bytes)
	if err != nil {
		return nil, fmt.Errorf("certificate: public key: %w", err)
	}
	pub, ok := k.(ed25519.PublicKey)
	if !ok {
		return nil, fmt.Errorf("certificate: the public key is a %T, not Ed25519", k)
	}
	return pub, nil
}
