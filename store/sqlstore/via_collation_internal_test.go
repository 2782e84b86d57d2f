package sqlstore

import "testing"

func TestSQLiteCollation(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ def, col, want string }{
		{"CREATE TABLE n (id INTEGER PRIMARY KEY, email TEXT NOT NULL)", "email", "BINARY"},
		{"CREATE TABLE n (id INTEGER PRIMARY KEY, email TEXT COLLATE NOCASE NOT NULL)", "email", "NOCASE"},
		{"CREATE TABLE n (id INTEGER PRIMARY KEY, email TEXT COLLATE NOCASE NOT NULL)", "EMAIL", "NOCASE"},
		{"CREATE TABLE n (id INTEGER PRIMARY KEY, email TEXT COLLATE NOCASE NOT NULL)", "id", "BINARY"},
		{"CREATE TABLE n (\"e,mail\" TEXT CHECK (length(\"e,mail\") > 0) COLLATE rtrim, other TEXT)", "e,mail", "RTRIM"},
		{"CREATE TABLE n ([note] TEXT, `email` varchar(20) collate \"NoCase\")", "email", "NOCASE"},
		{"CREATE TABLE n (a TEXT COLLATE NOCASE)", "missing", "unknown"},
	} {
		if got := sqliteCollation(c.def, c.col); got != c.want {
			t.Errorf("sqliteCollation(%q, %q) = %q, want %q", c.def, c.col, got, c.want)
		}
	}
}
