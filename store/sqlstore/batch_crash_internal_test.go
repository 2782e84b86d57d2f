package sqlstore

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	_ "modernc.org/sqlite"
)

// TestCrashDiscardedConnection: when a rollback cannot tell whether the
// connection left its transaction, close discards the connection; the
// statements prepared on it must be finalised first (modernc.org/sqlite
// crashes finalising one on a closed connection), and the pool must never
// hand the connection out again.
func TestCrashDiscardedConnection(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "d.db")+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if _, err := db.Exec("CREATE TABLE t (x INTEGER)"); err != nil {
		t.Fatal(err)
	}
	s, err := New(db, SQLite)
	if err != nil {
		t.Fatal(err)
	}
	for _, dry := range []bool{false, true} {
		tx, err := s.begin(ctx, dry)
		if err != nil {
			t.Fatal(err)
		}
		tx.reusePrepared()
		if _, err := tx.exec(ctx, "INSERT INTO t (x) VALUES (?)", 1); err != nil {
			t.Fatal(err)
		}
		var n int
		if err := tx.queryRow(ctx, "SELECT COUNT(*) FROM t").Scan(&n); err != nil {
			t.Fatal(err)
		}
		tx.done, tx.discard = true, true // as after a ROLLBACK that failed inside the transaction
		tx.close()
		tx.close() // twice is harmless
		// The only connection was discarded, and its transaction with it:
		// the next one is new and starts clean.
		if st := db.Stats(); st.MaxIdleClosed+st.MaxLifetimeClosed+st.MaxIdleTimeClosed != 0 || st.OpenConnections != 0 {
			t.Errorf("dry run %v: pool %+v, want the connection closed", dry, st)
		}
		if err := db.QueryRow("SELECT COUNT(*) FROM t").Scan(&n); err != nil || n != 0 {
			t.Errorf("dry run %v: %d rows, %v; want the discarded transaction rolled back", dry, n, err)
		}
	}
}

// BulkStats reports how many batch groups s committed set-based and how
// many it sent to the per-customer path after a set-based attempt.
func BulkStats(s *Store) (sets, fallbacks int64) {
	return s.bulk.sets.Load(), s.bulk.fallbacks.Load()
}

// InactiveSQL is the page statement of a sweep through activity column
// part, after a customer when cursor is set.
func InactiveSQL(s *Store, part int, cutoff time.Time, cursor bool) (string, []any) {
	cur := sweepCursor{part: part}
	if cursor {
		cur.at, cur.key = cutoff.Add(-time.Hour).UTC().Format("2006-01-02 15:04:05"), "5"
	}
	return s.inactiveSQL(part, cutoff, cur, 100)
}

// InactiveSQLAt is the page statement a sweep runs at cursor.
func InactiveSQLAt(s *Store, cutoff time.Time, cursor string) (string, []any) {
	cur, err := s.parseCursor(cursor)
	if err != nil {
		panic(err)
	}
	return s.inactiveSQL(cur.part, cutoff, cur, 100)
}

// ScrubbedError is s.scrubbedError, for tests.
func ScrubbedError(s *Store, err error, args ...any) error { return s.scrubbedError(err, args...) }

// SafeError is safeError, for tests.
func SafeError(err error) error { return safeError(err) }
