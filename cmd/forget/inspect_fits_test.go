package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestInspectRefusesWhatLintRefuses: on a database without the mapping's
// tables, inspect refuses as lint does, with the same message. It used to
// print "0 columns in 0 tables reach a customer" and exit 0.
func TestInspectRefusesWhatLintRefuses(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "other.db")
	db, err := openSQLite(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("CREATE TABLE people (id INTEGER PRIMARY KEY, username TEXT NOT NULL, firstname TEXT NOT NULL)"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	const refusal = "the mapping does not fit the database: sqlstore: the mapping does not fit the database: customers: table customers does not exist"
	lintCode, _, lintErr := runMain("lint", "-db", path)
	if lintCode != exitFailed || !strings.Contains(lintErr, "lint: "+refusal) {
		t.Fatalf("lint: exit %d, stderr %q", lintCode, lintErr)
	}
	for _, args := range [][]string{
		{"inspect", "-db", path},
		{"inspect", "-db", path, "-format", "json"},
		{"inspect", "-db", path, "-customer-id", "1"},
	} {
		code, out, errOut := runMain(args...)
		if code != lintCode || !strings.Contains(errOut, "inspect: "+refusal) {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want exit %d and lint's refusal", strings.Join(args, " "), code, out, errOut, lintCode)
		}
		if strings.Contains(out, "reach a customer") {
			t.Errorf("%s printed a coverage report: %s", strings.Join(args, " "), out)
		}
		if got, want := strings.TrimPrefix(errOut, "forget: inspect: "), strings.TrimPrefix(lintErr, "forget: lint: "); got != want {
			t.Errorf("%s: refusal differs from lint's:\n%s\nlint:\n%s", strings.Join(args, " "), got, want)
		}
	}
	// -propose needs no mapping: it still proposes one.
	if code, out, errOut := runMain("inspect", "-db", path, "-propose"); code != exitOK || !strings.Contains(out, "people") {
		t.Errorf("inspect -propose: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}
