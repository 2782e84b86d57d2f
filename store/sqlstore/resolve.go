package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"unicode/utf8"

	sq "github.com/Masterminds/squirrel"

	"github.com/forgetkit/forget"
)

// Resolving a request's lookup keys to the customer key, locking the
// customer: one customer (Store.resolve) and a batch group at once
// (bulkRun.resolve).

// lookupSQL resolves one kind of lookup key to a customer key.
type lookupSQL struct {
	keyType KeyType // as the mapping declares it; see Store.keyType
	// query selects the customer key of at most two rows matching the
	// lookup key (locking the row, in the customers table): a second row
	// that names another customer makes the key ambiguous.
	query string
	// unique is set for the customers table, whose key must name one
	// row: two rows would both be erased.
	unique bool
}

// lookupKey is one checked lookup key.
type lookupKey struct {
	name  string
	value any // int64 or string, bound as a parameter
	sql   lookupSQL
}

// keyRange is the range of integers a key column accepts; a value outside
// it cannot name anybody (and PostgreSQL refuses to bind it).
type keyRange struct{ min, max int64 }

// buildLookups renders the lookup statements once: they depend only on
// the schema.
func (s *Store) buildLookups() error {
	s.lookups = make(map[string]lookupSQL, 3)
	c := s.schema.Customers
	tables := map[string]*LookupTable{
		forget.KeyCustomerID:     {Table: c.Table, Key: c.Key, KeyType: c.KeyType, CustomerKey: c.Key},
		forget.KeySubscriptionID: s.schema.Subscriptions,
		forget.KeyOrderID:        s.schema.Orders,
	}
	for name, lt := range tables {
		if lt == nil {
			continue
		}
		q := s.dialect.quote
		b := s.sb.Select(q(lt.CustomerKey)).From(q(lt.Table)).Where(sq.Eq{q(lt.Key): keyPlaceholder{}})
		if name != forget.KeyCustomerID {
			// A row that names nobody names no customer.
			b = b.Where(sq.NotEq{q(lt.CustomerKey): nil})
		}
		b = b.Limit(2)
		query, _, err := b.ToSql()
		if err != nil {
			return fmt.Errorf("sqlstore: build lookup: %w", err)
		}
		if suffix := s.dialect.lockSuffix(); suffix != "" && name == forget.KeyCustomerID {
			query += " " + suffix
		}
		s.lookups[name] = lookupSQL{keyType: lt.KeyType, query: query, unique: name == forget.KeyCustomerID}
	}
	return nil
}

func (s *Store) lookupKeys(l forget.Lookup) ([]lookupKey, error) {
	var keys []lookupKey
	ranges := s.ranges.Load()
	err := l.Keys(func(name, v string) error {
		ls, ok := s.lookups[name]
		if !ok {
			return &forget.KeyError{Key: name, Reason: "lookups are not supported by this database"}
		}
		val, err := parseKey(name, v, s.keyType(name))
		if err != nil {
			return err
		}
		if n, isInt := val.(int64); isInt && ranges != nil {
			if r, ok := (*ranges)[name]; ok && (n < r.min || n > r.max) {
				return &forget.KeyError{Key: name, Reason: "is out of range"}
			}
		}
		keys = append(keys, lookupKey{name: name, value: val, sql: ls})
		return nil
	})
	return keys, err
}

// learnedKeys is what Verify read of the key columns.
type learnedKeys struct {
	types map[string]KeyType // by lookup key name
	// textUUID is set when the customers key is KeyUUID in a text column
	// (CHAR(36)), which PostgreSQL compares only with text.
	textUUID bool
}

// keyType returns the type of the named lookup key's column: as the last
// Verify read it, else as the mapping declares it, else KeyInt.
func (s *Store) keyType(name string) KeyType {
	if k := s.keys.Load(); k != nil {
		if t, ok := k.types[name]; ok {
			return t
		}
	}
	if ls, ok := s.lookups[name]; ok && ls.keyType != "" {
		return ls.keyType
	}
	return KeyInt
}

// uuidColumn reports whether the customers key is a uuid type column
// (assumed for a KeyUUID key until Verify has read it).
func (s *Store) uuidColumn() bool {
	if s.keyType(forget.KeyCustomerID) != KeyUUID {
		return false
	}
	k := s.keys.Load()
	return k == nil || !k.textUUID
}

// maxTextKey bounds a text key: no key column holds more, and the value is
// bound to every statement of the forget.
const maxTextKey = 255

func parseKey(name, v string, t KeyType) (any, error) {
	switch t {
	case KeyText:
	case KeyUUID:
		if !validUUID(v) {
			return nil, &forget.KeyError{Key: name, Reason: "must be a UUID (8-4-4-4-12 hexadecimal digits)"}
		}
		return v, nil
	default:
		return forget.ParseIntKey(name, v)
	}
	if len(v) > maxTextKey {
		return nil, &forget.KeyError{Key: name, Reason: fmt.Sprintf("is longer than %d bytes", maxTextKey)}
	}
	// PostgreSQL refuses NUL and invalid UTF-8 in text parameters with an
	// error; no key can hold them, so they are invalid input everywhere.
	if !utf8.ValidString(v) {
		return nil, &forget.KeyError{Key: name, Reason: "must be valid UTF-8"}
	}
	for _, r := range v {
		if r < 0x20 || r == 0x7f {
			return nil, &forget.KeyError{Key: name, Reason: "must not hold control characters"}
		}
	}
	return v, nil
}

// resolve finds the one customer every key names, and locks its row. It
// returns the key as bound to later statements and as text.
func (s *Store) resolve(ctx context.Context, tx *txn, keys []lookupKey) (any, string, error) {
	var id any
	var idText string
	locked := false
	for _, k := range keys {
		got, err := queryKey(ctx, tx, k.sql, k.value)
		if err != nil {
			return nil, "", fmt.Errorf("sqlstore: resolve %s: %w", k.name, err)
		}
		if id != nil && got != idText {
			return nil, "", fmt.Errorf("sqlstore: %s: %w", k.name, forget.ErrConflict)
		}
		isCustomer := k.name == forget.KeyCustomerID
		locked = locked || isCustomer
		idText = got
		if id == nil {
			if isCustomer {
				id = k.value
			} else if id, err = parseKey(forget.KeyCustomerID, idText, s.keyType(forget.KeyCustomerID)); err != nil {
				return nil, "", fmt.Errorf("sqlstore: %s names a malformed customer key", k.name)
			}
		}
	}
	if !locked {
		// The lookup tables named the customer; lock its row, which also
		// proves it exists.
		if _, err := queryKey(ctx, tx, s.lookups[forget.KeyCustomerID], id); err != nil {
			if errors.Is(err, forget.ErrNotFound) {
				return nil, "", fmt.Errorf("sqlstore: customer of %s: %w", keys[0].name, forget.ErrNotFound)
			}
			return nil, "", fmt.Errorf("sqlstore: lock customer: %w", err)
		}
	}
	return id, idText, nil
}

// errAmbiguous is a lookup key that names more than one customer: nothing
// may be erased, since the caller cannot have meant both.
var errAmbiguous = fmt.Errorf("the key names more than one customer: %w", forget.ErrConflict)

// queryKey runs a lookup and returns the one customer key it selects: an
// error wrapping ErrNotFound when none, errAmbiguous when two customers
// (or, in the customers table, two rows) match.
func queryKey(ctx context.Context, tx *txn, ls lookupSQL, value any) (string, error) {
	rows, err := tx.query(ctx, ls.query, value)
	if err != nil {
		return "", safeError(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return "", safeError(err)
		}
		got = append(got, v)
	}
	if err := rows.Err(); err != nil {
		return "", safeError(err)
	}
	switch {
	case len(got) == 0:
		return "", forget.ErrNotFound
	case len(got) > 1 && (ls.unique || got[0] != got[1]):
		return "", errAmbiguous
	}
	return got[0], nil
}

// resolve resolves and locks every customer: those named by customer_id
// alone with one statement, the others (and any the set does not settle
// exactly) one by one, as a single forget does. A request whose
// customer is already in the group waits for the next round.
func (b *bulkRun) resolve(ctx context.Context) error {
	s := b.s
	var byID []int
	for j, it := range b.group {
		if len(it.keys) == 1 && it.keys[0].name == forget.KeyCustomerID {
			byID = append(byID, j)
		}
	}
	settled := make([]bool, len(b.group))
	per := s.dialect.maxParams()
	for start := 0; start < len(byID); start += per {
		part := byID[start:min(start+per, len(byID))]
		args := make([]any, len(part))
		want := make(map[string][]int, len(part))
		for i, j := range part {
			v := b.group[j].keys[0].value
			args[i] = v
			text := fmt.Sprint(v)
			want[text] = append(want[text], j)
		}
		rows, err := b.tx.query(ctx, s.lockSQL(len(part)), args...)
		if err != nil {
			return fmt.Errorf("sqlstore: resolve customers: %w", s.scrubbedError(err, args...))
		}
		found := make(map[string]int, len(part))
		for rows.Next() {
			var got string
			if err := rows.Scan(&got); err != nil {
				rows.Close()
				return fmt.Errorf("sqlstore: resolve customers: %w", s.scrubbedError(err, args...))
			}
			found[got]++
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("sqlstore: resolve customers: %w", ctxCause(ctx, s.scrubbedError(err, args...)))
		}
		// A key found exactly once, under exactly its own spelling, is
		// settled; anything else (not found, two rows, a collation that
		// matched another spelling) is resolved on its own below.
		for text, js := range want {
			if found[text] != 1 {
				continue
			}
			for _, j := range js {
				b.ids[j], b.texts[j], settled[j] = b.group[j].keys[0].value, text, true
			}
		}
	}
	for j, it := range b.group {
		if settled[j] {
			continue
		}
		id, text, err := s.resolve(ctx, b.tx, it.keys)
		if err != nil {
			if forget.Refused(err) && ctx.Err() == nil {
				b.results[j].Err = err
				continue
			}
			return err
		}
		b.ids[j], b.texts[j] = id, text
	}
	seen := make(map[string]bool, len(b.group))
	for j := range b.group {
		if b.ids[j] == nil {
			continue
		}
		if seen[b.texts[j]] && b.plan(j).DryRun {
			// A dry run's second forget of a customer must see the
			// first's changes, in the one transaction it rolls back.
			return errNoBulk
		}
		if seen[b.texts[j]] {
			b.later = append(b.later, j)
			b.ids[j] = nil
			continue
		}
		seen[b.texts[j]] = true
	}
	return nil
}

// validUUID reports whether v is a UUID in its canonical text form,
// 8-4-4-4-12 hexadecimal digits, in either case: what PostgreSQL and
// MariaDB print, and what a CHAR(36) column holds.
func validUUID(v string) bool {
	if len(v) != 36 {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
				return false
			}
		}
	}
	return true
}
