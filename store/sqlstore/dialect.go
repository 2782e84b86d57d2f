package sqlstore

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
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
	lower := strings.ToLower(name)
	for _, e := range registered() {
		if lower == e.name || slices.Contains(e.aliases, lower) {
			return e.dialect, nil
		}
	}
	return 0, fmt.Errorf("sqlstore: unknown dialect %q (want %s)", name, dialectNames())
}

func (d Dialect) String() string {
	if e := d.engine(); e != nil {
		return e.name
	}
	return fmtUnknown(d)
}

func (d Dialect) valid() bool { return d.engine() != nil }

// Placeholders returns n placeholders for d, numbered from 1 where the
// dialect numbers them: "?, ?" or "$1, $2".
func (d Dialect) Placeholders(n int) string {
	return d.render(strings.TrimSuffix(strings.Repeat("?, ", n), ", "))
}

// SingleWriter reports whether d's engine lets one writer at a time
// write (SQLite): a store then queues its own writers, and larger chunks
// write each page once for more customers.
func (d Dialect) SingleWriter() bool { return d.engine().singleWriter }

// render turns ? into the dialect's placeholders.
func (d Dialect) render(query string) string {
	q, err := d.placeholder().ReplacePlaceholders(query)
	if err != nil {
		return query // cannot happen: the statements hold no literal '?'
	}
	return q
}

func (d Dialect) placeholder() sq.PlaceholderFormat { return d.engine().placeholder }

// quote quotes a checked identifier, each part of a qualified one apart.
// Identifiers are checked by validIdent before they reach here, so they
// hold no quote characters.
func (d Dialect) quote(ident string) string { return quoteIdent(d.engine().identQuote, ident) }

// lockSuffix is appended to the statement that locks the customer row.
func (d Dialect) lockSuffix() string { return d.engine().lockSuffix }

// retryable reports whether err means the database gave up on the
// transaction for a reason that retrying may cure: a deadlock, a
// serialisation failure, or a lock that stayed busy.
func (d Dialect) retryable(err error) bool { return d.engine().retryable(err) }

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
