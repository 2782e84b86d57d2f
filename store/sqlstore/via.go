package sqlstore

import (
	"errors"
	"fmt"
	"strings"

	"github.com/forgetkit/forget"
)

// Tables reached through a Via (Column + From): a catalogue table whose
// rows hold, in Column, a value that the customer's rows of another table
// hold in From's column. The values are read inside the forget's
// transaction before anything is written (via_write.go); Verify proves
// which vias can reach another customer's rows (via_verify.go). Vias with
// Mentions are another mechanism (redaction), not handled here.

// The normalisations a Via may compare values after.
const (
	NormalizeLower     = "lower"
	NormalizeTrim      = "trim"
	NormalizeLowerTrim = "lower_trim"
)

// fromKind is what From's table is to the mapping.
type fromKind int

const (
	fromCustomers fromKind = iota // the customers table: its row is keyed by the customer key
	fromKeyed                     // a joined, lookup or catalogue table with a customer key column
	fromVia                       // a table another Via reaches
)

// viaFrom is a Via's From, resolved against the mapping.
type viaFrom struct {
	kind          fromKind
	table, column string       // as the mapping names them
	key           string       // the customer key column (fromCustomers, fromKeyed)
	via           forget.Table // the catalogue table reached by the parent Via (fromVia)
	what          string       // "the customers table", "joined table x", ...
}

// splitFrom splits From into its table (perhaps schema-qualified) and
// column, each a plain identifier.
func splitFrom(from string) (table, column string, ok bool) {
	table, column, ok = splitRetain(from)
	if !ok || !validIdent(table) || !validIdent(column) || strings.Contains(column, ".") {
		return "", "", false
	}
	return table, column, true
}

// resolveFrom finds what From's table is. It does not follow a parent Via
// further (see viaChain).
func (s Schema) resolveFrom(v *Via) (viaFrom, error) {
	table, column, ok := splitFrom(v.From)
	if !ok {
		return viaFrom{}, fmt.Errorf("from %q must be table.column (or schema.table.column), each a plain identifier", clipName(v.From))
	}
	f := viaFrom{table: table, column: column}
	eq := strings.EqualFold
	switch {
	case eq(table, s.Customers.Table):
		f.kind, f.table, f.key, f.what = fromCustomers, s.Customers.Table, s.Customers.Key, "the customers table"
		return f, nil
	}
	for _, jt := range sortedKeys(s.Joined) {
		if eq(table, jt) {
			f.kind, f.table, f.key, f.what = fromKeyed, jt, s.Joined[jt], "joined table "+jt
			return f, nil
		}
	}
	for _, lt := range []*LookupTable{s.Subscriptions, s.Orders} {
		if lt != nil && eq(table, lt.Table) {
			f.kind, f.table, f.key, f.what = fromKeyed, lt.Table, lt.CustomerKey, "lookup table "+lt.Table
			return f, nil
		}
	}
	for _, name := range sortedKeys(s.Tables) {
		rt := s.Tables[name]
		if !eq(table, rt.Table) {
			continue
		}
		f.table = rt.Table
		switch {
		case rt.Via == nil:
			f.kind, f.key, f.what = fromKeyed, rt.CustomerKey, "catalogue table "+string(name)
		case rt.Via.Mentions:
			return viaFrom{}, fmt.Errorf("from %q is table %s, which is reached by mentions: its rows are anybody's", clipName(v.From), name)
		default:
			f.kind, f.via, f.what = fromVia, name, "catalogue table "+string(name)
		}
		return f, nil
	}
	return viaFrom{}, fmt.Errorf("from %q names table %s, which is neither the customers table nor a joined, lookup or catalogue table of the mapping", clipName(v.From), clipName(table))
}

// validateVias checks each table's customer_key or via: exactly one of
// them, a From the mapping knows, a known normalisation and shared
// policy, and no cycle of vias.
func (s Schema) validateVias() []error {
	var errs []error
	for _, name := range sortedKeys(s.Tables) {
		rt := s.Tables[name]
		what := "table " + string(name)
		switch {
		case rt.Via == nil && rt.CustomerKey == "":
			errs = append(errs, fmt.Errorf("%s needs customer_key or via (how its rows are found)", what))
		case rt.Via != nil && rt.CustomerKey != "":
			errs = append(errs, fmt.Errorf("%s has both customer_key and via; give one", what))
		case rt.Via == nil:
			if !validIdent(rt.CustomerKey) || strings.Contains(rt.CustomerKey, ".") {
				errs = append(errs, fmt.Errorf("customer_key of %s %q is not a plain identifier", name, clipName(rt.CustomerKey)))
			}
		}
		switch rt.Shared {
		case "", SharedKeep, SharedRefuse:
		default:
			errs = append(errs, fmt.Errorf("%s: shared %q must be %q or %q", what, clipName(rt.Shared), SharedKeep, SharedRefuse))
		}
		if rt.Via == nil {
			if rt.Shared != "" {
				errs = append(errs, fmt.Errorf("%s: shared applies only to a table reached by via", what))
			}
			continue
		}
		v := rt.Via
		if v.Mentions {
			continue // redaction's: checked there
		}
		if !validIdent(v.Column) || strings.Contains(v.Column, ".") {
			errs = append(errs, fmt.Errorf("%s: via column %q is not a plain identifier", what, clipName(v.Column)))
		}
		switch v.Normalize {
		case "", NormalizeLower, NormalizeTrim, NormalizeLowerTrim:
		default:
			errs = append(errs, fmt.Errorf("%s: via normalize %q must be %q, %q or %q (or empty)", what, clipName(v.Normalize), NormalizeLower, NormalizeTrim, NormalizeLowerTrim))
		}
		f, err := s.resolveFrom(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: via %w", what, err))
			continue
		}
		if strings.EqualFold(f.table, rt.Table) {
			errs = append(errs, fmt.Errorf("%s: via from %q is the table itself", what, clipName(v.From)))
		}
	}
	if len(errs) == 0 {
		for _, name := range sortedKeys(s.Tables) {
			if _, err := s.viaChain(name); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errs
}

// viaChain returns the catalogue tables a Via table is reached through,
// nearest first, ending at a table keyed by the customer; an error for a
// cycle.
func (s Schema) viaChain(name forget.Table) ([]forget.Table, error) {
	var chain []forget.Table
	seen := map[forget.Table]bool{name: true}
	for cur := name; ; {
		rt := s.Tables[cur]
		if rt.Via == nil || rt.Via.Mentions {
			return chain, nil
		}
		f, err := s.resolveFrom(rt.Via)
		if err != nil {
			return nil, err
		}
		if f.kind != fromVia {
			return chain, nil
		}
		if seen[f.via] {
			return nil, fmt.Errorf("table %s: its via chain comes back to table %s; a via must end at a table keyed by the customer", name, f.via)
		}
		seen[f.via] = true
		chain = append(chain, f.via)
		cur = f.via
	}
}

// errViaUnverified refuses a plan with a Via table on a store that was
// never verified: what makes its statements safe is learnt there.
var errViaUnverified = errors.New("sqlstore: the mapping reaches tables through via, which needs Verify (forget.New's Forgetter runs it) before the first forget")

// normExpr applies normalisation n to the quoted expression col.
func normExpr(n, col string) string {
	switch n {
	case NormalizeLower:
		return "LOWER(" + col + ")"
	case NormalizeTrim:
		return "TRIM(" + col + ")"
	case NormalizeLowerTrim:
		return "LOWER(TRIM(" + col + "))"
	}
	return col
}
