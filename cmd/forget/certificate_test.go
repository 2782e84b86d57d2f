package main

import (
	"crypto/ed25519"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/forgetkit/forget"
	"github.com/forgetkit/forget/certificate"
)

// TestCertificateCommands: keygen writes a pair (the private key 0600)
// and never overwrites; run signs with -signing-key-file or
// $FORGET_SIGNING_KEY_FILE; forget audit's lines verify with the public
// key; an altered line, another key or a record without a certificate
// fail with exit 1; no output holds a value of the forgotten customers.
func TestCertificateCommands(t *testing.T) {
	dir := t.TempDir()
	prefix := filepath.Join(dir, "sig")
	if code, out, errOut := runMain("keygen", "-out", prefix); code != exitOK || !strings.Contains(out, "key id ed25519:") {
		t.Fatalf("keygen: exit %d\n%s%s", code, out, errOut)
	}
	fi, err := os.Stat(prefix + ".key")
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("private key file: %v, mode %v, want 0600", err, fi.Mode().Perm())
	}
	before, _ := os.ReadFile(prefix + ".key")
	if code, _, errOut := runMain("keygen", "-out", prefix); code != exitFailed || !strings.Contains(errOut, "never overwrites") {
		t.Fatalf("keygen over an existing key: exit %d: %s", code, errOut)
	}
	if after, _ := os.ReadFile(prefix + ".key"); string(after) != string(before) {
		t.Fatal("keygen changed an existing key")
	}
	if code, _, _ := runMain("keygen", "-out", filepath.Join(dir, "other")); code != exitOK {
		t.Fatal("keygen of a second pair failed")
	}

	path := demoDB(t, 5)
	var personal []string
	for _, row := range strings.Split(sqlq(t, path, "SELECT username, firstname, lastname, address1, city, zip, phone FROM customers WHERE customer_id IN (2, 3)"), "\n") {
		for _, v := range strings.Split(row, "|") {
			if len(v) >= 4 {
				personal = append(personal, v)
			}
		}
	}
	if len(personal) < 10 {
		t.Fatalf("only %d demo values to look for: %q", len(personal), personal)
	}
	var printed strings.Builder
	run := func(args ...string) (int, string, string) {
		code, out, errOut := runMain(args...)
		printed.WriteString(out + errOut)
		return code, out, errOut
	}
	if code, out, errOut := run("run", "-db", path, "-customer-id", "2", "-signing-key-file", prefix+".key"); code != exitOK || !strings.Contains(out, `"certificate"`) {
		t.Fatalf("run -signing-key-file: exit %d\n%s%s", code, out, errOut)
	}
	t.Setenv("FORGET_SIGNING_KEY_FILE", prefix+".key")
	if code, _, errOut := run("run", "-db", path, "-customer-id", "3"); code != exitOK {
		t.Fatalf("run with $FORGET_SIGNING_KEY_FILE: exit %d: %s", code, errOut)
	}
	t.Setenv("FORGET_SIGNING_KEY_FILE", filepath.Join(dir, "missing.key"))
	if code, _, errOut := run("run", "-db", path, "-customer-id", "4"); code != exitUsage || !strings.Contains(errOut, "-signing-key-file") {
		t.Fatalf("run with a missing key file: exit %d: %s", code, errOut)
	}
	t.Setenv("FORGET_SIGNING_KEY_FILE", prefix+".pub")
	if code, _, errOut := run("run", "-db", path, "-customer-id", "4"); code != exitUsage || !strings.Contains(errOut, "PRIVATE KEY") {
		t.Fatalf("run with a public key for the private: exit %d: %s", code, errOut)
	}
	os.Unsetenv("FORGET_SIGNING_KEY_FILE")

	code, trail, errOut := run("audit", "-db", path)
	if code != exitOK || strings.Count(trail, `"signature"`) != 2 {
		t.Fatalf("audit: exit %d, want 2 certificates\n%s%s", code, trail, errOut)
	}
	auditFile := filepath.Join(dir, "audit.jsonl")
	if err := os.WriteFile(auditFile, []byte(trail), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := run("certificate", "verify", auditFile, "-public-key", prefix+".pub"); code != exitOK || !strings.Contains(out, "OK: 2 certificate(s) verified") {
		t.Fatalf("verify: exit %d\n%s%s", code, out, errOut)
	}
	// Flags first and FILE last, too.
	if code, out, _ := run("certificate", "verify", "-public-key", prefix+".pub", auditFile); code != exitOK {
		t.Fatalf("verify -public-key KEY FILE: exit %d\n%s", code, out)
	}
	if code, out, _ := run("certificate", "verify", auditFile, "-public-key", filepath.Join(dir, "other.pub")); code != exitFailed || !strings.Contains(out, "signed by another key") {
		t.Fatalf("verify with another key: exit %d\n%s", code, out)
	}
	altered := strings.Replace(trail, `"rows":3}`, `"rows":2}`, 1)
	if altered == trail {
		t.Fatal("no row count to alter")
	}
	if err := os.WriteFile(auditFile, []byte(altered), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out, _ := run("certificate", "verify", auditFile, "-public-key", prefix+".pub"); code != exitFailed || !strings.Contains(out, "FAILED: 1 of 2") || !strings.Contains(out, "altered") {
		t.Fatalf("verify of an altered certificate: exit %d\n%s", code, out)
	}
	// A record calling itself a refusal is checked all the same when it
	// holds a certificate.
	marked := strings.Replace(altered, `"principal":"cli","certificate"`, `"principal":"cli","held":"vip","certificate"`, 1)
	if marked == altered {
		t.Fatal("no record to mark held")
	}
	if err := os.WriteFile(auditFile, []byte(marked), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out, _ := run("certificate", "verify", auditFile, "-public-key", prefix+".pub"); code != exitFailed || !strings.Contains(out, "FAILED: 1 of 2") {
		t.Fatalf("verify of an altered certificate in a record marked held: exit %d\n%s", code, out)
	}
	// A forget without a key: its record has no certificate.
	if code, _, errOut := run("run", "-db", path, "-customer-id", "5"); code != exitOK {
		t.Fatalf("run without a key: exit %d: %s", code, errOut)
	}
	_, trail, _ = run("audit", "-db", path)
	if err := os.WriteFile(auditFile, []byte(trail), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out, _ := run("certificate", "verify", auditFile, "-public-key", prefix+".pub"); code != exitFailed || !strings.Contains(out, "no certificate") {
		t.Fatalf("verify of a record without a certificate: exit %d\n%s", code, out)
	}
	if code, _, _ := run("certificate", "verify", auditFile); code != exitUsage {
		t.Fatalf("verify without -public-key: exit %d, want %d", code, exitUsage)
	}
	if code, _, _ := run("certificate"); code != exitUsage {
		t.Fatalf("certificate alone: exit %d, want %d", code, exitUsage)
	}
	// The digest the certificates state is the default mapping's, and
	// forget certificate digest prints it.
	code, digest, _ := run("certificate", "digest")
	if code != exitOK || !strings.HasPrefix(digest, "sha256:") || !strings.Contains(trail, `"mapping_digest":"`+strings.TrimSpace(digest)+`"`) {
		t.Fatalf("certificate digest: exit %d, %q, not the certificates' digest", code, digest)
	}
	for _, v := range personal {
		if strings.Contains(printed.String(), v) {
			t.Errorf("a command printed the value %q of a forgotten customer", v)
		}
	}
}

// TestCertificateLine: status's line reads the event's certificate from
// its JSON (what the field holds since the root package stopped importing
// package certificate), says when there is none, and when it does not
// parse.
func TestCertificateLine(t *testing.T) {
	t.Parallel()
	priv := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))
	signer, err := certificate.NewSigner(priv)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := signer.Certify(forget.Receipt{EventID: "e1", CustomerID: "7", At: time.Now(),
		FieldsErased: []forget.Field{forget.Firstname, forget.Phone}, RowsDeleted: map[forget.Table]int64{"member_note": 2}}, "")
	if err != nil {
		t.Fatal(err)
	}
	keyID := certificate.KeyID(priv.Public().(ed25519.PublicKey))
	if got := certificateLine(raw); !strings.Contains(got, "signed by "+keyID+": 2 field(s) erased, 1 table(s), mapping none stated") {
		t.Errorf("line %q", got)
	}
	if got := certificateLine(nil); !strings.HasPrefix(got, "no certificate") {
		t.Errorf("no certificate: %q", got)
	}
	if got := certificateLine(json.RawMessage(`{"format":1}`)); !strings.HasPrefix(got, "an unreadable certificate") {
		t.Errorf("unreadable: %q", got)
	}
}
