package sqlstore

import (
	"context"
	"database/sql"
	"strconv"
	"strings"
)

// probeRows is how many distinct values of a column a proposal reads to
// decide whether it holds customer keys.
const probeRows = 100

// probeCustomerKeys says why column c of t does not hold the keys of
// customers (key of cust), or "" when it does: up to probeRows distinct
// values, all of the key's form and all keys of existing customers. The
// values are compared and dropped: none is kept, logged or returned, and
// the reasons name no value.
func (s *Store) probeCustomerKeys(ctx context.Context, cust *TableInfo, key *ColumnInfo, t *TableInfo, c *ColumnInfo) string {
	if c.Kind != key.Kind && c.Kind != KindText {
		return "its type (" + c.Type + ") is not the customers key's"
	}
	vals, err := s.distinctValues(ctx, t, c.Name)
	if err != nil {
		return "its values could not be read"
	}
	if len(vals) == 0 {
		return "it holds no value to compare with the customer keys"
	}
	args := make([]any, len(vals))
	for i, v := range vals {
		switch key.Kind {
		case KindInt:
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || strconv.FormatInt(n, 10) != v {
				return "some of its values are not integers, as the customer keys are"
			}
			args[i] = n
		case KindUUID:
			if !isUUID(v) {
				return "some of its values are not uuids, as the customer keys are"
			}
			args[i] = strings.ToLower(v)
		default:
			args[i] = v
		}
	}
	table, err := quoteTable(s.dialect, cust)
	if err != nil {
		return "the customers table cannot be read"
	}
	col, err := quoteAny(s.dialect, key.Name)
	if err != nil {
		return "the customers key cannot be read"
	}
	query, qargs, err := s.sb.Select("COUNT(*)").From(table).Where(eqAny(col, len(args)), args...).ToSql()
	if err != nil {
		return "the customer keys could not be compared"
	}
	var n int
	if err := s.db.QueryRowContext(ctx, query, qargs...).Scan(&n); err != nil {
		return "its values could not be compared with the customer keys"
	}
	if n != len(vals) {
		return "some of its values are not the key of any customer"
	}
	return ""
}

// eqAny is "col IN (?, ?, ...)" for n values.
func eqAny(col string, n int) string {
	return col + " IN (" + strings.TrimSuffix(strings.Repeat("?, ", n), ", ") + ")"
}

// distinctValues reads up to probeRows distinct non-NULL values of column
// of t, as text.
func (s *Store) distinctValues(ctx context.Context, t *TableInfo, column string) ([]string, error) {
	table, err := quoteTable(s.dialect, t)
	if err != nil {
		return nil, err
	}
	col, err := quoteAny(s.dialect, column)
	if err != nil {
		return nil, err
	}
	query, args, err := s.sb.Select(col).Distinct().From(table).Where(col + " IS NOT NULL").Limit(probeRows).ToSql()
	if err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, safeError(err)
	}
	defer rows.Close()
	var out []string
	seen := map[string]bool{}
	for rows.Next() {
		var v sql.RawBytes
		if err := rows.Scan(&v); err != nil {
			return nil, safeError(err)
		}
		if k := string(v); !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	return out, safeError(rows.Err())
}

// isUUID reports whether v is 8-4-4-4-12 hexadecimal digits.
func isUUID(v string) bool {
	if len(v) != 36 {
		return false
	}
	for i, r := range v {
		switch {
		case i == 8 || i == 13 || i == 18 || i == 23:
			if r != '-' {
				return false
			}
		case !strings.ContainsRune("0123456789abcdefABCDEF", r):
			return false
		}
	}
	return true
}
