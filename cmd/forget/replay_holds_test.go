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

// forgottenWithIgnoredHold makes a demo database whose customer 191 is
// under the open_chargeback hold, backs it up, forgets 191 with the hold
// ignored and writes the audit trail: the backup, the mapping declaring
// the hold and the trail's path.
func forgottenWithIgnoredHold(t *testing.T) (backup, mappingPath, trailPath string) {
	t.Helper()
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "app.db")
	backup = filepath.Join(dir, "backup.db")
	if code, _, stderr := runMain("init", "-db", dbPath, "-demo", "200"); code != exitOK {
		t.Fatalf("init: %d %s", code, stderr)
	}
	schema := sqlstore.DefaultSchema()
	schema.Holds = []sqlstore.Hold{{Name: "open_chargeback", Table: "subscriptions", CustomerKey: "customer_id",
		Where: []sqlstore.Condition{{Column: "status", Op: "=", Value: "chargeback"}}}}
	mapping, _ := json.Marshal(schema)
	mappingPath = filepath.Join(dir, "mapping.json")
	if err := os.WriteFile(mappingPath, mapping, 0o600); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", testdb.SQLiteDSN(dbPath))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, st := range []string{"UPDATE subscriptions SET status = 'chargeback' WHERE customer_id = 191", "VACUUM INTO '" + backup + "'"} {
		if _, err := db.Exec(st); err != nil {
			t.Fatal(err)
		}
	}
	if code, _, stderr := runMain("run", "-db", dbPath, "-schema", mappingPath, "-customer-id", "191", "-ignore-hold", "open_chargeback"); code != exitOK {
		t.Fatalf("forget with the hold ignored: exit %d, %s", code, stderr)
	}
	code, trail, stderr := runMain("audit", "-db", dbPath)
	if code != exitOK || !strings.Contains(trail, `"holds_ignored":["open_chargeback"]`) {
		t.Fatalf("audit: exit %d, %s %s", code, trail, stderr)
	}
	trailPath = filepath.Join(dir, "audit.jsonl")
	if err := os.WriteFile(trailPath, []byte(trail), 0o600); err != nil {
		t.Fatal(err)
	}
	return backup, mappingPath, trailPath
}

// TestReplayIgnoredHolds: a customer forgotten with -ignore-hold is
// forgotten again by `forget replay` onto the restored backup, the hold
// ignored as the operator decided, and the summary says so; the hold
// used to refuse the replay, and the customer came back for good.
func TestReplayIgnoredHolds(t *testing.T) {
	t.Parallel()
	backup, mappingPath, trailPath := forgottenWithIgnoredHold(t)

	code, stdout, stderr := runMain("replay", "-db", backup, "-schema", mappingPath, "-from", trailPath, "-progress", "none")
	if code != exitOK || !strings.Contains(stdout, "replayed 1 records: 1 forgotten again (1 with the holds their erasure ignored), 0 not in this database, 0 invalid, 0 failed") {
		t.Errorf("replay: exit %d, stdout %q, stderr %q; want 191 forgotten again, the hold ignored", code, stdout, stderr)
	}
	restored, err := sql.Open("sqlite", testdb.SQLiteDSN(backup))
	if err != nil {
		t.Fatal(err)
	}
	defer restored.Close()
	var username, ignored string
	restored.QueryRow("SELECT username FROM customers WHERE customer_id = 191").Scan(&username)
	if !strings.HasPrefix(username, "forgot-") {
		t.Error("customer 191 is back after the replay")
	}
	restored.QueryRow("SELECT holds_ignored FROM forget_audit WHERE customer_id = '191' AND held = ''").Scan(&ignored)
	if ignored != "open_chargeback" {
		t.Errorf("the replay's audit record: holds_ignored %q, want open_chargeback", ignored)
	}
}

// TestReplayIgnoredHoldNoLongerDeclared: a record whose ignored hold the
// mapping no longer declares is replayed as invalid, naming the hold (exit 1),
// never as "forgotten again", and the restored customer is untouched
// (an operator decides again; see forget.Replay).
func TestReplayIgnoredHoldNoLongerDeclared(t *testing.T) {
	t.Parallel()
	backup, _, trailPath := forgottenWithIgnoredHold(t)

	code, stdout, stderr := runMain("replay", "-db", backup, "-from", trailPath, "-progress", "none")
	if code == exitOK || !strings.Contains(stdout+stderr, "0 forgotten again") || !strings.Contains(stdout+stderr, "1 invalid") || !strings.Contains(stdout+stderr, `unknown hold "open_chargeback"`) {
		t.Errorf("replay without the hold: exit %d, stdout %q, stderr %q; want 1 invalid naming the hold", code, stdout, stderr)
	}
	restored, err := sql.Open("sqlite", testdb.SQLiteDSN(backup))
	if err != nil {
		t.Fatal(err)
	}
	defer restored.Close()
	var username string
	var records int
	restored.QueryRow("SELECT username FROM customers WHERE customer_id = 191").Scan(&username)
	restored.QueryRow("SELECT count(*) FROM forget_audit WHERE customer_id = '191'").Scan(&records)
	if strings.HasPrefix(username, "forgot-") || records != 0 {
		t.Errorf("a refused replay erased or recorded: username forgotten %v, %d audit records", strings.HasPrefix(username, "forgot-"), records)
	}
}
