package sqlstore_test

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/forgetkit/forget"
	"github.com/forgetkit/forget/store/sqlstore"
)

// writerDB is a SQLite database of the default schema with n customers,
// whose connections give up on a lock at once (busy_timeout 0): only the
// store's own queue can make concurrent forgets wait their turn.
func writerDB(t *testing.T, n int) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "w.db")+"?_pragma=busy_timeout(0)&_pragma=journal_mode(WAL)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	seedTemplate(t, db, sqlstore.SQLite, n)
	return db
}

// TestSQLiteWritersQueueInProcess: eight goroutines forget through one
// store at once, on connections that never wait for SQLite's lock. The
// store queues its write transactions itself, so every forget succeeds
// at its first attempt; left to SQLite's lock, most found it taken.
func TestSQLiteWritersQueueInProcess(t *testing.T) {
	t.Parallel()
	const workers, each = 8, 25
	db := writerDB(t, workers*each)
	store, err := sqlstore.New(db, sqlstore.SQLite, sqlstore.WithAttempts(1))
	if err != nil {
		t.Fatal(err)
	}
	f := quietForgetter(t, store)
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				id := strconv.Itoa(1 + w*each + i)
				if _, err := f.Forget(context.Background(), forget.Request{Lookup: forget.Lookup{CustomerID: id}}); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	failed := 0
	for err := range errs {
		if failed++; failed == 1 {
			t.Errorf("a concurrent forget failed: %v", err)
		}
	}
	if failed > 0 {
		t.Errorf("%d of %d concurrent forgets failed", failed, workers*each)
	}
	var left int
	if err := db.QueryRow("SELECT count(*) FROM customers WHERE username NOT LIKE 'forgot-%'").Scan(&left); err != nil || left != 0 {
		t.Errorf("%d customers not forgotten (%v)", left, err)
	}
}

// TestSQLiteWriterQueueCancelled: a forget cancelled while it waits its
// turn in the store's queue gives up with its context's error and
// changes nothing; the queue goes on serving the others.
func TestSQLiteWriterQueueCancelled(t *testing.T) {
	db := writerDB(t, 3)
	gate, inside := make(chan struct{}), make(chan struct{})
	// A hold that keeps customer 1's transaction, and so the queue, open.
	store, err := sqlstore.New(db, sqlstore.SQLite, sqlstore.WithHold("gate", func(ctx context.Context, _ sqlstore.Querier, key any) (bool, error) {
		if key == int64(1) {
			close(inside)
			<-gate
		}
		return false, nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	f := quietForgetter(t, store)
	first := make(chan error, 1)
	go func() {
		_, err := f.Forget(context.Background(), forget.Request{Lookup: forget.Lookup{CustomerID: "1"}})
		first <- err
	}()
	<-inside
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	start := time.Now()
	_, err = f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: "2"}})
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 2*time.Second {
		t.Fatalf("a forget whose context ended in the queue: %v after %v; want its deadline", err, time.Since(start))
	}
	var username string
	if err := db.QueryRow("SELECT username FROM customers WHERE customer_id = 2").Scan(&username); err != nil || strings.HasPrefix(username, "forgot-") {
		t.Fatalf("customer 2 after the cancelled forget: %q, %v", username, err)
	}
	close(gate)
	if err := <-first; err != nil {
		t.Fatalf("the forget that held the queue: %v", err)
	}
	// A leaked turn would hang these: a deadline makes it a failure.
	later, cancelLater := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancelLater()
	for _, id := range []string{"2", "3"} {
		if _, err := f.Forget(later, forget.Request{Lookup: forget.Lookup{CustomerID: id}}); err != nil {
			t.Fatalf("customer %s after the cancelled forget: %v", id, err)
		}
	}
}
