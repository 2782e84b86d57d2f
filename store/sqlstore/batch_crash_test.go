package sqlstore_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/forgetkit/forget"
	"github.com/forgetkit/forget/internal/long"
	"github.com/forgetkit/forget/store/sqlstore"
	"github.com/forgetkit/forget/store/storetest"
)

// refuseNoteDeletesHard makes the database refuse to delete the
// member_note rows of the customers cond selects (a condition on OLD),
// the hardest way each engine has: on SQLite RAISE(ROLLBACK), which rolls
// back the whole transaction, savepoints of other customers included; on
// PostgreSQL and MariaDB an error raised in the trigger, which the
// statement's savepoint absorbs.
func refuseNoteDeletesHard(t testing.TB, db *sql.DB, d sqlstore.Dialect, cond string) {
	t.Helper()
	noteTrigger(t, db, d, "refuse_note_rollback", cond, "ROLLBACK")
}

// noteTrigger creates trigger name, refusing to delete the member_note
// rows cond (a condition on OLD) selects: on SQLite with RAISE(raise),
// elsewhere with an error raised in the trigger.
func noteTrigger(t testing.TB, db *sql.DB, d sqlstore.Dialect, name, cond, raise string) {
	t.Helper()
	stmts := map[sqlstore.Dialect][]string{
		sqlstore.SQLite: {`CREATE TRIGGER ` + name + ` BEFORE DELETE ON member_note WHEN ` + cond + ` BEGIN SELECT RAISE(` + raise + `, 'refused by trigger'); END`},
		sqlstore.Postgres: {
			`CREATE FUNCTION ` + name + `() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF ` + cond + ` THEN RAISE EXCEPTION 'refused by trigger'; END IF; RETURN OLD; END $$`,
			`CREATE TRIGGER ` + name + ` BEFORE DELETE ON member_note FOR EACH ROW EXECUTE FUNCTION ` + name + `()`,
		},
		sqlstore.MySQL: {`CREATE TRIGGER ` + name + ` BEFORE DELETE ON member_note FOR EACH ROW BEGIN IF ` + cond + ` THEN SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'refused by trigger'; END IF; END`},
	}
	for _, st := range stmts[d] {
		if _, err := db.Exec(st); err != nil {
			t.Fatal(err)
		}
	}
}

// customerState is what the database says of one customer: whether its
// fields are erased, how many related rows and audit records it has.
type customerState struct {
	erased        bool
	notes, auths  int
	audits        int
	firstnameSeen bool
}

// forgotten reports a complete forget; half of one is an error.
func (c customerState) forgotten(t testing.TB, id string) bool {
	t.Helper()
	if !c.firstnameSeen {
		t.Fatalf("customer %s is missing", id)
	}
	done := c.erased && c.notes == 0 && c.auths == 0 && c.audits == 1
	untouched := !c.erased && c.notes == 3 && c.auths == 2 && c.audits == 0
	if !done && !untouched {
		t.Fatalf("customer %s half forgotten: %+v", id, c)
	}
	return done
}

func stateOf(t testing.TB, db *sql.DB, d sqlstore.Dialect, id string) customerState {
	t.Helper()
	ph := "?"
	if d == sqlstore.Postgres {
		ph = "$1"
	}
	n, err := strconv.Atoi(id)
	if err != nil {
		t.Fatal(err)
	}
	var c customerState
	var first string
	switch err := db.QueryRow("SELECT firstname FROM customers WHERE customer_id = "+ph, n).Scan(&first); {
	case errors.Is(err, sql.ErrNoRows):
		return c
	case err != nil:
		t.Fatal(err)
	}
	c.firstnameSeen, c.erased = true, first == ""
	for _, q := range []struct {
		query string
		arg   any
		n     *int
	}{
		{"SELECT COUNT(*) FROM member_note WHERE customer_id = " + ph, n, &c.notes},
		{"SELECT COUNT(*) FROM member_auth WHERE customer_id = " + ph, n, &c.auths},
		{"SELECT COUNT(*) FROM forget_audit WHERE customer_id = " + ph, id, &c.audits},
	} {
		if err := db.QueryRow(q.query, q.arg).Scan(q.n); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

// checkPoolClean fails when a pooled connection is still inside a
// transaction: SQLite refuses BEGIN inside one, PostgreSQL refuses
// SAVEPOINT outside one, MariaDB says so itself.
func checkPoolClean(t testing.TB, db *sql.DB, d sqlstore.Dialect) {
	t.Helper()
	ctx := context.Background()
	n := db.Stats().OpenConnections
	var conns []*sql.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range n {
		c, err := db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	for i, c := range conns {
		var err error
		inside := false
		switch d {
		case sqlstore.SQLite:
			if _, err = c.ExecContext(ctx, "BEGIN"); err == nil {
				_, err = c.ExecContext(ctx, "ROLLBACK")
			} else {
				inside, err = true, nil
			}
		case sqlstore.Postgres:
			if _, err = c.ExecContext(ctx, "SAVEPOINT probe"); err == nil {
				inside = true
			} else {
				err = nil
			}
		case sqlstore.MySQL:
			err = c.QueryRowContext(ctx, "SELECT @@in_transaction").Scan(&inside)
		}
		if err != nil {
			t.Fatal(err)
		}
		if inside {
			t.Fatalf("pooled connection %d of %d is inside a transaction", i+1, n)
		}
	}
}

func checkIntegrity(t testing.TB, db *sql.DB, d sqlstore.Dialect) {
	t.Helper()
	if d != sqlstore.SQLite {
		return
	}
	var res string
	if err := db.QueryRow("PRAGMA integrity_check").Scan(&res); err != nil || res != "ok" {
		t.Fatalf("integrity_check: %q, %v", res, err)
	}
}

// checkCleanError fails when err is a request error or quotes a value
// read from the database (every fixture value ends in -qzx).
func checkCleanError(t testing.TB, id string, err error) {
	t.Helper()
	if err == nil || errors.Is(err, forget.ErrInvalid) || errors.Is(err, forget.ErrNotFound) || errors.Is(err, forget.ErrConflict) {
		t.Errorf("customer %s: %v, want an internal error", id, err)
		return
	}
	if strings.Contains(err.Error(), "qzx") {
		t.Errorf("customer %s: error quotes a value: %v", id, err)
	}
}

func requests(ids ...string) []forget.Request {
	reqs := make([]forget.Request, len(ids))
	for i, id := range ids {
		reqs[i] = forget.Request{Lookup: forget.Lookup{CustomerID: id}}
	}
	return reqs
}

func seedIDs(t testing.TB, b defaultBackend, ids ...int) {
	t.Helper()
	cs := make([]storetest.Customer, len(ids))
	for i, id := range ids {
		cs[i] = storetest.NewCustomer(id)
	}
	if err := b.Seed(context.Background(), cs); err != nil {
		t.Fatal(err)
	}
}

// seedFast seeds customers as storetest.NewCustomer makes them, in one
// transaction: many rounds of the crash tests seed afresh.
func seedFast(t testing.TB, b defaultBackend, ids ...int) {
	t.Helper()
	tx, err := b.db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	fields := forget.DefaultCatalogue().Fields
	for _, id := range ids {
		c := storetest.NewCustomer(id)
		cols := []string{"customer_id"}
		vals := []any{id}
		for _, f := range fields {
			cols = append(cols, string(f.Name))
			vals = append(vals, c.Fields[f.Name])
		}
		ins := []interface {
			ExecContext(context.Context) (sql.Result, error)
		}{b.sb.Insert("customers").Columns(cols...).Values(vals...).RunWith(tx)}
		for range c.Rows[forget.MemberAuth] {
			ins = append(ins, b.sb.Insert("member_auth").Columns("customer_id", "kind", "secret").Values(id, "totp", "secret-qzx").RunWith(tx))
		}
		for range c.Rows[forget.MemberNote] {
			ins = append(ins, b.sb.Insert("member_note").Columns("customer_id", "note").Values(id, "note-qzx").RunWith(tx))
		}
		for _, st := range ins {
			if _, err := st.ExecContext(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

// TestBatchTriggerRefusesOneCustomer: a trigger refuses one customer in
// the middle of each group. On SQLite it raises ROLLBACK, which ends the
// whole transaction, savepoints of the customers before it included; on
// PostgreSQL and MariaDB it raises an error. Either way that customer
// alone fails, every other is forgotten exactly once (one audit record),
// a held customer before it is refused with exactly one audit record of
// the refusal, and nothing crashes.
func TestBatchTriggerRefusesOneCustomer(t *testing.T) {
	t.Parallel()
	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			hold := sqlstore.WithHold("test_hold", func(_ context.Context, _ sqlstore.Querier, key any) (bool, error) {
				return key == int64(104), nil
			})
			b := newDefaultBackend(t, e, sqlstore.WithBatchSize(3), sqlstore.WithAudit(sqlstore.DefaultAuditTable), hold)
			seedIDs(t, b, 101, 102, 103, 104, 105)
			refuseNoteDeletesHard(t, b.db, e.dialect, "OLD.customer_id IN (102, 105)")
			// Groups: [101 999 102] [103 104 105]; 999 fails and 104 is
			// refused on their own before 102 and 105 take the
			// transaction down.
			out := quietForgetter(t, b).ForgetBatch(ctx, requests("101", "999", "102", "103", "104", "105"))
			if !errors.Is(out[1].Err, forget.ErrNotFound) {
				t.Errorf("999: %v, want not found", out[1].Err)
			}
			if !errors.Is(out[4].Err, forget.ErrHeld) {
				t.Errorf("104: %v, want held", out[4].Err)
			}
			if st := stateOf(t, b.db, e.dialect, "104"); st.erased || st.notes != 3 || st.audits != 1 {
				t.Errorf("held 104: %+v, want untouched with one audit record (its refusal)", st)
			}
			for i, id := range []string{"101", "999", "102", "103", "104", "105"} {
				if id == "999" || id == "104" {
					continue
				}
				refused := id == "102" || id == "105"
				if refused {
					checkCleanError(t, id, out[i].Err)
				} else if out[i].Err != nil {
					t.Errorf("%s: %v, want forgotten", id, out[i].Err)
				}
				if got := stateOf(t, b.db, e.dialect, id).forgotten(t, id); got == refused {
					t.Errorf("%s: forgotten = %v, want %v", id, got, !refused)
				}
			}
			checkPoolClean(t, b.db, e.dialect)
			if _, err := quietForgetter(t, b).Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: "101"}}); err != nil {
				t.Errorf("a forget after the batch: %v", err)
			}
		})
	}
}

// TestBatchCommitFailureFindsCulprit: a foreign key checked at commit
// (deferred) refuses one customer's deletes, so the commit of its whole
// group fails. The group runs again one customer a transaction: the
// culprit alone fails. MariaDB checks foreign keys at once, so there the
// statement fails and its savepoint absorbs it: same outcome.
func TestBatchCommitFailureFindsCulprit(t *testing.T) {
	t.Parallel()
	for _, e := range engines(t) {
		if e.dialect == sqlstore.SQLite {
			e.open = func(t testing.TB) (*sql.DB, string) {
				path := filepath.Join(t.TempDir(), "fk.db")
				db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)")
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { db.Close() })
				return db, "main"
			}
		}
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			b := newDefaultBackend(t, e, sqlstore.WithBatchSize(4), sqlstore.WithAudit(sqlstore.DefaultAuditTable))
			seedIDs(t, b, 101, 102, 103)
			// Verify refuses a purged table that a table the mapping leaves
			// refers to (verify_restrict.go): the link comes after it, as a
			// migration deployed while the host runs would.
			f := quietForgetter(t, b)
			if err := f.Verify(ctx); err != nil {
				t.Fatal(err)
			}
			link := map[sqlstore.Dialect]string{
				sqlstore.SQLite:   `CREATE TABLE note_link (note_id INTEGER REFERENCES member_note(note_id) DEFERRABLE INITIALLY DEFERRED)`,
				sqlstore.Postgres: `CREATE TABLE note_link (note_id BIGINT REFERENCES member_note(note_id) DEFERRABLE INITIALLY DEFERRED)`,
				sqlstore.MySQL:    `CREATE TABLE note_link (note_id BIGINT, FOREIGN KEY (note_id) REFERENCES member_note(note_id)) ENGINE=InnoDB`,
			}[e.dialect]
			if _, err := b.db.Exec(link); err != nil {
				t.Fatal(err)
			}
			if _, err := b.db.Exec(`INSERT INTO note_link (note_id) SELECT MIN(note_id) FROM member_note WHERE customer_id = 102`); err != nil {
				t.Fatal(err)
			}
			out := f.ForgetBatch(ctx, requests("101", "102", "999", "103"))
			if !errors.Is(out[2].Err, forget.ErrNotFound) {
				t.Errorf("999: %v, want not found", out[2].Err)
			}
			checkCleanError(t, "102", out[1].Err)
			for i, id := range []string{"101", "103"} {
				if err := out[i*3].Err; err != nil {
					t.Errorf("%s: %v, want forgotten", id, err)
				}
				if !stateOf(t, b.db, e.dialect, id).forgotten(t, id) {
					t.Errorf("%s not forgotten", id)
				}
			}
			if stateOf(t, b.db, e.dialect, "102").forgotten(t, "102") {
				t.Error("102 forgotten although its forget failed")
			}
			checkPoolClean(t, b.db, e.dialect)
		})
	}
}

// TestBatchDiskFull: a database that cannot grow (max_page_count) fails
// the forgets that need room, cleanly: no crash, every outcome true, the
// pool clean, and the store works once there is room again.
func TestBatchDiskFull(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := engine{name: "sqlite", dialect: sqlstore.SQLite, open: openSQLite}
	b := newDefaultBackend(t, e, sqlstore.WithAudit(sqlstore.DefaultAuditTable))
	var ids []string
	var nums []int
	for id := 101; id <= 160; id++ {
		ids = append(ids, fmt.Sprint(id))
		nums = append(nums, id)
	}
	seedIDs(t, b, nums...)
	var path string
	var pages int
	if err := b.db.QueryRow("SELECT file FROM pragma_database_list WHERE name = 'main'").Scan(&path); err != nil {
		t.Fatal(err)
	}
	if err := b.db.QueryRow("PRAGMA page_count").Scan(&pages); err != nil {
		t.Fatal(err)
	}
	full, err := sql.Open("sqlite", fmt.Sprintf("file:%s?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=max_page_count(%d)", path, pages+1))
	if err != nil {
		t.Fatal(err)
	}
	defer full.Close()
	s, err := sqlstore.New(full, sqlstore.SQLite, sqlstore.WithBatchSize(7), sqlstore.WithAudit(sqlstore.DefaultAuditTable))
	if err != nil {
		t.Fatal(err)
	}
	out := quietForgetter(t, s).ForgetBatch(ctx, requests(ids...))
	var ok, failed int
	for i, id := range ids {
		forgotten := stateOf(t, b.db, e.dialect, id).forgotten(t, id)
		if forgotten != (out[i].Err == nil) {
			t.Errorf("%s: forgotten = %v, outcome %v", id, forgotten, out[i].Err)
		}
		if out[i].Err != nil {
			checkCleanError(t, id, out[i].Err)
			failed++
		} else {
			ok++
		}
	}
	t.Logf("%d forgotten, %d refused for want of room", ok, failed)
	if failed == 0 {
		t.Fatal("the database never filled up: the test tests nothing")
	}
	checkPoolClean(t, full, sqlstore.SQLite)
	checkIntegrity(t, b.db, e.dialect)
	out = quietForgetter(t, b).ForgetBatch(ctx, requests(ids...))
	for i, id := range ids {
		if out[i].Err != nil {
			t.Errorf("%s, with room again: %v", id, out[i].Err)
		}
	}
}

// TestBatchDryRunTakesWriteLock: a dry run runs in BEGIN IMMEDIATE, as a
// forget does, so that it fails exactly when the forget would: while
// another connection holds the write lock, it waits.
func TestBatchDryRunTakesWriteLock(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := engine{name: "sqlite", dialect: sqlstore.SQLite, open: openSQLite}
	b := newDefaultBackend(t, e)
	seedIDs(t, b, 101)
	holder, err := b.db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()
	if _, err := holder.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	f := quietForgetter(t, b)
	short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	dry := forget.Request{Lookup: forget.Lookup{CustomerID: "101"}, DryRun: true}
	if _, err := f.Forget(short, dry); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("dry run while another writer holds the lock: %v, want it to wait until the deadline", err)
	}
	out := f.ForgetBatch(short, []forget.Request{dry})
	if !errors.Is(out[0].Err, context.DeadlineExceeded) {
		t.Errorf("dry-run batch while another writer holds the lock: %v, want it to wait until the deadline", out[0].Err)
	}
	if _, err := holder.ExecContext(ctx, "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Forget(ctx, dry); err != nil {
		t.Errorf("dry run once the lock is free: %v", err)
	}
	checkPoolClean(t, b.db, e.dialect)
}

// crashIterations is how many rounds the cancellation test runs on
// SQLite: 300 under FORGET_LONG=1 or CI=true, 100 elsewhere, 30 with
// -short, or FORGET_CRASH_ITERATIONS; a third as many on the other
// engines.
func crashIterations(t testing.TB) int {
	short := 40
	if testing.Short() {
		short = 30
	}
	if os.Getenv("CI") == "true" {
		short = 300
	}
	return long.Count(t, short, 300)
}

// TestCrashCancelBatch cancels batches, a dry-run batch and single
// forgets on one database at random moments, many times, all at once.
// Among the customers: two a trigger refuses (ids ending in 3 and 5; on
// SQLite with RAISE(ABORT) and RAISE(ROLLBACK)), and a key that names
// nobody.
//
// "Committed" is defined by the database: a customer's forget committed
// if and only if its audit record exists, written in the forget's own
// transaction. The test requires, for every customer: committed if and
// only if its fields are erased and its rows gone (never half); committed
// if and only if its outcome has a nil Err; a refused customer never
// committed; an outcome that is neither success nor refusal carries the
// context's error. After every round every pooled connection is outside
// any transaction and a new forget succeeds; at the end the database
// passes integrity_check.
func TestCrashCancelBatch(t *testing.T) {
	t.Parallel()
	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) { crashCancelBatch(t, e) })
	}
}

func crashCancelBatch(t *testing.T, e engine) {
	ctx := context.Background()
	b := newDefaultBackend(t, e, sqlstore.WithBatchSize(3), sqlstore.WithAudit(sqlstore.DefaultAuditTable))
	if e.dialect == sqlstore.SQLite {
		refuseNoteDeletesHard(t, b.db, e.dialect, "OLD.customer_id % 10 = 5")
		if _, err := b.db.Exec(`CREATE TRIGGER refuse_abort BEFORE DELETE ON member_note WHEN OLD.customer_id % 10 = 3 BEGIN SELECT RAISE(ABORT, 'refused by trigger'); END`); err != nil {
			t.Fatal(err)
		}
	} else {
		refuseNoteDeletesHard(t, b.db, e.dialect, "OLD.customer_id % 10 IN (3, 5)")
	}
	f := quietForgetter(t, b)

	// round seeds fresh customers: a batch of 7 (ids base+1..+7), a
	// dry-run batch of 3 (+11..+13) and 3 single forgets (+21..+23).
	type round struct {
		batch, dry, single []string
	}
	newRound := func(i int) round {
		base := 1000 + i*100
		var r round
		var nums []int
		for k := 1; k <= 7; k++ {
			r.batch = append(r.batch, fmt.Sprint(base+k))
			nums = append(nums, base+k)
		}
		for k := 11; k <= 13; k++ {
			r.dry = append(r.dry, fmt.Sprint(base+k))
			nums = append(nums, base+k)
		}
		for k := 21; k <= 23; k++ {
			r.single = append(r.single, fmt.Sprint(base+k))
			nums = append(nums, base+k)
		}
		seedFast(t, b, nums...)
		r.batch = append(r.batch[:4], append([]string{"99999999"}, r.batch[4:]...)...) // nobody
		return r
	}
	run := func(ctx context.Context, r round) (batch []forget.Outcome, dry []forget.Outcome, single []error) {
		var wg sync.WaitGroup
		wg.Go(func() { batch = f.ForgetBatch(ctx, requests(r.batch...)) })
		wg.Go(func() {
			reqs := requests(r.dry...)
			for i := range reqs {
				reqs[i].DryRun = true
			}
			dry = f.ForgetBatch(ctx, reqs)
		})
		wg.Go(func() {
			for _, id := range r.single {
				_, err := f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: id}})
				single = append(single, err)
			}
		})
		wg.Wait()
		return
	}

	// Calibrate: how long a round takes uncancelled.
	start := time.Now()
	run(ctx, newRound(0))
	span := time.Since(start)
	t.Logf("an uncancelled round takes %v", span)

	check := func(id string, err error) (committed bool) {
		t.Helper()
		committed = stateOf(t, b.db, e.dialect, id).forgotten(t, id)
		n, _ := strconv.Atoi(id)
		switch {
		case committed != (err == nil):
			t.Fatalf("customer %s: committed = %v but outcome %v", id, committed, err)
		case n%10 == 3 || n%10 == 5:
			if committed {
				t.Fatalf("customer %s refused by a trigger, yet committed", id)
			}
			checkCleanError(t, id, err)
		case err != nil && !errors.Is(err, context.Canceled):
			t.Fatalf("customer %s: %v, want success or the context's error", id, err)
		}
		return committed
	}
	iterations := crashIterations(t)
	if e.dialect != sqlstore.SQLite {
		// The crash is SQLite's; the others need fewer rounds to show
		// their outcomes true.
		iterations = max(1, iterations/3)
	}
	var committed, cancelled int
	for i := 1; i <= iterations; i++ {
		r := newRound(i)
		cctx, cancel := context.WithCancel(ctx)
		delay := rand.N(span + span/2)
		timer := time.AfterFunc(delay, cancel)
		batch, dry, single := run(cctx, r)
		timer.Stop()
		cancel()
		for j, id := range r.batch {
			if id == "99999999" {
				if batch[j].Err == nil {
					t.Fatal("a key that names nobody succeeded")
				}
				continue
			}
			if check(id, batch[j].Err) {
				committed++
			} else {
				cancelled++
			}
		}
		for j, id := range r.single {
			if check(id, single[j]) {
				committed++
			} else {
				cancelled++
			}
		}
		for j, id := range r.dry {
			if stateOf(t, b.db, e.dialect, id).forgotten(t, id) {
				t.Fatalf("dry run of %s changed it", id)
			}
			// A dry run runs the real statements, so the triggers
			// refuse it too.
			n, _ := strconv.Atoi(id)
			if err := dry[j].Err; err != nil && !errors.Is(err, context.Canceled) {
				if n%10 != 3 && n%10 != 5 {
					t.Fatalf("dry run of %s: %v", id, err)
				}
				checkCleanError(t, id, err)
			}
		}
		checkPoolClean(t, b.db, e.dialect)
		if i%100 == 0 {
			checkIntegrity(t, b.db, e.dialect)
		}
	}
	checkIntegrity(t, b.db, e.dialect)
	after := newRound(iterations + 1)
	if _, err := f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: after.single[0]}}); err != nil {
		t.Fatalf("a forget after the cancelled rounds: %v", err)
	}
	t.Logf("%d rounds: %d forgets committed, %d not", iterations, committed, cancelled)
}
