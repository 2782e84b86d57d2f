package sqlstore

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestEngines holds every registered engine to the same checks, so that a
// fourth engine is checked by this one suite: every func set, every
// required value sane, and its Dialect's names, quoting, placeholders
// and schemas consistent.
func TestEngines(t *testing.T) {
	all := registered()
	if len(all) < 3 {
		t.Fatalf("%d engines registered, want at least SQLite, Postgres and MySQL", len(all))
	}
	for i, e := range all {
		t.Run(e.name, func(t *testing.T) {
			d := e.dialect
			if d != Dialect(i+1) {
				t.Errorf("engine %d is %v: dialects are numbered from 1 without gaps", i, d)
			}
			if d.engine() != e || !d.valid() {
				t.Errorf("%v does not find its own engine", d)
			}
			v := reflect.ValueOf(*e)
			for j := range v.NumField() {
				f, name := v.Field(j), v.Type().Field(j).Name
				if f.Kind() == reflect.Func && f.IsNil() {
					t.Errorf("%s is nil", name)
				}
			}
			if e.placeholder == nil {
				t.Error("placeholder is nil")
			}
			for name, s := range map[string]string{
				"name": e.name, "identQuote": e.identQuote, "holdQuote": e.holdQuote, "textType": e.textType,
				"ddl.id": e.ddl.id, "ddl.text": e.ddl.text, "ddl.name": e.ddl.name, "ddl.autoID": e.ddl.autoID,
			} {
				if strings.TrimSpace(s) == "" {
					t.Errorf("%s is empty", name)
				}
			}

			// Names.
			if d.String() != e.name {
				t.Errorf("String() = %q, want %q", d.String(), e.name)
			}
			for _, name := range append([]string{e.name, strings.ToUpper(e.name)}, e.aliases...) {
				if got, err := ParseDialect(name); err != nil || got != d {
					t.Errorf("ParseDialect(%q) = %v, %v; want %v", name, got, err, d)
				}
			}

			// Quoting and placeholders.
			q := e.identQuote
			if len(q) != 1 || len(e.holdQuote) != 1 {
				t.Errorf("quotes %q and %q: want one character each", q, e.holdQuote)
			}
			if got, want := d.quote("s.t"), q+"s"+q+"."+q+"t"+q; got != want {
				t.Errorf("quote(s.t) = %s, want %s", got, want)
			}
			if got := d.Placeholders(3); strings.Count(got, ", ") != 2 || strings.Contains(got, "??") {
				t.Errorf("Placeholders(3) = %q", got)
			}
			if got := d.Placeholders(0); got != "" {
				t.Errorf("Placeholders(0) = %q, want nothing", got)
			}
			if got := d.render("a = ? AND b = ?"); strings.Count(got, "?") != 0 && strings.Count(got, "?") != 2 {
				t.Errorf("render kept some placeholders: %q", got)
			}

			// Limits and times.
			if e.maxParams < 999 || e.maxParams > 65535 {
				t.Errorf("maxParams %d: every engine binds at least 999 and at most 65,535", e.maxParams)
			}
			if !strings.Contains(e.limit(7), "7") {
				t.Errorf("limit(7) = %q", e.limit(7))
			}
			for _, st := range []string{e.savepoints.set, e.savepoints.rollback, e.savepoints.release} {
				if st == "" {
					t.Error("a savepoint statement is empty")
				}
			}
			if e.timeArg(time.Unix(0, 0)) == nil {
				t.Error("timeArg returned nil")
			}
			if !strings.Contains(e.storedTime(`"at"`), `"at"`) {
				t.Errorf("storedTime drops its column: %s", e.storedTime(`"at"`))
			}

			// Locks: an engine that lets several writers in must lock the
			// customer row.
			if !e.singleWriter && e.lockSuffix == "" {
				t.Error("several writers and no row lock: two forgets of one customer would interleave")
			}
			if e.retryable(errors.New("plain")) || e.retryable(context.Canceled) {
				t.Error("retryable takes a plain error for the database's")
			}

			// Schemas.
			if err := e.checkSchemas(nil); err != nil {
				t.Errorf("checkSchemas(nil) = %v", err)
			}
			for _, stmts := range [][]string{DDL(d), NATSMemberDDL(d), AuditDDL(d, DefaultAuditTable)} {
				if len(stmts) == 0 {
					t.Fatal("no DDL")
				}
				for _, st := range stmts {
					if !strings.HasPrefix(st, "CREATE ") || !strings.Contains(st, " IF NOT EXISTS ") {
						t.Errorf("not an idempotent CREATE: %s", st)
					}
					if strings.Contains(st, `"`) && q != `"` || strings.Contains(st, "`") && q != "`" {
						t.Errorf("quoted with another engine's quote: %s", st)
					}
				}
			}
		})
	}
	for _, d := range []Dialect{0, Dialect(len(all) + 1)} {
		if d.valid() || DDL(d) != nil {
			t.Errorf("%v is valid", d)
		}
	}
	if _, err := ParseDialect("oracle"); err == nil || !strings.Contains(err.Error(), "sqlite, postgres or mysql") {
		t.Errorf("ParseDialect(oracle) = %v", err)
	}
}
