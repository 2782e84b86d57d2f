package main

import (
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
)

const crashCustomers = 3000

// TestCrashSafety kills `forget run -batch` with SIGKILL at random moments,
// at least 3 times (20 under FORGET_LONG=1), and after each kill checks the database as a restart
// finds it: every customer fully forgotten or fully intact, the audit
// table naming exactly the forgotten customers, and SQLite's integrity
// check passing.
func TestCrashSafety(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("kills a real process many times")
	}
	bin := buildForget(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "crash.db")
	if out, err := exec.Command(bin, "init", "-db", db, "-demo", strconv.Itoa(crashCustomers)).CombinedOutput(); err != nil {
		t.Fatalf("init: %v\n%s", err, out)
	}
	// A kill must land while a run is under way: draw its moment within
	// how long an uninterrupted run of the same batch takes here (on a
	// scratch copy), which varies with the machine and the build.
	runTime := timeCrashRun(t, bin, dir)
	rnd := rand.New(rand.NewPCG(20261129, 1))
	// Aim a fifth past the minimum: a kill can land as a run completes.
	target := long.Count(t, 3, 24)
	kills, completed := 0, 0
	for round := 0; kills < target && round < 200; round++ {
		// Each round starts further along, so kills land on customers not
		// yet forgotten as well as on repeated forgets.
		csv := filepath.Join(dir, fmt.Sprintf("batch-%d.csv", round))
		var b strings.Builder
		b.WriteString("customer_id\n")
		offset := (round * 137) % crashCustomers
		for i := range crashCustomers {
			fmt.Fprintf(&b, "%d\n", 1+(offset+i)%crashCustomers)
		}
		if err := os.WriteFile(csv, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(bin, "run", "-db", db, "-batch", csv, "-progress", "none")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
			completed++
		case <-time.After(runTime/5 + time.Duration(rnd.Int64N(int64(runTime*4/5)))): // the first fifth is mostly start-up
			cmd.Process.Signal(syscall.SIGKILL)
			err := <-done
			if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
				kills++
			} else if err == nil {
				completed++
			}
		}
		checkCrashInvariants(t, db, false)
		if t.Failed() {
			t.Fatalf("invariants broken after round %d (%d kills)", round, kills)
		}
	}
	if kills < target*5/6 {
		t.Fatalf("only %d kills landed; the batch finishes too fast to test", kills)
	}
	// A last run to the end forgets everyone; the trail names everyone.
	if out, err := exec.Command(bin, "run", "-db", db, "-batch", filepath.Join(dir, "batch-0.csv"), "-progress", "none").CombinedOutput(); err != nil {
		t.Fatalf("final run: %v\n%s", err, out)
	}
	checkCrashInvariants(t, db, true)
	t.Logf("%d kills survived, %d runs completed", kills, completed)
}

// timeCrashRun returns how long `forget run -batch` takes to forget every
// customer of a fresh demo database of crashCustomers.
func timeCrashRun(t *testing.T, bin, dir string) time.Duration {
	t.Helper()
	db := filepath.Join(dir, "timing.db")
	csv := filepath.Join(dir, "timing.csv")
	var b strings.Builder
	b.WriteString("customer_id\n")
	for i := range crashCustomers {
		fmt.Fprintf(&b, "%d\n", i+1)
	}
	if err := os.WriteFile(csv, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bin, "init", "-db", db, "-demo", strconv.Itoa(crashCustomers)).CombinedOutput(); err != nil {
		t.Fatalf("init: %v\n%s", err, out)
	}
	start := time.Now()
	if out, err := exec.Command(bin, "run", "-db", db, "-batch", csv, "-progress", "none").CombinedOutput(); err != nil {
		t.Fatalf("timing run: %v\n%s", err, out)
	}
	d := time.Since(start)
	t.Logf("an uninterrupted run takes %s", d)
	return d
}

// checkCrashInvariants returns the ids of the customers forgotten.
func checkCrashInvariants(t *testing.T, path string, wantAll bool) map[string]bool {
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
	rows, err := db.Query(`SELECT c.customer_id, c.username, c.firstname, c.lastname, c.phone, c.cryptpass,
		(SELECT COUNT(*) FROM member_auth a WHERE a.customer_id = c.customer_id),
		(SELECT COUNT(*) FROM member_note n WHERE n.customer_id = c.customer_id)
		FROM customers c`)
	if err != nil {
		t.Fatal(err)
	}
	forgotten := map[string]bool{}
	n := 0
	for rows.Next() {
		var id, username, first, last, phone, crypt string
		var auth, notes int
		if err := rows.Scan(&id, &username, &first, &last, &phone, &crypt, &auth, &notes); err != nil {
			t.Fatal(err)
		}
		n++
		gone := strings.HasPrefix(username, "forgot-") && first == "" && last == "" && phone == "" && len(crypt) == 32 && auth == 0 && notes == 0
		intact := !strings.HasPrefix(username, "forgot-") && first != "" && last != "" && phone != "" && strings.HasPrefix(crypt, "$2y$") && auth == 2 && notes == 3
		switch {
		case gone:
			forgotten[id] = true
		case !intact:
			t.Errorf("customer %s is half forgotten: pseudonym %v, names present %v/%v, rows %d/%d",
				id, strings.HasPrefix(username, "forgot-"), first != "", last != "", auth, notes)
		case wantAll:
			t.Errorf("customer %s was not forgotten by a complete run", id)
		}
	}
	rows.Close()
	if n != crashCustomers {
		t.Fatalf("%d customers, want %d", n, crashCustomers)
	}
	audited := map[string]bool{}
	arows, err := db.Query("SELECT DISTINCT customer_id FROM forget_audit")
	if err != nil {
		t.Fatal(err)
	}
	for arows.Next() {
		var id string
		arows.Scan(&id)
		audited[id] = true
	}
	arows.Close()
	for id := range forgotten {
		if !audited[id] {
			t.Errorf("customer %s is forgotten but has no audit record", id)
		}
	}
	for id := range audited {
		if !forgotten[id] {
			t.Errorf("customer %s has an audit record but is not forgotten", id)
		}
	}
	return forgotten
}
