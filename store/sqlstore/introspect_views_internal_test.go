package sqlstore

import (
	"slices"
	"testing"
)

// TestIdentifierChains: a view's text yields every name it could read,
// quoted in any style, dotted or not, and nothing from its comments.
func TestIdentifierChains(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		sql  string
		want [][]string
	}{
		{"SELECT a FROM users", [][]string{{"SELECT"}, {"a"}, {"FROM"}, {"users"}}},
		{"select `test`.`users`.`id` AS `id` from `test`.`users`", [][]string{{"select"}, {"test", "users", "id"}, {"AS"}, {"id"}, {"from"}, {"test", "users"}}},
		{`SELECT * FROM "my ""odd"" table" , [br ack].x`, [][]string{{"SELECT"}, {"FROM"}, {`my "odd" table`}, {"br ack", "x"}}},
		{"SELECT 1 -- FROM hidden\nFROM /* not_me */ main . t", [][]string{{"SELECT"}, {"1"}, {"FROM"}, {"main", "t"}}},
		{"x..y", [][]string{{"x"}, {"y"}}},
		{"'unterminated", [][]string{{"unterminated"}}},
		{"/* unterminated", nil},
	} {
		if got := identifierChains(tc.sql); !slices.EqualFunc(got, tc.want, slices.Equal) {
			t.Errorf("identifierChains(%q) = %q, want %q", tc.sql, got, tc.want)
		}
	}
}

// TestFinishViews: what a view reads is found among the tables and
// other views, qualified or not, and the view itself is not among them.
func TestFinishViews(t *testing.T) {
	t.Parallel()
	in := &Introspection{Dialect: SQLite, Current: "main", foldTables: true}
	b := &introBuilder{in: in, tables: map[tableKey]*TableInfo{}}
	b.table("main", "Users")
	b.table("main", "orders")
	b.table("main", "products")
	b.viewDefinition("main", "v1", PlainView, `SELECT u.id FROM users u JOIN main."ORDERS" o ON o.user_id = u.id -- products`)
	b.viewDefinition("main", "v2", PlainView, "SELECT * FROM v1, v2")
	b.viewDefinition("main", "v3", PlainView, "")
	b.finish()
	if v := in.View("v1"); v == nil || !slices.Equal(v.Reads, []string{"Users", "orders"}) {
		t.Errorf("v1 reads %+v", v)
	}
	if v := in.View("v2"); v == nil || !slices.Equal(v.Reads, []string{"v1"}) {
		t.Errorf("v2 reads %+v", v)
	}
	if v := in.View("v3"); v == nil || !v.hiddenDefinition || len(v.Reads) != 0 {
		t.Errorf("v3 %+v, want a hidden definition", v)
	}
	if in.Table("v1") != nil || in.View("users") != nil {
		t.Error("views and tables are mixed up")
	}
}
