package sqlstore

import (
	"fmt"
	"strings"
)

// holds refuses a mapped hold that could never match: its table, customer
// key or a condition's column missing, or a value the column cannot
// compare with (SQLite compares a number with text as text, so 3 never
// equals "3"; PostgreSQL and MySQL fail or convert). A hold that never
// matches erases the customers it was written to protect.
func (v *verifier) holds() {
	for i, h := range v.s.schema.Holds {
		what := fmt.Sprintf("hold %d (%s)", i+1, h.Name)
		t := v.table(h.Table, what)
		if t == nil {
			continue
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
				if !holdsTimes(v.s.dialect, col) {
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
	switch col.Kind {
	case KindText:
		if kind != "a string" {
			return kind + " (quote it)"
		}
	case KindInt:
		// MySQL's booleans are tinyint(1); SQLite stores true as 1.
		if kind == "a string" || kind == "a bool" && v.s.dialect == Postgres {
			return kind
		}
	default:
		switch {
		case holdsTimes(v.s.dialect, col) && kind != "a string":
			return kind + " (a time is written as a string such as \"2024-05-01 10:00:00\")"
		case isNumericType(typ) && kind != "a number":
			return kind
		case typ == "boolean" && v.s.dialect == Postgres && kind != "a bool":
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
