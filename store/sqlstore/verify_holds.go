package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/forgetkit/forget/internal/ago"
)

// holds refuses a mapped hold that could never match: its table, customer
// key or a condition's column missing, or a value the column cannot
// compare with (SQLite compares a number with text as text, so 3 never
// equals "3"; PostgreSQL and MySQL fail or convert). A hold that never
// matches erases the customers it was written to protect.
func (v *verifier) holds(ctx context.Context) {
	for i, h := range v.s.schema.Holds {
		what := fmt.Sprintf("hold %d (%s)", i+1, h.Name)
		before := len(v.errs)
		v.hold(h, what)
		if len(v.errs) == before && i < len(v.s.holds) {
			v.probeHold(ctx, v.s.holds[i], what)
		}
	}
}

// probeHold runs the hold's statement once for no customer (the key
// bound as NULL matches no row): a value the server cannot read as the
// column's type (an enum label misspelt, "not an address" for inet, a
// number for a uuid) fails there on every forget, so it is refused now.
func (v *verifier) probeHold(ctx context.Context, h holdSQL, what string) {
	args := make([]any, len(h.args))
	for i, a := range h.args {
		switch x := a.(type) {
		case keyPlaceholder:
			args[i] = nil
		case timeAgo:
			args[i] = v.s.dialect.timeArg(ago.Span(x).Before(time.Now()))
		default:
			args[i] = a
		}
	}
	conn, err := v.s.db.Conn(ctx)
	if err != nil {
		return // the session checks report a database that cannot be reached
	}
	defer conn.Close()
	var one int
	if err := conn.QueryRowContext(ctx, h.query, args...).Scan(&one); err != nil && !errors.Is(err, sql.ErrNoRows) {
		v.fail("%s: the database cannot evaluate it: %v", what, v.s.scrubbedError(err, args...))
		return
	}
	v.s.dialect.engine().holdWarnings(v, ctx, conn, what)
}

// hold checks one hold against the introspected tables.
func (v *verifier) hold(h Hold, what string) {
	t := v.table(h.Table, what)
	if t == nil {
		return
	}
	v.column(t, h.CustomerKey, what+" customer_key")
	for j, c := range h.Where {
		cw := fmt.Sprintf("%s condition %d", what, j+1)
		col := v.column(t, c.Column, cw)
		if col == nil {
			continue
		}
		switch c.Op {
		case "is_null", "not_null":
		case "newer_than", "older_than":
			if !v.s.dialect.engine().holdsTimes(col) {
				v.fail("%s: %s compares %s.%s with a time, but it is %s", cw, c.Op, t.Name, col.Name, col.Type)
			}
		case "in":
			list, _ := c.Value.([]any)
			for _, x := range list {
				if why := v.incomparable(col, x); why != "" {
					v.fail("%s: %s.%s is %s, but the in list holds %s", cw, t.Name, col.Name, col.Type, why)
					break
				}
			}
		default:
			if why := v.incomparable(col, c.Value); why != "" {
				v.fail("%s: %s.%s is %s, but the value is %s", cw, t.Name, col.Name, col.Type, why)
			}
		}
	}
}

// incomparable says what kind of value x is when col cannot be compared
// with it as the host means, or "" when it can. It never names the value.
func (v *verifier) incomparable(col *ColumnInfo, x any) string {
	kind := ""
	switch x.(type) {
	case string:
		kind = "a string"
	case float64, float32, int, int64, int32:
		kind = "a number"
	case bool:
		kind = "a bool"
	default:
		return "" // validateHolds refuses other values
	}
	typ := strings.ToLower(col.Type)
	if labels, ok := mysqlEnumLabels(col.Type); ok && kind == "a string" {
		for _, l := range labels {
			if strings.EqualFold(l, x.(string)) {
				return ""
			}
		}
		return "a string that is none of its labels" // MySQL compares it without an error, and never matches
	}
	switch col.Kind {
	case KindText:
		if kind != "a string" {
			return kind + " (quote it)"
		}
	case KindInt:
		// MySQL's booleans are tinyint(1); SQLite stores true as 1.
		if kind == "a string" || kind == "a bool" && v.s.dialect.engine().strictBools {
			return kind
		}
	default:
		switch {
		case v.s.dialect.engine().holdsTimes(col) && kind != "a string":
			return kind + " (a time is written as a string such as \"2024-05-01 10:00:00\")"
		case isNumericType(typ) && kind != "a number":
			return kind
		case typ == "boolean" && v.s.dialect.engine().strictBools && kind != "a bool":
			return kind
		}
	}
	return ""
}

func isNumericType(typ string) bool {
	for _, p := range []string{"numeric", "decimal", "real", "double", "float", "money"} {
		if strings.HasPrefix(typ, p) {
			return true
		}
	}
	return false
}

// mysqlEnumLabels reads the labels of a MySQL column type
// enum('calm','it”s').
func mysqlEnumLabels(typ string) ([]string, bool) {
	if len(typ) < 6 || !strings.EqualFold(typ[:5], "enum(") || !strings.HasSuffix(typ, ")") {
		return nil, false
	}
	var labels []string
	rest := typ[5 : len(typ)-1]
	for rest != "" {
		if rest[0] != '\'' {
			return nil, false
		}
		var b strings.Builder
		i := 1
		for ; i < len(rest); i++ {
			if rest[i] == '\'' {
				if i+1 < len(rest) && rest[i+1] == '\'' {
					b.WriteByte('\'')
					i++
					continue
				}
				break
			}
			b.WriteByte(rest[i])
		}
		if i >= len(rest) {
			return nil, false
		}
		labels = append(labels, b.String())
		rest = strings.TrimPrefix(rest[i+1:], ",")
	}
	return labels, true
}
