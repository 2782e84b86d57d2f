package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/forgetkit/forget"
)

// Rules against column types: a fixed literal must be something the
// column's type can hold (JSON for json/jsonb, an address for inet, a
// date for a date column, ...), checked in Go by the type's family and
// then by the database itself, which casts the literal to the column's
// type in a read it rolls back; store-side rules need a text (or, for
// redact_json, a JSON) column and a primary key to write rows by.

// checkDerived refuses store-side rules the store cannot run: a keyed
// hash without a key (the rule's or WithHashKey's).
func (s *Store) checkDerived(cat forget.Catalogue) error {
	var errs []error
	check := func(what string, r forget.Rule) {
		if v, ok := derivationOf(r); ok && v.NeedsKey() && len(s.hashKey) == 0 {
			errs = append(errs, fmt.Errorf("%s: rule keyed_hash needs a key: give the store one (sqlstore.WithHashKey; the command's -hash-key-file)", what))
		}
	}
	for _, f := range cat.Fields {
		if _, mapped := s.schema.Fields[f.Name]; mapped {
			check("field "+string(f.Name), f.Rule)
		}
	}
	for _, t := range cat.Tables {
		rt, mapped := s.schema.Tables[t.Name]
		if !mapped {
			continue
		}
		mentions := rt.Via != nil && rt.Via.Mentions
		for _, c := range t.Scrub {
			check("table "+string(t.Name)+" column "+c.Column, c.Rule)
			if mentions && c.Rule.Output().FromOld != "redact_text" {
				errs = append(errs, fmt.Errorf("table %s column %s: via mentions allows only redact_text rules, not %s", t.Name, c.Column, c.Rule))
			}
		}
		if mentions && len(t.Scrub) == 0 {
			errs = append(errs, fmt.Errorf("table %s: via mentions needs scrub with redact_text rules", t.Name))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("sqlstore: schema does not fit the catalogue: %w", errors.Join(errs...))
	}
	return nil
}

// derivationOf is the Derivation a rule's plan value carries.
func derivationOf(r forget.Rule) (*forget.Derivation, bool) {
	if r.Output().FromOld == "" {
		return nil, false
	}
	return r.Derivation(), true
}

// typedRule checks a rule whose value is not plain text for column col:
// a store-side rule, or a fixed literal into a column that is not text.
// It returns false when the ordinary text checks of rule apply.
func (v *verifier) typedRule(what string, t *TableInfo, col *ColumnInfo, out forget.RuleOutput) (handled bool) {
	where := t.Name + "." + col.Name
	switch out.FromOld {
	case "":
	case "redact_json":
		if col.Kind != KindText && !strings.Contains(col.Type, "json") {
			v.fail("%s: redact_json needs a json, jsonb or text column, but %s is %s", what, where, col.Type)
		}
		v.needPrimaryKey(what, t)
		return true
	case "redact_text":
		if col.Kind != KindText {
			v.fail("%s: redact_text needs a text column, but %s is %s", what, where, col.Type)
		}
		v.needPrimaryKey(what, t)
		return true
	default: // keyed_hash: text, checked as text below
		v.needPrimaryKey(what, t)
		return false
	}
	if out.Null || col.Kind == KindText || out.Fixed == "" {
		return false // the text checks of rule
	}
	if problem := literalProblem(col, out.Fixed); problem != "" {
		v.fail("%s: its fixed value cannot be stored in %s, which is %s: %s", what, where, col.Type, problem)
		return true
	}
	if cast := v.s.dialect.engine().literalCast; cast != nil {
		if q := cast(col); q != "" {
			v.casts = append(v.casts, literalCheck{what: what, where: where, typ: col.Type, query: q, value: out.Fixed})
		}
	}
	return true
}

// needPrimaryKey refuses a store-side rule on a table without a primary
// key: the rule's rows are written back by it.
func (v *verifier) needPrimaryKey(what string, t *TableInfo) {
	if len(t.PrimaryKey) == 0 {
		v.fail("%s: %s has no primary key, which a store-side rule writes each row back by", what, t.Name)
	}
}

// literalCheck is a fixed literal for the database to cast.
type literalCheck struct {
	what, where, typ string
	query, value     string
}

// checkLiterals asks the database to cast each fixed literal to its
// column's type, each in a transaction it rolls back.
func (v *verifier) checkLiterals(ctx context.Context) {
	for _, c := range v.casts {
		tx, err := v.s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
		if err != nil {
			v.fail("%s: check its fixed value: %w", c.what, safeError(err))
			return
		}
		var ok sql.NullBool
		err = tx.QueryRowContext(ctx, c.query, c.value).Scan(&ok)
		clipped := false
		if q := v.s.dialect.engine().literalWarnings; err == nil && q != "" {
			rows, werr := tx.QueryContext(ctx, q)
			if werr == nil {
				clipped = rows.Next()
				rows.Close()
			}
		}
		tx.Rollback()
		switch {
		case err != nil || !ok.Valid || !ok.Bool:
			v.fail("%s: the database does not accept its fixed value as %s (the type of %s)", c.what, c.typ, c.where)
		case clipped:
			v.fail("%s: the database casts its fixed value to %s (the type of %s) only with a warning (out of range, truncated or changed), and a strict session's UPDATE refuses it", c.what, c.typ, c.where)
		}
	}
}

// literalProblem says why col's type family cannot hold lit, or "".
// Types it does not know are left to the database's cast.
func literalProblem(col *ColumnInfo, lit string) string {
	typ := strings.ToLower(col.Type)
	has := func(words ...string) bool {
		for _, w := range words {
			if strings.Contains(typ, w) {
				return true
			}
		}
		return false
	}
	switch {
	case has("json"):
		if !json.Valid([]byte(lit)) {
			return "not valid JSON"
		}
	case has("inet", "cidr"):
		if _, err := netip.ParseAddr(lit); err != nil {
			if _, err := netip.ParsePrefix(lit); err != nil {
				return "not an IP address"
			}
		}
	case col.Kind == KindUUID || has("uuid"):
		if !isUUID(lit) {
			return "not a UUID"
		}
	case has("timestamp", "datetime", "date"):
		if !isTime(lit) {
			return "not a date or time (2006-01-02, 2006-01-02 15:04:05)"
		}
	case col.Kind == KindInt:
		n, err := strconv.ParseInt(lit, 10, 64)
		if err != nil || col.IntMax != 0 && (n < col.IntMin || n > col.IntMax) {
			return "not an integer the column holds"
		}
	case has("numeric", "decimal", "real", "double", "float"):
		if _, err := strconv.ParseFloat(lit, 64); err != nil {
			return "not a number"
		}
	case has("bool"):
		if _, err := strconv.ParseBool(lit); err != nil {
			return "not a boolean"
		}
	}
	return ""
}

func isTime(s string) bool {
	for _, layout := range []string{"2006-01-02", "2006-01-02 15:04:05", "2006-01-02T15:04:05Z07:00", "2006-01-02 15:04:05Z07:00", "2006-01-02 15:04:05.999999"} {
		if _, err := time.Parse(layout, s); err == nil {
			return true
		}
	}
	return false
}

// mentionsWarnings says, for each mapped table reached by mentions, that
// every forget scans it.
func (v *verifier) mentionsWarnings(cat forget.Catalogue) {
	for _, t := range cat.Tables {
		if rt, ok := v.s.schema.Tables[t.Name]; ok && rt.Via != nil && rt.Via.Mentions {
			v.warnings = append(v.warnings, fmt.Sprintf("table %s: via mentions scans %s on every forget (LIKE on each of the customer's values)", t.Name, rt.Table))
		}
	}
}
