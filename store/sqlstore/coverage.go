package sqlstore

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"

	"github.com/forgetkit/forget"
)

// Class is what a forget does to a column that reaches a customer.
type Class string

// The classes of [Cover]. Every column of every table that reaches a
// customer falls in exactly one.
const (
	// ClassErased: a catalogue field or table action overwrites the column
	// or deletes its rows (directly, or by ON DELETE CASCADE).
	ClassErased Class = "erased"
	// ClassKey: a key, lookup, primary-key or foreign-key column.
	ClassKey Class = "key"
	// ClassRetained: the mapping's Retain keeps it on purpose, for a reason.
	ClassRetained Class = "retained"
	// ClassUnclassified: none of these; a forget leaves it as it is.
	ClassUnclassified Class = "unclassified"
)

// ReviewPrefix starts the reason of every Retain entry [Propose] guesses:
// a person should read it, and either keep the reason or map the column.
const ReviewPrefix = "REVIEW: "

// Coverage says, for every table (and view) that reaches a customer and
// every column of it, what a forget does with it. It holds names, types and counts,
// never a value read from a table.
type Coverage struct {
	Tables []TableCoverage `json:"tables"`
	// Notes are things a reader should know that are not a column's
	// class: a Retain entry naming nothing, a column both retained and
	// erased, a purge that another table's foreign key would refuse.
	Notes []string `json:"notes,omitempty"`
	// Skipped are the schemas (PostgreSQL) or databases (MySQL) the
	// connection sees, that hold tables, and that were not read: name
	// them ([InSchemas], forget inspect -in) to cover them.
	Skipped []SchemaTables `json:"skipped_schemas,omitempty"`
	Summary Summary        `json:"summary"`
}

// TableCoverage is one table that reaches a customer.
type TableCoverage struct {
	// Table is named as [Introspection.Table] names it: unqualified in
	// the current schema, "schema.table" elsewhere.
	Table string `json:"table"`
	// Kind is "" for a table, else [PlainView] or [MaterializedView].
	Kind string `json:"kind,omitempty"`
	// Reach says how its rows belong to a customer: "customers table",
	// "column customer_id", "through order_id → orders", "referred to by
	// customers.home_address_id", "catalogue table newsletter, by email =
	// customers.email (lower_trim)", "materialized view over users:
	// refresh it after a forget", ...
	Reach string `json:"reach"`
	// Via is the chain from this table towards a table that holds the
	// customer key, for tables reached only through others: foreign keys
	// either way, and the mapping's value links; Depth is its length, of
	// which Via lists at most 32 hops (a normalised value link or a
	// mention is in Depth, not in Via: no join follows it).
	Via     []Hop            `json:"via,omitempty"`
	Depth   int              `json:"depth,omitempty"`
	Columns []ColumnCoverage `json:"columns"`

	info *TableInfo
	// keyCol is the column holding the customer key, for tables reached
	// directly; "" for tables reached through Via.
	keyCol string
}

// Hop is one link of a chain: Table's Columns refer to RefTable's
// RefColumns, by a foreign key or a mapping's value link.
type Hop struct {
	Table      string   `json:"table"`
	Columns    []string `json:"columns"`
	RefTable   string   `json:"ref_table"`
	RefColumns []string `json:"ref_columns"`
	// Referenced: the foreign key is RefTable's, whose RefColumns point
	// to Table's Columns (Table is reached because a row of RefTable
	// refers to it: customers.home_address_id → addresses).
	Referenced bool `json:"referenced,omitempty"`
}

// ColumnCoverage is one column of a table that reaches a customer.
type ColumnCoverage struct {
	Column string `json:"column"`
	Type   string `json:"type"`
	Class  Class  `json:"class"`
	// By says what puts the column in its class: "field firstname
	// (empty)", "table member_note: rows deleted", "customers key",
	// "primary key", or, for a retained column, the mapping's reason.
	By string `json:"by,omitempty"`
	// LikelyPersonal marks an unclassified column whose name or type
	// looks personal, or whose sampled values do; Hint says why. A key
	// column that looks personal (an e-mail primary key) is unclassified
	// and likely personal, By naming the key; so is every column of a
	// materialized view, which a forget cannot write.
	LikelyPersonal bool          `json:"likely_personal,omitempty"`
	Hint           string        `json:"hint,omitempty"`
	Sample         *SampleCounts `json:"sample,omitempty"`

	kind    ColumnKind
	entry   string // the catalogue entry that erases it
	deleted bool   // erased because its rows are deleted
}

// SampleCounts counts, among the values sampled from one column, those
// that hold something looking like an e-mail address, a phone number or
// an IP address. Only counts: the values are never kept.
type SampleCounts struct {
	Values int `json:"values"` // non-NULL values read
	Emails int `json:"emails"`
	Phones int `json:"phones"`
	IPs    int `json:"ips"`
}

// Summary counts a Coverage's columns by class: Erased, Keys, Retained
// and Unclassified add up to Columns, the columns of its Tables and Views.
type Summary struct {
	Tables int `json:"tables"`
	Views  int `json:"views,omitempty"` // views and materialized views

	Columns        int `json:"columns"`
	Erased         int `json:"erased"`
	Keys           int `json:"keys"`
	Retained       int `json:"retained"`
	Unclassified   int `json:"unclassified"`
	LikelyPersonal int `json:"likely_personal"` // unclassified ones only
	// ToReview counts retained columns whose reason starts with
	// [ReviewPrefix]: guesses nobody has confirmed yet.
	ToReview int `json:"to_review,omitempty"`
	// Skipped names the schemas of [Coverage.Skipped], as the summary's
	// line does: "archive (3 tables), crm (12 tables)".
	Skipped string `json:"skipped,omitempty"`
}

// maxSkippedListed bounds the schemas the summary's line names.
const maxSkippedListed = 10

// skippedList names the first maxSkippedListed schemas of skipped.
func skippedList(skipped []SchemaTables) string {
	var names []string
	for _, sk := range skipped[:min(len(skipped), maxSkippedListed)] {
		names = append(names, sk.String())
	}
	if n := len(skipped) - maxSkippedListed; n > 0 {
		names = append(names, fmt.Sprintf("and %d more", n))
	}
	return strings.Join(names, ", ")
}

// String is the one-line summary: "47 columns in 9 tables reach a
// customer: 31 erased, 6 keys, 4 retained, 6 unclassified, 3 of them
// likely personal".
func (s Summary) String() string {
	where := plural(s.Tables, "table")
	if s.Views > 0 {
		where += " and " + plural(s.Views, "view")
	}
	str := fmt.Sprintf("%s in %s reach a customer: %d erased, %s, %d retained, %d unclassified",
		plural(s.Columns, "column"), where, s.Erased, plural(s.Keys, "key"), s.Retained, s.Unclassified)
	if s.Unclassified > 0 {
		str += fmt.Sprintf(", %d of them likely personal", s.LikelyPersonal)
	}
	if s.Skipped != "" {
		str += "; skipped schemas: " + s.Skipped + ": name them with -in"
	}
	return str
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// Unclassified returns the unclassified columns as "table.column"; with
// onlyPersonal, those that look personal only.
func (c *Coverage) Unclassified(onlyPersonal bool) []string {
	var out []string
	for _, t := range c.Tables {
		for _, col := range t.Columns {
			if col.Class == ClassUnclassified && (!onlyPersonal || col.LikelyPersonal) {
				out = append(out, t.Table+"."+col.Column)
			}
		}
	}
	return out
}

func (c *Coverage) summarise() {
	s := Summary{Skipped: skippedList(c.Skipped)}
	for _, t := range c.Tables {
		if t.Kind == "" {
			s.Tables++
		} else {
			s.Views++
		}
		for _, col := range t.Columns {
			s.Columns++
			switch col.Class {
			case ClassErased:
				s.Erased++
			case ClassKey:
				s.Keys++
			case ClassRetained:
				s.Retained++
				if strings.HasPrefix(col.By, ReviewPrefix) {
					s.ToReview++
				}
			case ClassUnclassified:
				s.Unclassified++
				if col.LikelyPersonal {
					s.LikelyPersonal++
				}
			}
		}
	}
	c.Summary = s
}

// Cover classifies every column of every table of in that reaches a
// customer under schema and cat, as a forget that keeps nothing would
// treat it. It reads nothing: in is the live schema ([Introspect]). A
// table with the columns of a forget audit table ([AuditDDL]) is shown as
// retained: it is the audit trail.
//
// A table reaches a customer when it is the customers table, a table the
// mapping names (joined, lookup, catalogue or hold table, the last by a
// customer key or a [Via]), a table with a column named like a customer
// key of the mapping, a table with a foreign key to a table that reaches
// one (a chain of any length), or a table that a foreign key of such a
// table refers to (customers.home_address_id → addresses, and on up). A
// view or materialized view reaches one when its definition reads such a
// table. Unclassified columns whose names or types look personal (email,
// ip, phone, name, address, birth, note, body, ...) are marked likely
// personal; so are key columns that do (an e-mail primary key), which are
// unclassified then, and every unclassified column of a materialized
// view.
//
// [Store.Coverage] does the same on the store's own database, and can
// sample values.
func Cover(in *Introspection, schema Schema, cat forget.Catalogue) *Coverage {
	return cover(in, schema.clone(), cat, "")
}

// Requirement is what [WithCoverage] demands of the mapping.
type Requirement int

// The requirements of [WithCoverage].
const (
	// EveryColumn: every column that reaches a customer is erased, a
	// key, or retained with a reason.
	EveryColumn Requirement = iota + 1
	// PersonalColumns: every column that looks personal (by its name or
	// type) is erased, a key, or retained.
	PersonalColumns
)

// WithCoverage makes [Store.Verify] fail, listing them, when columns that
// reach a customer are unclassified (see [Cover]): with EveryColumn any
// of them, with PersonalColumns those that look personal. A host that
// calls Verify at start-up (forget serve -require-coverage does) then
// refuses to start with holes in its mapping.
func WithCoverage(r Requirement) Option { return func(st *Store) { st.cover.require = r } }

// coverState is the store's coverage configuration, and what the last
// Verify learnt of the live schema, for dry-run inventories.
type coverState struct {
	require Requirement
	last    atomic.Pointer[Introspection]
}

// maxListed bounds the columns an error lists by name.
const maxListed = 50

// coverageProblems is called by Verify with the schema it read: it keeps
// the introspection for dry-run inventories and, under WithCoverage,
// returns one error listing the unclassified columns.
func (s *Store) coverageProblems(in *Introspection, cat forget.Catalogue) []error {
	s.cover.last.Store(in)
	req := s.cover.require
	if req == 0 {
		return nil
	}
	if req != EveryColumn && req != PersonalColumns {
		return []error{fmt.Errorf("coverage: unknown requirement %d (want EveryColumn or PersonalColumns)", int(req))}
	}
	cov := cover(in, s.schema, cat, s.auditTable)
	cols := cov.Unclassified(req == PersonalColumns)
	if len(cols) == 0 {
		return nil
	}
	what := "unclassified"
	if req == PersonalColumns {
		what = "unclassified and look personal"
	}
	shown := cols
	more := ""
	if len(cols) > maxListed {
		shown, more = cols[:maxListed], fmt.Sprintf(" and %d more", len(cols)-maxListed)
	}
	return []error{fmt.Errorf("coverage: columns that reach a customer are %s (%d): %s%s; map each to a catalogue field or table, or declare it in retain with a reason ('forget inspect' shows them all)",
		what, len(cols), strings.Join(shown, ", "), more)}
}

// CoverageOption configures [Store.Coverage].
type CoverageOption func(*coverConfig)

type coverConfig struct {
	sample  int
	schemas []string
}

// MaxSample bounds the rows [SampleRows] may read from one column.
const MaxSample = 100_000

// SampleRows makes [Store.Coverage] read up to n non-NULL values of each
// unclassified or key column that holds text, or values read as text
// (JSON, arrays, bytes, addresses), at most the first 4096 characters of
// each, and count those that look like e-mail addresses, phone numbers or
// IP addresses. Only counts are kept; a column whose values look personal
// is marked likely personal (a key, unclassified then).
func SampleRows(n int) CoverageOption { return func(c *coverConfig) { c.sample = n } }

// InSchemas makes [Store.Coverage] read these schemas (PostgreSQL) or
// databases (MySQL) too, besides the current one and those the mapping
// names.
func InSchemas(names ...string) CoverageOption {
	return func(c *coverConfig) { c.schemas = append(c.schemas, names...) }
}

// Coverage reads the live schema (and, with [SampleRows], some values)
// and classifies every column that reaches a customer, as [Cover] does;
// the store's audit table is shown as retained. cat is the catalogue of
// the Forgetter built on the store ([forget.Forgetter.Catalogue]).
//
// It returns an error when the mapping does not fit cat, the options are
// out of range, or the database fails; no error holds a value read from a
// table.
func (s *Store) Coverage(ctx context.Context, cat forget.Catalogue, opts ...CoverageOption) (*Coverage, error) {
	var cfg coverConfig
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.sample < 0 || cfg.sample > MaxSample {
		return nil, fmt.Errorf("sqlstore: coverage: sample %d rows: want 0 to %d", cfg.sample, MaxSample)
	}
	if err := s.schema.check(cat); err != nil {
		return nil, err
	}
	in, err := Introspect(ctx, s.db, s.dialect, append(s.schema.qualifiers(), cfg.schemas...)...)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: coverage: %w", err)
	}
	cov := cover(in, s.schema, cat, s.auditTable)
	if cfg.sample > 0 {
		if err := s.sampleColumns(ctx, cov, cfg.sample); err != nil {
			if ctx.Err() != nil {
				return nil, fmt.Errorf("sqlstore: coverage: %w", ctx.Err())
			}
			return nil, fmt.Errorf("sqlstore: coverage: %w", err)
		}
		cov.summarise()
	}
	return cov, nil
}
