package sqlstore_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/forgetkit/forget"
	"github.com/forgetkit/forget/store/sqlstore"
)

// seededRand is a deterministic randomness source: two Forgetters reading
// it in the same order make the same plans, pseudonyms included.
type seededRand struct{ r *rand.ChaCha8 }

func newSeededRand() *seededRand {
	return &seededRand{rand.NewChaCha8([32]byte{19, 1})}
}

func (s *seededRand) Read(p []byte) (int, error) { return s.r.Read(p) }

// bulkFixture is a database with the default schema, an extension table
// whose columns are scrubbed, a joined table of shipping names (0 to 2
// rows a customer), a hold in the mapping and one in Go, and a
// trigger that refuses to delete one customer's notes.
type bulkFixture struct {
	db *sql.DB
	f  *forget.Forgetter
	s  *sqlstore.Store
}

const (
	bulkRefused = 113 // the trigger refuses its notes
	bulkGoHeld  = 117 // the Go hold protects it
)

func bulkCatalogue(t testing.TB) forget.Catalogue {
	cat := forget.DefaultCatalogue()
	cat.Tables = append(cat.Tables, forget.TableSpec{Name: "member_loginlog", Scrub: []forget.ColumnRule{
		{Column: "ip", Rule: forget.Null()}, {Column: "agent", Rule: forget.Random()}, {Column: "note", Rule: forget.Fixed("scrubbed")}}})
	if err := cat.SetRule(forget.Phone, forget.Null()); err != nil {
		t.Fatal(err)
	}
	return cat
}

func newBulkFixture(t *testing.T, e engine, opts ...sqlstore.Option) bulkFixture {
	ctx := context.Background()
	db := schemaDB(t, e)
	text := "TEXT"
	if e.dialect == sqlstore.MySQL {
		text = "VARCHAR(255)"
	}
	for _, st := range []string{
		"ALTER TABLE customers MODIFY phone VARCHAR(255) NULL",
		fmt.Sprintf("CREATE TABLE member_loginlog (log_id INTEGER NOT NULL PRIMARY KEY, customer_id BIGINT NOT NULL, ip %s, agent %s, note %s)", text, text, text),
		"CREATE INDEX member_loginlog_customer_id ON member_loginlog (customer_id)",
		// A joined table holding two fields, with 0, 1 or 2 rows a
		// customer: receipts count what each path wrote there.
		fmt.Sprintf("CREATE TABLE shipping (ship_id INTEGER NOT NULL PRIMARY KEY, customer_id BIGINT NOT NULL, shipping_firstname %s NOT NULL, shipping_lastname %s NOT NULL)", text, text),
		"CREATE INDEX shipping_customer_id ON shipping (customer_id)",
	} {
		switch {
		case strings.Contains(st, "MODIFY") && e.dialect == sqlstore.Postgres:
			st = "ALTER TABLE customers ALTER COLUMN phone DROP NOT NULL"
		case strings.Contains(st, "MODIFY") && e.dialect == sqlstore.SQLite:
			continue // SQLite's phone column takes the NULL as declared below
		}
		if _, err := db.ExecContext(ctx, st); err != nil {
			t.Fatalf("%s: %v", st, err)
		}
	}
	if e.dialect == sqlstore.SQLite {
		// SQLite cannot drop a NOT NULL: rebuild the column's table.
		for _, st := range []string{
			"ALTER TABLE customers RENAME COLUMN phone TO phone_old",
			"ALTER TABLE customers ADD COLUMN phone TEXT",
		} {
			if _, err := db.ExecContext(ctx, st); err != nil {
				t.Fatalf("%s: %v", st, err)
			}
		}
	}
	ph := seedCustomers(t, db, e, 101, 140)
	logID := 0
	for id := 101; id <= 140; id++ {
		for k := range id % 3 {
			logID++
			if _, err := db.ExecContext(ctx, fmt.Sprintf("INSERT INTO member_loginlog (log_id, customer_id, ip, agent, note) VALUES (%s, %s, %s, %s, %s)", ph(1), ph(2), ph(3), ph(4), ph(5)),
				logID, id, fmt.Sprintf("10.0.%d.%d", id, k), "agent-"+fmt.Sprint(id), "note"); err != nil {
				t.Fatal(err)
			}
		}
	}
	shipID := 0
	for id := 101; id <= 140; id++ {
		for range (id + 1) % 3 {
			shipID++
			if _, err := db.ExecContext(ctx, fmt.Sprintf("INSERT INTO shipping (ship_id, customer_id, shipping_firstname, shipping_lastname) VALUES (%s, %s, %s, %s)", ph(1), ph(2), ph(3), ph(4)),
				shipID, id, fmt.Sprint("ship-first-", id), fmt.Sprint("ship-last-", id)); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Customer 121 is under the mapped hold.
	if _, err := db.ExecContext(ctx, "UPDATE subscriptions SET status = 'chargeback' WHERE customer_id IN (121, 125)"); err != nil {
		t.Fatal(err)
	}
	refuseNoteDeletes(t, db, e.dialect, bulkRefused)

	schema := sqlstore.DefaultSchema()
	schema.Tables["member_loginlog"] = sqlstore.RelatedTable{Table: "member_loginlog", CustomerKey: "customer_id"}
	schema.Joined = map[string]string{"shipping": "customer_id"}
	schema.Fields[forget.ShippingFirstname] = sqlstore.Column{Table: "shipping", Column: "shipping_firstname"}
	schema.Fields[forget.ShippingLastname] = sqlstore.Column{Table: "shipping", Column: "shipping_lastname"}
	schema.Absent = []string{string(forget.ShippingAddress2)}
	delete(schema.Fields, forget.ShippingAddress2)
	schema.Holds = []sqlstore.Hold{{Name: "chargeback", Table: "subscriptions", CustomerKey: "customer_id",
		Where: []sqlstore.Condition{{Column: "status", Op: "=", Value: "chargeback"}}}}
	goHold := sqlstore.WithHold("vip", func(ctx context.Context, q sqlstore.Querier, key any) (bool, error) {
		return fmt.Sprint(key) == fmt.Sprint(bulkGoHeld), nil
	})
	opts = append([]sqlstore.Option{sqlstore.WithSchema(schema), sqlstore.WithAudit(sqlstore.DefaultAuditTable), sqlstore.WithBatchSize(7), goHold}, opts...)
	s, err := sqlstore.New(db, e.dialect, opts...)
	if err != nil {
		t.Fatal(err)
	}
	clock := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	f, err := forget.New(s, forget.WithCatalogue(bulkCatalogue(t)), forget.WithRand(newSeededRand()),
		forget.WithClock(func() time.Time { return clock }), forget.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	return bulkFixture{db: db, f: f, s: s}
}

// bulkRequests covers what a batch may hold: plain forgets, keep lists
// (fields, tables, the scrubbed table), lookups by subscription and
// order, a customer twice, missing customers, conflicts, malformed keys,
// held customers, a hold ignored, an unknown hold to ignore, and the
// customer whose notes the trigger refuses.
func bulkRequests(dryRun bool) []forget.Request {
	id := func(n int) forget.Lookup { return forget.Lookup{CustomerID: fmt.Sprint(n)} }
	reqs := []forget.Request{
		{Lookup: id(101)},
		{Lookup: id(102), Keep: []string{"firstname", "member_note"}},
		{Lookup: id(103), Keep: []string{"member_loginlog"}},
		{Lookup: forget.Lookup{SubscriptionID: "1041"}},
		{Lookup: forget.Lookup{OrderID: "10502"}},
		{Lookup: id(999)},
		{Lookup: forget.Lookup{CustomerID: "106", OrderID: "10701"}}, // conflict
		{Lookup: id(108)},
		{Lookup: id(101)}, // again, in the same group
		{Lookup: forget.Lookup{CustomerID: "abc"}},
		{Lookup: id(bulkRefused)},
		{Lookup: id(121)},
		{Lookup: id(125), IgnoreHolds: []string{"chargeback"}},
		{Lookup: id(bulkGoHeld)},
		{Lookup: id(110), IgnoreHolds: []string{"no_such_hold"}},
		{Lookup: id(111), Keep: []string{"username", "phone", "member_auth"}},
		{Lookup: forget.Lookup{CustomerID: "112", SubscriptionID: "1121", OrderID: "11203"}},
		{Lookup: forget.Lookup{SubscriptionID: "99999"}},
	}
	for n := 126; n <= 140; n++ {
		reqs = append(reqs, forget.Request{Lookup: id(n)})
	}
	reqs = append(reqs, forget.Request{Lookup: id(126)}, forget.Request{Lookup: forget.Lookup{OrderID: "13001"}})
	for i := range reqs {
		reqs[i].DryRun = dryRun
		reqs[i].Principal = "test"
	}
	return reqs
}

// dumpAll returns every row of every table, as text, sorted; audit_id,
// which counts insertions, is left out.
func dumpAll(t testing.TB, db *sql.DB) map[string][]string {
	t.Helper()
	out := make(map[string][]string)
	for _, table := range []string{"customers", "subscriptions", "transactions", "member_auth", "member_note", "member_loginlog", "shipping", sqlstore.DefaultAuditTable} {
		rows, err := db.Query("SELECT * FROM " + table)
		if err != nil {
			t.Fatal(err)
		}
		cols, all := scanAll(t, rows)
		for _, vals := range all {
			var parts []string
			for i, v := range vals {
				switch {
				case cols[i] == "audit_id":
				case v.Valid:
					parts = append(parts, fmt.Sprintf("%s=%q", cols[i], v.String))
				default:
					parts = append(parts, cols[i]+"=NULL")
				}
			}
			out[table] = append(out[table], strings.Join(parts, " "))
		}
		slices.Sort(out[table])
	}
	return out
}

// outcomeOf is an outcome as comparable text: the receipt, or the error's
// public problem.
func outcomeText(o forget.Outcome) string {
	if o.Err != nil {
		p := forget.ProblemOf(o.Err)
		return fmt.Sprintf("error %d %s %s", p.Status, p.Code, p.Message)
	}
	rc := *o.Receipt
	inv, _ := json.Marshal(rc.Inventory) // a pointer: compared by what it holds
	rc.Inventory = nil
	return fmt.Sprintf("%+v inventory %s", rc, inv)
}

// TestBulkMatchesPerCustomer: the same requests through the set-based
// path and the per-customer path leave identical databases (with the
// same randomness, the very same values) and give identical outcomes, on
// every engine, real runs and dry runs alike.
func TestBulkMatchesPerCustomer(t *testing.T) {
	t.Parallel()
	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) {
			for _, dry := range []bool{false, true} {
				t.Run(fmt.Sprintf("dry=%v", dry), func(t *testing.T) {
					ctx := context.Background()
					per := newBulkFixture(t, e, sqlstore.WithSetBased(false))
					set := newBulkFixture(t, e)
					before := dumpAll(t, set.db)
					if !reflect.DeepEqual(dumpAll(t, per.db), before) {
						t.Fatal("the two databases differ before the test")
					}
					reqs := bulkRequests(dry)
					outPer := per.f.ForgetBatch(ctx, reqs)
					outSet := set.f.ForgetBatch(ctx, reqs)
					for i := range reqs {
						if a, b := outcomeText(outPer[i]), outcomeText(outSet[i]); a != b {
							t.Errorf("request %d (%+v):\nper-customer: %s\nset-based:    %s", i, reqs[i].Lookup, a, b)
						}
					}
					a, b := dumpAll(t, per.db), dumpAll(t, set.db)
					for table := range a {
						if !slices.Equal(a[table], b[table]) {
							t.Errorf("table %s differs:\nper-customer: %q\nset-based:    %q", table, a[table], b[table])
						}
					}
					if dry && !reflect.DeepEqual(b, before) {
						t.Error("a dry run changed the database")
					}
					sets, fallbacks := sqlstore.BulkStats(set.s)
					t.Logf("%d groups set-based, %d fell back", sets, fallbacks)
					if sets == 0 {
						t.Error("no group ran set-based")
					}
					if !dry && fallbacks == 0 {
						t.Error("the group with the refusing trigger did not fall back to the per-customer path")
					}
					if s, _ := sqlstore.BulkStats(per.s); s != 0 {
						t.Errorf("WithSetBased(false) ran %d groups set-based", s)
					}
					// The outcomes themselves: the trigger's customer
					// alone failed, the held ones were refused.
					for i, r := range reqs {
						switch r.Lookup.CustomerID {
						case fmt.Sprint(bulkRefused):
							if !dry && (outSet[i].Err == nil || forget.Refused(outSet[i].Err)) {
								t.Errorf("customer %d: %v, want the trigger's failure", bulkRefused, outSet[i].Err)
							}
						case "121", fmt.Sprint(bulkGoHeld):
							if !errors.Is(outSet[i].Err, forget.ErrHeld) {
								t.Errorf("customer %s: %v, want held", r.Lookup.CustomerID, outSet[i].Err)
							}
						case "101", "125", "126", "140":
							if outSet[i].Err != nil {
								t.Errorf("customer %s: %v", r.Lookup.CustomerID, outSet[i].Err)
								continue
							}
							// 101, 125 and 140 have no shipping row, 126 one.
							var id int
							fmt.Sscan(r.Lookup.CustomerID, &id)
							rc := outSet[i].Receipt
							if dry != (rc.Inventory != nil) {
								t.Errorf("customer %d: dry run %v, inventory %v", id, dry, rc.Inventory)
							}
							if rows := rc.RowsUpdated["shipping"]; rows != int64((id+1)%3) || slices.Contains(rc.FieldsErased, forget.ShippingFirstname) != (rows > 0) {
								t.Errorf("customer %d: %d shipping rows written, fields erased %v", id, rows, rc.FieldsErased)
							}
						}
					}
				})
			}
		})
	}
}

// TestBatchUnknownHoldToIgnore: a batch request naming a hold the store
// does not declare is invalid, as a single forget's is, and changes
// nothing: an operator's typo must not let the batch run unawares.
func TestBatchUnknownHoldToIgnore(t *testing.T) {
	t.Parallel()
	e := engines(t)[0]
	fx := newBulkFixture(t, e)
	before := dumpAll(t, fx.db)
	out := fx.f.ForgetBatch(context.Background(), []forget.Request{
		{Lookup: forget.Lookup{CustomerID: "110"}, IgnoreHolds: []string{"chargebak"}},
		{Lookup: forget.Lookup{CustomerID: "121"}, IgnoreHolds: []string{"chargebak"}},
	})
	for i, o := range out {
		var uh *forget.UnknownHoldError
		if !errors.As(o.Err, &uh) || !errors.Is(o.Err, forget.ErrInvalid) {
			t.Errorf("request %d: %v, want an *UnknownHoldError", i, o.Err)
		}
	}
	if !reflect.DeepEqual(dumpAll(t, fx.db), before) {
		t.Error("the database changed")
	}
}

// TestBulkLargeGroups: a group larger than one statement may carry
// (PostgreSQL and MySQL allow 65,535 parameters, a customer's field
// update takes 24) is split into several statements, and two batches
// over the same customers in opposite orders, at once, both finish
// (deadlocks are retried), every customer audited twice.
func TestBulkLargeGroups(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("forgets thousands of customers")
	}
	const n = 3000
	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) {
			ctx := context.Background()
			db, _ := e.open(t)
			seedTemplate(t, db, e.dialect, n)
			s, err := sqlstore.New(db, e.dialect, sqlstore.WithAudit(sqlstore.DefaultAuditTable), sqlstore.WithBatchSize(n))
			if err != nil {
				t.Fatal(err)
			}
			f := quietForgetter(t, s)
			up := make([]forget.Request, n)
			down := make([]forget.Request, n)
			for i := range n {
				up[i] = forget.Request{Lookup: forget.Lookup{CustomerID: fmt.Sprint(i + 1)}}
				down[i] = forget.Request{Lookup: forget.Lookup{CustomerID: fmt.Sprint(n - i)}}
			}
			outs := make([][]forget.Outcome, 2)
			done := make(chan int, 2)
			for k, reqs := range [][]forget.Request{up, down} {
				go func() { outs[k] = f.ForgetBatch(ctx, reqs); done <- k }()
			}
			<-done
			<-done
			for k := range outs {
				for i, o := range outs[k] {
					if o.Err != nil {
						t.Fatalf("batch %d request %d: %v", k, i, o.Err)
					}
				}
			}
			var left, audits int
			if err := db.QueryRow("SELECT COUNT(*) FROM member_note").Scan(&left); err != nil || left != 0 {
				t.Errorf("%d notes left, %v", left, err)
			}
			if err := db.QueryRow("SELECT COUNT(*) FROM forget_audit").Scan(&audits); err != nil || audits != 2*n {
				t.Errorf("%d audit records, want %d (%v)", audits, 2*n, err)
			}
			// Both lock their customers in key order, whatever the
			// order of the batch: no deadlock, no fallback.
			if sets, fallbacks := sqlstore.BulkStats(s); sets == 0 || fallbacks != 0 {
				t.Errorf("%d groups set-based, %d fell back; want none to fall back", sets, fallbacks)
			}
		})
	}
}

// TestBulkCancelledCommitsNothing: a context that ends while a group runs
// set-based (here, in its hold check) leaves every customer of the group
// as it was and each request carrying the cancellation, on every engine.
// SQLite's set-based statements run without the context's cancellation,
// for speed: the store checks it before each one and before COMMIT.
func TestBulkCancelledCommitsNothing(t *testing.T) {
	t.Parallel()
	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) {
			bg := context.Background()
			db := schemaDB(t, e)
			seedCustomers(t, db, e, 1, 4)
			ctx, cancel := context.WithCancel(bg)
			defer cancel()
			s, err := sqlstore.New(db, e.dialect, sqlstore.WithHold("cancels", func(context.Context, sqlstore.Querier, any) (bool, error) {
				cancel()
				return false, nil
			}))
			if err != nil {
				t.Fatal(err)
			}
			notes := func() int {
				var n int
				if err := db.QueryRowContext(bg, "SELECT COUNT(*) FROM member_note WHERE customer_id IN (1, 2, 3, 4)").Scan(&n); err != nil {
					t.Fatal(err)
				}
				return n
			}
			before := notes()
			var reqs []forget.Request
			for id := 1; id <= 4; id++ {
				reqs = append(reqs, forget.Request{Lookup: forget.Lookup{CustomerID: fmt.Sprint(id)}})
			}
			for i, o := range quietForgetter(t, s).ForgetBatch(ctx, reqs) {
				if !errors.Is(o.Err, context.Canceled) {
					t.Errorf("request %d: %v, want the cancellation", i, o.Err)
				}
			}
			if after := notes(); before == 0 || after != before {
				t.Errorf("member_note rows of the group: %d before, %d after: the cancelled group changed them", before, after)
			}
			if _, fallbacks := sqlstore.BulkStats(s); fallbacks != 0 {
				t.Errorf("%d groups went per customer; the cancelled group should have stopped set-based", fallbacks)
			}
		})
	}
}
