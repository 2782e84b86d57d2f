package main

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/forgetkit/forget/internal/long"
	"github.com/forgetkit/forget/store/sqlstore"
)

const sweepCustomers = 6000

// sweepInactive and sweepHeld say which demo customers the sweep fixture
// makes inactive for four years and which of those are under a hold.
func sweepInactive(id int) bool { return id%3 != 0 }
func sweepHeld(id int) bool     { return id%97 == 1 }

// sweepDatabase makes a demo database with a last_login column (inactive
// customers four years ago, the others last week, every 50th never) and
// holds, and the mapping file that names both.
func sweepDatabase(t *testing.T, bin, dir string, n int) (db, mapping string) {
	t.Helper()
	db = filepath.Join(dir, "sweep.db")
	if out, err := exec.Command(bin, "init", "-db", db, "-demo", strconv.Itoa(n)).CombinedOutput(); err != nil {
		t.Fatalf("init: %v\n%s", err, out)
	}
	conn, err := openSQLite(db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, st := range []string{
		"ALTER TABLE customers ADD COLUMN last_login TEXT",
		"CREATE INDEX customers_last_login ON customers (last_login)",
		`UPDATE customers SET last_login = CASE WHEN customer_id % 50 = 0 THEN NULL
			WHEN customer_id % 3 != 0 THEN datetime('now', '-4 years', '-' || (customer_id % 17) || ' days')
			ELSE datetime('now', '-7 days') END`,
		"UPDATE subscriptions SET status = 'chargeback' WHERE customer_id % 97 = 1",
	} {
		if _, err := conn.Exec(st); err != nil {
			t.Fatalf("%s: %v", st, err)
		}
	}
	m := sqlstore.DefaultSchema()
	m.Activity = []sqlstore.Column{{Column: "last_login"}}
	m.Holds = []sqlstore.Hold{{Name: "chargeback", Table: "subscriptions", CustomerKey: "customer_id",
		Where: []sqlstore.Condition{{Column: "status", Op: "=", Value: "chargeback"}}}}
	data, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	mapping = filepath.Join(dir, "mapping.json")
	if err := os.WriteFile(mapping, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return db, mapping
}

// TestSweepCrashSafety kills `forget sweep` with SIGKILL at random
// moments, at least 5 times (20 under FORGET_LONG=1; FORGET_SWEEP_KILLS,
// or FORGET_CRASH_ITERATIONS, sets another number), and runs it again after each kill, as an
// operator would. After every kill: each customer is fully forgotten or
// intact, only inactive unheld customers are forgotten, each exactly once
// (one erasure record: a re-run never forgets anybody again), and
// SQLite's integrity check passes. When a run completes, exactly the
// inactive unheld customers are forgotten; then the test starts over on
// a fresh copy until enough kills have landed.
func TestSweepCrashSafety(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("kills a real process many times")
	}
	want := long.Count(t, 3, 20)
	if v := os.Getenv("FORGET_SWEEP_KILLS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("FORGET_SWEEP_KILLS=%q is not a positive number", v)
		}
		want = n
	}
	bin := buildForget(t)
	if out, _ := exec.Command(bin, "sweep", "-h").CombinedOutput(); strings.Contains(string(out), "unknown command") {
		t.Skip("main.go does not dispatch forget sweep yet")
	}
	dir := t.TempDir()
	pristine, mapping := sweepDatabase(t, bin, dir, sweepCustomers)
	db := filepath.Join(dir, "work.db")
	fresh := func() {
		for _, suffix := range []string{"", "-wal", "-shm"} {
			os.Remove(db + suffix)
		}
		data, err := os.ReadFile(pristine)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(db, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	fresh()
	rnd := rand.New(rand.NewPCG(20261130, 7))
	kills, completions, midway := 0, 0, 0
	for round := 0; round < 400 && (kills < want || completions == 0); round++ {
		cmd := exec.Command(bin, "sweep", "-db", db, "-schema", mapping, "-inactive", "3y", "-chunk", "50", "-progress", "none")
		var out strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		killed := false
		// Once enough kills have landed, a run goes to its end: that a
		// sweep completes is not left to a random moment coming late
		// enough (under load it came after dozens of rounds).
		var kill <-chan time.Time
		if kills < want {
			kill = time.After(time.Duration(30+rnd.IntN(600)) * time.Millisecond)
		}
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("sweep failed: %v\n%s", err, out.String())
			}
		case <-kill:
			cmd.Process.Signal(syscall.SIGKILL)
			<-done
			if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
				kills++
				killed = true
			}
		}
		complete, some := checkSweepInvariants(t, db, false)
		if killed && some && !complete {
			midway++
		}
		if t.Failed() {
			t.Fatalf("invariants broken after round %d (%d kills)", round, kills)
		}
		if !killed {
			// The run finished: everything it should forget is.
			checkSweepInvariants(t, db, true)
			if !complete {
				t.Fatalf("a completed sweep left inactive customers:\n%s", out.String())
			}
			completions++
			fresh()
		}
	}
	if kills < want {
		t.Fatalf("only %d kills landed", kills)
	}
	t.Logf("%d kills survived (%d in the middle of forgetting), %d sweeps completed", kills, midway, completions)
}

// checkSweepInvariants checks the database after a sweep stopped; it
// reports whether every inactive unheld customer is forgotten, and
// whether any is. With complete set, anything less is an error.
func checkSweepInvariants(t *testing.T, path string, complete bool) (all, some bool) {
	return checkSweepInvariantsN(t, path, complete, sweepCustomers)
}

// commandCustomers is the size of TestSweepCommand's database.
const commandCustomers = 1500

func checkSweepInvariantsN(t *testing.T, path string, complete bool, customers int) (all, some bool) {
	t.Helper()
	db, err := openSQLite(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var integrity string
	if err := db.QueryRow("PRAGMA integrity_check").Scan(&integrity); err != nil || integrity != "ok" {
		t.Fatalf("integrity_check: %q, %v", integrity, err)
	}
	erasures := map[int]int{}
	rows, err := db.Query("SELECT customer_id, held FROM forget_audit")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id, held string
		if err := rows.Scan(&id, &held); err != nil {
			t.Fatal(err)
		}
		n, _ := strconv.Atoi(id)
		if held == "" {
			erasures[n]++
		} else if held != "chargeback" || !sweepHeld(n) {
			t.Errorf("customer %s refused by hold %q", id, held)
		}
	}
	rows.Close()
	rows, err = db.Query(`SELECT c.customer_id, c.username, c.firstname, c.phone,
		(SELECT COUNT(*) FROM member_auth a WHERE a.customer_id = c.customer_id),
		(SELECT COUNT(*) FROM member_note n WHERE n.customer_id = c.customer_id)
		FROM customers c`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	all = true
	n := 0
	for rows.Next() {
		var id, auth, notes int
		var username, first, phone string
		if err := rows.Scan(&id, &username, &first, &phone, &auth, &notes); err != nil {
			t.Fatal(err)
		}
		n++
		gone := strings.HasPrefix(username, "forgot-") && first == "" && phone == "" && auth == 0 && notes == 0
		intact := !strings.HasPrefix(username, "forgot-") && first != "" && phone != "" && auth == 2 && notes == 3
		should := sweepInactive(id) && !sweepHeld(id) && id%50 != 0
		switch {
		case !gone && !intact:
			t.Errorf("customer %d is half forgotten", id)
		case gone && !should:
			t.Errorf("customer %d was forgotten but is active, held or has no activity", id)
		case gone:
			some = true
			if erasures[id] != 1 {
				t.Errorf("customer %d is forgotten with %d erasure records, want exactly 1", id, erasures[id])
			}
		case intact && erasures[id] != 0:
			t.Errorf("customer %d is intact but has %d erasure records", id, erasures[id])
		case intact && should:
			all = false
			if complete {
				t.Errorf("customer %d is inactive and unheld but was not forgotten", id)
			}
		}
	}
	if n != customers {
		t.Fatalf("%d customers, want %d", n, customers)
	}
	return all, some
}

// TestSQLiteSizes: the command's SQLite connections get the page cache,
// memory map and checkpoint interval the flags say (SQLite's 2 MiB, no
// map and 10,000 pages by default) and temporary data in memory; nonsense
// is refused before anything opens.
func TestSQLiteSizes(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "s.db")
	for _, tc := range []struct {
		tuning                   sqliteTuning
		wantCache, wantM, wantCP int64
	}{
		{defaultSQLiteTuning, -2 * 1024, 0, 10000},
		{sqliteTuning{256, 1024, 500}, -256 * 1024, 1 << 30, 500},
	} {
		db, err := openSQLiteTuned(path, tc.tuning)
		if err != nil {
			t.Fatal(err)
		}
		db.SetMaxOpenConns(1) // the pragmas are per connection: read them on one
		var cache, mmap, temp, checkpoint int64
		for pragma, v := range map[string]*int64{"cache_size": &cache, "mmap_size": &mmap, "temp_store": &temp, "wal_autocheckpoint": &checkpoint} {
			if err := db.QueryRow("PRAGMA " + pragma).Scan(v); err != nil {
				t.Fatal(err)
			}
		}
		db.Close()
		if cache != tc.wantCache || mmap != tc.wantM || temp != 2 || checkpoint != tc.wantCP {
			t.Errorf("cache_size %d, mmap_size %d, temp_store %d, wal_autocheckpoint %d; want %d, %d, 2 (memory), %d",
				cache, mmap, temp, checkpoint, tc.wantCache, tc.wantM, tc.wantCP)
		}
	}
	for _, args := range [][]string{{"-sqlite-cache", "0"}, {"-sqlite-mmap", "-1"}, {"-sqlite-cache", "99999999"}, {"-sqlite-checkpoint", "0"}} {
		var out, errb strings.Builder
		full := append([]string{"run", "-db", path, "-customer-id", "1"}, args...)
		if code := Main(full, strings.NewReader(""), &out, &errb); code != exitUsage || !strings.Contains(errb.String(), "-sqlite-cache must be") {
			t.Errorf("%v: exit %d, %q; want a usage error", args, code, errb.String())
		}
	}
}

// runSweep runs forget sweep in-process and returns its exit status,
// stdout and stderr.
func runSweep(args ...string) (int, string, string) {
	return runMain(append([]string{"sweep"}, args...)...)
}

// TestSweepCommand: the command forgets exactly the inactive customers,
// a dry run changes nothing, -limit bounds a run, a re-run goes on where
// the last stopped, holds are counted apart, and bad usage changes
// nothing.
func TestSweepCommand(t *testing.T) {
	t.Parallel()
	bin := buildForget(t)
	dir := t.TempDir()
	db, mapping := sweepDatabase(t, bin, dir, commandCustomers)
	want, held := 0, 0
	for id := 1; id <= commandCustomers; id++ {
		if sweepInactive(id) && id%50 != 0 {
			if sweepHeld(id) {
				held++
			} else {
				want++
			}
		}
	}
	code, out, errs := runSweep("-db", db, "-schema", mapping, "-inactive", "3y", "-dry-run", "-progress", "none")
	if code != exitOK || !strings.Contains(out, fmt.Sprintf(": %d would be forgotten (dry run), %d held, 0 not found, 0 failed", want, held)) {
		t.Fatalf("dry run: %d\n%s%s", code, out, errs)
	}
	if all, some := checkSweepInvariantsN(t, db, false, commandCustomers); all || some {
		t.Fatal("a dry run forgot somebody")
	}
	report := filepath.Join(dir, "report.jsonl")
	code, out, errs = runSweep("-db", db, "-schema", mapping, "-inactive", "3y", "-limit", "100", "-progress", "none", "-report", report)
	if code != exitOK || !strings.HasPrefix(out, "100 customers inactive since ") {
		t.Fatalf("limit 100: %d\n%s%s", code, out, errs)
	}
	data, err := os.ReadFile(report)
	if err != nil || strings.Count(string(data), "\n") != 100 || strings.Contains(string(data), "forgot-") {
		t.Fatalf("report: %v, %d lines", err, strings.Count(string(data), "\n"))
	}
	code, out, errs = runSweep("-db", db, "-schema", mapping, "-inactive", "3y", "-progress", "lines")
	if code != exitOK || !strings.Contains(out, "held by chargeback: ") {
		t.Fatalf("the rest: %d\n%s%s", code, out, errs)
	}
	// Counted first: the progress shows the total, the customers this
	// run tried (nobody else sweeps), and the time left.
	var tried int
	fmt.Sscan(out, &tried)
	if tried == 0 || !strings.Contains(errs, fmt.Sprintf("/%d (100%%)", tried)) || !strings.Contains(errs, " left") {
		t.Errorf("the rest: %d tried; progress lines without that total or the time left:\n%s", tried, errs)
	}
	if all, _ := checkSweepInvariantsN(t, db, true, commandCustomers); !all {
		t.Fatal("not every inactive customer was forgotten")
	}
	code, out, _ = runSweep("-db", db, "-schema", mapping, "-inactive", "3y", "-progress", "none")
	if code != exitOK || !strings.HasPrefix(out, fmt.Sprintf("%d customers inactive since ", held)) {
		t.Fatalf("a third run should try only the held customers: %d\n%s", code, out)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-db", db, "-activity", "last_login"}, "needs -inactive"},
		{[]string{"-db", db, "-activity", "last_login", "-inactive", "0d"}, "must be positive"},
		{[]string{"-db", db, "-activity", "last_login", "-inactive", "soon"}, "not an age"},
		{[]string{"-db", db, "-activity", "last_login; DROP TABLE customers", "-inactive", "3y"}, "not a plain identifier"},
		{[]string{"-db", db, "-inactive", "3y"}, "activity columns"},
		{[]string{"-db", db, "-activity", "last_login", "-inactive", "3y", "-audit-table", ""}, "needs the audit table"},
		{[]string{"-db", db, "-activity", "last_login", "-inactive", "3y", "-chunk", "20000"}, "-chunk must be"},
		{[]string{"-db", db, "-activity", "last_login", "-inactive", "3y", "-limit", "-1"}, "-limit must not be negative"},
	} {
		if code, _, errs := runSweep(tc.args...); code != exitUsage || !strings.Contains(errs, tc.want) {
			t.Errorf("%q: exit %d, %q; want a usage error saying %q", tc.args, code, errs, tc.want)
		}
	}
	code, _, errs = runSweep("-db", db, "-activity", "no_such_column", "-inactive", "3y", "-progress", "none")
	// Verify finds it: a mapping that does not fit the database is bad usage.
	if code != exitUsage || !strings.Contains(errs, "activity column: column customers.no_such_column does not exist") {
		t.Errorf("unknown column: exit %d, %q", code, errs)
	}
}
