package main

import (
	"bytes"
	"regexp"
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
	code, stdout, stderr := runMain("run", "-customer-id", "191", "-dry-run")
	if code != exitOK || !strings.Contains(stdout, `"customer_id": "191"`) || !strings.Contains(stdout, `"dry_run": true`) {
		t.Fatalf("from the environment: exit %d\n%s\n%s", code, stdout, stderr)
	}
	// The command line wins.
	t.Setenv("FORGET_SCHEMA", "/no/such/mapping.json")
	code, stdout, stderr = runMain("run", "-customer-id", "191", "-dry-run", "-schema", "")
	if code != exitOK || !strings.Contains(stdout, `"customer_id": "191"`) {
		t.Errorf("command line over environment: exit %d\n%s\n%s", code, stdout, stderr)
	}
	t.Setenv("FORGET_SCHEMA", "")
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
	t.Parallel()
	for flag, want := range map[string]string{"dsn": "FORGET_DSN", "nats": "FORGET_NATS", "keys": "FORGET_KEYS", "secret-file": "FORGET_SECRET_FILE", "batch-size": "FORGET_BATCH_SIZE"} {
		if got := envName(flag); got != want {
			t.Errorf("%s: %s, want %s", flag, got, want)
		}
	}
}

// TestProgressBar: on a terminal, the bar shows the count, the rate and
// the time left, which the rate so far predicts.
func TestProgressBar(t *testing.T) {
	t.Parallel()
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
		// Which activity counts decides whom a sweep erases; the
		// principal, the audit table and -dry-run what is recorded.
		{"FORGET_ACTIVITY", []string{"sweep", "-db", path, "-inactive", "1d"}},
		{"FORGET_PRINCIPAL", []string{"run", "-db", path, "-customer-id", "191"}},
		{"FORGET_AUDIT_TABLE", []string{"run", "-db", path, "-customer-id", "191"}},
		{"FORGET_DRY_RUN", []string{"run", "-db", path, "-customer-id", "191"}},
		{"FORGET_LIMIT", []string{"sweep", "-db", path, "-inactive", "1d", "-activity", "last_login"}},
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

// TestEnvironmentSetsOnlyOperationalFlags enumerates every flag of every
// subcommand (from its -h) and checks that the environment may set it
// only when it is a connection or operational setting: a flag that
// decides whom to erase, what to spare or what is written as evidence is
// never in envSettable, and a variable for any flag outside it is
// refused (exit 2, naming it) before the command does anything.
func TestEnvironmentSetsOnlyOperationalFlags(t *testing.T) {
	decisive := map[string]bool{
		"customer-id": true, "subscription-id": true, "orderid": true, "keep": true, "batch": true,
		"from": true, "ignore-hold": true, "inactive": true, "limit": true, "activity": true,
		"principal": true, "dry-run": true, "audit-table": true, "since": true,
	}
	flagLine := regexp.MustCompile(`(?m)^  -([a-z0-9-]+)`)
	seen := map[string]bool{}
	for name := range commands {
		_, stdout, stderr := runMain(name, "-h")
		flags := flagLine.FindAllStringSubmatch(stdout+stderr, -1)
		if flagless := name == "schema" || name == "version" || name == "completion"; len(flags) == 0 && !flagless {
			t.Errorf("%s -h lists no flags:\n%s", name, stderr)
		}
		for _, m := range flags {
			flag := m[1]
			seen[flag] = true
			if envSettable[flag] {
				if decisive[flag] {
					t.Errorf("%s -%s decides whom to erase or what is recorded, yet the environment may set it", name, flag)
				}
				continue
			}
			env := envName(flag)
			t.Setenv(env, "1")
			code, out, errOut := runMain(name)
			if code != exitUsage || !strings.Contains(errOut, "$"+env+" is set") {
				t.Errorf("%s with $%s set: exit %d, want %d naming it\n%s%s", name, env, code, exitUsage, out, errOut)
			}
			t.Setenv(env, "")
		}
	}
	for flag := range decisive {
		if !seen[flag] {
			t.Errorf("no subcommand has -%s: keep this test's list current", flag)
		}
	}
}

// TestProgressFitsTheTerminal: on a known width the bar line never wraps
// (it would break the \r redraw): the bar shrinks, then goes, then the
// text is cut.
func TestProgressFitsTheTerminal(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	for _, width := range []int{200, 80, 40, 30, 12, 1} {
		var w bytes.Buffer
		p := newProgress(&w, "bar", 1000000, true, clock)
		p.width = func() int { return width }
		now = now.Add(10 * time.Second)
		p.update(250000)
		line := strings.TrimSuffix(strings.TrimPrefix(w.String(), "\r"), "\033[K")
		if len(line) > width-1 {
			t.Errorf("width %d: %d columns: %q", width, len(line), line)
		}
		if width >= 60 && !strings.Contains(line, "[#") {
			t.Errorf("width %d: no bar: %q", width, line)
		}
		if width >= 40 && !strings.Contains(line, "250000/1000000") {
			t.Errorf("width %d: no count: %q", width, line)
		}
	}
	var w bytes.Buffer
	p := newProgress(&w, "bar", -1, true, clock)
	p.width = func() int { return 5 }
	p.update(123456)
	if got := w.String(); got != "\r1234\033[K" {
		t.Errorf("no total, 5 columns: %q", got)
	}
}
