package sqlstore

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/forgetkit/forget"
)

// The second half of a proposal (see propose.go): extending the catalogue
// so that coverage leaves no column unclassified, then checking the
// result as Verify would.

// purgeDirect proposes, as extension tables whose rows a forget deletes,
// the tables that hold the customer key and that nothing maps yet.
func (p *proposer) purgeDirect() {
	mapped := map[*TableInfo]bool{}
	for _, rt := range p.s.Tables {
		mapped[p.in.Table(rt.Table)] = true
	}
	for i := range p.in.Tables {
		t := &p.in.Tables[i]
		if t == p.cust || p.holder[t] || mapped[t] || p.isAudit(t) {
			continue
		}
		ck := p.customerKeyOf(t)
		if ck == "" {
			continue
		}
		if !validIdent(t.Name) || !validIdent(ck) {
			p.note("table %s holds the customer key but its name cannot be written in a mapping; it stays unclassified", t.Name)
			continue
		}
		name := p.extensionName(t.Unqualified, t.Name)
		p.cat.Tables = append(p.cat.Tables, forget.TableSpec{Name: forget.Table(name)})
		p.s.Tables[forget.Table(name)] = RelatedTable{Table: t.Name, CustomerKey: ck}
		p.note("table %s: its rows are deleted by a forget (extension table %s, by %s); to keep them instead, remove it and retain its columns", t.Name, name, ck)
	}
}

// classifyRest proposes an extension field for each personal-looking
// column of the customers and joined tables that no field maps, and
// retains every other unclassified column, for review.
func (p *proposer) classifyRest() {
	cov := cover(p.in, p.s.clone(), p.cat, p.audit)
	for _, tc := range cov.Tables {
		t := tc.info
		for _, col := range tc.Columns {
			if col.Class != ClassUnclassified {
				continue
			}
			if !validIdent(t.Name) || !validIdent(col.Column) {
				p.note("%s.%s cannot be named in a mapping (not a plain identifier); it stays unclassified", t.Name, col.Column)
				continue
			}
			key := tc.keyCol
			fieldTable := t == p.cust || p.s.Joined[t.Name] != ""
			if col.LikelyPersonal && fieldTable {
				ci := t.Column(col.Column)
				if r, ok := extensionRule(p.in.Dialect, t, ci, key); ok {
					name := p.extensionName(col.Column, t.Unqualified+"_"+col.Column)
					p.cat.Fields = append(p.cat.Fields, forget.FieldSpec{Name: forget.Field(name), Rule: r})
					c := Column{Column: col.Column}
					if t != p.cust {
						c.Table = t.Name
					}
					p.s.Fields[forget.Field(name)] = c
					p.note("field %s: %s.%s looks personal (%s): erased by rule %s as an extension field", name, t.Name, col.Column, col.Hint, r)
					continue
				}
			}
			reason := ReviewPrefix + "kept: nothing in its name looks personal"
			if col.LikelyPersonal {
				reason = ReviewPrefix + "looks personal (" + col.Hint + "), but " + p.whyKept(tc)
			}
			p.s.Retain[t.Name+"."+col.Column] = clip(reason, MaxRetainReason)
		}
	}
	p.note("%d columns retained with reasons starting %q: confirm each reason, or map the column", len(p.s.Retain), strings.TrimSpace(ReviewPrefix))
}

// whyKept says why no mapping entry can erase a column of tc.
func (p *proposer) whyKept(tc TableCoverage) string {
	t := tc.info
	switch {
	case t == p.cust || p.s.Joined[t.Name] != "":
		return "no built-in rule can overwrite it; map it in Go with a Fixed or Func rule"
	case p.holder[t]:
		return "the rows of a lookup table are kept; scrub it in Go or retain it"
	case p.unpurged[t] != "":
		return "its rows are not purged: a foreign key from " + p.unpurged[t] + " would refuse the delete (see the review)"
	case len(tc.Via) > 0:
		return "it is reached only through " + tc.Via[0].RefTable + ", whose rows a forget keeps; add ON DELETE CASCADE from a purged table, or retain it"
	}
	return "no mapping entry can reach it"
}

// clip cuts s to at most n bytes on a rune boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// extensionName makes a free catalogue name from the first of names that
// gives one: lower case, [a-z0-9_], starting with a letter, at most 60
// bytes; failing all, the last with a number appended.
func (p *proposer) extensionName(names ...string) string {
	var base string
	for _, from := range names {
		var b strings.Builder
		for _, r := range strings.ToLower(from) {
			if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
				b.WriteRune(r)
			} else {
				b.WriteByte('_')
			}
		}
		base = b.String()
		if base == "" || base[0] < 'a' || base[0] > 'z' {
			base = "x_" + base
		}
		base = base[:min(len(base), 60)]
		if !p.taken[base] {
			p.taken[base] = true
			return base
		}
	}
	name := base
	for i := 2; p.taken[name]; i++ {
		name = fmt.Sprintf("%s_%d", base, i)
	}
	p.taken[name] = true
	return name
}

// verify checks the proposal as Verify would (but for the session, the
// audit table and holds, which need the database), and records in
// Problems, and the review, why it does not load as it is.
func (p *proposer) verify() {
	sc := p.s.clone()
	fail := func(err error) {
		p.problems = append(p.problems, err.Error())
		p.note("the proposal does not load as it is: %v", err)
	}
	if err := sc.Validate(); err != nil {
		fail(err)
		return
	}
	if err := sc.check(p.cat); err != nil {
		fail(err)
		return
	}
	v := &verifier{s: &Store{dialect: p.in.Dialect, schema: sc, log: slog.New(slog.DiscardHandler)}, in: p.in, ranges: map[string]keyRange{}, keys: learnedKeys{types: map[string]KeyType{}}}
	v.checkKeys()
	v.fields(p.cat)
	v.tables(p.cat)
	v.restricts(p.cat)
	for _, err := range v.errs {
		fail(err)
	}
}

// ruleProblem says why column c of t cannot take rule r (as Verify would
// say it), or "".
func ruleProblem(d Dialect, t *TableInfo, c *ColumnInfo, customerKey string, r forget.Rule) string {
	v := &verifier{s: &Store{dialect: d}}
	v.rule("rule", t, c, customerKey, r)
	if len(v.errs) == 0 {
		return ""
	}
	return strings.TrimPrefix(v.errs[0].Error(), "rule: ")
}

// extensionRule is the rule an extension field gets for column c: Null()
// where c is nullable, else Empty(), else (a unique column) Pseudonym();
// the first that Verify would accept. ok is false when none would.
func extensionRule(d Dialect, t *TableInfo, c *ColumnInfo, customerKey string) (forget.Rule, bool) {
	for _, r := range []forget.Rule{forget.Null(), forget.Empty(), forget.Pseudonym()} {
		if ruleProblem(d, t, c, customerKey, r) == "" {
			return r, true
		}
	}
	return forget.Rule{}, false
}

// ExtendCatalogue is [Schema.Catalogue] of the store's mapping over cat,
// but that an extension field the mapping gives no rule gets the rule its
// live column allows: Null() where nullable, else Empty(), else
// Pseudonym() for a unique column (see [Proposal]), and that extension
// tables come each before those it refers to by a foreign key (a forget
// deletes in catalogue order, and a NO ACTION key refuses the parent's
// delete first). It is how the command builds its catalogue from
// -schema; a Go host calling it with the same base catalogue runs the
// same rules.
func (s *Store) ExtendCatalogue(ctx context.Context, cat forget.Catalogue) (forget.Catalogue, error) {
	var in *Introspection
	var inErr error
	introspect := func() bool {
		if in == nil && inErr == nil {
			in, inErr = Introspect(ctx, s.db, s.dialect, s.schema.qualifiers()...)
		}
		return inErr == nil
	}
	pick := func(f forget.Field, m Column) forget.Rule {
		rule := forget.Empty() // Verify says why, when the column cannot take it
		if !introspect() {
			return rule
		}
		if t := in.Table(m.Table); t != nil {
			key := s.schema.Customers.Key
			if m.Table != s.schema.Customers.Table {
				key = s.schema.Joined[m.Table]
			}
			if c := t.Column(m.Column); c != nil {
				if r, ok := extensionRule(s.dialect, t, c, key); ok {
					rule = r
				}
			}
		}
		return rule
	}
	order := func(tables []forget.Table) []forget.Table {
		if len(tables) < 2 || !introspect() {
			return tables
		}
		return childrenFirst(in, s.schema, tables)
	}
	out, err := s.schema.catalogue(cat, pick, order)
	if inErr != nil {
		return forget.Catalogue{}, fmt.Errorf("sqlstore: extend catalogue: %w", inErr)
	}
	return out, err
}

// childrenFirst orders tables (catalogue names of s) so that each comes
// before every table it refers to by a foreign key, else by name; a
// cycle is broken at the first by name.
func childrenFirst(in *Introspection, s Schema, tables []forget.Table) []forget.Table {
	info := func(t forget.Table) *TableInfo { return in.Table(s.Tables[t].Table) }
	refers := func(child, parent forget.Table) bool {
		c, p := info(child), info(parent)
		return c != nil && p != nil && c != p && slices.ContainsFunc(c.ForeignKeys, func(fk ForeignKeyInfo) bool { return in.Table(fk.RefTable) == p })
	}
	left := slices.Clone(tables)
	out := make([]forget.Table, 0, len(tables))
	for len(left) > 0 {
		pick := 0
		for i, t := range left {
			if !slices.ContainsFunc(left, func(u forget.Table) bool { return refers(u, t) }) {
				pick = i
				break
			}
		}
		out = append(out, left[pick])
		left = slices.Delete(left, pick, pick+1)
	}
	return out
}
