package main

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/forgetkit/forget/certificate"
	"github.com/forgetkit/forget/store/sqlstore"
)

// Signed erasure certificates: forget keygen, the -signing-key-file flag
// of the commands that forget, and forget certificate verify.

const keygenUsage = `
Usage: forget keygen -out PREFIX

Creates an Ed25519 key pair for signing erasure certificates: PREFIX.key,
the private key (PEM PKCS #8, mode 0600), and PREFIX.pub, the public key
(PEM PKIX) to hand to whoever checks certificates. Refuses to overwrite
either file. Give the private key to serve, run, sweep and replay with
-signing-key-file FILE (or $FORGET_SIGNING_KEY_FILE), never on the command
line itself; each committed erasure then carries a signed certificate.

Examples:
  forget keygen -out /etc/forget/signing
  forget serve -dsn postgres://app@db/app -signing-key-file /etc/forget/signing.key
`

func (c *cli) keygen(args []string) error {
	fs := c.command("keygen", keygenUsage)
	out := fs.String("out", "", "the `PREFIX` of the two files: PREFIX.key and PREFIX.pub")
	if err := fs.parse(args); err != nil {
		return err
	}
	if *out == "" {
		return usagef("keygen needs -out PREFIX")
	}
	keyFile, pubFile := *out+".key", *out+".pub"
	for _, f := range []string{keyFile, pubFile} {
		if _, err := os.Lstat(f); err == nil {
			return fmt.Errorf("%s exists: keygen never overwrites a key (move it away first)", f)
		}
	}
	pub, priv, err := certificate.GenerateKey(rand.Reader)
	if err != nil {
		return err
	}
	privPEM, err := certificate.MarshalPrivateKey(priv)
	if err != nil {
		return err
	}
	pubPEM, err := certificate.MarshalPublicKey(pub)
	if err != nil {
		return err
	}
	if err := writeNew(keyFile, privPEM, 0o600); err != nil {
		return err
	}
	if err := writeNew(pubFile, pubPEM, 0o644); err != nil {
		os.Remove(keyFile) // half a pair is no use
		return err
	}
	fmt.Fprintf(c.stdout, "wrote %s (private, mode 0600) and %s (public)\nkey id %s\n", keyFile, pubFile, certificate.KeyID(pub))
	return nil
}

// writeNew creates name with data, failing when it exists (O_EXCL), with
// mode perm whatever the umask.
func writeNew(name string, data []byte, perm os.FileMode) error {
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	if err := f.Chmod(perm); err != nil {
		f.Close()
		os.Remove(name)
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(name)
		return err
	}
	return f.Close()
}

// signing registers -signing-key-file on a command that forgets; dbFlags
// check reads the key.
func (cmd *command) signing() {
	cmd.StringVar(&cmd.db.signingKeyFile, "signing-key-file", "", "a `FILE` holding the Ed25519 private key (forget keygen) that signs each erasure's certificate;\nalso $FORGET_SIGNING_KEY_FILE. Without it, erasures carry no certificate")
}

// readSigningKey reads the private key file d names, if any, and makes
// its signer.
func (d *dbFlags) readSigningKey() error {
	if d.signingKeyFile == "" {
		return nil
	}
	data, err := os.ReadFile(d.signingKeyFile)
	if err != nil {
		return fmt.Errorf("-signing-key-file: %w", err)
	}
	priv, err := certificate.ParsePrivateKey(data)
	if err != nil {
		return fmt.Errorf("-signing-key-file %s: %w", d.signingKeyFile, err)
	}
	if d.signer, err = certificate.NewSigner(priv); err != nil {
		return fmt.Errorf("-signing-key-file %s: %w", d.signingKeyFile, err)
	}
	return nil
}

const certificateUsage = `
Usage: forget certificate verify FILE -public-key KEY
       forget certificate digest [-schema FILE] [-preset NAME]

Checks erasure certificates offline, with the public key alone (forget
keygen's PREFIX.pub, or the base64 of the 32-byte key). FILE ('-' for
stdin) holds a certificate, an erasure event or receipt holding one, a
webhook's body, or many of them one per line (forget audit's output, forget
status -json's): each is checked, and refusals (which have none) are
skipped. Prints one line per certificate. Exit status 0 when every
certificate verifies, 1 when one does not, a record has none, or FILE holds
none at all; 2 on bad usage.

'digest' prints the mapping digest a certificate states for the mapping
file (or the preset's default mapping): an authority given the mapping can
check that it was the one in force.

Examples:
  forget certificate verify cert.json -public-key signing.pub
  forget audit -db app.db > audit.jsonl && forget certificate verify audit.jsonl -public-key signing.pub
  forget certificate digest -schema mapping.json
`

func (c *cli) certificate(args []string) error {
	switch {
	case len(args) > 0 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help"):
		args = []string{"verify", "-h"} // its flags, with the usage
	case len(args) == 0:
		args = []string{"verify"} // its usage errors, which name FILE and the key
	case args[0] == "digest":
		return c.certificateDigest(args[1:])
	case args[0] != "verify":
		fmt.Fprint(c.stderr, certificateUsage[1:])
		return exitError(exitUsage)
	}
	fs := c.command("certificate verify", certificateUsage)
	pubFlag := fs.String("public-key", "", "the public key: a `FILE` (PEM, as forget keygen writes it), or the base64 of the 32-byte key")
	// FILE may come before the flags, as the usage shows it: the flag
	// package stops at the first argument that is not a flag.
	rest := args[1:]
	var file string
	isFile := func(a string) bool { return a == "-" || a != "" && a[0] != '-' }
	switch n := len(rest); {
	case n > 0 && isFile(rest[0]):
		file, rest = rest[0], rest[1:]
	case n > 0 && isFile(rest[n-1]) && (n == 1 || !isValueFlag(rest[n-2])):
		file, rest = rest[n-1], rest[:n-1]
	}
	if err := fs.parse(rest); err != nil {
		return err
	}
	if file == "" {
		return usagef("certificate verify needs FILE")
	}
	if *pubFlag == "" {
		return usagef("certificate verify needs -public-key KEY")
	}
	pub, err := readPublicKey(*pubFlag)
	if err != nil {
		return usagef("-public-key: %v", err)
	}
	var in io.Reader
	if file == "-" {
		in = c.stdin
	} else {
		f, err := os.Open(file)
		if err != nil {
			return err
		}
		defer f.Close()
		in = f
	}
	good, bad, err := c.verifyCertificates(in, pub)
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	switch {
	case bad > 0:
		fmt.Fprintf(c.stdout, "FAILED: %d of %d certificate(s) do not verify with key %s\n", bad, good+bad, certificate.KeyID(pub))
		return exitError(exitFailed)
	case good == 0:
		fmt.Fprintf(c.stdout, "FAILED: %s holds no certificate\n", file)
		return exitError(exitFailed)
	}
	fmt.Fprintf(c.stdout, "OK: %d certificate(s) verified with key %s\n", good, certificate.KeyID(pub))
	return nil
}

// isValueFlag reports whether a is -public-key without its value.
func isValueFlag(a string) bool { return a == "-public-key" || a == "--public-key" }

// readPublicKey reads a public key file, or takes arg as the key itself.
func readPublicKey(arg string) (ed25519.PublicKey, error) {
	data, err := os.ReadFile(arg)
	if err != nil {
		if pub, perr := certificate.ParsePublicKey([]byte(arg)); perr == nil {
			return pub, nil
		}
		return nil, err
	}
	return certificate.ParsePublicKey(data)
}

// verifyCertificates checks every JSON value of in, printing a line for
// each certificate: OK, or FAILED with why.
func (c *cli) verifyCertificates(in io.Reader, pub ed25519.PublicKey) (good, bad int, err error) {
	dec := json.NewDecoder(bufio.NewReader(in))
	for n := 1; ; n++ {
		var raw json.RawMessage
		if err := dec.Decode(&raw); errors.Is(err, io.EOF) {
			return good, bad, nil
		} else if err != nil {
			return good, bad, fmt.Errorf("record %d: not JSON: %w", n, err)
		}
		var rec struct {
			Held        string          `json:"held"`
			Certificate json.RawMessage `json:"certificate"`
			Format      string          `json:"format"`
			Data        json.RawMessage `json:"data"`
			EventID     string          `json:"event_id"`
		}
		if bytes.HasPrefix(bytes.TrimSpace(raw), []byte("{")) {
			_ = json.Unmarshal(raw, &rec) // what Parse refuses, it says why below
		}
		none := rec.Format == "" && rec.Data == nil && (rec.Certificate == nil || string(rec.Certificate) == "null")
		if none && rec.Held != "" {
			continue // a refusal: nothing was erased, nothing to certify (one that holds a certificate is checked)
		}
		if none {
			bad++
			fmt.Fprintf(c.stdout, "FAILED record %d: no certificate (event %s: committed without a signing key?)\n", n, clip(rec.EventID, 40))
			continue
		}
		cert, err := certificate.Parse(raw)
		if err == nil {
			err = cert.Verify(pub)
		}
		if err != nil {
			bad++
			fmt.Fprintf(c.stdout, "FAILED record %d: %v\n", n, err)
			continue
		}
		good++
		fmt.Fprintf(c.stdout, "ok record %d: event %s, customer %s, %s: %d field(s) erased, %d table(s), %s\n",
			n, cert.EventID, quoteClipped(cert.CustomerID), cert.At.Format("2006-01-02T15:04:05Z"), len(cert.FieldsErased), len(cert.Tables), cert.Verification.Statement)
	}
}

// certificateDigest prints sqlstore.SchemaDigest of the mapping the
// database commands would use with the same -schema and -preset.
func (c *cli) certificateDigest(args []string) error {
	fs := c.command("certificate digest", certificateUsage)
	var d dbFlags
	fs.StringVar(&d.schema, "schema", "", "a JSON schema mapping `FILE` (as the database commands take it)")
	fs.StringVar(&d.preset, "preset", "offerit", presetFlagUsage)
	if err := fs.parse(args); err != nil {
		return err
	}
	if err := d.checkPreset(); err != nil {
		return usageError{err}
	}
	schema := d.thePreset().schema()
	if d.schema != "" {
		s, err := readSchema(d.schema)
		if err != nil {
			return usageError{err}
		}
		schema = s
	}
	digest, err := sqlstore.SchemaDigest(schema)
	if err != nil {
		return err
	}
	fmt.Fprintln(c.stdout, digest)
	return nil
}
