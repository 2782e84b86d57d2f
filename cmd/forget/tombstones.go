package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/forgetkit/forget"
	"github.com/forgetkit/forget/store/sqlstore"
)

// envTombstoneKeys names the variable that may hold -tombstone-keys: a
// path, never the keys themselves, which stay out of argv and the
// environment alike.
const envTombstoneKeys = "FORGET_TOMBSTONE_KEYS_FILE"

// readTombstoneKeys reads a tombstone key file. Its errors name the file
// and the line, never a secret.
func readTombstoneKeys(path string) ([]forget.TombstoneKey, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, usagef("-tombstone-keys: %v", err)
	}
	defer f.Close()
	keys, err := forget.ParseTombstoneKeys(f)
	if err != nil {
		return nil, usagef("-tombstone-keys %s: %v", path, err)
	}
	return keys, nil
}

// tombstoneOptions adds the store options of -tombstone-keys: the keys,
// and the tombstone table beside the audit table.
func (d *dbFlags) tombstoneOptions(opts []sqlstore.Option) ([]sqlstore.Option, error) {
	if d.tombstoneKeys == "" {
		return opts, nil
	}
	keys, err := readTombstoneKeys(d.tombstoneKeys)
	if err != nil {
		return nil, err
	}
	return append(opts, sqlstore.WithTombstoneKeys(keys...), sqlstore.WithTombstoneTable(tombstoneTable(d.auditTable))), nil
}

// tombstoneTable is the tombstone table beside the audit table (in its
// schema, when its name is qualified).
func tombstoneTable(auditTable string) string {
	if i := strings.LastIndexByte(auditTable, '.'); i > 0 {
		return auditTable[:i+1] + sqlstore.DefaultTombstoneTable
	}
	return sqlstore.DefaultTombstoneTable
}

// createTombstones creates the tombstone table beside auditTable unless
// it exists, and says so.
func createTombstones(ctx context.Context, w io.Writer, db *sql.DB, d sqlstore.Dialect, auditTable string) error {
	table := tombstoneTable(auditTable)
	created, err := sqlstore.CreateTombstoneTable(ctx, db, d, table)
	if err != nil {
		return err
	}
	if created {
		fmt.Fprintf(w, "created the tombstone table %s\n", table)
	}
	return nil
}

// createTombstonesIn creates the default tombstone table in the SQLite
// database at path (forget init).
func createTombstonesIn(ctx context.Context, path string) error {
	db, err := openSQLite(path)
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = sqlstore.CreateTombstoneTable(ctx, db, sqlstore.SQLite, "")
	return err
}
