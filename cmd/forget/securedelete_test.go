package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"os"
	"testing"
)

// TestSQLiteForgetLeavesNoBytes plants a note and a name, forgets their
// customer with the command, checkpoints, and reads the database file and
// its WAL byte by byte: neither value may be left. Without secure_delete
// the deleted note stayed in the page's free space ("grep -a" found it).
func TestSQLiteForgetLeavesNoBytes(t *testing.T) {
	t.Parallel()
	path := demoDB(t, 20)
	tag := rand.Text()[:12]
	note := "allergic to penicillin " + tag
	name := "Zebulon" + tag
	db, err := openSQLite(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{"INSERT INTO member_note (customer_id, note) VALUES (5, ?), (5, ?)", []any{note, note + " (again)"}},
		{"UPDATE customers SET lastname = ?, address1 = ? WHERE customer_id = 5", []any{name, name + " Street 1"}},
	} {
		if _, err := db.Exec(q.sql, q.args...); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	if code, _, errOut := runMain("run", "-db", path, "-customer-id", "5"); code != exitOK {
		t.Fatalf("run: exit %d: %s", code, errOut)
	}
	if got := sqlq(t, path, "SELECT count(*) FROM member_note WHERE customer_id = 5"); got != "0" {
		t.Fatalf("notes left: %s", got)
	}
	// The checkpoint copies the WAL into the file and empties the WAL, as
	// the last connection's close does.
	sqlq(t, path, "PRAGMA wal_checkpoint(TRUNCATE)")
	for _, file := range []string{path, path + "-wal", path + "-journal"} {
		data, err := os.ReadFile(file)
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range []string{tag, "penicillin"} {
			if bytes.Contains(data, []byte(v)) {
				t.Errorf("%s still holds %q after the forget and a checkpoint", file, v)
			}
		}
	}
}

// TestSQLiteEveryConnectionSecureDelete: secure_delete is a setting of
// each connection, so it is in the DSN, which the driver applies to every
// connection of the pool.
func TestSQLiteEveryConnectionSecureDelete(t *testing.T) {
	t.Parallel()
	db, err := openSQLite(demoDB(t, 1))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	var conns []*sql.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for i := range 4 {
		c, err := db.Conn(ctx) // each held open, so each is a new connection
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		var mode int
		if err := c.QueryRowContext(ctx, "PRAGMA secure_delete").Scan(&mode); err != nil {
			t.Fatal(err)
		}
		if mode != 1 {
			t.Errorf("connection %d: secure_delete = %d, want 1", i, mode)
		}
	}
}

// TestSQLiteWALLeavesNoBytes: while the database stays open (as under
// serve, whose background checkpoints do not empty the WAL), the WAL's
// old frames hold the pages as they were before the forget. The first
// write after a complete checkpoint truncates it (journal_size_limit 0);
// without that the planted note stayed in the WAL file.
func TestSQLiteWALLeavesNoBytes(t *testing.T) {
	t.Parallel()
	path := demoDB(t, 20)
	tag := rand.Text()[:12]
	db, err := openSQLite(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	// Writes first, so that the note's frame lies past those of the write
	// after the checkpoint, which overwrite the WAL from its start.
	for i := range 20 {
		if _, err := db.Exec("UPDATE customers SET city = ? WHERE customer_id = ?", "City", i+1); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.Exec("INSERT INTO member_note (customer_id, note) VALUES (5, ?)", "allergic to penicillin "+tag); err != nil {
		t.Fatal(err)
	}
	// The open connection keeps the WAL: run's close cannot remove it.
	if code, _, errOut := runMain("run", "-db", path, "-customer-id", "5"); code != exitOK {
		t.Fatalf("run: exit %d: %s", code, errOut)
	}
	if _, err := db.Exec("PRAGMA wal_checkpoint(RESTART)"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("INSERT INTO member_note (customer_id, note) VALUES (6, 'later')"); err != nil {
		t.Fatal(err)
	}
	for _, file := range []string{path, path + "-wal"} {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(data, []byte(tag)) {
			t.Errorf("%s still holds the planted note after the forget, a checkpoint and a write", file)
		}
	}
}
