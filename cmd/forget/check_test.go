package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/forgetkit/forget"
	"github.com/forgetkit/forget/store/sqlstore"
)

// tombstoneDB is a demo database whose customers 1 and 2 have e-mail
// addresses, a mapping declaring email and phone identities, and a
// tombstone key file.
func tombstoneDB(t *testing.T) (db, mapping, keys string) {
	t.Helper()
	db = demoDB(t, 3)
	dir := filepath.Dir(db)
	sqlq(t, db, "ALTER TABLE customers ADD COLUMN email TEXT NOT NULL DEFAULT ''")
	sqlq(t, db, "UPDATE customers SET email = 'Jane.Doe@Example.org', phone = '+1 555 0100' WHERE customer_id = 1")
	sqlq(t, db, "UPDATE customers SET email = 'bob@example.net' WHERE customer_id = 2")
	s := sqlstore.DefaultSchema()
	s.Fields["email"] = sqlstore.Column{Column: "email"}
	s.Identities = []sqlstore.Identity{{Name: "email", Column: "email", Normalize: forget.NormalizeEmail}, {Name: "phone", Column: "phone", Normalize: forget.NormalizeE164}}
	s.Holds = []sqlstore.Hold{{Name: "chargeback", Table: "subscriptions", CustomerKey: "customer_id", Where: []sqlstore.Condition{{Column: "status", Op: "=", Value: "chargeback"}}}}
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	mapping, keys = filepath.Join(dir, "mapping.json"), filepath.Join(dir, "tomb.keys")
	if err := os.WriteFile(mapping, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keys, []byte("# test key\nk1:"+strings.Repeat("5a", 32)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return db, mapping, keys
}

func TestCheckBatch(t *testing.T) {
	db, mapping, keys := tombstoneDB(t)
	if code, _, errOut := runMain("run", "-db", db, "-schema", mapping, "-tombstone-keys", keys, "-customer-id", "1"); code != exitOK {
		t.Fatalf("run: exit %d: %s", code, errOut)
	}
	if got := sqlq(t, db, "SELECT identity, key_id FROM forget_tombstones ORDER BY identity"); got != "email|k1\nphone|k1" {
		t.Fatalf("tombstones %q, want email and phone under k1", got)
	}
	dir := filepath.Dir(db)
	csvFile := filepath.Join(dir, "import.csv")
	os.WriteFile(csvFile, []byte("name,email,mobile\nBob,bob@example.net,+1999\n\"Jane, again\", jane.doe@example.ORG ,\nX,new@example.com,+1 (555) 0100\nbad,\"unclosed,\n"), 0o600)
	filtered := filepath.Join(dir, "filtered.csv")
	code, out, errOut := runMain("check", "-db", db, "-schema", mapping, "-tombstone-keys", keys, "-batch", csvFile, "-column", "email,mobile=phone", "-o", filtered)
	if code != exitFailed || out != "line 3: forgotten (email)\nline 4: forgotten (mobile)\nline 5: cannot be read\n" {
		t.Fatalf("check: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if !strings.Contains(errOut, "checked 3 rows") || !strings.Contains(errOut, "2 would re-identify") {
		t.Errorf("summary %q", errOut)
	}
	if b, _ := os.ReadFile(filtered); string(b) != "name,email,mobile\nBob,bob@example.net,+1999\n" {
		t.Errorf("-o wrote %q, want the header and Bob's row alone", b)
	}
	for _, v := range []string{"jane", "Jane", "555", "bob"} {
		if strings.Contains(out+errOut, v) {
			t.Errorf("the output holds %q", v)
		}
	}

	jsonl := filepath.Join(dir, "leads.jsonl")
	os.WriteFile(jsonl, []byte(`{"email": "nobody@example.com"}`+"\n\n"+`{"email": "JANE.DOE@example.org", "phone": 15550100}`+"\n"), 0o600)
	filteredJSON := filepath.Join(dir, "filtered.jsonl")
	code, out, _ = runMain("check", "-db", db, "-schema", mapping, "-tombstone-keys", keys, "-batch", jsonl, "-column", "email,phone", "-o", filteredJSON)
	if code != exitFailed || out != "line 3: forgotten (email, phone)\n" {
		t.Fatalf("check jsonl: exit %d, stdout %q", code, out)
	}
	if b, _ := os.ReadFile(filteredJSON); string(b) != `{"email": "nobody@example.com"}`+"\n" {
		t.Errorf("-o wrote %q, want the first row alone", b)
	}

	clean := filepath.Join(dir, "clean.csv")
	os.WriteFile(clean, []byte("email\nbob@example.net\n"), 0o600)
	if code, out, errOut := runMain("check", "-db", db, "-schema", mapping, "-tombstone-keys", keys, "-batch", clean, "-column", "email"); code != exitOK || out != "" {
		t.Fatalf("clean file: exit %d, %q, %q", code, out, errOut)
	}

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-batch", clean, "-column", "email"}, "needs -tombstone-keys"},
		{[]string{"-tombstone-keys", keys, "-batch", clean, "-column", "e_mail=email"}, "the header row has no such column"},
		{[]string{"-tombstone-keys", keys, "-batch", clean, "-column", "email=mail"}, "unknown identity"},
		{[]string{"-tombstone-keys", keys, "-batch", clean}, "needs -batch FILE and -column"},
		{[]string{"-tombstone-keys", mapping, "-batch", clean, "-column", "email"}, "-tombstone-keys " + mapping + ": forget: tombstone keys line 1"},
	} {
		code, _, errOut := runMain(append([]string{"check", "-db", db, "-schema", mapping}, c.args...)...)
		if code != exitUsage || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want usage and %q", c.args, code, errOut, c.want)
		}
	}
	t.Setenv(envTombstoneKeys, keys)
	if code, _, errOut := runMain("check", "-db", db, "-schema", mapping, "-batch", clean, "-column", "email"); code != exitOK {
		t.Errorf("keys from $%s: exit %d: %s", envTombstoneKeys, code, errOut)
	}
}

func TestSuppressionExport(t *testing.T) {
	db, mapping, keys := tombstoneDB(t)
	if code, _, errOut := runMain("run", "-db", db, "-schema", mapping, "-tombstone-keys", keys, "-customer-id", "1"); code != exitOK {
		t.Fatalf("run: exit %d: %s", code, errOut)
	}
	k, _ := hexKey(strings.Repeat("5a", 32))
	code, out, errOut := runMain("suppression", "export", "-db", db, "-schema", mapping, "-tombstone-keys", keys)
	want := "identity,key_id,hash\nemail,k1," + k.Hash("email", "jane.doe@example.org") + "\nphone,k1," + k.Hash("phone", "+15550100") + "\n"
	if code != exitOK || out != want {
		t.Fatalf("export: exit %d, stdout %q, stderr %q; want %q", code, out, errOut, want)
	}
	path := filepath.Join(filepath.Dir(db), "suppress.csv")
	if code, _, errOut := runMain("suppression", "export", "-db", db, "-schema", mapping, "-tombstone-keys", keys, "-key-id", "other", "-o", path); code != exitOK || !strings.Contains(errOut, "exported 0 tombstones") {
		t.Fatalf("export -key-id other: exit %d, %q", code, errOut)
	}
	if b, _ := os.ReadFile(path); string(b) != "identity,key_id,hash\n" {
		t.Errorf("-o file %q", b)
	}
	if code, _, _ := runMain("suppression", "import"); code != exitUsage {
		t.Errorf("suppression import: exit %d, want usage", code)
	}
}

func hexKey(h string) (forget.TombstoneKey, error) {
	keys, err := forget.ParseTombstoneKeys(strings.NewReader("k1:" + h))
	if err != nil {
		return forget.TombstoneKey{}, err
	}
	return keys[0], nil
}

func TestCheckHashed(t *testing.T) {
	db, mapping, keys := tombstoneDB(t)
	sqlq(t, db, "UPDATE customers SET email = 'carol@example.com' WHERE customer_id = 3")
	sqlq(t, db, "UPDATE subscriptions SET status = 'chargeback' WHERE customer_id = 3")
	if code, _, errOut := runMain("run", "-db", db, "-schema", mapping, "-tombstone-keys", keys, "-customer-id", "1"); code != exitOK {
		t.Fatalf("run: exit %d: %s", code, errOut)
	}
	sum := func(v string) string { d := sha256.Sum256([]byte(v)); return hex.EncodeToString(d[:]) }
	list := filepath.Join(filepath.Dir(db), "drop.txt")
	os.WriteFile(list, []byte("# Delete Act list\n"+sum("jane.doe@example.org")+"\n"+strings.ToUpper(sum("bob@example.net"))+"\n\n"+sum("nobody@example.com")+"\nnot-a-hash\n"+sum("carol@example.com")+"\n"), 0o600)
	code, out, errOut := runMain("check", "-db", db, "-schema", mapping, "-tombstone-keys", keys, "-hashed", list, "-identity", "email")
	want := "line 6: not a SHA-256 hash (64 hex digits)\nline 2: forgotten\nline 3: found: customers 2\nline 5: not found\nline 7: held (chargeback): customers 3\n"
	if code != exitFailed || out != want {
		t.Fatalf("exit %d, stdout %q, stderr %q; want %q", code, out, errOut, want)
	}
	if !strings.Contains(errOut, "4 hashes of") || !strings.Contains(errOut, "1 forgotten, 1 found, 1 held, 1 not found") {
		t.Errorf("summary %q", errOut)
	}
	if code, _, errOut := runMain("check", "-db", db, "-schema", mapping, "-tombstone-keys", keys, "-hashed", list, "-identity", "mail"); code != exitUsage || !strings.Contains(errOut, "unknown identity") {
		t.Errorf("unknown identity: exit %d, %q", code, errOut)
	}
}
