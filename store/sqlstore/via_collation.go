package sqlstore

import (
	"context"
	"fmt"
	"strings"
)

// A via compares text two ways: the forget deletes (or scrubs) the Via
// table's rows whose Column equals the customer's value by Column's
// comparison, and asks From's column, by its own comparison, whether
// another customer holds the value too. When the two compare differently
// (a COLLATE NOCASE, _ci, citext or nondeterministic column reached from
// a case-sensitive one), another customer's value that only the Via
// column deems equal ('ann@example.com' for 'Ann@example.com') is deleted
// with the customer's, and neither exclusivity nor the shared check can
// see it. Verify refuses such a via.

// viaCollations refuses each text via whose two columns compare unlike.
func (v *verifier) viaCollations(ctx context.Context) {
	sc := v.s.schema
	for _, name := range sortedKeys(sc.Tables) {
		rt := sc.Tables[name]
		if rt.Via == nil || rt.Via.Mentions {
			continue
		}
		f, err := sc.resolveFrom(rt.Via)
		if err != nil {
			continue // reported by viaTable
		}
		t, ft := v.in.Table(rt.Table), v.in.Table(f.table)
		if t == nil || ft == nil {
			continue
		}
		col, fcol := t.Column(rt.Via.Column), ft.Column(f.column)
		if col == nil || fcol == nil || (col.Kind != KindText && fcol.Kind != KindText) {
			continue
		}
		what := "table " + string(name)
		where, fwhere := t.Name+"."+col.Name, ft.Name+"."+fcol.Name
		a, err := columnComparison(ctx, v.s.db, v.s.dialect, t, col.Name)
		if err != nil {
			v.fail("%s: reading the collation of via column %s: %w", what, where, err)
			continue
		}
		b, err := columnComparison(ctx, v.s.db, v.s.dialect, ft, fcol.Name)
		if err != nil {
			v.fail("%s: reading the collation of from column %s: %w", what, fwhere, err)
			continue
		}
		if a == b && a != "unknown" {
			continue
		}
		v.fail("%s: via column %s compares values by %s, but from column %s by %s: a forget would erase the rows of %s that %s deems equal to the customer's value, another customer's value that %s tells apart included (another case, accents or spaces), and no \"shared\" check can see it; give both columns one collation (%s)",
			what, where, describeComparison(a), fwhere, describeComparison(b), t.Name, where, fwhere, collationAdvice(v.s.dialect, where, b))
	}
}

func describeComparison(c string) string {
	switch c {
	case "deterministic":
		return "a deterministic collation"
	case "citext":
		return "citext (without case)"
	case "unknown":
		return "a collation Verify cannot read"
	}
	if strings.HasPrefix(c, "nondeterministic") {
		return c
	}
	return "collation " + c
}

func collationAdvice(d Dialect, where, from string) string {
	switch {
	case d == SQLite && from != "unknown":
		return fmt.Sprintf("declare %s COLLATE %s", where, from)
	case d == MySQL:
		return fmt.Sprintf("ALTER TABLE ... MODIFY %s ... COLLATE %s", where, from)
	case d == Postgres && from == "deterministic":
		return fmt.Sprintf("%s as text with a deterministic collation (not citext)", where)
	}
	return "the same collation on both"
}
