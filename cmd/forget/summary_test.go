package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// decodeOne decodes stdout, which must be one JSON object and nothing
// else, into v.
func decodeOne(t *testing.T, what, stdout string, v any) {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(stdout))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s -json: %v\nstdout: %s", what, err, stdout)
	}
	if dec.More() {
		t.Fatalf("%s -json printed more than one JSON object:\n%s", what, stdout)
	}
}

// TestJSONSummaries: run -batch, sweep, replay and lint print their
// report as one JSON object under -json, with the counts the text gives,
// and exit as they do without it.
func TestJSONSummaries(t *testing.T) {
	t.Parallel()
	path := demoDB(t, 20)
	dir := t.TempDir()
	batch := filepath.Join(dir, "requests.csv")
	os.WriteFile(batch, []byte("customer_id\n4\n5\n6\n999\n"), 0o644)
	for run, repeats := range []int{0, 3} {
		code, stdout, stderr := runMain("run", "-db", path, "-batch", batch, "-progress", "none", "-json")
		var sum batchSummary
		decodeOne(t, "run -batch", stdout, &sum)
		if code != exitFailed || sum.Requests != 4 || sum.Forgotten != 3 || sum.NotFound != 1 || sum.Repeats != repeats || sum.Stopped != "" {
			t.Errorf("run %d: exit %d, %+v; want 4 requests, 3 forgotten, 1 not found, %d repeats\nstderr: %s", run+1, code, sum, repeats, stderr)
		}
	}

	db, err := openSQLite(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range []string{
		"ALTER TABLE customers ADD COLUMN last_login TEXT",
		"CREATE INDEX customers_last_login ON customers (last_login)",
		"UPDATE customers SET last_login = '2020-01-01 00:00:00' WHERE customer_id BETWEEN 1 AND 8",
	} {
		if _, err := db.Exec(st); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	code, stdout, stderr := runMain("sweep", "-db", path, "-activity", "last_login", "-inactive", "3y", "-progress", "none", "-json")
	var sw sweepSummary
	decodeOne(t, "sweep", stdout, &sw)
	// 4, 5 and 6 were fully forgotten by the batch, since the cutoff:
	// neither counted nor tried.
	if code != exitOK || sw.Total != 5 || sw.Tried != 5 || sw.Forgotten != 5 || sw.Cutoff.IsZero() {
		t.Errorf("sweep: exit %d, %+v; want 5 counted, tried and forgotten\nstderr: %s", code, sw, stderr)
	}

	code, trail, stderr := runMain("audit", "-db", path)
	if code != exitOK {
		t.Fatalf("audit: exit %d: %s", code, stderr)
	}
	trailPath := filepath.Join(dir, "audit.jsonl")
	os.WriteFile(trailPath, []byte(trail), 0o644)
	records := strings.Count(trail, "\n")
	code, stdout, stderr = runMain("replay", "-db", path, "-from", trailPath, "-progress", "none", "-json")
	var rp replaySummary
	decodeOne(t, "replay", stdout, &rp)
	if code != exitOK || rp.Records != records || rp.Forgotten != records {
		t.Errorf("replay: exit %d, %+v; want all %d records forgotten again\nstderr: %s", code, rp, records, stderr)
	}

	code, stdout, _ = runMain("lint", "-db", path, "-json")
	var lr lintReport
	decodeOne(t, "lint", stdout, &lr)
	if (code == exitOK) != lr.OK || lr.Summary.Columns == 0 || (lr.OK != (len(lr.Failing) == 0)) {
		t.Errorf("lint: exit %d, %+v", code, lr)
	}
	if strings.Contains(stdout, "forgot-") {
		t.Error("lint -json printed a value")
	}

	_, viaFormat, _ := runMain("inspect", "-db", path, "-format", "json")
	if code, stdout, stderr := runMain("inspect", "-db", path, "-json"); code != exitOK || stdout != viaFormat || !json.Valid([]byte(stdout)) {
		t.Errorf("inspect -json: exit %d, differs from -format json: %v\nstderr: %s", code, stdout != viaFormat, stderr)
	}
	if code, _, stderr := runMain("inspect", "-db", path, "-json", "-format", "text"); code != exitUsage {
		t.Errorf("inspect -json -format text: exit %d, %s; want bad usage", code, stderr)
	}
}
