package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"

	sq "github.com/Masterminds/squirrel"

	"github.com/forgetkit/forget"
)

// Store-side rules (keyed_hash, redact_text, redact_json): their new
// value is computed from the old one, which only the store reads. A
// forget reads the customer's pre-images first (the values of the fields
// it erases, for redact_text), then, for each table with such columns,
// reads the rows' primary key and the columns (locked), derives the new
// values in Go and writes the changed rows by primary key: DeriveRows.
// The SQL of every other rule stays in the script (script.go), which
// leaves these columns out.

// derivedCol is one column a store-side rule writes.
type derivedCol struct {
	Column string
	Rule   *forget.Derivation
}

// derivedTarget is a table whose columns a plan derives: the customer's
// rows (by key), or, for Via.Mentions, every row mentioning a pre-image.
type derivedTarget struct {
	table, key string
	name       forget.Table // the catalogue table, "" for fields
	fields     []valueRef   // for fields: the plan's, counted as Updated
	cols       []string
	refs       []valueRef
	mentions   bool
	via        bool // rows reached by a Via: the values via_write.go read
}

// derivedResult is what deriveRows did.
type derivedResult struct {
	Rows     int64            // rows it read (the WHERE matched)
	Changed  int64            // rows whose values changed, written back
	Redacted map[string]int64 // "table.column" -> spans redacted
}

// deriveRows applies store-side rules to the rows of table that where
// selects, inside tx: it reads each row's primary key and cols (locked
// FOR UPDATE where the engine locks rows), computes the new values in Go
// (forget.Derivation.Derive, with pre as the customer's pre-images) and
// writes each changed row by its primary key. It serves fields, tables
// by customer key, mentions, and any table a caller selects rows of by
// its own WHERE (a table a foreign key reaches). A where that renders
// without WHERE or as (1=1) is refused: a forget never writes a whole
// table by accident. Errors name table and column, never a value.
func (s *Store) deriveRows(ctx context.Context, tx *txn, table string, where sq.Sqlizer, cols []derivedCol, pre []string) (derivedResult, error) {
	out := derivedResult{Redacted: map[string]int64{}}
	if len(cols) == 0 {
		return out, nil
	}
	pk, err := s.primaryKey(ctx, table)
	if err != nil {
		return out, err
	}
	q := s.dialect.quote
	sel := make([]string, 0, len(pk)+len(cols))
	for _, c := range pk {
		sel = append(sel, q(c))
	}
	for _, c := range cols {
		sel = append(sel, q(c.Column))
	}
	b := s.sb.Select(sel...).From(q(table)).Where(where)
	if suffix := s.dialect.lockSuffix(); suffix != "" {
		b = b.Suffix(suffix)
	}
	query, args, err := b.ToSql()
	if err != nil {
		return out, fmt.Errorf("sqlstore: build select of %s: %w", table, err)
	}
	if !strings.Contains(query, " WHERE ") || strings.Contains(query, "(1=1)") {
		return out, fmt.Errorf("sqlstore: refusing to derive %s without a WHERE", table)
	}
	type row struct {
		key []any
		old []sql.NullString
	}
	var rows []row
	rs, err := tx.query(ctx, query, args...)
	if err != nil {
		return out, fmt.Errorf("sqlstore: read %s: %w", table, s.scrubbedError(err, args...))
	}
	for rs.Next() {
		r := row{key: make([]any, len(pk)), old: make([]sql.NullString, len(cols))}
		dest := make([]any, 0, len(sel))
		for i := range r.key {
			dest = append(dest, &r.key[i])
		}
		for i := range r.old {
			dest = append(dest, &r.old[i])
		}
		if err := rs.Scan(dest...); err != nil {
			rs.Close()
			return out, fmt.Errorf("sqlstore: read %s: %w", table, s.scrubbedError(err, args...))
		}
		rows = append(rows, r)
	}
	rs.Close()
	if err := rs.Err(); err != nil {
		return out, fmt.Errorf("sqlstore: read %s: %w", table, s.scrubbedError(err, args...))
	}
	out.Rows = int64(len(rows))
	in := forget.DeriveInput{Preimages: pre, Key: s.hashKey}
	for _, r := range rows {
		up := s.sb.Update(q(table))
		changed := false
		for i, c := range cols {
			if !r.old[i].Valid {
				continue // NULL stays NULL: nothing to hash or redact
			}
			v, n, err := c.Rule.Derive(r.old[i].String, in)
			if err != nil {
				if errors.Is(err, forget.ErrNotJSON) {
					return out, fmt.Errorf("sqlstore: %s.%s: a row's value is not valid JSON, so redact_json cannot redact it; fix or clear it, or map another rule (the forget changed nothing): %w", table, c.Column, err)
				}
				return out, fmt.Errorf("sqlstore: %s.%s: %w", table, c.Column, err)
			}
			if n > 0 {
				out.Redacted[table+"."+c.Column] += int64(n)
			}
			if v != r.old[i].String {
				up = up.Set(q(c.Column), v)
				changed = true
			}
		}
		if !changed {
			continue
		}
		match := sq.Eq{}
		for i, c := range pk {
			match[q(c)] = r.key[i]
		}
		query, args, err := up.Where(match).ToSql()
		if err != nil {
			return out, fmt.Errorf("sqlstore: build update of %s: %w", table, err)
		}
		if _, err := tx.exec(ctx, query, args...); err != nil {
			return out, fmt.Errorf("sqlstore: update %s: %w", table, s.scrubbedError(err, args...))
		}
		out.Changed++
	}
	if len(out.Redacted) == 0 {
		out.Redacted = nil
	}
	return out, nil
}

// primaryKey is table's primary key, from the schema Verify read (or
// read now).
func (s *Store) primaryKey(ctx context.Context, table string) ([]string, error) {
	in := s.cover.last.Load()
	if in == nil || in.Table(table) == nil {
		var err error
		if in, err = Introspect(ctx, s.db, s.dialect, s.schema.qualifiers()...); err != nil {
			return nil, fmt.Errorf("sqlstore: read the primary key of %s: %w", table, err)
		}
	}
	t := in.Table(table)
	if t == nil || len(t.PrimaryKey) == 0 {
		return nil, fmt.Errorf("sqlstore: %s has no primary key: a store-side rule writes rows by it", table)
	}
	return slices.Clone(t.PrimaryKey), nil
}

// preimages reads the customer's values of p's fields (every table
// holding them; forget.PreimageField), before anything is erased: what
// redact_text removes. A field that is itself redacted (free text, JSON)
// gives none: its whole value would be redacted.
func (s *Store) preimages(ctx context.Context, tx *txn, p forget.Plan, id any) ([]string, error) {
	byTable := map[string][]string{}
	var order []string
	for _, a := range p.Fields {
		col, ok := s.schema.Fields[a.Field]
		if !ok || !forget.PreimageField(a.Field) || a.Value.Derive.Redacts() {
			continue
		}
		if _, seen := byTable[col.Table]; !seen {
			order = append(order, col.Table)
		}
		byTable[col.Table] = append(byTable[col.Table], col.Column)
	}
	var out []string
	q := s.dialect.quote
	for _, table := range order {
		key := s.schema.Customers.Key
		if table != s.schema.Customers.Table {
			key = s.schema.Joined[table]
		}
		cols := make([]string, len(byTable[table]))
		for i, c := range byTable[table] {
			cols[i] = q(c)
		}
		query, args, err := s.sb.Select(cols...).From(q(table)).Where(sq.Eq{q(key): id}).ToSql()
		if err != nil {
			return nil, fmt.Errorf("sqlstore: build read of %s: %w", table, err)
		}
		rs, err := tx.query(ctx, query, args...)
		if err != nil {
			return nil, fmt.Errorf("sqlstore: read %s: %w", table, s.scrubbedError(err, args...))
		}
		vals := make([]sql.NullString, len(cols))
		dest := make([]any, len(cols))
		for i := range vals {
			dest[i] = &vals[i]
		}
		for rs.Next() {
			if err := rs.Scan(dest...); err != nil {
				rs.Close()
				return nil, fmt.Errorf("sqlstore: read %s: %w", table, s.scrubbedError(err, args...))
			}
			for _, v := range vals {
				if v.Valid && v.String != "" {
					out = append(out, v.String)
				}
			}
		}
		rs.Close()
		if err := rs.Err(); err != nil {
			return nil, fmt.Errorf("sqlstore: read %s: %w", table, s.scrubbedError(err, args...))
		}
	}
	return out, nil
}

// derivedPreimages reads the pre-images when a store-side rule of the
// script redacts text (nil otherwise): before anything is written.
func (s *Store) derivedPreimages(ctx context.Context, tx *txn, sc *script, p forget.Plan, id any) ([]string, error) {
	if !sc.layout.needPre {
		return nil, nil
	}
	return s.preimages(ctx, tx, p, id)
}

// applyDerived runs the plan's store-side rules for the customer id (or,
// for a mentions table, every row that mentions a pre-image), recording
// rows and redactions in res, and returns how many rows it changed.
func (s *Store) applyDerived(ctx context.Context, tx *txn, sc *script, p forget.Plan, id any, pre []string, vias map[forget.Table]*viaSet, res *forget.Result) (changed int64, err error) {
	if len(sc.layout.derived) == 0 {
		return 0, nil
	}
	for _, dt := range sc.layout.derived {
		cols := make([]derivedCol, len(dt.cols))
		for i, c := range dt.cols {
			d := dt.refs[i].raw(p).Derive
			if d == nil {
				return 0, fmt.Errorf("sqlstore: %s.%s: the plan has no store-side rule where its shape has one", dt.table, c)
			}
			cols[i] = derivedCol{Column: c, Rule: d}
		}
		if dt.via {
			n, err := s.deriveVia(ctx, tx, dt, cols, pre, vias[dt.name], res)
			if err != nil {
				return 0, err
			}
			changed += n
			continue
		}
		var where sq.Sqlizer = sq.Eq{s.dialect.quote(dt.key): id}
		if dt.mentions {
			w, ok := s.mentionsWhere(dt.cols, pre)
			if !ok {
				res.Rows[dt.name] = 0 // nothing of the customer's long enough to look for
				continue
			}
			where = w
		}
		d, err := s.deriveRows(ctx, tx, dt.table, where, cols, pre)
		if err != nil {
			return 0, err
		}
		changed += d.Changed
		for k, n := range d.Redacted {
			if res.Redacted == nil {
				res.Redacted = map[string]int64{}
			}
			res.Redacted[k] += n
		}
		switch {
		case dt.mentions:
			res.Rows[dt.name] = d.Changed
		case dt.name != "":
			if _, scripted := res.Rows[dt.name]; !scripted {
				res.Rows[dt.name] = d.Rows
			}
		default:
			if res.Updated == nil {
				res.Updated = map[string]int64{}
			}
			res.Updated[dt.table] = max(res.Updated[dt.table], d.Rows)
			if d.Rows == 0 && dt.table != s.schema.Customers.Table {
				for _, ref := range dt.fields {
					if !slices.Contains(res.Unwritten, p.Fields[ref.index].Field) {
						res.Unwritten = append(res.Unwritten, p.Fields[ref.index].Field)
					}
				}
			}
		}
	}
	return changed, nil
}

// deriveVia applies store-side rules to the rows of a table a Via
// reaches, by the values runWithVias read (less the shared ones), 500 a
// statement; a table whose scrub is all derived counts its rows here.
func (s *Store) deriveVia(ctx context.Context, tx *txn, dt derivedTarget, cols []derivedCol, pre []string, vs *viaSet, res *forget.Result) (int64, error) {
	rt := s.schema.Tables[dt.name]
	if vs == nil || len(vs.values) == 0 {
		return 0, nil
	}
	match := normExpr(rt.Via.Normalize, s.dialect.quote(rt.Via.Column))
	var changed, rows int64
	err := chunks(vs.values, func(part []any) error {
		d, err := s.deriveRows(ctx, tx, dt.table, sq.Expr(match+" IN ("+marks(len(part))+")", part...), cols, pre)
		if err != nil {
			return err
		}
		changed += d.Changed
		rows += d.Rows
		for k, n := range d.Redacted {
			if res.Redacted == nil {
				res.Redacted = map[string]int64{}
			}
			res.Redacted[k] += n
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	res.Rows[dt.name] = max(res.Rows[dt.name], rows) // the Via's write counted its own scrubbed columns' rows
	return changed, nil
}
