package main

import (
	"bytes"
	"context"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/forgetkit/forget"
)

// TestFlagGivenTwiceIsRefused: the flag package keeps the last of a
// repeated flag, so "-customer-id 191 -customer-id 192" erased 192 alone
// without a word (the HTTP handler refuses a repeated customer_id). Any
// flag given twice, in any spelling, is a usage error and nothing changes.
func TestFlagGivenTwiceIsRefused(t *testing.T) {
	t.Parallel()
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

// hostileSQLModes are DSN query strings that try to leave a MySQL
// session non-strict past the command's check (a repeat, another
// spelling of the variable, an expression that contains a strict mode's
// name).
var hostileSQLModes = []string{
	"?sql_mode=%27TRADITIONAL%27&sql_mode=%27%27",
	"?SQL_MODE=%27%27",
	"?Sql_Mode=%27ANSI%27",
	"?@@sql_mode=%27%27",
	"?@@session.sql_mode=%27%27",
	"?sql_mode=REPLACE(%27STRICT_ALL_TABLES%27,%27STRICT_ALL_TABLES%27,%27%27)",
	"?sql_mode=%27NO_ZERO_DATE%27%2C%27STRICT_ALL_TABLES%27",
	"?sql_mode=STRICT_ALL_TABLES%27",
}

// TestMySQLSessionStaysStrict: whatever the DSN's query string says, a
// session the command opens is strict, or the DSN is refused before
// connecting. Each of hostileSQLModes used to give a session that cuts
// values silently.
func TestMySQLSessionStaysStrict(t *testing.T) {
	t.Parallel()
	base := mysqlURL(t)
	for _, q := range hostileSQLModes {
		db, _, err := openDSN(base + q)
		if err != nil {
			continue // refused: fine
		}
		var mode string
		err = db.QueryRowContext(context.Background(), "SELECT @@SESSION.sql_mode").Scan(&mode)
		db.Close()
		if err != nil {
			continue // the server refused the session: nothing is written through it
		}
		if !strings.Contains(mode, "STRICT_TRANS_TABLES") && !strings.Contains(mode, "STRICT_ALL_TABLES") {
			t.Errorf("DSN query %q: the session's sql_mode %q is not strict", q, mode)
		}
	}
}

// TestMySQLConfigRefusesSQLModeEvasions: each of hostileSQLModes is
// refused before connecting (no server needed); plain strict lists pass.
func TestMySQLConfigRefusesSQLModeEvasions(t *testing.T) {
	t.Parallel()
	for _, q := range hostileSQLModes {
		u, err := url.Parse("mysql://app@db/shop" + q)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := mysqlConfig(u); err == nil || !strings.Contains(err.Error(), "sql_mode") {
			t.Errorf("%s: err %v, want a refusal naming sql_mode", q, err)
		}
	}
	for _, q := range []string{"?sql_mode=%27STRICT_ALL_TABLES%27", "?sql_mode=%27traditional%27", "?sql_mode=%27STRICT_TRANS_TABLES,NO_ZERO_DATE%27"} {
		u, _ := url.Parse("mysql://app@db/shop" + q)
		if _, err := mysqlConfig(u); err != nil {
			t.Errorf("%s: %v", q, err)
		}
	}
}

// TestSQLitePathCannotSetPragmas: -db is a file name, never a URI, so a
// name that reads like one ("file:app.db?_pragma=secure_delete(0)")
// opens the file of that name with the command's own settings, and a
// name that only would name app.db as a URI does not open app.db.
func TestSQLitePathCannotSetPragmas(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	if code, _, stderr := runMain("init", "-db", "app.db", "-demo", "10"); code != exitOK {
		t.Fatalf("init: %s", stderr)
	}
	for _, name := range []string{"app.db?_pragma=secure_delete(0)&_pragma=foreign_keys(0)", "file:app.db?_pragma=secure_delete(0)", "app.db#x", "app.db "} {
		code, _, stderr := runMain("inspect", "-db", name)
		if code == exitOK || !strings.Contains(stderr, "no such file") {
			t.Errorf("-db %q: exit %d, want no such file\n%s", name, code, stderr)
		}
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o600); err != nil {
			t.Fatal(err)
		}
		db, err := openSQLite(name)
		if err != nil {
			t.Fatal(err)
		}
		var secure, fk int
		if err := db.QueryRow("PRAGMA secure_delete").Scan(&secure); err != nil {
			t.Fatal(err)
		}
		if err := db.QueryRow("PRAGMA foreign_keys").Scan(&fk); err != nil {
			t.Fatal(err)
		}
		var tables int
		db.QueryRow("SELECT count(*) FROM sqlite_master").Scan(&tables)
		db.Close()
		if secure != 1 || fk != 1 || tables != 0 {
			t.Errorf("-db %q: secure_delete %d, foreign_keys %d, %d tables (want 1, 1 and the empty file, not app.db)", name, secure, fk, tables)
		}
	}
}

// TestEmptyFileIsNotADatabase: every command given an empty -db file
// refuses it alike and leaves it empty. SQLite took it for an empty
// database: lint and inspect wrote a WAL-mode header into it (0 → 4096
// bytes), a read-only command changing a file named by mistake.
func TestEmptyFileIsNotADatabase(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "empty.db")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"inspect"}, {"lint"}, {"inspect", "-customer-id", "1"},
		{"run", "-customer-id", "1", "-dry-run"}, {"sweep", "-inactive", "1d", "-activity", "last_login", "-dry-run"},
	} {
		code, _, stderr := runMain(append(args, "-db", path)...)
		if code == exitOK || !strings.Contains(stderr, "the file is empty, not a SQLite database") {
			t.Errorf("%q: exit %d\n%s", args, code, stderr)
		}
		if fi, err := os.Stat(path); err != nil || fi.Size() != 0 {
			t.Fatalf("%q changed the empty file: %v, %d bytes", args, err, fi.Size())
		}
	}
	if code, _, stderr := runMain("init", "-db", path); code != exitOK {
		t.Errorf("init on the empty file: exit %d\n%s", code, stderr)
	}
}

// TestReadOnlyDatabaseFile: on a file nobody may write (immutable, so
// that root is refused too), inspect and lint work and say the same as
// on a writable copy; a forget fails with a clear error and nothing
// changes. Skipped where chattr +i is not allowed.
func TestReadOnlyDatabaseFile(t *testing.T) {
	t.Parallel()
	path := demoDB(t, 200)
	_, wantLint, _ := runMain("lint", "-db", path)
	if out, err := exec.Command("chattr", "+i", path).CombinedOutput(); err != nil {
		t.Skipf("chattr +i: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("chattr", "-i", path).Run() })
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if code, stdout, stderr := runMain("lint", "-db", path); code != exitOK || stdout != wantLint {
		t.Errorf("lint: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if code, stdout, stderr := runMain("inspect", "-db", path, "-customer-id", "191"); code != exitOK || !strings.Contains(stdout, "member_note") {
		t.Errorf("inspect: exit %d\n%s\n%s", code, stdout, stderr)
	}
	code, _, stderr := runMain("run", "-db", path, "-customer-id", "191")
	if code == exitOK || !strings.Contains(stderr, "readonly database") {
		t.Errorf("run: exit %d\n%s", code, stderr)
	}
	after, _ := os.ReadFile(path)
	if !bytes.Equal(before, after) {
		t.Error("the read-only file changed")
	}
}

// renameOnRead renames next over path after the first byte is read.
type renameOnRead struct {
	f          *os.File
	next, path string
	done       bool
}

func (r *renameOnRead) Read(p []byte) (int, error) {
	n, err := r.f.Read(p[:1])
	if !r.done {
		r.done = true
		if err := os.Rename(r.next, r.path); err != nil {
			return n, err
		}
	}
	return n, err
}

// TestKeysFileReplacedMidRead: a keys file replaced by rename while it
// is read (the README's way) gives the old file's keys whole, never a
// mix; the next read gives the new file's.
func TestKeysFileReplacedMidRead(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path, next := filepath.Join(dir, "keys"), filepath.Join(dir, "keys.new")
	const oldKey, newKey = "old-key-0123456789abcdef", "new-key-0123456789abcdef"
	if err := os.WriteFile(path, []byte("alice:"+oldKey+"\nbob:"+oldKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(next, []byte("alice:"+newKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	kt, err := forget.ParseAPIKeyFile(&renameOnRead{f: f, next: next, path: path})
	if err != nil {
		t.Fatal(err)
	}
	auth := func(kt *forget.APIKeys, user, key string) bool {
		r := httptest.NewRequest("PATCH", "/", nil)
		r.Header.Set("api-username", user)
		r.Header.Set("api-key", key)
		_, err := kt.Authenticate(r)
		return err == nil
	}
	if kt.Len() != 2 || !auth(kt, "alice", oldKey) || !auth(kt, "bob", oldKey) || auth(kt, "alice", newKey) {
		t.Errorf("read while replaced: %d keys; want the old file's two", kt.Len())
	}
	kt, err = readKeys(path)
	if err != nil {
		t.Fatal(err)
	}
	if kt.Len() != 1 || !auth(kt, "alice", newKey) {
		t.Errorf("after the rename: %d keys; want the new file's one", kt.Len())
	}
}
