package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	sq "github.com/Masterminds/squirrel"

	"github.com/forgetkit/forget"
)

// The audit table: its DDL, and the records of one forget (Store.audit)
// and of a batch group at once (bulkRun.audit).

// DefaultAuditTable is the audit table DDL creates.
const DefaultAuditTable = "forget_audit"

// auditTimeFormat is fixed-width, so that times compare as text on every
// engine.
const auditTimeFormat = "2006-01-02T15:04:05.000000000Z"

// auditColumns are the columns the store writes, in the order of the
// INSERT. published_at is NULL until a relay has published the event. A
// refusal's record has no event: its event_id and published_at are NULL
// (on a table whose event_id is NOT NULL, as AuditDDL made them before,
// a placeholder id and its own time instead; see Store.refusalIDs).
//
// certificate is the erasure's signed certificate (forget.WithCertifier):
// its JSON byte for byte, NULL without one.
var auditColumns = []string{"event_id", "customer_id", "at", "principal", "request_id", "fields_erased", "fields_kept", "tables_kept", "rows_deleted", "rows_scrubbed", "holds_ignored", "held", "published_at", "certificate"}

// WithAudit makes the store write each forget's receipt to table, in the
// forget's own transaction: there is never an erasure without its record,
// nor a record without its erasure. The record holds what the receipt
// holds and never a field's value. A dry run writes its record too, in the
// transaction it rolls back, so that it fails when the real forget would. [DDL] creates the default table, [AuditDDL] one of another
// name.
func WithAudit(table string) Option { return func(st *Store) { st.auditTable = table } }

// AuditDDL returns the statements that create an audit table for d (nil
// for an unknown dialect).
func AuditDDL(d Dialect, table string) []string {
	e := d.engine()
	if e == nil {
		return nil // as DDL
	}
	q := d.quote
	// Only indexed and short columns take the engine's indexable type;
	// the rest are TEXT so that no receipt is too long for its record.
	id, indexed, text, list := e.ddl.autoID, e.ddl.indexed, e.ddl.indexed, "TEXT NOT NULL"
	tail := e.ddl.tail
	cols := []string{q("audit_id") + " " + id}
	for _, c := range auditColumns {
		typ := list
		switch c {
		case "event_id": // NULL in a refusal's record: no event exists
			typ = strings.TrimSuffix(indexed, " NOT NULL")
		case "customer_id", "at":
			typ = indexed
		case "principal", "request_id", "held": // held: the refusing hold, '' for an erasure
			typ = text
		case "published_at": // NULL until a relay has published the event
			typ = strings.TrimSuffix(indexed, " NOT NULL")
		case "certificate": // NULL without one
			typ = strings.TrimSuffix(list, " NOT NULL")
		}
		cols = append(cols, q(c)+" "+typ)
	}
	bare := table[strings.LastIndexByte(table, '.')+1:]
	if e.ddl.inlineIndexes {
		// No partial indexes either: the unpublished index covers every
		// record.
		cols = append(cols,
			fmt.Sprintf("UNIQUE INDEX %s (%s)", q(bare+"_event_id"), q("event_id")),
			fmt.Sprintf("INDEX %s (%s)", q(bare+"_customer_id"), q("customer_id")),
			fmt.Sprintf("INDEX %s (%s)", q(bare+"_at"), q("at")),
			fmt.Sprintf("INDEX %s (%s, %s)", q(bare+"_unpublished"), q("published_at"), q("audit_id")))
		return []string{fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s (\n  %s\n)%s", q(table), strings.Join(cols, ",\n  "), tail)}
	}
	out := []string{fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s (\n  %s\n)%s", q(table), strings.Join(cols, ",\n  "), tail)}
	// The unique index on event_id, where the engine keeps one (see
	// engine_sqlite.go for why SQLite does not; on MariaDB,
	// TestOutboxRelaysShareWork's marks waited out InnoDB's lock timeout
	// without it; the cause is not understood yet).
	if e.ddl.eventIndex {
		out = append(out, fmt.Sprintf("CREATE UNIQUE INDEX IF NOT EXISTS %s ON %s (%s)", q(bare+"_event_id"), q(table), q("event_id")))
	}
	return append(out,
		fmt.Sprintf("CREATE INDEX IF NOT EXISTS %s ON %s (%s)", q(bare+"_customer_id"), q(table), q("customer_id")),
		fmt.Sprintf("CREATE INDEX IF NOT EXISTS %s ON %s (%s)", q(bare+"_at"), q(table), q("at")),
		// Relays find unpublished events with it, however long the trail
		// and however many refusals (never published) it holds.
		fmt.Sprintf("CREATE INDEX IF NOT EXISTS %s ON %s (%s) WHERE %s IS NULL AND %s = ''", q(bare+"_unpublished"), q(table), q("audit_id"), q("published_at"), q("held")),
	)
}

// refusal turns a forget's receipt into the record of its refusal by a
// hold: nothing was erased, and no event exists, so it has no event id.
func refusal(rc forget.Receipt, hold string) forget.Receipt {
	rc.Held = hold
	rc.EventID = ""
	rc.FieldsErased = []forget.Field{}
	rc.RowsDeleted, rc.RowsScrubbed, rc.RowsUpdated = map[forget.Table]int64{}, nil, nil
	rc.Certificate = nil // a certificate is of an erasure
	return rc
}

// auditColumnLen is the longest value the store writes to an audit
// column: principals and request ids are bounded by the Forgetter, times
// are fixed-width, customer keys by maxTextKey; lists and row counts grow
// with the catalogue, and 4096 characters hold far more than Offerit's
// (a TEXT column, as AuditDDL makes).
func auditColumnLen(name string) int {
	switch name {
	case "principal", "request_id":
		return forget.MaxLabelLen
	case "at", "published_at":
		return len(auditTimeFormat)
	case "event_id":
		return forget.EventIDLen
	case "held":
		return 64
	case "customer_id":
		return 255
	case "certificate": // the catalogue's names twice, the fixed statements, the signature
		return 16384
	}
	return 4096
}

// buildAudit renders the audit INSERT once.
func (s *Store) buildAudit() error {
	if s.auditTable == "" {
		return nil
	}
	if !validIdent(s.auditTable) {
		return fmt.Errorf("sqlstore: audit table %q is not a plain identifier", s.auditTable)
	}
	cols := make([]string, len(auditColumns))
	vals := make([]any, len(auditColumns))
	for i, c := range auditColumns {
		cols[i] = s.dialect.quote(c)
		vals[i] = ""
	}
	query, _, err := s.sb.Insert(s.dialect.quote(s.auditTable)).Columns(cols...).Values(vals...).ToSql()
	if err != nil {
		return fmt.Errorf("sqlstore: build audit insert: %w", err)
	}
	s.auditInsert = query
	return nil
}

// audit writes rc in tx; planEventID is the id of the plan, which a
// refusal's record uses on a table that requires one (see refusalIDs).
// A quiet record is born published (see quietRepeat).
func (s *Store) audit(ctx context.Context, tx *txn, rc forget.Receipt, planEventID string, quiet bool) error {
	vals, err := s.auditRow(rc, planEventID, quiet)
	if err != nil {
		return err
	}
	if _, err = tx.exec(ctx, s.auditInsert, vals...); err != nil {
		return fmt.Errorf("sqlstore: audit: %w", s.scrubbedError(err, vals...))
	}
	return nil
}

// audit records every forget and refusal of the group, in request order,
// with one multi-row INSERT, and sets the outcomes.
func (b *bulkRun) audit(ctx context.Context) error {
	s := b.s
	var records []forget.Receipt
	var planIDs []string // each record's plan's event id, for a refusal's placeholder
	var quiet []bool
	for j := range b.group {
		if b.ids[j] == nil {
			continue
		}
		p := b.plan(j)
		if b.held[j] != "" {
			b.results[j] = forget.BatchResult{
				Result: forget.Result{CustomerID: b.texts[j], Rows: make(map[forget.Table]int64, len(p.Tables))},
				Err:    &forget.HeldError{Hold: b.held[j]},
			}
			if s.auditTable != "" && !p.DryRun {
				records = append(records, refusal(p.Receipt(forget.Result{CustomerID: b.texts[j]}), b.held[j]))
				planIDs = append(planIDs, p.Record.EventID)
				quiet = append(quiet, false)
			}
			continue
		}
		res := forget.Result{CustomerID: b.texts[j], Rows: b.rows[j], Updated: b.updated[j], Unwritten: b.unwritten[j]}
		res.Repeat = b.repeat[j] && s.wroteNothing(res)
		b.results[j] = forget.BatchResult{Result: res}
		if s.auditTable != "" {
			records = append(records, p.Receipt(res))
			planIDs = append(planIDs, p.Record.EventID)
			quiet = append(quiet, quietRepeat(res, p))
		}
	}
	per := max(1, s.dialect.maxParams()/len(auditColumns))
	if r := s.dialect.engine().statementRows; r > 0 {
		per = r
	}
	width := len(auditColumns)
	var vals, args []any
	fixed := make([]bool, width)
	for start := 0; start < len(records); start += per {
		part := records[start:min(start+per, len(records))]
		vals = vals[:0]
		for r, rc := range part {
			v, err := s.auditRow(rc, planIDs[start+r], quiet[start+r])
			if err != nil {
				return err
			}
			vals = append(vals, v...)
		}
		// Where the engine's insert can (insertFixedOnce), as for the
		// field updates, a column the same in every record (the
		// principal, the lists of a plan shape) is bound once.
		for c := range fixed {
			fixed[c] = s.dialect.engine().insertFixedOnce
			for r := 1; fixed[c] && r < len(part); r++ {
				fixed[c] = vals[r*width+c] == vals[c]
			}
		}
		args = args[:0]
		for r := range part {
			for c := range width {
				if !fixed[c] {
					args = append(args, vals[r*width+c])
				}
			}
		}
		for c := range width {
			if fixed[c] {
				args = append(args, vals[c])
			}
		}
		if err := b.exec(ctx, s.auditSQL(len(part), fixed), args); err != nil {
			return fmt.Errorf("sqlstore: audit: %w", ctxCause(ctx, s.scrubbedError(err, args...)))
		}
	}
	return nil
}

// auditRow is rc's values for the audit INSERT, in auditColumns order:
// one forget's (Store.audit) or one row of a batch's multi-row INSERT.
func (s *Store) auditRow(rc forget.Receipt, planEventID string, quiet bool) ([]any, error) {
	deleted, err := countsJSON(rc.RowsDeleted)
	if err != nil {
		return nil, err
	}
	scrubbed, err := countsJSON(rc.RowsScrubbed)
	if err != nil {
		return nil, err
	}
	at := rc.At.UTC().Format(auditTimeFormat)
	var eventID, published any = rc.EventID, nil // published NULL: the relay's to publish
	if quiet {
		// A repeat: nothing changed, nothing to send. published_at = at
		// tells its record from a relayed one (a relay's mark is later).
		published = at
	}
	if rc.Held != "" {
		eventID = nil // a refusal is no event
		if s.refusalIDs.Load() {
			// The table requires an id: a unique one, and marked
			// published so that no relay takes the refusal for an event.
			eventID, published = planEventID, at
		}
	}
	var cert any // NULL: none
	if len(rc.Certificate) > 0 {
		if !json.Valid(rc.Certificate) {
			return nil, errors.New("sqlstore: audit: the receipt's certificate is not JSON")
		}
		cert = string(rc.Certificate)
	}
	return []any{eventID, rc.CustomerID, at, rc.Principal, rc.RequestID,
		joinNames(rc.FieldsErased), joinNames(rc.FieldsKept), joinNames(rc.TablesKept),
		deleted, scrubbed, joinNames(rc.HoldsIgnored), rc.Held, published, cert}, nil
}

// scanCertificate sets rc's certificate to a certificate column's JSON,
// byte for byte (NULL: none).
func scanCertificate(col sql.NullString, rc *forget.Receipt) error {
	if !col.Valid || col.String == "" {
		return nil
	}
	if !json.Valid([]byte(col.String)) {
		return errors.New("not JSON")
	}
	rc.Certificate = json.RawMessage(col.String)
	return nil
}

// countsJSON is json.Marshal(m) for auditRow, written directly when no
// table name needs escaping, as catalogue names do not: it runs for every
// record.
func countsJSON(m map[forget.Table]int64) (string, error) {
	if m == nil {
		return "null", nil
	}
	names := make([]string, 0, len(m))
	for t := range m {
		if !plainJSON(string(t)) {
			b, err := json.Marshal(m)
			return string(b), err
		}
		names = append(names, string(t))
	}
	slices.Sort(names) // as json.Marshal orders a map's keys
	b := make([]byte, 0, 64)
	b = append(b, '{')
	for i, n := range names {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '"')
		b = append(b, n...)
		b = append(b, '"', ':')
		b = strconv.AppendInt(b, m[forget.Table(n)], 10)
	}
	return string(append(b, '}')), nil
}

// plainJSON reports whether s is written in JSON as it is: ASCII letters,
// digits, '_', '.' and '-' (encoding/json escapes <, > and &, quotes,
// control and non-ASCII characters of some kinds).
func plainJSON(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

func joinNames[N ~string](names []N) string {
	var b strings.Builder
	for i, n := range names {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(string(n))
	}
	return b.String()
}

func splitNames[N ~string](s string) []N {
	out := []N{}
	if s == "" {
		return out
	}
	for _, n := range strings.Split(s, ",") {
		out = append(out, N(n))
	}
	return out
}

// AuditTrail returns the audit records written at or after since, oldest
// first, as receipts. After a backup is restored, these receipts (exported
// from the live database before the restore, or kept elsewhere) are what
// [forget.Forgetter.Replay] re-applies.
func (s *Store) AuditTrail(ctx context.Context, since time.Time) ([]forget.Receipt, error) {
	if s.auditTable == "" {
		return nil, fmt.Errorf("sqlstore: the store keeps no audit trail (see WithAudit)")
	}
	cols := make([]string, len(auditColumns))
	for i, c := range auditColumns {
		cols[i] = s.dialect.quote(c)
	}
	query, args, err := s.sb.Select(cols...).From(s.dialect.quote(s.auditTable)).
		Where(sq.GtOrEq{s.dialect.quote("at"): since.UTC().Format(auditTimeFormat)}).
		OrderBy(s.dialect.quote("audit_id")).ToSql()
	if err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: read audit trail: %w", s.scrubbedError(err, args...))
	}
	defer rows.Close()
	var out []forget.Receipt
	for rows.Next() {
		var rc forget.Receipt
		var at, erased, kept, tablesKept, deleted, scrubbed, ignored string
		var eventID, published, cert sql.NullString
		if err := rows.Scan(&eventID, &rc.CustomerID, &at, &rc.Principal, &rc.RequestID, &erased, &kept, &tablesKept, &deleted, &scrubbed, &ignored, &rc.Held, &published, &cert); err != nil {
			return nil, fmt.Errorf("sqlstore: read audit trail: %w", err)
		}
		if rc.Held == "" {
			rc.EventID = eventID.String // a refusal's placeholder is no event id
		}
		if rc.At, err = time.Parse(auditTimeFormat, at); err != nil {
			return nil, fmt.Errorf("sqlstore: audit record of customer %s: bad time: %w", rc.CustomerID, err)
		}
		rc.FieldsErased, rc.FieldsKept, rc.TablesKept = splitNames[forget.Field](erased), splitNames[forget.Field](kept), splitNames[forget.Table](tablesKept)
		if ignored != "" {
			rc.HoldsIgnored = splitNames[string](ignored)
		}
		if err := json.Unmarshal([]byte(deleted), &rc.RowsDeleted); err != nil {
			return nil, fmt.Errorf("sqlstore: audit record of customer %s: %w", rc.CustomerID, err)
		}
		if err := json.Unmarshal([]byte(scrubbed), &rc.RowsScrubbed); err != nil {
			return nil, fmt.Errorf("sqlstore: audit record of customer %s: %w", rc.CustomerID, err)
		}
		if err := scanCertificate(cert, &rc); err != nil {
			return nil, fmt.Errorf("sqlstore: audit record of customer %s: bad certificate: %w", rc.CustomerID, err)
		}
		out = append(out, rc)
	}
	return out, rows.Err()
}
