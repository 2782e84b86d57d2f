package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/forgetkit/forget"
)

var _ forget.Verifier = (*Store)(nil)

// Verify implements forget.Verifier. It reads the live schema (never a
// row of a host table) and refuses, listing every problem at once, a
// mapping that could not run or would do harm:
//
//   - a mapped table or column that does not exist, or a missing audit
//     table (or one lacking a column);
//   - a customers key that is not unique (one forget would erase several
//     rows), or whose type differs from the mapping's key_type (an int
//     key_type for a uuid column, say);
//   - a column that cannot hold what its rule writes: too short for a
//     pseudonym, NOT NULL under a Null rule, not text under a text rule;
//   - a unique column under a rule that writes the same value for every
//     customer (the second forget would break the index);
//   - an activity column (Schema.Activity) that is missing or does not
//     hold times: a timestamp or date on PostgreSQL and MySQL, text or a
//     date type on SQLite (a column of Unix times would be compared
//     with the cutoff as text, and everybody swept);
//   - a hold whose table, customer key or condition column does not
//     exist, or whose value cannot compare with its column (a number
//     against text, a string against an integer, anything but a time
//     string against a time column);
//   - a purged table whose rows a table the mapping leaves refers to
//     under ON DELETE NO ACTION or RESTRICT (directly or through a
//     cascade): every forget of a customer with such rows would fail
//     (verify_restrict.go);
//   - a Retain column whose rows a forget deletes, or which it sets,
//     through a foreign key's ON DELETE action from a mapped table;
//   - on MySQL/MariaDB, a table the mapping, a hold or the audit trail
//     names whose engine has no transactions (MyISAM, Aria, MEMORY) or
//     that is system-versioned (its history keeps erased values);
//   - SQLite connections that do not enforce declared foreign keys, and
//     MySQL sessions that are not strict (they truncate instead of
//     failing).
//
// It logs a warning for a SQLite connection without secure_delete (what
// a forget deletes would stay in the file), for a PostgreSQL CHECK
// constraint on a column a field writes (a forget failing it makes the
// server log the row), for a lookup or customer-key column without an index
// (each forget would scan the table) and for a lookup key that is not
// unique (such a key that names two customers is refused as a conflict),
// for an activity column without an index (each page of a sweep
// would scan the table), and for each mapped table that a foreign key
// changes when another mapped entry is erased (a request keeping the
// one without the other is refused: checkCascades).
// It also learns each key column's type (see [KeyType]) and each integer
// key column's range, so that a key no column could hold (an integer for
// a uuid column, a number past the column's range) is invalid rather
// than a database error.
func (s *Store) Verify(ctx context.Context, cat forget.Catalogue) error {
	if err := s.schema.check(cat); err != nil {
		return err
	}
	in, err := Introspect(ctx, s.db, s.dialect, s.schema.qualifiers()...)
	if err != nil {
		return fmt.Errorf("sqlstore: verify: %w", err)
	}
	v := &verifier{s: s, in: in, ranges: map[string]keyRange{}, keys: learnedKeys{types: map[string]KeyType{}}}
	v.checkKeys()
	v.fields(cat)
	v.tables(cat)
	v.checkLiterals(ctx)
	v.viaCollations(ctx) // via_collation.go
	v.mentionsWarnings(cat)
	v.restricts(cat)
	v.auditTable()
	v.auditVersion(ctx)
	v.activity()
	v.s.dialect.engine().verifyWarnings(v, ctx)
	v.holds(ctx)
	v.identities(ctx)
	g := v.cascades()
	v.retained(g)
	v.errs = append(v.errs, s.coverageProblems(in, cat)...)
	v.triggerWarnings(cat)
	if err := s.dialect.engine().verifyConn(v, ctx); err != nil {
		return fmt.Errorf("sqlstore: verify: %w", err)
	}
	if len(v.errs) > 0 {
		return fmt.Errorf("sqlstore: the mapping does not fit the database: %w", errors.Join(v.errs...))
	}
	v.warnings = append(v.warnings, g.warnings()...)
	for _, w := range v.warnings {
		s.log.Warn("sqlstore: " + w)
	}
	s.ranges.Store(&v.ranges)
	s.keys.Store(&v.keys)
	s.cascadeGraph.Store(g)
	s.vias.Store(v.vias)
	s.detaches.Store(&v.detaches)
	return nil
}

// verifier collects the problems Verify finds.
type verifier struct {
	s        *Store
	in       *Introspection
	errs     []error
	warnings []string
	ranges   map[string]keyRange
	keys     learnedKeys
	casts    []literalCheck // fixed literals for the database to cast (verify_rules.go)
	vias     *viaLearned
	detaches map[string][]detachFK
}

func (v *verifier) fail(format string, args ...any) {
	v.errs = append(v.errs, fmt.Errorf(format, args...))
}

// table returns the named table, or records that it is missing.
func (v *verifier) table(name, what string) *TableInfo {
	t := v.in.Table(name)
	if t == nil {
		v.fail("%s: table %s does not exist", what, name)
	}
	return t
}

// column returns the named column, or records that it is missing.
func (v *verifier) column(t *TableInfo, name, what string) *ColumnInfo {
	if t == nil {
		return nil
	}
	c := t.Column(name)
	if c == nil {
		v.fail("%s: column %s.%s does not exist", what, t.Name, name)
	}
	return c
}

// checkKeys checks the customers key and the lookup tables.
func (v *verifier) checkKeys() {
	sc := v.s.schema
	c := v.table(sc.Customers.Table, "customers")
	if col := v.column(c, sc.Customers.Key, "customers key"); col != nil {
		if !c.Unique(sc.Customers.Key) {
			v.fail("customers key %s.%s has no primary key or unique index: one forget could erase several customers", c.Name, col.Name)
		}
		v.keyType(forget.KeyCustomerID, c, col, sc.Customers.KeyType)
	}
	for _, lt := range []struct {
		name string
		t    *LookupTable
	}{{forget.KeySubscriptionID, sc.Subscriptions}, {forget.KeyOrderID, sc.Orders}} {
		if lt.t == nil {
			continue
		}
		what := lt.name + " lookup"
		t := v.table(lt.t.Table, what)
		key := v.column(t, lt.t.Key, what)
		v.column(t, lt.t.CustomerKey, what)
		if key == nil {
			continue
		}
		v.keyType(lt.name, t, key, lt.t.KeyType)
		switch {
		case !t.Indexed(lt.t.Key):
			v.warnings = append(v.warnings, fmt.Sprintf("%s column %s.%s has no index: every forget by %s scans the table", what, t.Name, key.Name, lt.name))
		case !t.Unique(lt.t.Key):
			v.warnings = append(v.warnings, fmt.Sprintf("%s column %s.%s has no unique index: a %s that names two customers is refused as a conflict", what, t.Name, key.Name, lt.name))
		}
	}
	for _, table := range sortedKeys(sc.Joined) {
		what := "joined table " + table
		t := v.table(table, what)
		col := v.column(t, sc.Joined[table], what)
		switch {
		case col == nil:
		case !t.Indexed(col.Name):
			v.warnings = append(v.warnings, fmt.Sprintf("%s: customer key %s has no index: every forget scans the table", what, col.Name))
		case !t.Unique(col.Name):
			v.warnings = append(v.warnings, fmt.Sprintf("%s: customer key %s is not unique: a forget writes its fields in every row of the customer's (rows_updated counts them); a table of many rows per customer reads better under tables, with scrub", what, col.Name))
		}
	}
}

// keyType checks that a key column has the type the mapping declares,
// learns the type of a key the mapping leaves empty (or says text, of a
// uuid column), and records an integer column's range.
func (v *verifier) keyType(name string, t *TableInfo, col *ColumnInfo, kt KeyType) {
	strictTypes := v.s.dialect.engine().strictTypes // SQLite compares across affinities
	learned := kt
	if kt == "" {
		switch col.Kind {
		case KindUUID:
			learned = KeyUUID
		case KindText:
			learned = KeyText
		default:
			learned = KeyInt
		}
	}
	if kt == KeyText && col.Kind == KindUUID {
		learned = KeyUUID // its values are uuids: anything else is invalid
	}
	switch {
	case learned == KeyInt && col.Kind == KindInt:
		v.ranges[name] = keyRange{min: col.IntMin, max: col.IntMax}
	case learned == KeyInt && col.Kind == KindUUID:
		v.fail("%s column %s.%s is %s, but the mapping declares an int key (key_type \"uuid\"?)", name, t.Name, col.Name, col.Type)
	case learned == KeyInt && col.Kind != KindInt && strictTypes:
		v.fail("%s column %s.%s is %s, but the mapping declares an int key (key_type \"text\"?)", name, t.Name, col.Name, col.Type)
	case learned != KeyInt && col.Kind == KindInt && strictTypes:
		v.fail("%s column %s.%s is %s, but the mapping declares a %s key (key_type \"int\"?)", name, t.Name, col.Name, col.Type, learned)
	case learned == KeyUUID && col.Kind == KindOther && strictTypes:
		v.fail("%s column %s.%s is %s, which a uuid key cannot be compared with (a uuid or text column can)", name, t.Name, col.Name, col.Type)
	case learned == KeyInt:
		v.ranges[name] = keyRange{min: math.MinInt64, max: math.MaxInt64}
	}
	v.keys.types[name] = learned
	if name == forget.KeyCustomerID && learned == KeyUUID && col.Kind != KindUUID {
		v.keys.textUUID = true
	}
}

// fields checks each mapped field's column against its rule.
func (v *verifier) fields(cat forget.Catalogue) {
	sc := v.s.schema
	for _, f := range cat.Fields {
		m, ok := sc.Fields[f.Name]
		if !ok {
			continue // absent
		}
		what := "field " + string(f.Name)
		t := v.table(m.Table, what)
		col := v.column(t, m.Column, what)
		if col == nil {
			continue
		}
		key := sc.Customers.Key
		if m.Table != sc.Customers.Table {
			key = sc.Joined[m.Table]
		}
		v.rule(what, t, col, key, f.Rule)
	}
}

// tables checks each mapped catalogue table and its scrubbed columns.
func (v *verifier) tables(cat forget.Catalogue) {
	for _, ts := range cat.Tables {
		rt, ok := v.s.schema.Tables[ts.Name]
		if !ok {
			continue
		}
		what := "table " + string(ts.Name)
		t := v.table(rt.Table, what)
		if rt.Via == nil { // a Via table is checked by viaTables
			key := v.column(t, rt.CustomerKey, what)
			if key != nil && !t.Indexed(rt.CustomerKey) {
				v.warnings = append(v.warnings, fmt.Sprintf("%s: customer key %s.%s has no index: every forget scans the table", what, t.Name, key.Name))
			}
		}
		for _, cr := range ts.Scrub {
			if col := v.column(t, cr.Column, what); col != nil {
				v.rule(what+" column "+cr.Column, t, col, rt.CustomerKey, cr.Rule)
			}
		}
	}
	v.vias = v.viaTables(cat) // via_verify.go
}

// rule checks that col can hold what r writes, every time.
func (v *verifier) rule(what string, t *TableInfo, col *ColumnInfo, customerKey string, r forget.Rule) {
	if v.generatedColumn(what, t, col) {
		return
	}
	out := r.Output()
	where := t.Name + "." + col.Name
	if out.Null {
		if !col.Nullable {
			v.fail("%s: its rule writes NULL, but %s is NOT NULL", what, where)
		}
		return
	}
	// A typed literal or a store-side rule: its type checked there.
	typed := v.typedRule(what, t, col, out)
	// SQLite stores any value in any column (but STRICT tables, which
	// hosts rarely use): only the other engines refuse a type.
	strictTypes := v.s.dialect.engine().strictTypes
	if !typed && out.Text && col.Kind != KindText && strictTypes {
		if _, err := strconv.ParseInt(out.Fixed, 10, 64); !(col.Kind == KindInt && out.Fixed != "" && err == nil) {
			v.fail("%s: its rule writes text, but %s is %s (use Null(), or map a text column)", what, where, col.Type)
			return
		}
	}
	n := out.MaxLen
	if out.Fixed != "" {
		n = utf8.RuneCountInString(out.Fixed)
	}
	if col.MaxLen > 0 && n > col.MaxLen {
		v.fail("%s: its rule writes %d characters, but %s holds %d", what, n, where, col.MaxLen)
	}
	if !out.Distinct && v.uniqueAlone(t, col.Name, customerKey) {
		hint := "Pseudonym()"
		if col.Nullable {
			hint = "Pseudonym() or Null()"
		}
		if out.FromOld != "" {
			// Two customers' values redacted whole are one value:
			// "[redacted]" twice breaks the index.
			v.fail("%s: %s is unique, but a %s rule can leave two customers' values the same, so a later forget would fail; use keyed_hash or pseudonym", what, where, out.FromOld)
			return
		}
		v.fail("%s: %s is unique, but its rule writes the same value for every customer, so the second forget would fail; use %s", what, where, hint)
	}
}

// uniqueAlone reports whether a unique index holds column without the
// table's customer key, so that two customers cannot share its value.
func (v *verifier) uniqueAlone(t *TableInfo, column, customerKey string) bool {
	for _, ix := range t.Indexes {
		if !ix.Unique || !containsFold(ix.Columns, column) {
			continue
		}
		if !containsFold(ix.Columns, customerKey) {
			return true
		}
	}
	return false
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// auditTable checks that the audit table exists with every column the
// store writes, each long enough for what a receipt can hold.
func (v *verifier) auditTable() {
	if v.s.auditTable == "" {
		return
	}
	what := "audit table (create it with AuditDDL)"
	t := v.table(v.s.auditTable, what)
	for _, name := range auditColumns {
		col := v.column(t, name, what)
		if col != nil && name == "event_id" {
			v.s.refusalIDs.Store(!col.Nullable)
			if !col.Nullable {
				v.warnings = append(v.warnings, fmt.Sprintf("%s: column %s.event_id is NOT NULL, so a refusal's record, which has no event, carries a placeholder id and is marked published; let the column be NULL (AuditDDL's tables do)", what, t.Name))
			}
		}
		if col == nil || col.MaxLen == 0 {
			continue
		}
		if need := auditColumnLen(name); col.MaxLen < need {
			v.fail("%s: column %s.%s holds %d characters; it needs %d", what, t.Name, name, col.MaxLen, need)
		}
	}
}

// auditVersion refuses an audit table whose version row is behind or
// ahead of this release, or made before erasure events (a table of 0.1.0
// without a version row keeps working, with the warning above).
func (v *verifier) auditVersion(ctx context.Context) {
	if v.s.auditTable == "" {
		return
	}
	have, recorded, err := recordedVersion(ctx, v.s.db, v.s.dialect, v.s.auditTable)
	if err != nil {
		v.fail("audit table: %w", err)
		return
	}
	if t := v.in.Table(v.s.auditTable); !recorded && t != nil && t.Column("event_id") == nil {
		have, recorded = 1, true
	}
	if recorded && have != SchemaVersion {
		v.errs = append(v.errs, &SchemaVersionError{Table: v.s.auditTable, Have: have, Want: SchemaVersion})
	}
}

// activity checks that the activity columns exist and hold times, and
// warns of one without an index.
func (v *verifier) activity() {
	sc := v.s.schema
	if len(sc.Activity) == 0 {
		return
	}
	what := "activity column"
	t := v.in.Table(sc.Customers.Table)
	for _, a := range sc.Activity {
		col := v.column(t, a.Column, what)
		if col == nil {
			continue
		}
		if !v.s.dialect.engine().holdsTimes(col) {
			v.fail("%s %s.%s is %s, not a time: a sweep compares it with its cutoff (timestamp or date on PostgreSQL and MySQL; text such as 2024-05-01 10:00:00 on SQLite)", what, t.Name, col.Name, col.Type)
			continue
		}
		if !t.Indexed(col.Name) {
			v.warnings = append(v.warnings, fmt.Sprintf("%s %s.%s has no index: every page of a sweep scans the table", what, t.Name, col.Name))
		}
	}
}

// qualifiers returns the schema names the mapping's tables (usedTables)
// are qualified with, for Introspect to read too.
func (s Schema) qualifiers() []string {
	seen := map[string]bool{}
	var out []string
	for _, table := range s.usedTables() {
		if i := strings.IndexByte(table, '.'); i > 0 && !seen[table[:i]] {
			seen[table[:i]] = true
			out = append(out, table[:i])
		}
	}
	return out
}

// hasForeignKeys reports whether any table declares a foreign key.
func (in *Introspection) hasForeignKeys() bool {
	for _, t := range in.Tables {
		if len(t.ForeignKeys) > 0 {
			return true
		}
	}
	return false
}
