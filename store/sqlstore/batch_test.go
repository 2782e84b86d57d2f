package sqlstore_test

import (
	"context"
	"errors"
	"testing"

	"github.com/DATA-DOG/go-sqlmock"

	"github.com/forgetkit/forget"
	"github.com/forgetkit/forget/store/sqlstore"
	"github.com/forgetkit/forget/store/storetest"
)

// TestBatchIsolatesFailures: in a batch whose transactions hold several
// customers, the database refusing one customer's last DELETE rolls back
// that customer alone, on every engine.
func TestBatchIsolatesFailures(t *testing.T) {
	t.Parallel()
	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) {
			ctx := context.Background()
			b := newDefaultBackend(t, e, sqlstore.WithBatchSize(2))
			if err := b.Seed(ctx, storetest.Fixtures()); err != nil {
				t.Fatal(err)
			}
			refuseNoteDeletes(t, b.db, e.dialect, 102)
			before, err := b.Snapshot(ctx)
			if err != nil {
				t.Fatal(err)
			}
			f := quietForgetter(t, b)
			out := f.ForgetBatch(ctx, []forget.Request{
				{Lookup: forget.Lookup{CustomerID: "101"}},
				{Lookup: forget.Lookup{CustomerID: "102"}},
				{Lookup: forget.Lookup{CustomerID: "103"}},
			})
			if out[0].Err != nil || out[2].Err != nil {
				t.Fatalf("101: %v, 103: %v; want both forgotten", out[0].Err, out[2].Err)
			}
			if out[1].Err == nil || errors.Is(out[1].Err, forget.ErrInvalid) {
				t.Fatalf("102: %v, want the trigger's internal error", out[1].Err)
			}
			after, err := b.Snapshot(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if !before["102"].Equal(after["102"]) {
				t.Error("customer 102 changed although its forget failed")
			}
			for _, id := range []string{"101", "103"} {
				if after[id].Rows[forget.MemberNote] != 0 || after[id].Fields[forget.Firstname].String != "" {
					t.Errorf("customer %s not forgotten", id)
				}
			}
		})
	}
}

// TestBatchStatements pins a batch's per-customer transaction (set-based
// statements off): one BEGIN, a savepoint
// per item, each statement prepared once, a rollback to the savepoint for
// the item that fails, one COMMIT.
func TestBatchStatements(t *testing.T) {
	t.Parallel()
	ds := dialects[0]
	f, mock := newMockForgetter(t, ds.d, sqlstore.WithSetBased(false))
	exec := func(q string) { mock.ExpectExec(q).WithoutArgs().WillReturnResult(sqlmock.NewResult(0, 0)) }
	exec("BEGIN IMMEDIATE")
	exec("SAVEPOINT forget_item")
	// Each statement is prepared once for the transaction and reused.
	prepared := map[string]*sqlmock.ExpectedPrepare{}
	run := func(st step) {
		p, ok := prepared[st.sql]
		if !ok {
			p = mock.ExpectPrepare(st.sql)
			prepared[st.sql] = p
		}
		if st.kind == "query" {
			rows := sqlmock.NewRows([]string{"c"})
			for _, r := range st.rows {
				rows.AddRow(r)
			}
			p.ExpectQuery().WithArgs(st.args...).WillReturnRows(rows)
		} else {
			p.ExpectExec().WithArgs(st.args...).WillReturnResult(sqlmock.NewResult(0, st.n))
		}
	}
	run(ds.lookup("customer_id", "customers", "customer_id", 101, "101"))
	run(ds.update(101))
	run(ds.del("member_auth", 101, 2))
	run(ds.del("member_note", 101, 3))
	exec("RELEASE SAVEPOINT forget_item")
	exec("SAVEPOINT forget_item")
	run(ds.lookup("customer_id", "customers", "customer_id", 999, ""))
	exec("ROLLBACK TO SAVEPOINT forget_item")
	exec("RELEASE SAVEPOINT forget_item")
	exec("COMMIT")
	out := f.ForgetBatch(context.Background(), []forget.Request{
		{Lookup: forget.Lookup{CustomerID: "101"}},
		{Lookup: forget.Lookup{CustomerID: "999"}},
	})
	if out[0].Err != nil || !errors.Is(out[1].Err, forget.ErrNotFound) {
		t.Errorf("outcomes: %v, %v", out[0].Err, out[1].Err)
	}
	if err := mock.ExpectationsWereMet(); err != nil {
		t.Error(err)
	}
}
