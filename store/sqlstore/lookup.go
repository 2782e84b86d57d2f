package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"unicode/utf8"

	sq "github.com/Masterminds/squirrel"

	"github.com/forgetkit/forget"
)

// lookupSQL resolves one kind of lookup key to a customer key.
type lookupSQL struct {
	keyType KeyType
	query   string // SELECT customer key ... WHERE key = ?
	locked  string // the same, locking the row (customer_id only)
}

// lookupKey is one checked lookup key.
type lookupKey struct {
	name  string
	value any // int64 or string, bound as a parameter
	sql   lookupSQL
}

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
		b := s.sb.Select(s.dialect.quote(lt.CustomerKey)).From(s.dialect.quote(lt.Table)).Where(sq.Eq{s.dialect.quote(lt.Key): keyPlaceholder{}})
		plain, _, err := b.ToSql()
		if err != nil {
			return fmt.Errorf("sqlstore: build lookup: %w", err)
		}
		ls := lookupSQL{keyType: lt.KeyType, query: plain, locked: plain}
		if suffix := s.dialect.lockSuffix(); suffix != "" {
			ls.locked = plain + " " + suffix
		}
		s.lookups[name] = ls
	}
	return nil
}

func (s *Store) lookupKeys(l forget.Lookup) ([]lookupKey, error) {
	var keys []lookupKey
	err := l.Keys(func(name, v string) error {
		ls, ok := s.lookups[name]
		if !ok {
			return &forget.KeyError{Key: name, Reason: "lookups are not supported by this database"}
		}
		val, err := parseKey(name, v, ls.keyType)
		if err != nil {
			return err
		}
		keys = append(keys, lookupKey{name: name, value: val, sql: ls})
		return nil
	})
	return keys, err
}

func parseKey(name, v string, t KeyType) (any, error) {
	if t != KeyText {
		return forget.ParseIntKey(name, v)
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
func (s *Store) resolve(ctx context.Context, tx *txn, keys []lookupKey, lock bool) (any, string, error) {
	var id any
	var idText string
	locked := false
	for _, k := range keys {
		isCustomer := k.name == forget.KeyCustomerID
		query := k.sql.query
		if lock && isCustomer {
			query = k.sql.locked
		}
		got, found, err := queryKey(ctx, tx, query, k.value)
		if err != nil {
			return nil, "", fmt.Errorf("sqlstore: resolve %s: %w", k.name, safeError(err))
		}
		if !found {
			return nil, "", fmt.Errorf("sqlstore: %s: %w", k.name, forget.ErrNotFound)
		}
		if id != nil && got != idText {
			return nil, "", fmt.Errorf("sqlstore: %s: %w", k.name, forget.ErrConflict)
		}
		locked = locked || isCustomer
		idText = got
		if id == nil {
			if isCustomer {
				id = k.value
			} else if id, err = parseKey(forget.KeyCustomerID, idText, s.schema.Customers.KeyType); err != nil {
				return nil, "", fmt.Errorf("sqlstore: %s names a malformed customer key", k.name)
			}
		}
	}
	if !locked {
		// The lookup tables named the customer; lock its row, which also
		// proves it exists.
		ls := s.lookups[forget.KeyCustomerID]
		query := ls.query
		if lock {
			query = ls.locked
		}
		_, found, err := queryKey(ctx, tx, query, id)
		if err != nil {
			return nil, "", fmt.Errorf("sqlstore: lock customer: %w", safeError(err))
		}
		if !found {
			return nil, "", fmt.Errorf("sqlstore: customer of %s: %w", keys[0].name, forget.ErrNotFound)
		}
	}
	return id, idText, nil
}

// queryKey runs a lookup and returns the customer key it selects.
func queryKey(ctx context.Context, tx *txn, query string, value any) (string, bool, error) {
	var got sql.NullString
	switch err := tx.queryRow(ctx, query, value).Scan(&got); {
	case errors.Is(err, sql.ErrNoRows):
		return "", false, nil
	case err != nil:
		return "", false, err
	}
	return got.String, got.Valid, nil
}
