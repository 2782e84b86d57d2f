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
// write lock while it waits for readers to leave the write-ahead log, or
// for another process's writer: forgets queue behind it, so a long read
// elsewhere must not stall them for the connection's whole busy timeout.
const restartWait = 50 * time.Millisecond

// passiveRounds bounds the catch-up checkpoints of one tick, each copying
// what the forgets wrote during the one before.
const passiveRounds = 8

// maxRestartBackoff is the most ticks a blocked restart waits for.
const maxRestartBackoff = 8

// testRestartHook, when set by a test, hears of every restart tried.
var testRestartHook func(blocked bool)

// CheckpointSQLite copies the write-ahead log of the store's SQLite
// database into the database file every interval until ctx ends, so that
// forgets on a large database do not stop to do it: a forget that
// crosses wal_autocheckpoint copies thousands of scattered pages before
// it answers.
//
// Each tick copies the log without blocking the forgets (PASSIVE, again
// while they keep adding to it), then takes its turn among the store's
// write transactions to copy the rest and start the log afresh (RESTART),
// waiting at most 50 ms for readers or another process's writer. While a
// reader holds an old snapshot, a restart is tried at most every 9th
// tick. The interval runs from the end of a tick. Keep wal_autocheckpoint
// set above what the forgets write in an interval: it bounds the log
// should the checkpoints stop or fall behind.
//
// A failed tick is logged and retried at the next; CheckpointSQLite
// returns the error when the database is not in WAL mode or ticks fail
// five times running, and nil when ctx ends. Cancel ctx, and wait for it
// to return, before closing the database.
func (s *Store) CheckpointSQLite(ctx context.Context, interval time.Duration) error {
	if !s.dialect.engine().walCheckpoint {
		return fmt.Errorf("sqlstore: CheckpointSQLite on a %v store", s.dialect)
	}
	if interval <= 0 {
		return fmt.Errorf("sqlstore: checkpoint interval %v: want a positive duration", interval)
	}
	backoff, skip, failures := 1, 0, 0
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		blocked, err := s.checkpointOnce(ctx, skip == 0)
		if ctx.Err() != nil {
			return nil
		}
		switch {
		case errors.Is(err, errNotWAL):
			return err
		case err != nil:
			if failures++; failures == maxCheckpointFailures {
				return err
			}
			s.log.Warn("sqlstore: background checkpoint failed; retrying at the next tick", "error", err)
		default:
			failures = 0
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
		t.Reset(interval)
	}
}

// maxCheckpointFailures is how many ticks in a row may fail before
// CheckpointSQLite gives up.
const maxCheckpointFailures = 5

// errNotWAL is a checkpoint of a database whose journal is not a
// write-ahead log.
var errNotWAL = errors.New("sqlstore: the SQLite database is not in WAL mode (PRAGMA journal_mode=WAL)")

// checkpointOnce is one tick of CheckpointSQLite, restarting the log if
// restart is set. blocked reports a restart that readers or another
// process kept from finishing.
func (s *Store) checkpointOnce(ctx context.Context, restart bool) (blocked bool, err error) {
	frames, err := s.passiveCheckpoints(ctx)
	if err != nil || frames <= 0 || !restart {
		return false, err // an empty log needs no restart; -1: another checkpoint runs
	}
	if err := s.takeWriterTurn(ctx); err != nil {
		return false, nil // ctx ended
	}
	defer s.endWriterTurn()
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return false, fmt.Errorf("sqlstore: checkpoint: %w", err)
	}
	defer conn.Close()
	return restartLog(ctx, conn)
}

// passiveCheckpoints copies the log without blocking writers, again while
// they add much to it, and returns the frames the log last held: -1 when
// another connection was checkpointing.
func (s *Store) passiveCheckpoints(ctx context.Context) (frames int, err error) {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return 0, fmt.Errorf("sqlstore: checkpoint: %w", err)
	}
	defer conn.Close()
	for range passiveRounds {
		busy, log, err := walCheckpoint(ctx, conn, "PASSIVE")
		if err != nil {
			return 0, err
		}
		if busy {
			return -1, nil
		}
		grew := log - frames
		frames = log
		if grew < 100 {
			break
		}
	}
	return frames, nil
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
// waiting at most restartWait, then puts the connection's busy timeout
// back. A connection whose timeout cannot be put back is discarded rather
// than returned to the pool.
func restartLog(ctx context.Context, conn *sql.Conn) (blocked bool, err error) {
	var timeout int
	if err := conn.QueryRowContext(ctx, "PRAGMA busy_timeout").Scan(&timeout); err != nil {
		return false, fmt.Errorf("sqlstore: checkpoint: %w", err)
	}
	// Restored whatever happens next, even after ctx ended (SQLite sets a
	// busy timeout as it prepares the PRAGMA, so a cancelled one may have
	// taken effect): the connection goes back to the pool.
	defer func() {
		if _, rerr := conn.ExecContext(context.WithoutCancel(ctx), fmt.Sprintf("PRAGMA busy_timeout = %d", timeout)); rerr != nil {
			conn.Raw(func(any) error { return driver.ErrBadConn })
			err = errors.Join(err, fmt.Errorf("sqlstore: checkpoint: %w", rerr))
		}
	}()
	if _, err := conn.ExecContext(ctx, fmt.Sprintf("PRAGMA busy_timeout = %d", restartWait.Milliseconds())); err != nil {
		return false, fmt.Errorf("sqlstore: checkpoint: %w", err)
	}
	blocked, _, err = walCheckpoint(ctx, conn, "RESTART")
	if testRestartHook != nil {
		testRestartHook(blocked)
	}
	return blocked, err
}
