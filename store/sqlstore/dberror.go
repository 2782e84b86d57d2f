package sqlstore

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"time"
)

// scrubbedError keeps a server's error message, so that the operator
// learns what went wrong (operator does not exist: text = uuid), with
// every quoted part that is not a name the mapping uses, and every value
// the statement was given, replaced by "…": a message may quote a value,
// and values never reach a log or a report. PostgreSQL's Error() holds
// its message and SQLSTATE, never the DETAIL that quotes a row; MySQL's
// gets its number and SQLSTATE in front. A message a trigger or function
// wrote itself is dropped whole (see hostMessage). Other errors are
// returned as they are.
func (s *Store) scrubbedError(err error, args ...any) error {
	return scrubDBError(err, s.knownNames(), args)
}

// safeError scrubs the error of a statement that does not run with the
// mapping's names at hand (connect, begin, introspection, the outbox's
// claims, lookups): as scrubbedError, with every quoted part replaced.
func safeError(err error) error { return scrubDBError(err, nil, nil) }

// scrubDBError is scrubbedError with the names to keep, known, given.
func scrubDBError(err error, known map[string]bool, args []any) error {
	if err == nil {
		return nil
	}
	var state interface{ SQLState() string }
	switch my, isMySQL := asMySQLError(err); {
	case errors.As(err, &state) && hostWritten(err, state.SQLState()):
		return &redactedDBError{msg: "postgres error: " + hostMessage + " (SQLSTATE " + state.SQLState() + ")", err: err}
	case isMySQL && (my.number == 1644 || strings.HasPrefix(my.state, "45")):
		return &redactedDBError{msg: fmt.Sprintf("mysql error %d (SQLSTATE %s): %s", my.number, my.state, hostMessage), err: err}
	case errors.As(err, &state):
		msg := scrub(err.Error(), args, known)
		if !strings.Contains(msg, state.SQLState()) {
			msg += " (SQLSTATE " + state.SQLState() + ")"
		}
		return &redactedDBError{msg: "postgres error: " + msg, err: err}
	case isMySQL:
		text := err.Error()
		if _, rest, ok := strings.Cut(text, ": "); ok { // "Error 1146 (42S02): Table ..."
			text = rest
		}
		return &redactedDBError{msg: fmt.Sprintf("mysql error %d (SQLSTATE %s): %s", my.number, my.state, scrub(text, args, known)), err: err}
	case sqliteRaised(err):
		return &redactedDBError{msg: "sqlite error 1811 (SQLITE_CONSTRAINT_TRIGGER): " + hostMessage, err: err}
	}
	return err
}

// sqliteRaised reports whether a SQLite error is a trigger's RAISE, whose
// message may be any expression of the row (SQLite 3.47 and later).
func sqliteRaised(err error) bool {
	const constraintTrigger = 1811   // SQLITE_CONSTRAINT | 7<<8
	var lite interface{ Code() int } // modernc.org/sqlite.Error
	if errors.As(err, &lite) {
		return lite.Code() == constraintTrigger
	}
	if v, ok := driverStruct(err, mattnSQLitePkg, "Error"); ok {
		ext := v.FieldByName("ExtendedCode")
		return ext.IsValid() && ext.CanInt() && ext.Int() == constraintTrigger
	}
	return false
}

// hostMessage stands for a message the host's own trigger or function
// wrote (MySQL's SIGNAL, PostgreSQL's RAISE): it is the host's text, not
// the server's, and may be built from the row (CONCAT('…', OLD.email)),
// unquoted, where scrubbing cannot find the value.
const hostMessage = "raised by a trigger or function of the database (its message is not shown: it may hold a value)"

// hostWritten reports whether a PostgreSQL error was raised by PL/pgSQL's
// RAISE: SQLSTATE P0001 (RAISE's default) or, for a RAISE with an ERRCODE
// of its own, the routine pgx and lib/pq report (read by reflection: the
// store imports no driver).
func hostWritten(err error, state string) bool {
	if state == "P0001" {
		return true
	}
	for e := err; e != nil; e = errors.Unwrap(e) {
		v := reflect.ValueOf(e)
		if v.Kind() == reflect.Pointer && !v.IsNil() {
			v = v.Elem()
		}
		if v.Kind() != reflect.Struct {
			continue
		}
		if r := v.FieldByName("Routine"); r.IsValid() && r.Kind() == reflect.String && r.String() == "exec_stmt_raise" {
			return true
		}
	}
	return false
}

// scrub replaces in msg the quoted parts that are not names in known,
// and the text of every argument.
func scrub(msg string, args []any, known map[string]bool) string {
	for _, a := range args {
		var text string
		switch v := a.(type) {
		case nil:
			continue
		case time.Time:
			text = v.Format("2006-01-02 15:04:05")
		case []byte:
			text = string(v)
		default:
			text = fmt.Sprint(v)
		}
		// Not short numbers: they would also match the SQLSTATE.
		if len(text) >= 6 && strings.Trim(text, "0123456789") != "" {
			msg = strings.ReplaceAll(msg, text, "…")
		}
	}
	return scrubQuoted(msg, known)
}

// mysqlPlaces are the parts of a statement MySQL quotes in its messages
// ("Unknown column 'stauts' in 'where clause'").
var mysqlPlaces = map[string]bool{"field list": true, "where clause": true, "on clause": true, "order clause": true, "group statement": true, "having clause": true}

// scrubQuoted replaces with one "…" everything from the first quote that
// does not open a known name to the last quote that does not close one.
// A value may itself hold quotes ("O'Brien", `ab"cd`), so pairing quotes
// cannot find where it ends; only the names around it can be trusted.
func scrubQuoted(msg string, known map[string]bool) string {
	first, last := -1, -1
	for i := 0; i < len(msg); i++ {
		q := msg[i]
		if q != '"' && q != '\'' {
			continue
		}
		if end := strings.IndexByte(msg[i+1:], q); end >= 0 {
			inner := msg[i+1 : i+1+end]
			parts := strings.Split(inner, ".")
			if validIdent(inner) && known[strings.ToLower(parts[len(parts)-1])] || mysqlPlaces[inner] {
				i += end + 1 // a name the mapping uses: kept
				continue
			}
		}
		if first < 0 {
			first = i
		}
		last = i
	}
	if first < 0 {
		return msg
	}
	q := msg[first : first+1]
	if first == last {
		return msg[:first] + q + "…" + q
	}
	return msg[:first] + q + "…" + q + msg[last+1:]
}

// knownNames are the names of the tables and columns of the mapping and
// of the audit table, in lower case: the quoted parts of a message that
// are no value.
func (s *Store) knownNames() map[string]bool {
	s.namesOnce.Do(func() {
		s.names = map[string]bool{}
		add := func(v string) {
			for _, p := range strings.Split(v, ".") {
				if validIdent(p) {
					s.names[strings.ToLower(p)] = true
				}
			}
		}
		add(s.auditTable)
		for _, c := range auditColumns {
			add(c)
		}
		// Every name the mapping holds, wherever it holds it; a hold's
		// value is the mapping's own text, never the database's.
		b, _ := json.Marshal(s.schema)
		var walk func(any)
		walk = func(v any) {
			switch v := v.(type) {
			case string:
				add(v)
			case []any:
				for _, e := range v {
					walk(e)
				}
			case map[string]any:
				for k, e := range v {
					add(k)
					walk(e)
				}
			}
		}
		var tree any
		if json.Unmarshal(b, &tree) == nil {
			walk(tree)
		}
	})
	return s.names
}

// namesCache is embedded in Store: knownNames computes once.
type namesCache struct {
	namesOnce sync.Once
	names     map[string]bool
}
