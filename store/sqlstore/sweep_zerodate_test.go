package sqlstore_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/forgetkit/forget"
	"github.com/forgetkit/forget/store/sqlstore"
)

// TestSweepMySQLZeroDates: on MySQL a zero date (0000-00-00 00:00:00,
// which a non-strict session stores for "never") is no activity, as
// NULL is: a customer whose activity is only zero dates and NULLs is
// never swept, and one with a real time in another column is swept by
// that time alone.
func TestSweepMySQLZeroDates(t *testing.T) {
	t.Parallel()
	for _, e := range engines(t) {
		if e.dialect != sqlstore.MySQL {
			continue
		}
		t.Run(e.name, func(t *testing.T) {
			ctx := context.Background()
			none := func(int) (login, order *time.Time) { return nil, nil }
			db, _, f := sweepFixture(t, e, 6, none)
			conn, err := db.Conn(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			if _, err := conn.ExecContext(ctx, "SET SESSION sql_mode = ''"); err != nil {
				t.Fatal(err)
			}
			const zero, old, recent = "'0000-00-00 00:00:00'", "'2020-01-01 00:00:00'", "'2026-11-01 00:00:00'"
			for id, set := range map[int][2]string{
				1: {zero, "NULL"}, // never active: kept
				2: {zero, old},    // inactive by its order
				3: {old, zero},    // inactive by its login
				4: {recent, zero}, // active
				5: {zero, zero},   // never active: kept
				6: {old, "NULL"},  // inactive
			} {
				if _, err := conn.ExecContext(ctx, fmt.Sprintf("UPDATE customers SET last_login = %s, last_order_at = %s WHERE customer_id = %d", set[0], set[1], id)); err != nil {
					t.Fatal(err)
				}
			}
			var stored string
			if err := db.QueryRowContext(ctx, "SELECT CAST(last_login AS CHAR) FROM customers WHERE customer_id = 1").Scan(&stored); err != nil || stored[:10] != "0000-00-00" {
				t.Fatalf("the zero date was not stored: %q, %v", stored, err)
			}
			rep, err := f.Sweep(ctx, forget.SweepOptions{InactiveSince: sweepClock.AddDate(-3, 0, 0), Chunk: 2})
			if err != nil || rep.Forgotten != 3 || rep.Failed != 0 {
				t.Fatalf("%+v, %v; want 3 forgotten", rep, err)
			}
			for id := 1; id <= 6; id++ {
				var first string
				if err := db.QueryRowContext(ctx, fmt.Sprintf("SELECT firstname FROM customers WHERE customer_id = %d", id)).Scan(&first); err != nil {
					t.Fatal(err)
				}
				want := id == 2 || id == 3 || id == 6
				if gone := first == ""; gone != want {
					t.Errorf("customer %d: forgotten %v, want %v", id, gone, want)
				}
			}
		})
	}
}
