package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	sq "github.com/Masterminds/squirrel"

	"github.com/forgetkit/forget"
)

// Tombstones: for every identity value a forget erases, a keyed hash
// (never the value) written in the forget's own transaction, one per
// active key, and the check that answers from them (Store.Forgotten).

// DefaultTombstoneTable is the tombstone table [DDL] and
// [CreateTombstoneTable] create, beside the audit table.
const DefaultTombstoneTable = "forget_tombstones"

// tombstoneColumns are the columns the store writes, in the order of the
// INSERT: the hash (64 hexadecimal digits), the key's id, the identity's
// name, the forget's event id and its time. None holds a value, nor a
// hash anybody without the key could compute.
var tombstoneColumns = []string{"hash", "key_id", "identity", "event_id", "forgotten_at"}

// WithTombstoneKeys makes every forget leave tombstones of the identities
// it erases (see [Identity]), one per key that is not retired, in the
// table [WithTombstoneTable] names; [Store.Forgotten] matches under every
// key. The mapping must declare identities. Keys come from the host's
// secrets, never from a mapping file ([forget.ParseTombstoneKeys] reads
// the command's key file).
func WithTombstoneKeys(keys ...forget.TombstoneKey) Option {
	return func(st *Store) { st.tomb.keys = slices.Clone(keys) }
}

// WithTombstoneTable sets the tombstone table; the default is
// DefaultTombstoneTable beside the audit table (in its schema).
func WithTombstoneTable(table string) Option { return func(st *Store) { st.tomb.table = table } }

// tombState is the store's tombstone machinery, built once by New.
type tombState struct {
	keys   []forget.TombstoneKey
	table  string
	byName map[string]tombIdentity
	reads  []tombRead // one per table holding identities, in mapping order
	check  string     // SELECT 1 ... WHERE hash IN (one placeholder a key)
	// prepared is check, prepared on the database once Forgotten first
	// succeeds in preparing it: a check is then one round trip (MySQL's
	// driver otherwise prepares, runs and closes: three).
	prepared atomic.Pointer[sql.Stmt]
}

type tombIdentity struct {
	Identity
	field forget.Field // the catalogue field that erases its column
	norm  forget.Normalization
}

// tombRead reads a table's identity columns of one customer.
type tombRead struct {
	query      string
	table, key string   // quoted: the table and its customer key column
	cols       []string // quoted, in the order of identities
	identities []tombIdentity
}

func (t *tombState) on() bool { return len(t.keys) > 0 }

// TombstoneDDL returns the statements that create a tombstone table for
// d (nil for an unknown dialect), with the index Forgotten looks hashes up
// by. Every statement is idempotent.
func TombstoneDDL(d Dialect, table string) []string {
	e := d.engine()
	if e == nil {
		return nil
	}
	q := d.quote
	cols := []string{
		q("tombstone_id") + " " + e.ddl.autoID,
		q("hash") + " VARCHAR(64) NOT NULL",
		q("key_id") + " VARCHAR(32) NOT NULL",
		q("identity") + " VARCHAR(64) NOT NULL",
		q("event_id") + " VARCHAR(26) NOT NULL",
		q("forgotten_at") + " VARCHAR(30) NOT NULL",
	}
	_, bare := splitTable(table)
	if e.ddl.inlineIndexes {
		cols = append(cols,
			fmt.Sprintf("INDEX %s (%s)", q(bare+"_hash"), q("hash")),
			fmt.Sprintf("INDEX %s (%s)", q(bare+"_event_id"), q("event_id")))
		return []string{fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s (\n  %s\n)%s", q(table), strings.Join(cols, ",\n  "), e.ddl.tail)}
	}
	return []string{
		fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s (\n  %s\n)%s", q(table), strings.Join(cols, ",\n  "), e.ddl.tail),
		fmt.Sprintf("CREATE INDEX IF NOT EXISTS %s ON %s (%s)", q(bare+"_hash"), q(table), q("hash")),
		fmt.Sprintf("CREATE INDEX IF NOT EXISTS %s ON %s (%s)", q(bare+"_event_id"), q(table), q("event_id")),
	}
}

// CreateTombstoneTable creates the tombstone table in db unless it exists
// (table empty: DefaultTombstoneTable), and reports whether it did. The
// table has no schema version of its own: it is new in this release, and
// the audit table's versions (see [Migrate]) are unchanged by it.
func CreateTombstoneTable(ctx context.Context, db *sql.DB, d Dialect, table string) (bool, error) {
	if d.engine() == nil {
		return false, fmt.Errorf("sqlstore: unknown dialect %v", d)
	}
	if table == "" {
		table = DefaultTombstoneTable
	}
	if !validIdent(table) {
		return false, fmt.Errorf("sqlstore: tombstone table %q is not a plain identifier", clipName(table))
	}
	sh, err := readShape(ctx, db, d, table)
	if err != nil {
		return false, fmt.Errorf("sqlstore: tombstone table: %w", err)
	}
	if sh.exists() {
		return false, nil
	}
	for _, st := range TombstoneDDL(d, table) {
		if _, err := db.ExecContext(ctx, st); err != nil {
			return false, fmt.Errorf("sqlstore: create tombstone table %s: %w", table, safeError(err))
		}
	}
	return true, nil
}

// buildTombstones checks the keys and renders the statements once.
func (s *Store) buildTombstones() error {
	t := &s.tomb
	if !t.on() {
		return nil
	}
	if err := forget.CheckTombstoneKeys(t.keys); err != nil {
		return fmt.Errorf("sqlstore: %w", err)
	}
	if len(s.schema.Identities) == 0 {
		return errors.New("sqlstore: tombstone keys need identities in the mapping (Schema.Identities)")
	}
	if t.table == "" {
		audit := s.auditTable
		if audit == "" {
			audit = DefaultAuditTable
		}
		t.table = sibling(audit, DefaultTombstoneTable)
	}
	if !validIdent(t.table) {
		return fmt.Errorf("sqlstore: tombstone table %q is not a plain identifier", clipName(t.table))
	}
	q := s.dialect.quote
	t.byName = make(map[string]tombIdentity, len(s.schema.Identities))
	byTable := map[string]int{}
	for _, id := range s.schema.Identities {
		ti := tombIdentity{Identity: id, field: s.schema.identityField(id), norm: id.Normalization()}
		t.byName[id.Name] = ti
		table := id.table(s.schema)
		i, ok := byTable[strings.ToLower(table)]
		if !ok {
			i = len(t.reads)
			byTable[strings.ToLower(table)] = i
			t.reads = append(t.reads, tombRead{})
		}
		t.reads[i].identities = append(t.reads[i].identities, ti)
	}
	for i := range t.reads {
		r := &t.reads[i]
		table := r.identities[0].table(s.schema)
		key := s.schema.Customers.Key
		if table != s.schema.Customers.Table {
			key = s.schema.Joined[table]
		}
		cols := make([]string, len(r.identities))
		for j, id := range r.identities {
			cols[j] = q(id.Column)
		}
		query, _, err := s.sb.Select(cols...).From(q(table)).Where(sq.Eq{q(key): keyPlaceholder{}}).ToSql()
		if err != nil {
			return fmt.Errorf("sqlstore: build tombstone read: %w", err)
		}
		r.query, r.table, r.key, r.cols = query, q(table), q(key), cols
	}
	marks := make([]any, len(t.keys))
	for i := range marks {
		marks[i] = ""
	}
	query, _, err := s.sb.Select("1").From(q(t.table)).Where(sq.Eq{q("hash"): marks}).Limit(1).ToSql()
	if err != nil {
		return fmt.Errorf("sqlstore: build tombstone check: %w", err)
	}
	t.check = query
	return nil
}

// identityField is the field whose column is id's (Validate made sure
// there is one).
func (s Schema) identityField(id Identity) forget.Field {
	for _, f := range sortedKeys(s.Fields) {
		c := s.Fields[f]
		table := c.Table
		if table == "" {
			table = s.Customers.Table
		}
		if strings.EqualFold(table, id.table(s)) && strings.EqualFold(c.Column, id.Column) {
			return f
		}
	}
	return ""
}

// tombstones writes, in tx, the tombstones of every identity value p
// erases of customer id: read before anything is erased, after the holds
// are checked. A kept field leaves none, and a dry run writes none (it
// reads, as the real forget would).
func (s *Store) tombstones(ctx context.Context, tx *txn, p forget.Plan, id any) error {
	t := &s.tomb
	if !t.on() {
		return nil
	}
	erased := erasedFields(p)
	var stones []stone
	seen := map[string]bool{}
	for _, r := range t.reads {
		if !r.needs(erased) {
			continue
		}
		rows, err := tx.query(ctx, r.query, id)
		if err != nil {
			return fmt.Errorf("sqlstore: read identities: %w", s.scrubbedError(err, id))
		}
		vals := make([]sql.NullString, len(r.identities))
		dest := make([]any, len(vals))
		for i := range vals {
			dest[i] = &vals[i]
		}
		for rows.Next() {
			if err := rows.Scan(dest...); err != nil {
				rows.Close()
				return fmt.Errorf("sqlstore: read identities: %w", s.scrubbedError(err, id))
			}
			stones = t.stonesOf(r, vals, erased, p, seen, stones)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("sqlstore: read identities: %w", ctxCause(ctx, s.scrubbedError(err, id)))
		}
	}
	if p.DryRun {
		return nil
	}
	return s.insertStones(ctx, tx, stones)
}

// stone is one tombstone row, in tombstoneColumns' order.
type stone struct{ hash, keyID, identity, eventID, at string }

func erasedFields(p forget.Plan) map[forget.Field]bool {
	erased := make(map[forget.Field]bool, len(p.Fields))
	for _, a := range p.Fields {
		erased[a.Field] = true
	}
	return erased
}

// needs reports whether a plan erasing erased erases any of r's
// identities.
func (r tombRead) needs(erased map[forget.Field]bool) bool {
	for _, ti := range r.identities {
		if erased[ti.field] {
			return true
		}
	}
	return false
}

// stonesOf appends to out the tombstones of one row's values of r's
// identities that p erases, one per active key, each hash once per
// forget (seen).
func (t *tombState) stonesOf(r tombRead, vals []sql.NullString, erased map[forget.Field]bool, p forget.Plan, seen map[string]bool, out []stone) []stone {
	at := p.Record.At
	if at.IsZero() {
		at = time.Now()
	}
	when := at.UTC().Format(auditTimeFormat)
	for i, ti := range r.identities {
		if !erased[ti.field] || !vals[i].Valid {
			continue
		}
		n := ti.norm.Normalize(vals[i].String)
		if n == "" {
			continue
		}
		for _, k := range t.keys {
			if k.Retired {
				continue
			}
			h := k.Hash(ti.Name, n)
			if !seen[h] {
				seen[h] = true
				out = append(out, stone{h, k.ID, ti.Name, p.Record.EventID, when})
			}
		}
	}
	return out
}

// insertStones writes stones in tx, as many rows a statement as the
// engine's parameters allow.
func (s *Store) insertStones(ctx context.Context, tx *txn, stones []stone) error {
	cols := make([]string, len(tombstoneColumns))
	for i, c := range tombstoneColumns {
		cols[i] = s.dialect.quote(c)
	}
	per := max(1, s.dialect.maxParams()/len(cols))
	for start := 0; start < len(stones); start += per {
		ins := s.sb.Insert(s.dialect.quote(s.tomb.table)).Columns(cols...)
		for _, st := range stones[start:min(start+per, len(stones))] {
			ins = ins.Values(st.hash, st.keyID, st.identity, st.eventID, st.at)
		}
		query, args, err := ins.ToSql()
		if err != nil {
			return fmt.Errorf("sqlstore: build tombstones: %w", err)
		}
		if _, err := tx.exec(ctx, query, args...); err != nil {
			return fmt.Errorf("sqlstore: write tombstones: %w", s.scrubbedError(err, args...))
		}
	}
	return nil
}

var _ forget.TombstoneChecker = (*Store)(nil)

// Forgotten implements forget.TombstoneChecker: whether a tombstone of
// id's normalised value exists under any of the store's keys. It is one
// indexed lookup, outside any transaction. Without tombstone keys every
// identity name is unknown.
func (s *Store) Forgotten(ctx context.Context, id forget.Identity) (bool, error) {
	t := &s.tomb
	ti, ok := t.byName[id.Name]
	if !ok {
		return false, &forget.UnknownIdentityError{Name: id.Name}
	}
	n := ti.norm.Normalize(id.Value)
	if n == "" {
		return false, nil
	}
	args := make([]any, len(t.keys))
	for i, k := range t.keys {
		args[i] = k.Hash(ti.Name, n)
	}
	var one int
	var row *sql.Row
	if st := t.stmt(ctx, s.db); st != nil {
		row = st.QueryRowContext(ctx, args...)
	} else {
		row = s.db.QueryRowContext(ctx, t.check, args...)
	}
	switch err := row.Scan(&one); {
	case err == nil:
		return true, nil
	case errors.Is(err, sql.ErrNoRows):
		return false, nil
	default:
		return false, fmt.Errorf("sqlstore: check tombstones: %w", ctxCause(ctx, s.scrubbedError(err, args...)))
	}
}

// stmt returns the prepared check, preparing it the first time; nil when
// it cannot be prepared (the check then runs unprepared, and reports the
// error itself).
func (t *tombState) stmt(ctx context.Context, db *sql.DB) *sql.Stmt {
	if st := t.prepared.Load(); st != nil {
		return st
	}
	st, err := db.PrepareContext(ctx, t.check)
	if err != nil {
		return nil
	}
	if !t.prepared.CompareAndSwap(nil, st) {
		st.Close() // another check prepared it meanwhile
	}
	return t.prepared.Load()
}

// tombstoneTable checks, with tombstone keys, that the table exists with
// every column the store writes.
func (v *verifier) tombstoneTable(ctx context.Context) {
	t := &v.s.tomb
	if !t.on() {
		return
	}
	sh, err := readShape(ctx, v.s.db, v.s.dialect, t.table)
	switch {
	case err != nil:
		v.fail("tombstone table: %w", err)
	case !sh.exists():
		v.fail("tombstone table: table %s does not exist (create it with TombstoneDDL, or forget init / forget migrate)", t.table)
	default:
		for _, c := range tombstoneColumns {
			if !sh.has(c) {
				v.fail("tombstone table: column %s.%s does not exist", t.table, c)
			}
		}
	}
}
