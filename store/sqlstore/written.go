package sqlstore

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/forgetkit/forget"
)

// What a forget wrote, counted alike on every engine and on both paths
// (per customer and set-based), so that a receipt says no more than
// happened: a field is erased only where a row held it, and every table
// counts the customer's rows written.

// matchedSQL counts and locks the customer's rows of table on MySQL,
// whose UPDATE reports only the rows whose values changed: a row already
// scrubbed, written again, is written all the same. Elsewhere it is "":
// the UPDATE's own count is the rows it matched.
func (s *Store) matchedSQL(table, key string) string {
	if s.dialect != MySQL {
		return ""
	}
	q := s.dialect.quote
	return fmt.Sprintf("SELECT COUNT(*) FROM %s WHERE %s = ? FOR UPDATE", q(table), q(key))
}

// runStatement runs st (args end with the customer key) with exec and
// returns the rows it wrote, when st is counted.
func (s *Store) runStatement(ctx context.Context, tx *txn, st scriptStmt, args []any, exec func(context.Context, string, ...any) (sql.Result, error)) (int64, error) {
	target := st.fields
	if target == "" {
		target = string(st.table)
	}
	var matched int64
	if st.matched != "" {
		if err := tx.queryRow(ctx, st.matched, args[len(args)-1]).Scan(&matched); err != nil {
			return 0, fmt.Errorf("sqlstore: count %s: %w", target, s.scrubbedError(err, args...))
		}
	}
	r, err := exec(ctx, st.sql, args...)
	var n int64
	if err == nil && st.matched == "" && !st.one && (st.counted || st.fields != "") {
		n, err = r.RowsAffected()
	}
	if err != nil {
		return 0, fmt.Errorf("sqlstore: %s %s: %w", verb(st.sql), target, s.scrubbedError(err, args...))
	}
	switch {
	case st.one:
		n = 1
	case st.matched != "":
		n = matched
	}
	return n, nil
}

// countWritten records in res the n rows that statement step of sc wrote
// for plan p: a catalogue table's in Rows, a field update's in Updated,
// and its fields in Unwritten when it wrote none.
func countWritten(res *forget.Result, sc *script, step int, n int64, p forget.Plan) {
	st := sc.stmts[step]
	if st.counted {
		res.Rows[st.table] = n
	}
	if st.fields == "" {
		return
	}
	if res.Updated == nil {
		res.Updated = make(map[string]int64, len(sc.layout.updates))
	}
	res.Updated[st.fields] = n
	if n == 0 {
		for _, ref := range sc.layout.updates[step].refs {
			res.Unwritten = append(res.Unwritten, p.Fields[ref.index].Field)
		}
	}
}
