package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"time"
)

// restartWait bounds how long a background checkpoint holds SQLite's
// write lock while it waits for readers to leave the write-ahead log:
// forgets queue behind it, so a long read elsewhere must not stall them
// for the connection's whole busy timeout.
const restartWait = 50 * time.Millisecond

// passiveRounds bounds the catch-up checkpoints of one tick, each copying
// what the forgets wrote during the one before.
const passiveRounds = 8

// CheckpointSQLite copies db's write-ahead log into the database file
// every interval until ctx ends, so that the forgets on a large SQLite
// database do not do it themselves. A forget that crosses SQLite's
// wal_autocheckpoint threshold copies thousands of scattered pages before
// its caller hears back; run in the background, the copy costs a forget
// little (BenchmarkForgetScaleSQLite in the README).
//
// Each tick copies the log without blocking writers (a PASSIVE
// checkpoint, repeated while the forgets keep adding to it), then holds
// the write lock for at most 50 ms to copy the rest and start the log
// afresh (RESTART), so that it stops growing. A reader that holds an old
// snapshot keeps the log from restarting; while one does, restarts are
// tried less often (up to every 8 intervals), so writers are not
// held up at every tick. Keep wal_autocheckpoint
// set, above what the forgets write in an interval: it bounds the log
// should a tick fail, or a writer that never pauses keep the restart
// from taking the lock.
//
// db must be a SQLite database in WAL mode. CheckpointSQLite returns nil
// when ctx ends, or the first error of a checkpoint, after which SQLite's
// own checkpoints go on as before.
func CheckpointSQLite(ctx context.Context, db *sql.DB, interval time.Duration) error {
	if interval <= 0 {
		return fmt.Errorf("sqlstore: checkpoint interval %v: want a positive duration", interval)
	}
	// A reader holding an old snapshot keeps the log from restarting, and
	// each attempt holds the write lock for restartWait: after one fails,
	// the next waits twice as many ticks, up to maxRestartBackoff.
	backoff, skip := 1, 0
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		blocked, err := checkpointOnce(ctx, db, skip == 0)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			return err
		}
		switch {
		case skip > 0:
			skip--
		case blocked:
			backoff = min(2*backoff, maxRestartBackoff)
			skip = backoff
		default:
			backoff = 1
		}
		t.Reset(interval) // from the end of this tick: writers always get the interval
	}
}

// testRestartHook, when set by a test, hears of every restart tried.
var testRestartHook func(blocked bool)

// maxRestartBackoff is the most ticks a blocked restart waits for.
const maxRestartBackoff = 8

// errNotWAL is a checkpoint of a database whose journal is not a
// write-ahead log.
var errNotWAL = errors.New("sqlstore: the SQLite database is not in WAL mode (PRAGMA journal_mode=WAL)")

// checkpointOnce is one tick of CheckpointSQLite, on one connection,
// restarting the log if restart is set. blocked reports a restart that
// readers or the writer kept from finishing.
func checkpointOnce(ctx context.Context, db *sql.DB, restart bool) (blocked bool, err error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return false, fmt.Errorf("sqlstore: checkpoint: %w", err)
	}
	defer conn.Close()
	frames := 0
	for range passiveRounds {
		busy, log, err := walCheckpoint(ctx, conn, "PASSIVE")
		if err != nil {
			return false, err
		}
		if busy {
			return false, nil // another connection is checkpointing: next tick
		}
		if log-frames < 100 {
			frames = log
			break
		}
		frames = log
	}
	if frames == 0 || !restart {
		return false, nil // an empty log needs no restart
	}
	return restartLog(ctx, conn)
}

// walCheckpoint runs one checkpoint of the given mode. log is the number
// of frames in the log, as SQLite reports it.
func walCheckpoint(ctx context.Context, conn *sql.Conn, mode string) (busy bool, log int, err error) {
	var b, l, done int
	if err := conn.QueryRowContext(ctx, "PRAGMA wal_checkpoint("+mode+")").Scan(&b, &l, &done); err != nil {
		return false, 0, fmt.Errorf("sqlstore: checkpoint: %w", err)
	}
	if b == 0 && l < 0 {
		return false, 0, errNotWAL
	}
	return b != 0, l, nil
}

// restartLog copies what is left of the log and starts it afresh,
// waiting at most restartWait for the writer and the readers, then puts
// the connection's busy timeout back. A connection whose timeout cannot
// be put back is discarded rather than returned to the pool.
func restartLog(ctx context.Context, conn *sql.Conn) (blocked bool, err error) {
	var timeout int
	if err := conn.QueryRowContext(ctx, "PRAGMA busy_timeout").Scan(&timeout); err != nil {
		return false, fmt.Errorf("sqlstore: checkpoint: %w", err)
	}
	if _, err := conn.ExecContext(ctx, fmt.Sprintf("PRAGMA busy_timeout = %d", restartWait.Milliseconds())); err != nil {
		return false, fmt.Errorf("sqlstore: checkpoint: %w", err)
	}
	blocked, _, err = walCheckpoint(ctx, conn, "RESTART")
	if testRestartHook != nil {
		testRestartHook(blocked)
	}
	// Restored even when ctx has ended: the connection goes back to the pool.
	if _, rerr := conn.ExecContext(context.WithoutCancel(ctx), fmt.Sprintf("PRAGMA busy_timeout = %d", timeout)); rerr != nil {
		conn.Raw(func(any) error { return driver.ErrBadConn })
		return blocked, errors.Join(err, fmt.Errorf("sqlstore: checkpoint: %w", rerr))
	}
	return blocked, err
}
