package sqlstore

import (
	"context"
	"database/sql"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"
)

// TestCheckpointRestartBacksOff: while a reader holds an old snapshot,
// every restart fails after holding the write lock for restartWait. Tried
// at every 10 ms tick, writers would wait most of the time; backing off,
// two seconds of ticks try it about 14 times, not 30.
func TestCheckpointRestartBacksOff(t *testing.T) {
	var tried, blocked atomic.Int64
	testRestartHook = func(b bool) {
		tried.Add(1)
		if b {
			blocked.Add(1)
		}
	}
	defer func() { testRestartHook = nil }()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "b.db")+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=wal_autocheckpoint(0)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec("CREATE TABLE t (v)"); err != nil {
		t.Fatal(err)
	}
	rtx, err := db.BeginTx(context.Background(), &sql.TxOptions{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer rtx.Rollback()
	if err := rtx.QueryRow("SELECT count(*) FROM t").Scan(new(int)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	go func() {
		for ctx.Err() == nil {
			db.ExecContext(ctx, "INSERT INTO t VALUES (randomblob(100))")
			time.Sleep(time.Millisecond)
		}
	}()
	s, err := New(db, SQLite)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CheckpointSQLite(ctx, 10*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if blocked.Load() == 0 {
		t.Fatalf("%d restarts tried, none blocked: the held reader did not hold the log", tried.Load())
	}
	if n := tried.Load(); n > 20 {
		t.Errorf("%d restarts tried in two seconds of 10 ms ticks behind a held reader; want at most 20 (backing off)", n)
	}
}
