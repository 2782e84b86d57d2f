package sqlstore_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"strings"
	"testing"

	sq "github.com/Masterminds/squirrel"

	"github.com/forgetkit/forget/store/sqlstore"
)

// seedMany fills the default schema with n customers, each with one row in
// every related table, so that a planner prefers a scan where no index
// serves.
func seedMany(t testing.TB, db *sql.DB, d sqlstore.Dialect, n int) {
	t.Helper()
	sb := statementBuilder(d)
	const batch = 500
	for start := 1; start <= n; start += batch {
		end := min(start+batch-1, n)
		inserts := []sq.InsertBuilder{
			sb.Insert("customers").Columns("customer_id", "username", "firstname"),
			sb.Insert("subscriptions").Columns("subscription_id", "customer_id"),
			sb.Insert("transactions").Columns("orderid", "customer_id"),
			sb.Insert("member_auth").Columns("customer_id", "kind"),
			sb.Insert("member_note").Columns("customer_id", "note"),
		}
		for i := start; i <= end; i++ {
			inserts[0] = inserts[0].Values(i, fmt.Sprintf("user%d", i), "name")
			inserts[1] = inserts[1].Values(i*10+1, i)
			inserts[2] = inserts[2].Values(i*100+1, i)
			inserts[3] = inserts[3].Values(i, "totp")
			inserts[4] = inserts[4].Values(i, "hello")
		}
		for _, ins := range inserts {
			if _, err := ins.RunWith(db).Exec(); err != nil {
				t.Fatal(err)
			}
		}
	}
	analyze := map[sqlstore.Dialect][]string{
		sqlstore.SQLite:   {"ANALYZE"},
		sqlstore.Postgres: {"ANALYZE"},
		sqlstore.MySQL:    {"ANALYZE TABLE customers, subscriptions, transactions, member_auth, member_note"},
	}
	for _, st := range analyze[d] {
		if _, err := db.Exec(st); err != nil {
			t.Fatal(err)
		}
	}
}

// TestEveryStatementUsesAnIndex explains every statement the store runs
// (pinned by TestStatements) on 10,000 customers: none may scan a table.
func TestEveryStatementUsesAnIndex(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("seeds 10,000 customers per engine")
	}
	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) {
			db, _ := e.open(t)
			if err := sqlstore.CreateSchema(context.Background(), db, e.dialect); err != nil {
				t.Fatal(err)
			}
			seedMany(t, db, e.dialect, 10000)
			var ds dialectSQL
			for _, d := range dialects {
				if d.d == e.dialect {
					ds = d
				}
			}
			explained := 0
			for _, sc := range scripts(ds) {
				for _, st := range sc.st {
					if st.sql == "" || strings.HasPrefix(st.sql, "BEGIN") || st.sql == "COMMIT" || st.sql == "ROLLBACK" {
						continue
					}
					args := make([]any, len(st.args))
					for i, a := range st.args {
						switch a.(type) {
						case pseudonymArg, randomArg:
							args[i] = "x"
						default:
							args[i] = driver.Value(a)
						}
					}
					if plan, scans := explain(t, db, e.dialect, st.sql, args); scans {
						t.Errorf("%s\nscans a table:\n%s", st.sql, plan)
					}
					explained++
				}
			}
			if explained < 10 {
				t.Fatalf("explained only %d statements", explained)
			}
		})
	}
}

// explain returns the plan of query and whether it scans a whole table.
func explain(t *testing.T, db *sql.DB, d sqlstore.Dialect, query string, args []any) (string, bool) {
	t.Helper()
	prefix := "EXPLAIN "
	if d == sqlstore.SQLite {
		prefix = "EXPLAIN QUERY PLAN "
	}
	rows, err := db.Query(prefix+query, args...)
	if err != nil {
		t.Fatalf("%s%s: %v", prefix, query, err)
	}
	cols, all := scanAll(t, rows)
	var plan []string
	scans := false
	for _, vals := range all {
		line := make(map[string]string)
		var text []string
		for i, c := range cols {
			line[strings.ToLower(c)] = vals[i].String
			text = append(text, c+"="+vals[i].String)
		}
		plan = append(plan, strings.Join(text, " "))
		switch d {
		case sqlstore.SQLite:
			scans = scans || strings.HasPrefix(line["detail"], "SCAN ")
		case sqlstore.Postgres:
			scans = scans || strings.Contains(line["query plan"], "Seq Scan")
		case sqlstore.MySQL:
			scans = scans || line["type"] == "ALL" || line["key"] == ""
		}
	}
	return strings.Join(plan, "\n"), scans
}
