package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/forgetkit/forget"
	"github.com/forgetkit/forget/store/sqlstore"
)

func readReport(t *testing.T, path string) []reportLine {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []reportLine
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if len(sc.Bytes()) > 600 {
			t.Errorf("a report line is %d bytes long", len(sc.Bytes()))
		}
		var l reportLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("report line %q: %v", sc.Text(), err)
		}
		lines = append(lines, l)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return lines
}

// forgottenIn returns the ids of the customers the database shows
// forgotten.
func forgottenIn(t *testing.T, path string) map[string]bool {
	t.Helper()
	db, err := openSQLite(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query("SELECT customer_id FROM customers WHERE username LIKE 'forgot-%'")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	ids := map[string]bool{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids[id] = true
	}
	return ids
}

func checkBounded(t *testing.T, name, text string) {
	t.Helper()
	for _, l := range strings.Split(text, "\n") {
		if len(l) > 600 {
			t.Errorf("%s has a line of %d bytes: %.80q...", name, len(l), l)
		}
	}
}

// TestBatchBadRowsAndHugeCells runs a CSV with Excel's byte-order mark,
// CRLF lines, an unterminated quote and a 50 MB cell: every bad row is
// reported by its file line, every good one is forgotten, and nothing
// printed or written quotes the huge cell.
func TestBatchBadRowsAndHugeCells(t *testing.T) {
	t.Parallel()
	db := demoDB(t, 200)
	dir := t.TempDir()
	batch := filepath.Join(dir, "requests.csv")
	f, err := os.Create(batch)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	w.WriteString("\ufeffcustomer_id,keep\r\n") // 1
	w.WriteString("1,\r\n")                     // 2
	w.WriteString("2,\"firstname\r\n")          // 3: unterminated quote
	w.WriteString("3,\r\n")                     // 4
	w.WriteString("4,\"")                       // 5: a 50 MB keep list
	for range 50 {
		w.WriteString(strings.Repeat("firstname,bogus", 1<<20/15))
	}
	w.WriteString("\"\r\n")
	w.WriteString("5,\"" + strings.Repeat("bogus", 100000) + "\"\r\n") // 6: unknown names, 500 KB of them
	for i := 6; i <= 20; i++ {
		fmt.Fprintf(w, "%d,\r\n", i) // 7..21
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	f.Close()

	report := filepath.Join(dir, "report.jsonl")
	code, stdout, stderr := runMain("run", "-db", db, "-batch", batch, "-report", report, "-progress", "lines")
	if code != exitFailed {
		t.Errorf("exit %d, want 1", code)
	}
	if !strings.Contains(stdout, "20 requests in ") || !strings.Contains(stdout, ": 17 forgotten, 0 not found, 3 invalid, 0 conflict, 0 failed") {
		t.Errorf("summary: %s", stdout)
	}
	checkBounded(t, "stdout", stdout)
	checkBounded(t, "stderr", stderr)
	lines := readReport(t, report)
	if len(lines) != 20 {
		t.Fatalf("%d report lines, want 20", len(lines))
	}
	byLine := map[int]reportLine{}
	for _, l := range lines {
		byLine[l.Line] = l
	}
	for n, want := range map[int]string{3: "a quote is not closed", 5: "longer than 1048576 bytes", 6: "unknown keep name"} {
		if l := byLine[n]; l.Outcome != outInvalid || !strings.Contains(l.Error, want) {
			t.Errorf("line %d: %+v, want invalid, %q", n, l, want)
		}
	}
	if l := byLine[21]; l.Outcome != outForgotten || l.CustomerID != "20" {
		t.Errorf("line 21: %+v, want customer 20 forgotten", l)
	}
	gone := forgottenIn(t, db)
	for _, id := range []string{"2", "4", "5"} {
		if gone[id] {
			t.Errorf("customer %s, on a bad row, was forgotten", id)
		}
	}
	if len(gone) != 17 {
		t.Errorf("%d customers forgotten, want 17", len(gone))
	}
}

// TestBatchLongJSONLine: a JSON line over 1 MiB used to stop the reader,
// so a 20-line file was 6 requests.
func TestBatchLongJSONLine(t *testing.T) {
	t.Parallel()
	db := demoDB(t, 200)
	batch := filepath.Join(t.TempDir(), "requests.jsonl")
	var b strings.Builder
	for i := 1; i <= 20; i++ {
		if i == 7 {
			b.WriteString(`{"customer_id": 7, "keep": "` + strings.Repeat("firstname,", 150000) + `"}` + "\n")
			continue
		}
		fmt.Fprintf(&b, "{\"customer_id\": %d}\r\n", i)
	}
	if err := os.WriteFile(batch, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runMain("run", "-db", db, "-batch", batch, "-progress", "none")
	if code != exitFailed || !strings.Contains(stdout, "20 requests in ") || !strings.Contains(stdout, ": 19 forgotten, 0 not found, 1 invalid") {
		t.Errorf("exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
}

// TestBatchFailingCustomer: a host trigger that refuses one customer's
// forget fails that customer alone, reported on its line; the batch goes
// on with the rest.
func TestBatchFailingCustomer(t *testing.T) {
	t.Parallel()
	path := demoDB(t, 200)
	db, err := openSQLite(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`CREATE TRIGGER hold_5 BEFORE DELETE ON member_note WHEN OLD.customer_id = 5
		BEGIN SELECT RAISE(ABORT, 'customer 5 is on hold'); END`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	batch := filepath.Join(t.TempDir(), "requests.csv")
	var b strings.Builder
	b.WriteString("customer_id\n")
	for i := 1; i <= 10; i++ {
		fmt.Fprintf(&b, "%d\n", i)
	}
	if err := os.WriteFile(batch, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	report := filepath.Join(t.TempDir(), "report.jsonl")
	code, stdout, stderr := runMain("run", "-db", path, "-batch", batch, "-report", report, "-progress", "none")
	if code != exitFailed || !strings.Contains(stdout, ": 9 forgotten, 0 not found, 0 invalid, 0 conflict, 1 failed") {
		t.Errorf("exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	if !strings.Contains(stderr, "forget: line 6: ") {
		t.Errorf("stderr does not name line 6:\n%s", stderr)
	}
	lines := readReport(t, report)
	if len(lines) != 10 {
		t.Fatalf("%d report lines, want 10", len(lines))
	}
	for _, l := range lines {
		want := outForgotten
		if l.Line == 6 {
			want = outFailed
		}
		if l.Outcome != want {
			t.Errorf("line %d: %s, want %s", l.Line, l.Outcome, want)
		}
	}
	gone := forgottenIn(t, path)
	if gone["5"] || len(gone) != 9 {
		t.Errorf("forgotten: %v; want 1-4 and 6-10", gone)
	}
}

// cancelling wraps the SQL store and cancels the batch's context after
// `after` items: those before were committed, the rest see the
// cancellation, as when Ctrl-C lands inside a chunk.
type cancelling struct {
	*sqlstore.Store
	after  int
	cancel context.CancelFunc
}

func (s *cancelling) ForgetBatch(ctx context.Context, items []forget.BatchItem) []forget.BatchResult {
	if s.after >= len(items) {
		s.after -= len(items)
		return s.Store.ForgetBatch(ctx, items)
	}
	out := s.Store.ForgetBatch(ctx, items[:s.after])
	s.cancel()
	s.after = 0
	return append(out, s.Store.ForgetBatch(ctx, items[len(out):])...)
}

func cancellingForgetter(t *testing.T, path string, after int) (context.Context, *forget.Forgetter) {
	t.Helper()
	db, err := openSQLite(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	st, err := sqlstore.New(db, sqlstore.SQLite, sqlstore.WithAudit("forget_audit"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	f, err := forget.New(&cancelling{Store: st, after: after, cancel: cancel}, forget.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	return ctx, f
}

// TestBatchInterrupted: Ctrl-C inside a chunk. The summary says
// interrupted with the true counts, the report has a line for every
// committed forget and for no other, and the exit status is 1.
func TestBatchInterrupted(t *testing.T) {
	t.Parallel()
	path := demoDB(t, 300)
	dir := t.TempDir()
	batch := filepath.Join(dir, "requests.csv")
	var b strings.Builder
	b.WriteString("customer_id\n")
	for i := 1; i <= 300; i++ {
		fmt.Fprintf(&b, "%d\n", i)
	}
	if err := os.WriteFile(batch, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, f := cancellingForgetter(t, path, 150)
	file, err := os.Open(batch)
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	br, err := newBatchReader(file, batch)
	if err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	c := &cli{stdout: &stdout, stderr: &stderr}
	report := filepath.Join(dir, "report.jsonl")
	total := countBatch(batch, true)
	err = c.runBatch(ctx, f, br, total, batchOptions{report: report, size: 100, progress: c.newProgress("none", total)})
	if code := c.exitStatus(err); code != exitFailed {
		t.Errorf("exit %d, want 1", code)
	}
	if !strings.Contains(stdout.String(), "150 requests in ") || !strings.Contains(stdout.String(), ": 150 forgotten, 0 not found, 0 invalid, 0 conflict, 0 failed") ||
		!strings.Contains(stdout.String(), "interrupted: 150 requests not run") {
		t.Errorf("summary:\n%s", stdout.String())
	}
	if stderr.Len() > 0 {
		t.Errorf("stderr: %s", stderr.String())
	}
	reported := map[string]bool{}
	for _, l := range readReport(t, report) {
		if l.Outcome != outForgotten {
			t.Errorf("report line %+v", l)
		}
		reported[l.CustomerID] = true
	}
	gone := forgottenIn(t, path)
	if len(gone) != 150 || !sameKeys(gone, reported) {
		t.Errorf("the report names %d customers, the database shows %d forgotten; they must be the same", len(reported), len(gone))
	}
}

func sameKeys(a, b map[string]bool) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if !b[k] {
			return false
		}
	}
	return true
}

// TestReplayInterrupted: replay stops at an interruption and says so,
// with exit status 1.
func TestReplayInterrupted(t *testing.T) {
	t.Parallel()
	path := demoDB(t, 300)
	trail := filepath.Join(t.TempDir(), "audit.jsonl")
	var b strings.Builder
	for i := 1; i <= 300; i++ {
		rc := forget.Receipt{CustomerID: strconv.Itoa(i), At: time.Now()}
		j, _ := json.Marshal(rc)
		b.Write(append(j, '\n'))
	}
	if err := os.WriteFile(trail, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, f := cancellingForgetter(t, path, 120)
	var stdout, stderr bytes.Buffer
	c := &cli{stdout: &stdout, stderr: &stderr}
	code := c.exitStatus(c.runReplay(ctx, f, trail, 300, 100, c.newProgress("none", 300), false))
	if code != exitFailed || !strings.Contains(stdout.String(), "replayed 120 records: 120 forgotten again, 0 not in this database, 0 invalid, 0 failed") ||
		!strings.Contains(stdout.String(), "interrupted: 180 records not replayed") {
		t.Errorf("exit %d\nstdout: %s\nstderr: %s", code, stdout.String(), stderr.String())
	}
	if stderr.Len() > 0 {
		t.Errorf("stderr: %s", stderr.String())
	}
	if gone := forgottenIn(t, path); len(gone) != 120 {
		t.Errorf("%d forgotten, want 120", len(gone))
	}
}

// TestBatchInterruptedBySignal sends the real command SIGINT in the middle
// of a batch, a few times: exit status 1, "interrupted" in the summary,
// and the report names exactly the customers the database shows
// forgotten. Each round signals once the report has so many lines (the
// first as soon as the report exists), not after a fixed delay, which
// under load could land before the batch even opened its report.
func TestBatchInterruptedBySignal(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the built command")
	}
	t.Parallel()
	bin := buildForget(t)
	for round, lines := range []int{0, 1000, 2000} {
		t.Run(fmt.Sprint(round), func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			db := filepath.Join(dir, "app.db")
			if out, err := exec.Command(bin, "init", "-db", db, "-demo", "4000").CombinedOutput(); err != nil {
				t.Fatalf("init: %v\n%s", err, out)
			}
			batch := filepath.Join(dir, "requests.csv")
			var b strings.Builder
			b.WriteString("customer_id\n")
			for i := 1; i <= 4000; i++ {
				fmt.Fprintf(&b, "%d\n", i)
			}
			if err := os.WriteFile(batch, []byte(b.String()), 0o644); err != nil {
				t.Fatal(err)
			}
			report := filepath.Join(dir, "report.jsonl")
			cmd := exec.Command(bin, "run", "-db", db, "-batch", batch, "-report", report, "-progress", "none")
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			exited := make(chan struct{})
			go func() { cmd.Wait(); close(exited) }()
			deadline := time.Now().Add(time.Minute)
		wait:
			for {
				select {
				case <-exited:
					break wait // finished first: checked below
				default:
				}
				if data, err := os.ReadFile(report); err == nil && bytes.Count(data, []byte("\n")) >= lines {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("the report did not reach %d lines in a minute", lines)
				}
				time.Sleep(5 * time.Millisecond)
			}
			cmd.Process.Signal(syscall.SIGINT)
			<-exited
			code := cmd.ProcessState.ExitCode()
			reported := map[string]bool{}
			for _, l := range readReport(t, report) {
				if l.Outcome != outForgotten {
					t.Errorf("report line %+v", l)
				}
				reported[l.CustomerID] = true
			}
			gone := forgottenIn(t, db)
			if !sameKeys(gone, reported) {
				t.Errorf("the report names %d customers, the database shows %d forgotten", len(reported), len(gone))
			}
			if len(gone) == 0 && stdout.Len() == 0 && code == exitFailed && strings.Contains(stderr.String(), "interrupted") {
				t.Logf("interrupted before the batch started")
				return
			}
			if len(gone) == 4000 {
				if code != exitOK {
					t.Errorf("the batch finished, but exit %d", code)
				}
				t.Logf("the batch finished before the signal")
				return
			}
			want := fmt.Sprintf("%d requests in ", len(gone))
			if code != exitFailed || !strings.Contains(stdout.String(), want) || !strings.Contains(stdout.String(), fmt.Sprintf("interrupted: %d requests not run", 4000-len(gone))) {
				t.Errorf("exit %d, %d forgotten\nstdout: %s\nstderr: %s", code, len(gone), stdout.String(), stderr.String())
			}
		})
	}
}

// TestBatchHeldCustomer: a customer under a hold the mapping declares is
// reported as held, not failed, and the batch goes on.
func TestBatchHeldCustomer(t *testing.T) {
	t.Parallel()
	path := demoDB(t, 200)
	db, err := openSQLite(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("UPDATE subscriptions SET status = 'chargeback' WHERE customer_id = 5"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	dir := t.TempDir()
	mapping := sqlstore.DefaultSchema()
	mapping.Holds = []sqlstore.Hold{{Name: "chargeback", Table: "subscriptions", CustomerKey: "customer_id",
		Where: []sqlstore.Condition{{Column: "status", Op: "=", Value: "chargeback"}}}}
	js, err := json.Marshal(mapping)
	if err != nil {
		t.Fatal(err)
	}
	schema := filepath.Join(dir, "mapping.json")
	batch := filepath.Join(dir, "requests.csv")
	report := filepath.Join(dir, "report.jsonl")
	os.WriteFile(schema, js, 0o644)
	os.WriteFile(batch, []byte("customer_id\n4\n5\n6\n"), 0o644)
	code, stdout, stderr := runMain("run", "-db", path, "-schema", schema, "-batch", batch, "-report", report, "-progress", "none")
	if code != exitFailed || !strings.Contains(stdout, ": 2 forgotten, 0 not found, 0 invalid, 0 conflict, 1 held, 0 failed") {
		t.Errorf("exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	for _, l := range readReport(t, report) {
		if (l.Line == 3) != (l.Outcome == outHeld) || (l.Line == 3 && !strings.Contains(l.Error, "chargeback")) {
			t.Errorf("report line %+v", l)
		}
	}
}

// TestBatchLineDryRun: a JSON line that is a preview over HTTP is never a
// real erasure in a batch: it is refused, and the customer stays. Under
// -dry-run it is a preview like every other line. A CSV cannot carry
// dry_run: its header is refused.
func TestBatchLineDryRun(t *testing.T) {
	t.Parallel()
	db := demoDB(t, 50)
	dir := t.TempDir()
	batch := filepath.Join(dir, "requests.jsonl")
	report := filepath.Join(dir, "report.jsonl")
	os.WriteFile(batch, []byte("{\"customer_id\": 19}\n{\"customer_id\": 20, \"dry_run\": true}\n{\"customer_id\": 21, \"dry_run\": \"1\"}\n"), 0o644)
	code, stdout, stderr := runMain("run", "-db", db, "-batch", batch, "-report", report, "-progress", "none")
	if code != exitFailed || !strings.Contains(stdout, ": 1 forgotten, 0 not found, 2 invalid") {
		t.Errorf("exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	gone := forgottenIn(t, db)
	if !gone["19"] || gone["20"] || gone["21"] || len(gone) != 1 {
		t.Errorf("forgotten: %v, want 19 only", gone)
	}
	for _, l := range readReport(t, report) {
		if l.Line != 1 && (l.Outcome != outInvalid || !strings.Contains(l.Error, "dry_run")) {
			t.Errorf("report line %+v, want invalid naming dry_run", l)
		}
	}

	code, stdout, stderr = runMain("run", "-db", db, "-batch", batch, "-dry-run", "-progress", "none")
	if code != 0 || !strings.Contains(stdout, ": 3 would be forgotten (dry run)") {
		t.Errorf("-dry-run: exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	if gone := forgottenIn(t, db); len(gone) != 1 {
		t.Errorf("after -dry-run, forgotten: %v", gone)
	}

	csv := filepath.Join(dir, "requests.csv")
	os.WriteFile(csv, []byte("customer_id,dry_run\n22,1\n"), 0o644)
	code, stdout, stderr = runMain("run", "-db", db, "-batch", csv, "-progress", "none")
	if code == 0 || !strings.Contains(stderr, `unknown column "dry_run"`) {
		t.Errorf("CSV dry_run column: exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	if gone := forgottenIn(t, db); gone["22"] {
		t.Error("customer 22, on a CSV dry_run row, was forgotten")
	}
}

// TestBatchRepeat: a batch run again finds nothing left to erase: every
// forget is a repeat, reported so, audited, and sends no new event; with
// -repropagate they are events again.
func TestBatchRepeat(t *testing.T) {
	path := demoDB(t, 20)
	dir := t.TempDir()
	batch := filepath.Join(dir, "requests.csv")
	report := filepath.Join(dir, "report.jsonl")
	os.WriteFile(batch, []byte("customer_id\n4\n5\n6\n"), 0o644)
	unpublished := func() (n int) {
		t.Helper()
		db, err := openSQLite(path)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if err := db.QueryRow("SELECT COUNT(*) FROM " + sqlstore.DefaultAuditTable + " WHERE published_at IS NULL").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	for run, want := range []struct {
		args        []string
		repeats     string
		unpublished int
	}{
		{nil, "", 3},
		{nil, "3 of them repeats: already forgotten, nothing left to erase, no new event sent", 3},
		{[]string{"-repropagate"}, "3 of them repeats: already forgotten, nothing left to erase, their events sent again", 6},
	} {
		code, stdout, stderr := runMain(append([]string{"run", "-db", path, "-batch", batch, "-report", report, "-progress", "none"}, want.args...)...)
		if code != 0 || !strings.Contains(stdout, ": 3 forgotten, 0 not found") || (want.repeats == "") == strings.Contains(stdout, "repeats") || !strings.Contains(stdout, want.repeats) {
			t.Errorf("run %d: exit %d\nstdout: %s\nstderr: %s", run+1, code, stdout, stderr)
		}
		for _, l := range readReport(t, report) {
			if l.Repeat != (run > 0) {
				t.Errorf("run %d: report line %+v, want repeat %v", run+1, l, run > 0)
			}
		}
		if got := unpublished(); got != want.unpublished {
			t.Errorf("run %d: %d events unpublished, want %d", run+1, got, want.unpublished)
		}
	}
}
