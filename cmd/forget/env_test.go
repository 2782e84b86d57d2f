package main

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// TestFlagsFromEnvironment: every flag may come from FORGET_<FLAG>, the
// command line winning; a database named on the command line wins over
// one in the environment; a bad value from the environment is a usage
// error naming the variable.
func TestFlagsFromEnvironment(t *testing.T) {
	path := demoDB(t, 200)
	t.Setenv("FORGET_DB", path)
	t.Setenv("FORGET_PRINCIPAL", "ops:env")
	t.Setenv("FORGET_DRY_RUN", "true")
	code, stdout, stderr := runMain("run", "-customer-id", "191")
	if code != exitOK || !strings.Contains(stdout, `"principal": "ops:env"`) || !strings.Contains(stdout, `"dry_run": true`) {
		t.Fatalf("from the environment: exit %d\n%s\n%s", code, stdout, stderr)
	}
	// The command line wins.
	code, stdout, stderr = runMain("run", "-customer-id", "191", "-principal", "ops:argv")
	if code != exitOK || !strings.Contains(stdout, `"principal": "ops:argv"`) {
		t.Errorf("command line over environment: exit %d\n%s\n%s", code, stdout, stderr)
	}
	// -dsn on the command line wins over $FORGET_DB, as -db does over
	// $FORGET_DSN: not "give -db or -dsn, not both".
	code, _, stderr = runMain("run", "-dsn", "postgres://nobody@127.0.0.1:1/none?sslmode=disable&connect_timeout=1", "-customer-id", "191")
	if code != exitFailed || !strings.Contains(stderr, "connect:") {
		t.Errorf("-dsn with $FORGET_DB: exit %d, %s", code, stderr)
	}
	t.Setenv("FORGET_DB", "")
	t.Setenv("FORGET_DSN", "postgres://nobody:s3cretpw@127.0.0.1:1/none?sslmode=disable&connect_timeout=1")
	code, stdout, stderr = runMain("run", "-db", path, "-customer-id", "192")
	if code != exitOK || !strings.Contains(stdout, `"customer_id": "192"`) {
		t.Errorf("-db with $FORGET_DSN: exit %d\n%s\n%s", code, stdout, stderr)
	}
	// $FORGET_DSN alone is used, and messages name it, never its password.
	code, _, stderr = runMain("run", "-customer-id", "192")
	if code != exitFailed || !strings.Contains(stderr, "connect:") || strings.Contains(stderr, "s3cretpw") {
		t.Errorf("$FORGET_DSN: exit %d, %s", code, stderr)
	}
	t.Setenv("FORGET_DSN", "not a url")
	if code, _, stderr = runMain("run", "-customer-id", "192"); code != exitFailed || !strings.Contains(stderr, "$FORGET_DSN: not a URL") {
		t.Errorf("a bad $FORGET_DSN: exit %d, %s", code, stderr)
	}
	t.Setenv("FORGET_DSN", "")
	t.Setenv("FORGET_BATCH_SIZE", "many")
	if code, _, stderr = runMain("run", "-db", path, "-customer-id", "193"); code != exitUsage || !strings.Contains(stderr, `"FORGET_BATCH_SIZE"`) {
		t.Errorf("a bad $FORGET_BATCH_SIZE: exit %d, %s", code, stderr)
	}
	t.Setenv("FORGET_BATCH_SIZE", "")
	// Dashes are underscores: -secret-file is $FORGET_SECRET_FILE, -nats
	// $FORGET_NATS.
	t.Setenv("FORGET_NATS", "nats://127.0.0.1:1")
	t.Setenv("FORGET_SECRET_FILE", "/no/such/secret")
	if code, _, stderr = runMain("deliver", "-name", "crm", "-webhook", "https://example.com/hook"); code != exitUsage || !strings.Contains(stderr, "-secret-file: open /no/such/secret") {
		t.Errorf("$FORGET_SECRET_FILE: exit %d, %s", code, stderr)
	}
}

func TestEnvName(t *testing.T) {
	for flag, want := range map[string]string{"dsn": "FORGET_DSN", "nats": "FORGET_NATS", "keys": "FORGET_KEYS", "secret-file": "FORGET_SECRET_FILE", "batch-size": "FORGET_BATCH_SIZE"} {
		if got := envName(flag); got != want {
			t.Errorf("%s: %s, want %s", flag, got, want)
		}
	}
}

// TestProgressBar: on a terminal, the bar shows the count, the rate and
// the time left, which the rate so far predicts.
func TestProgressBar(t *testing.T) {
	var w bytes.Buffer
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	p := newProgress(&w, "auto", 1000, true, clock)
	now = now.Add(10 * time.Second)
	p.update(250)
	if got, want := w.String(), "\r[#######.......................] 250/1000  25/s, 30s left\033[K"; got != want {
		t.Errorf("bar %q, want %q", got, want)
	}
	// Redrawn at most ten times a second, but for the last.
	w.Reset()
	p.update(260)
	if w.Len() != 0 {
		t.Errorf("redrawn at once: %q", w.String())
	}
	now = now.Add(30 * time.Second)
	p.finish(1000)
	if got, want := w.String(), "\r[##############################] 1000/1000  25/s, 0s left\033[K\n"; got != want {
		t.Errorf("finish %q, want %q", got, want)
	}
	// Without a total (a sweep): the count and the rate only.
	w.Reset()
	p = newProgress(&w, "bar", -1, false, clock)
	now = now.Add(2 * time.Second)
	p.update(500)
	if got, want := w.String(), "\r500  250/s\033[K"; got != want {
		t.Errorf("no total: %q, want %q", got, want)
	}
	// Not a terminal: lines, every tenth.
	w.Reset()
	p = newProgress(&w, "auto", 100, false, clock)
	now = now.Add(4 * time.Second)
	p.update(50)
	p.update(55)
	if got, want := w.String(), "progress: 50/100 (50%), 12/s, 4s left\n"; got != want {
		t.Errorf("lines %q, want %q", got, want)
	}
}

// TestEnvironmentNeverChoosesWhomToErase: a variable left in the
// environment for a flag that says whom to erase or what to spare is
// refused, naming it, and nothing is erased; the same flag on the
// command line wins over it.
func TestEnvironmentNeverChoosesWhomToErase(t *testing.T) {
	path := demoDB(t, 200)
	username := func(id string) string {
		t.Helper()
		return sqlq(t, path, "SELECT username FROM customers WHERE customer_id = "+id)
	}
	before := username("191")
	for _, tc := range []struct {
		env  string
		args []string
	}{
		{"FORGET_CUSTOMER_ID", []string{"run", "-db", path}},
		{"FORGET_ORDERID", []string{"run", "-db", path}},
		{"FORGET_KEEP", []string{"run", "-db", path, "-customer-id", "191"}},
		{"FORGET_IGNORE_HOLD", []string{"run", "-db", path, "-customer-id", "191"}},
		{"FORGET_BATCH", []string{"run", "-db", path}},
		{"FORGET_INACTIVE", []string{"sweep", "-db", path, "-activity", "last_login"}},
	} {
		t.Run(tc.env, func(t *testing.T) {
			t.Setenv(tc.env, "191")
			code, stdout, stderr := runMain(tc.args...)
			if code != exitUsage || !strings.Contains(stderr, "$"+tc.env+" is set") {
				t.Errorf("exit %d, want %d naming $%s\n%s\n%s", code, exitUsage, tc.env, stdout, stderr)
			}
			if got := username("191"); got != before {
				t.Errorf("customer 191 changed: %q → %q", before, got)
			}
		})
	}
	t.Setenv("FORGET_CUSTOMER_ID", "192")
	code, stdout, stderr := runMain("run", "-db", path, "-customer-id", "191", "-dry-run")
	if code != exitOK || !strings.Contains(stdout, `"customer_id": "191"`) {
		t.Errorf("-customer-id on the command line with $FORGET_CUSTOMER_ID set: exit %d\n%s\n%s", code, stdout, stderr)
	}
}
