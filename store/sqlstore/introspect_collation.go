package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"strings"
)

// columnComparison says how a text column compares values for equality,
// as a name two columns share exactly when they compare alike: on SQLite
// its collation (BINARY unless declared), on MySQL its collation, on
// PostgreSQL "deterministic" (every deterministic collation tells
// different bytes apart), "citext", or the nondeterministic collation's
// name. It reads the catalogue only, never a row.
func columnComparison(ctx context.Context, db *sql.DB, d Dialect, t *TableInfo, column string) (string, error) {
	switch d {
	case SQLite:
		var def string
		q := `SELECT coalesce(sql, '') FROM "` + strings.ReplaceAll(t.Schema, `"`, `""`) + `".sqlite_master WHERE type = 'table' AND name = ?`
		if err := db.QueryRowContext(ctx, q, t.Unqualified).Scan(&def); err != nil {
			return "", err
		}
		return sqliteCollation(def, column), nil
	case MySQL:
		var coll sql.NullString
		err := db.QueryRowContext(ctx, `SELECT COLLATION_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND COLUMN_NAME = ?`, t.Schema, t.Unqualified, column).Scan(&coll)
		if err != nil {
			return "", err
		}
		return strings.ToLower(coll.String), nil
	case Postgres:
		var coll, typ string
		var deterministic bool
		err := db.QueryRowContext(ctx, `SELECT coalesce(co.collname, ''), coalesce(co.collisdeterministic, true), coalesce(bt.typname, ty.typname)
FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_type ty ON ty.oid = a.atttypid LEFT JOIN pg_type bt ON bt.oid = nullif(ty.typbasetype, 0)
LEFT JOIN pg_collation co ON co.oid = a.attcollation
WHERE n.nspname = $1 AND c.relname = $2 AND a.attname = $3 AND NOT a.attisdropped`, t.Schema, t.Unqualified, column).Scan(&coll, &deterministic, &typ)
		if err != nil {
			return "", err
		}
		switch {
		case typ == "citext":
			return "citext", nil
		case !deterministic:
			return "nondeterministic collation " + coll, nil
		}
		return "deterministic", nil
	}
	return "", fmt.Errorf("unknown dialect")
}

var sqliteCollate = regexp.MustCompile("(?i)\\bCOLLATE\\s+(\"[^\"]*\"|\\[[^\\]]*\\]|`[^`]*`|'[^']*'|\\w+)")

// sqliteCollation finds column's collation in a CREATE TABLE statement:
// BINARY when its definition declares none, "unknown" when the statement
// names collations but the definition cannot be found.
func sqliteCollation(def, column string) string {
	if !sqliteCollate.MatchString(def) {
		return "BINARY"
	}
	open, end := strings.Index(def, "("), strings.LastIndex(def, ")")
	if open < 0 || end < open {
		return "unknown"
	}
	for _, part := range splitTopLevel(def[open+1 : end]) {
		part = strings.TrimSpace(part)
		name, rest := sqliteFirstIdent(part)
		if !strings.EqualFold(name, column) {
			continue
		}
		if m := sqliteCollate.FindStringSubmatch(rest); m != nil {
			return strings.ToUpper(strings.Trim(m[1], "\"[]`'"))
		}
		return "BINARY"
	}
	return "unknown"
}

// splitTopLevel splits s at the commas outside parentheses and quotes.
func splitTopLevel(s string) []string {
	var out []string
	depth, start := 0, 0
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'' || c == '`':
			quote = c
		case c == '[':
			quote = ']'
		case c == '(':
			depth++
		case c == ')':
			depth--
		case c == ',' && depth == 0:
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

// sqliteFirstIdent returns the identifier a column definition starts
// with, unquoted, and the rest of the definition.
func sqliteFirstIdent(s string) (string, string) {
	if s == "" {
		return "", ""
	}
	if closer, ok := map[byte]byte{'"': '"', '`': '`', '[': ']', '\'': '\''}[s[0]]; ok {
		if i := strings.IndexByte(s[1:], closer); i >= 0 {
			return s[1 : i+1], s[i+2:]
		}
		return "", ""
	}
	i := strings.IndexFunc(s, func(r rune) bool { return r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == '(' })
	if i < 0 {
		return s, ""
	}
	return s[:i], s[i:]
}
