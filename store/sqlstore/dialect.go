package sqlstore

import (
	"errors"
	"fmt"
	"reflect"
	"strings"

	sq "github.com/Masterminds/squirrel"
)

// Dialect is the SQL flavour of a database: its placeholders, identifier
// quoting, and how a forget locks its customer.
type Dialect int

// The supported dialects.
const (
	// SQLite (modernc.org/sqlite, the embedded default, or
	// mattn/go-sqlite3; other drivers work but their busy errors are not
	// recognised, so a busy database is not retried). A forget runs in a
	// BEGIN IMMEDIATE transaction on one connection, so two writers queue
	// for the lock instead of failing on upgrade.
	SQLite Dialect = iota + 1
	// Postgres (pgx's database/sql driver, or lib/pq: any driver whose
	// errors have a SQLState method). The customer row is locked with
	// SELECT ... FOR UPDATE.
	Postgres
	// MySQL and MariaDB (go-sql-driver/mysql). The customer row is locked
	// with SELECT ... FOR UPDATE.
	MySQL
)

// ParseDialect returns the dialect named sqlite, postgres or mysql
// (also: postgresql, pg, mariadb).
func ParseDialect(name string) (Dialect, error) {
	switch strings.ToLower(name) {
	case "sqlite", "sqlite3":
		return SQLite, nil
	case "postgres", "postgresql", "pg":
		return Postgres, nil
	case "mysql", "mariadb":
		return MySQL, nil
	}
	return 0, fmt.Errorf("sqlstore: unknown dialect %q (want sqlite, postgres or mysql)", name)
}

func (d Dialect) String() string {
	switch d {
	case SQLite:
		return "sqlite"
	case Postgres:
		return "postgres"
	case MySQL:
		return "mysql"
	}
	return fmt.Sprintf("Dialect(%d)", int(d))
}

func (d Dialect) valid() bool { return d >= SQLite && d <= MySQL }

func (d Dialect) placeholder() sq.PlaceholderFormat {
	if d == Postgres {
		return sq.Dollar
	}
	return sq.Question
}

// quote quotes a checked identifier, each part of a qualified one apart.
// Identifiers are checked by validIdent before they reach here, so they
// hold no quote characters.
func (d Dialect) quote(ident string) string {
	q := `"`
	if d == MySQL {
		q = "`"
	}
	parts := strings.Split(ident, ".")
	for i, p := range parts {
		parts[i] = q + p + q
	}
	return strings.Join(parts, ".")
}

// lockSuffix is appended to the statement that locks the customer row.
func (d Dialect) lockSuffix() string {
	if d == SQLite {
		return "" // the whole database is locked by BEGIN IMMEDIATE
	}
	return "FOR UPDATE"
}

// retryable reports whether err means the database gave up on the
// transaction for a reason that retrying may cure: a deadlock, a
// serialisation failure, or a lock that stayed busy.
func (d Dialect) retryable(err error) bool {
	var state interface{ SQLState() string } // pgconn.PgError, lib/pq's Error
	var lite interface{ Code() int }         // modernc.org/sqlite.Error
	switch {
	case errors.As(err, &state):
		s := state.SQLState()
		return s == "40001" || s == "40P01" || s == "55P03"
	case errors.As(err, &lite):
		code := lite.Code() & 0xff    // primary result code
		return code == 5 || code == 6 // SQLITE_BUSY, SQLITE_LOCKED
	}
	if my, ok := asMySQLError(err); ok {
		return my.number == 1213 || my.number == 1205 // deadlock, lock wait timeout
	}
	if code, ok := asMattnSQLiteError(err); ok {
		return code == 5 || code == 6
	}
	return false
}

// The errors of go-sql-driver/mysql and mattn/go-sqlite3 expose fields,
// not methods, so no interface reaches them. The store reads them by
// reflection rather than import the drivers: a host links only the driver
// it uses, and may register its own under any name.
const (
	mysqlPkg       = "github.com/go-sql-driver/mysql"
	mattnSQLitePkg = "github.com/mattn/go-sqlite3"
)

// mysqlError is what the store reads of a *mysql.MySQLError.
type mysqlError struct {
	number uint64
	state  string
}

// driverStruct returns the struct behind an error of the named package
// and type, anywhere in err's chain.
func driverStruct(err error, pkg, name string) (reflect.Value, bool) {
	for e := err; e != nil; e = errors.Unwrap(e) {
		v := reflect.ValueOf(e)
		if v.Kind() == reflect.Pointer {
			if v.IsNil() {
				continue
			}
			v = v.Elem()
		}
		if v.Kind() == reflect.Struct && v.Type().PkgPath() == pkg && v.Type().Name() == name {
			return v, true
		}
	}
	return reflect.Value{}, false
}

func asMySQLError(err error) (mysqlError, bool) {
	v, ok := driverStruct(err, mysqlPkg, "MySQLError")
	if !ok {
		return mysqlError{}, false
	}
	num, state := v.FieldByName("Number"), v.FieldByName("SQLState")
	if !num.IsValid() || !num.CanUint() {
		return mysqlError{}, false
	}
	my := mysqlError{number: num.Uint()}
	if state.IsValid() && state.Kind() == reflect.Array && state.Type().Elem().Kind() == reflect.Uint8 {
		b := make([]byte, state.Len())
		for i := range b {
			b[i] = byte(state.Index(i).Uint())
		}
		my.state = string(b)
	}
	return my, true
}

func asMattnSQLiteError(err error) (int64, bool) {
	v, ok := driverStruct(err, mattnSQLitePkg, "Error")
	if !ok {
		return 0, false
	}
	code := v.FieldByName("Code")
	if !code.IsValid() || !code.CanInt() {
		return 0, false
	}
	return code.Int(), true
}

// validIdent reports whether s is a plain identifier, optionally qualified
// by a schema: [A-Za-z_][A-Za-z0-9_]*, at most 63 characters a part.
func validIdent(s string) bool {
	parts := strings.Split(s, ".")
	if len(parts) > 2 {
		return false
	}
	for _, p := range parts {
		if p == "" || len(p) > 63 {
			return false
		}
		for i := 0; i < len(p); i++ {
			c := p[i]
			letter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_'
			if !letter && (i == 0 || c < '0' || c > '9') {
				return false
			}
		}
	}
	return true
}

type redactedDBError struct {
	msg string
	err error
}

func (e *redactedDBError) Error() string { return e.msg }
func (e *redactedDBError) Unwrap() error { return e.err }
