package main

import (
	"database/sql"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/forgetkit/forget/internal/testdb"
	"github.com/forgetkit/forget/store/sqlstore"
)

// TestRunHolds: a mapping's hold refuses `forget run` (exit 1, the hold
// named), -ignore-hold lets the operator who cleared it forget, recorded
// in the receipt, and a misspelt hold to ignore is refused.
func TestRunHolds(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "app.db")
	run := func(args ...string) (int, string, string) {
		var stdout, stderr strings.Builder
		code := Main(args, nil, &stdout, &stderr)
		return code, stdout.String(), stderr.String()
	}
	if code, _, stderr := run("init", "-db", dbPath, "-demo", "200"); code != exitOK {
		t.Fatalf("init: %d %s", code, stderr)
	}
	schema := sqlstore.DefaultSchema()
	schema.Holds = []sqlstore.Hold{{Name: "open_chargeback", Table: "subscriptions", CustomerKey: "customer_id",
		Where: []sqlstore.Condition{{Column: "status", Op: "=", Value: "chargeback"}}}}
	mapping, _ := json.Marshal(schema)
	mappingPath := filepath.Join(dir, "mapping.json")
	if err := os.WriteFile(mappingPath, mapping, 0o600); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", testdb.SQLiteDSN(dbPath))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec("UPDATE subscriptions SET status = 'chargeback' WHERE customer_id = 191"); err != nil {
		t.Fatal(err)
	}

	code, stdout, stderr := run("run", "-db", dbPath, "-schema", mappingPath, "-customer-id", "191")
	if code != exitFailed || !strings.Contains(stderr, `hold "open_chargeback"`) || stdout != "" {
		t.Errorf("held customer: exit %d, stdout %q, stderr %q; want 1 naming the hold", code, stdout, stderr)
	}
	var held int
	db.QueryRow("SELECT COUNT(*) FROM forget_audit WHERE customer_id = '191' AND held = 'open_chargeback'").Scan(&held)
	if held != 1 {
		t.Errorf("%d refusal records, want 1", held)
	}

	code, _, stderr = run("run", "-db", dbPath, "-schema", mappingPath, "-customer-id", "191", "-ignore-hold", "open_chargebak")
	if code != exitFailed || !strings.Contains(stderr, "unknown hold") {
		t.Errorf("misspelt hold to ignore: exit %d, %q", code, stderr)
	}

	code, stdout, stderr = run("run", "-db", dbPath, "-schema", mappingPath, "-customer-id", "191", "-ignore-hold", "open_chargeback")
	if code != exitOK || !strings.Contains(stdout, `"holds_ignored": [`) {
		t.Fatalf("hold ignored: exit %d, stdout %s, stderr %s", code, stdout, stderr)
	}
	var username string
	db.QueryRow("SELECT username FROM customers WHERE customer_id = 191").Scan(&username)
	if !strings.HasPrefix(username, "forgot-") {
		t.Error("customer 191 not forgotten with the hold ignored")
	}
	var ignored string
	db.QueryRow("SELECT holds_ignored FROM forget_audit WHERE customer_id = '191' AND held = ''").Scan(&ignored)
	if ignored != "open_chargeback" {
		t.Errorf("audit holds_ignored = %q", ignored)
	}
}
