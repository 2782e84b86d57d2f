package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	sq "github.com/Masterminds/squirrel"

	"github.com/forgetkit/forget"
	"github.com/forgetkit/forget/internal/ago"
)

// Holds as a mapping declares them, and their check: for one customer
// (Store.held) and for a batch group at once (bulkRun.holds).

// Hold refuses to forget a customer while any of their rows in Table
// matches every condition of Where: an open chargeback, a dispute, a
// transaction inside the tax-retention window. The store checks holds
// inside the forget's transaction, after the customer is locked, so that
// a hold placed at the same moment is seen or waits. Conditions are data
// that the store renders with placeholders, never SQL text.
//
//	{"name": "open_chargeback", "table": "transactions", "customer_key": "customer_id",
//	 "where": [{"column": "status", "op": "=", "value": "chargeback"}]}
//	{"name": "tax_retention", "table": "transactions", "customer_key": "customer_id",
//	 "where": [{"column": "created_at", "op": "newer_than", "value": "10y"}]}
type Hold struct {
	// Name is what a refused caller and the audit trail are told.
	Name        string      `json:"name"`
	Table       string      `json:"table"`
	CustomerKey string      `json:"customer_key"`
	Where       []Condition `json:"where,omitempty"`
}

// Condition compares one column with a value. Op is one of =, !=, <, <=,
// >, >=, in (Value a JSON array), is_null, not_null, newer_than and
// older_than (Value a duration such as "90d", "3y", "36h": the column, a
// time, is later or earlier than now minus it).
type Condition struct {
	Column string `json:"column"`
	Op     string `json:"op"`
	Value  any    `json:"value,omitempty"`
}

// HoldFunc decides in Go whether a hold protects a customer. It runs in
// the forget's transaction, after the customer row is locked; q reads in
// that transaction. customerKey is the customer's key as bound to the
// store's statements (an int64 or a string). It must not write, nor
// call the store: on SQLite the store's next transaction waits for this
// one to end.
type HoldFunc func(ctx context.Context, q Querier, customerKey any) (bool, error)

// Querier is the read side of the forget's transaction.
type Querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// WithHold declares a hold decided by fn, checked after the mapping's own
// holds, in the order declared.
func WithHold(name string, fn HoldFunc) Option {
	return func(st *Store) { st.goHolds = append(st.goHolds, goHold{name: name, fn: fn}) }
}

type goHold struct {
	name string
	fn   HoldFunc
}

// holdSQL is one mapped hold, rendered once.
type holdSQL struct {
	name  string
	query string
	args  []any // values; timeAgo for relative times; keyPlaceholder for the customer
}

// timeAgo is bound as now less the span when the hold is checked.
type timeAgo ago.Span

var holdOps = map[string]bool{"=": true, "!=": true, "<": true, "<=": true, ">": true, ">=": true, "in": true, "is_null": true, "not_null": true, "newer_than": true, "older_than": true}

// parseAgo reads a hold's relative time, "36h", "90d", "2w", "18mo" or
// "3y" (calendar months and years), or a Go duration.
func parseAgo(v any) (ago.Span, error) {
	s, ok := v.(string)
	if !ok {
		return ago.Span{}, errors.New("needs a duration such as \"90d\" or \"3y\"")
	}
	return ago.Parse(s)
}

// scalar checks a condition value: a string, a number or a bool.
func scalar(v any) bool {
	switch v.(type) {
	case string, float64, int, int64, bool:
		return true
	}
	return false
}

// validateHolds reports every malformed hold.
func (s Schema) validateHolds() []error {
	var errs []error
	seen := map[string]bool{}
	for i, h := range s.Holds {
		what := fmt.Sprintf("hold %d (%q)", i+1, h.Name)
		if !holdName(h.Name) {
			errs = append(errs, fmt.Errorf("%s: the name must match [a-z][a-z0-9_]* (at most 64 characters)", what))
		} else if seen[h.Name] {
			errs = append(errs, fmt.Errorf("%s: two holds are named %s", what, h.Name))
		}
		seen[h.Name] = true
		if !validIdent(h.Table) {
			errs = append(errs, fmt.Errorf("%s: table %q is not a plain identifier", what, h.Table))
		}
		if !validIdent(h.CustomerKey) || strings.Contains(h.CustomerKey, ".") {
			errs = append(errs, fmt.Errorf("%s: customer_key %q is not a plain identifier", what, h.CustomerKey))
		}
		for j, c := range h.Where {
			cw := fmt.Sprintf("%s condition %d", what, j+1)
			if !validIdent(c.Column) || strings.Contains(c.Column, ".") {
				errs = append(errs, fmt.Errorf("%s: column %q is not a plain identifier", cw, c.Column))
			}
			switch {
			case !holdOps[c.Op]:
				errs = append(errs, fmt.Errorf("%s: op %q is not one of =, !=, <, <=, >, >=, in, is_null, not_null, newer_than, older_than", cw, c.Op))
			case c.Op == "is_null" || c.Op == "not_null":
				if c.Value != nil {
					errs = append(errs, fmt.Errorf("%s: %s takes no value", cw, c.Op))
				}
			case c.Op == "newer_than" || c.Op == "older_than":
				if _, err := parseAgo(c.Value); err != nil {
					errs = append(errs, fmt.Errorf("%s: %s %v", cw, c.Op, err))
				}
			case c.Op == "in":
				list, ok := c.Value.([]any)
				if !ok || len(list) == 0 {
					errs = append(errs, fmt.Errorf("%s: in needs a non-empty array of values", cw))
				}
				for _, v := range list {
					if !scalar(v) {
						errs = append(errs, fmt.Errorf("%s: in holds a value that is not a string, number or bool", cw))
						break
					}
				}
			default:
				if !scalar(c.Value) {
					errs = append(errs, fmt.Errorf("%s: %s needs a string, number or bool", cw, c.Op))
				}
			}
		}
	}
	return errs
}

func holdName(s string) bool {
	if s == "" || len(s) > 64 || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// buildHolds renders each mapped hold's query once and checks the Go
// holds' names.
func (s *Store) buildHolds() error {
	seen := map[string]bool{}
	for _, h := range s.schema.Holds {
		seen[h.Name] = true
		q := s.dialect.holdQuote
		// The customer key first, so the index on it serves the query.
		conds := append(sq.And{sq.Eq{q(h.CustomerKey): keyPlaceholder{}}}, holdWhere(s.dialect, h, func(span ago.Span) any { return timeAgo(span) })...)
		query, args, err := s.sb.Select("1").From(q(h.Table)).Where(conds).Limit(1).ToSql()
		if err != nil {
			return fmt.Errorf("sqlstore: build hold %s: %w", h.Name, err)
		}
		s.holds = append(s.holds, holdSQL{name: h.Name, query: query, args: args})
	}
	for _, g := range s.goHolds {
		switch {
		case !holdName(g.name):
			return fmt.Errorf("sqlstore: hold %q: the name must match [a-z][a-z0-9_]*", g.name)
		case g.fn == nil:
			return fmt.Errorf("sqlstore: hold %s has no function", g.name)
		case seen[g.name]:
			return fmt.Errorf("sqlstore: two holds are named %s", g.name)
		}
		seen[g.name] = true
	}
	return nil
}

// holdWhere renders a mapped hold's conditions with placeholders; a
// relative time ("newer_than 10y") is bound as ten calendar years before now, which the
// single-customer statement, rendered once, binds when checked, and the
// set-based one as of now.
func holdWhere(d Dialect, h Hold, bind func(ago.Span) any) sq.And {
	conds := sq.And{}
	for _, c := range h.Where {
		col := d.holdQuote(c.Column)
		var cond sq.Sqlizer
		switch c.Op {
		case "=", "!=", "<", "<=", ">", ">=": // holdOps: no other text reaches the SQL
			cond = sq.Expr(col+" "+c.Op+" ?", c.Value)
		case "in":
			cond = sq.Eq{col: c.Value.([]any)}
		case "is_null":
			cond = sq.Eq{col: nil}
		case "not_null":
			cond = sq.NotEq{col: nil}
		case "newer_than", "older_than":
			span, _ := parseAgo(c.Value)
			op := map[string]string{"newer_than": " > ?", "older_than": " < ?"}[c.Op]
			cond = sq.Expr(col+op, bind(span))
		}
		conds = append(conds, cond)
	}
	return conds
}

// holdQuote quotes a hold's identifiers. SQLite reads a double-quoted
// name that is no column as a string literal, so a misspelt column would
// compare a constant and the hold never match; a backquoted name is
// always an identifier there (no such column is an error). Verify
// refuses such a hold first; this keeps an unverified store from
// skipping it silently.
func (d Dialect) holdQuote(ident string) string {
	if d != SQLite {
		return d.quote(ident)
	}
	parts := strings.Split(ident, ".")
	for i, p := range parts {
		parts[i] = "`" + p + "`"
	}
	return strings.Join(parts, ".")
}

// checkIgnored refuses a hold to ignore that the store does not declare.
func (s *Store) checkIgnored(names []string) error {
	for _, n := range names {
		known := false
		for _, h := range s.holds {
			known = known || h.name == n
		}
		for _, g := range s.goHolds {
			known = known || g.name == n
		}
		if !known {
			return &forget.UnknownHoldError{Hold: n}
		}
	}
	return nil
}

// held returns the name of the first hold that protects the customer, or
// "" when none does (or every one that does is ignored).
func (s *Store) held(ctx context.Context, tx *txn, id any, ignore []string) (string, error) {
	now := time.Now()
	for _, h := range s.holds {
		if contains(ignore, h.name) {
			continue
		}
		args := make([]any, len(h.args))
		for i, a := range h.args {
			switch v := a.(type) {
			case keyPlaceholder:
				args[i] = id
			case timeAgo:
				args[i] = s.dialect.timeArg(ago.Span(v).Before(now))
			default:
				args[i] = a
			}
		}
		var one int
		switch err := tx.queryRow(ctx, h.query, args...).Scan(&one); {
		case err == nil:
			return h.name, nil
		case !errors.Is(err, sql.ErrNoRows):
			return "", fmt.Errorf("sqlstore: hold %s: %w", h.name, s.scrubbedError(err, args...))
		}
	}
	for _, g := range s.goHolds {
		if contains(ignore, g.name) {
			continue
		}
		on, err := g.fn(ctx, tx.q, id)
		if err != nil {
			return "", fmt.Errorf("sqlstore: hold %s: %w", g.name, s.scrubbedError(err, id))
		}
		if on {
			return g.name, nil
		}
	}
	return "", nil
}

// holds finds, for every resolved customer, the first hold that protects
// it, in the order a single forget checks them: the mapping's holds, one
// statement each for the whole group, then the Go holds.
func (b *bulkRun) holds(ctx context.Context) error {
	s := b.s
	if len(s.holds) == 0 && len(s.goHolds) == 0 {
		return nil
	}
	now := time.Now()
	for hi, h := range s.schema.Holds {
		var cand []int
		for j := range b.group {
			if b.ids[j] != nil && b.held[j] == "" && !contains(b.plan(j).IgnoreHolds, h.Name) {
				cand = append(cand, j)
			}
		}
		per := s.dialect.maxParams() - 64
		for start := 0; start < len(cand); start += per {
			part := cand[start:min(start+per, len(cand))]
			keys := make([]any, len(part))
			byText := make(map[string]int, len(part))
			for i, j := range part {
				keys[i] = b.ids[j]
				byText[b.texts[j]] = j
			}
			query, args, err := s.sb.Select("DISTINCT " + s.dialect.holdQuote(h.CustomerKey)).From(s.dialect.holdQuote(h.Table)).
				Where(sq.And{sq.Eq{s.dialect.holdQuote(h.CustomerKey): keys}, holdWhere(s.dialect, h, func(span ago.Span) any { return s.dialect.timeArg(span.Before(now)) })}).ToSql()
			if err != nil {
				return fmt.Errorf("sqlstore: build hold %s: %w", h.Name, err)
			}
			rows, err := b.tx.query(ctx, query, args...)
			if err != nil {
				return fmt.Errorf("sqlstore: hold %s: %w", h.Name, s.scrubbedError(err, args...))
			}
			// A key under another spelling (a collation): the
			// per-customer path decides.
			if err := eachKey(rows, byText, func(j int) { b.held[j] = s.holds[hi].name }); err != nil {
				return fmt.Errorf("sqlstore: hold %s: %w", h.Name, ctxCause(ctx, err))
			}
		}
	}
	for _, g := range s.goHolds {
		for j := range b.group {
			if b.ids[j] == nil || b.held[j] != "" || contains(b.plan(j).IgnoreHolds, g.name) {
				continue
			}
			on, err := g.fn(ctx, b.tx.q, b.ids[j])
			if err != nil {
				return fmt.Errorf("sqlstore: hold %s: %w", g.name, s.scrubbedError(err, b.ids[j]))
			}
			if on {
				b.held[j] = g.name
			}
		}
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// timeArg is how a time is bound for comparison with a host's time
// column: SQLite keeps times as text, most often in its own datetime()
// form, which compares as text.
func (d Dialect) timeArg(t time.Time) any {
	if d == SQLite {
		return t.UTC().Format("2006-01-02 15:04:05")
	}
	return t.UTC()
}
