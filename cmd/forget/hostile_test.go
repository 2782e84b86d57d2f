package main

import (
	"strings"
	"testing"
)

// TestFlagGivenTwiceIsRefused: the flag package keeps the last of a
// repeated flag, so "-customer-id 191 -customer-id 192" erased 192 alone
// without a word (the HTTP handler refuses a repeated customer_id). Any
// flag given twice, in any spelling, is a usage error and nothing changes.
func TestFlagGivenTwiceIsRefused(t *testing.T) {
	path := demoDB(t, 200)
	username := func(id string) string {
		t.Helper()
		return sqlq(t, path, "SELECT username FROM customers WHERE customer_id = "+id)
	}
	before191, before192 := username("191"), username("192")
	for _, args := range [][]string{
		{"run", "-db", path, "-customer-id", "191", "-customer-id", "192"},
		{"run", "-db", path, "-customer-id=191", "--customer-id", "192"},
		{"run", "-db", path, "-customer-id", "192", "-keep", "firstname", "-keep", "username"},
		{"run", "-db", path, "-customer-id", "192", "-dry-run", "-dry-run=false"},
		{"run", "-db", path, "-db", path, "-customer-id", "192"},
	} {
		code, stdout, stderr := runMain(args...)
		if code != exitUsage || !strings.Contains(stderr, "is given more than once") {
			t.Errorf("%q: exit %d, want %d\n%s\n%s", args, code, exitUsage, stdout, stderr)
		}
	}
	if username("191") != before191 || username("192") != before192 {
		t.Fatal("a refused command changed a customer")
	}
	// A value that looks like a flag is a value, not a repeat.
	code, stdout, stderr := runMain("run", "-db", path, "-keep", "-customer-id", "-customer-id", "192", "-dry-run")
	if strings.Contains(stderr, "more than once") {
		t.Errorf("a flag's value counted as a flag: exit %d\n%s\n%s", code, stdout, stderr)
	}
}

// TestEnvironmentOddSpellingsSetNothing: only FORGET_<FLAG> in capitals is
// read; FORGET_Activity, forget_activity and the like are not, so they
// can neither set -activity nor be mistaken for it, and with -activity on
// the command line too, the command line decides.
func TestEnvironmentOddSpellingsSetNothing(t *testing.T) {
	path := demoDB(t, 200)
	for _, args := range [][]string{
		{"sweep", "-db", path, "-inactive", "1d", "-dry-run"},
		{"sweep", "-db", path, "-inactive", "1d", "-activity", "last_login", "-dry-run"},
	} {
		code0, want, wantErr := runMain(args...)
		for _, env := range []string{"FORGET_Activity", "forget_activity", "Forget_ACTIVITY", "FORGET_ACTIVITY_", "FORGETACTIVITY", "FORGET__ACTIVITY", " FORGET_ACTIVITY"} {
			t.Run(env, func(t *testing.T) {
				t.Setenv(env, "customer_id")
				code, stdout, stderr := runMain(args...)
				if code != code0 || stdout != want || stderr != wantErr {
					t.Errorf("$%s changed %q: exit %d (was %d)\n%s\n%s", env, args, code, code0, stdout, stderr)
				}
			})
		}
	}
	// The exact name with -activity on the command line: the command
	// line decides (as -customer-id over $FORGET_CUSTOMER_ID).
	t.Setenv("FORGET_ACTIVITY", "customer_id")
	code, _, stderr := runMain("sweep", "-db", path, "-inactive", "1d", "-activity", "last_login", "-dry-run")
	if code == exitOK || !strings.Contains(stderr, "customers.last_login does not exist") {
		t.Errorf("-activity with $FORGET_ACTIVITY: exit %d\n%s", code, stderr)
	}
}
