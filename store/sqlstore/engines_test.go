package sqlstore_test

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	sq "github.com/Masterminds/squirrel"
	_ "github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite"

	"github.com/forgetkit/forget"
	"github.com/forgetkit/forget/internal/testdb"
	"github.com/forgetkit/forget/store/sqlstore"
	"github.com/forgetkit/forget/store/storetest"
)

// engine opens a fresh, empty database of its own for every call, so that
// tests and runs never collide.
type engine struct {
	name    string
	dialect sqlstore.Dialect
	// open returns a fresh database and the name that qualifies its
	// tables (main, a PostgreSQL schema, a MySQL database).
	open func(t testing.TB) (*sql.DB, string)
	// dsn returns the driver DSN that opens a database open returned,
	// named by its schema (SQLite: its file).
	dsn func(t testing.TB, db string) string
}

const (
	envPostgres = testdb.EnvPostgres
	envMySQL    = testdb.EnvMySQL
)

// engines returns SQLite always, and PostgreSQL and MariaDB/MySQL when
// their DSNs are set (see internal/testdb).
func engines(t testing.TB) []engine {
	var es []engine
	for _, e := range testdb.Engines(t) {
		es = append(es, engine{name: e.Name, dialect: e.Dialect, open: func(t testing.TB) (*sql.DB, string) {
			db := e.Open(t)
			return db.DB, db.Schema
		}, dsn: e.DSN})
	}
	return es
}

func randomName(prefix string) string { return testdb.Name(prefix) }

func openSQLite(t testing.TB) (*sql.DB, string) {
	db := testdb.Engines(t)[0].Open(t)
	return db.DB, db.Schema
}

// defaultBackend is a sqlstore.Store on the default schema, adapted to
// the conformance suite.
type defaultBackend struct {
	*sqlstore.Store
	db *sql.DB
	sb sq.StatementBuilderType
}

func newDefaultBackend(t testing.TB, e engine, opts ...sqlstore.Option) defaultBackend {
	db, _ := e.open(t)
	if err := sqlstore.CreateSchema(context.Background(), db, e.dialect); err != nil {
		t.Fatal(err)
	}
	s, err := sqlstore.New(db, e.dialect, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return defaultBackend{Store: s, db: db, sb: statementBuilder(e.dialect)}
}

func statementBuilder(d sqlstore.Dialect) sq.StatementBuilderType {
	if d == sqlstore.Postgres {
		return sq.StatementBuilder.PlaceholderFormat(sq.Dollar)
	}
	return sq.StatementBuilder.PlaceholderFormat(sq.Question)
}

func (b defaultBackend) Seed(ctx context.Context, cs []storetest.Customer) error {
	fields := forget.DefaultCatalogue().Fields
	for _, c := range cs {
		cols := []string{"customer_id"}
		vals := []any{c.ID}
		for _, f := range fields {
			cols = append(cols, string(f.Name))
			vals = append(vals, c.Fields[f.Name])
		}
		if _, err := b.sb.Insert("customers").Columns(cols...).Values(vals...).RunWith(b.db).ExecContext(ctx); err != nil {
			return err
		}
		for _, s := range c.Subscriptions {
			if _, err := b.sb.Insert("subscriptions").Columns("subscription_id", "customer_id", "status").Values(s, c.ID, "active").RunWith(b.db).ExecContext(ctx); err != nil {
				return err
			}
		}
		for _, o := range c.Orders {
			if _, err := b.sb.Insert("transactions").Columns("orderid", "customer_id", "amount_cents").Values(o, c.ID, 995).RunWith(b.db).ExecContext(ctx); err != nil {
				return err
			}
		}
		for i := range c.Rows[forget.MemberAuth] {
			if _, err := b.sb.Insert("member_auth").Columns("customer_id", "kind", "secret").Values(c.ID, "totp", fmt.Sprintf("secret-%s-%d", c.ID, i)).RunWith(b.db).ExecContext(ctx); err != nil {
				return err
			}
		}
		for i := range c.Rows[forget.MemberNote] {
			if _, err := b.sb.Insert("member_note").Columns("customer_id", "note").Values(c.ID, fmt.Sprintf("note %d of %s", i, c.ID)).RunWith(b.db).ExecContext(ctx); err != nil {
				return err
			}
		}
	}
	return nil
}

func (b defaultBackend) Snapshot(ctx context.Context) (storetest.Snapshot, error) {
	fields := forget.DefaultCatalogue().Fields
	cols := []string{"customer_id"}
	for _, f := range fields {
		cols = append(cols, string(f.Name))
	}
	rows, err := b.sb.Select(cols...).From("customers").RunWith(b.db).QueryContext(ctx)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	snap := make(storetest.Snapshot)
	for rows.Next() {
		var id string
		vals := make([]sql.NullString, len(fields))
		dest := []any{&id}
		for i := range vals {
			dest = append(dest, &vals[i])
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		st := storetest.State{Fields: map[forget.Field]forget.Value{}, Rows: map[forget.Table]int{}}
		for i, f := range fields {
			st.Fields[f.Name] = forget.Value{String: vals[i].String, Null: !vals[i].Valid}
		}
		snap[id] = st
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, table := range []forget.Table{forget.MemberAuth, forget.MemberNote} {
		rows, err := b.sb.Select("customer_id", "COUNT(*)").From(string(table)).GroupBy("customer_id").RunWith(b.db).QueryContext(ctx)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var id string
			var n int
			if err := rows.Scan(&id, &n); err != nil {
				rows.Close()
				return nil, err
			}
			if st, ok := snap[id]; ok {
				st.Rows[table] = n
			}
		}
		rows.Close()
	}
	return snap, nil
}

// conformanceBackend is the default schema with one change: the
// transactions table has no unique orderid, as some hosts' order tables
// have none, so that the suite can share an orderid between customers.
type conformanceBackend struct{ defaultBackend }

func newConformanceBackend(t testing.TB, e engine) conformanceBackend {
	schema := sqlstore.DefaultSchema()
	schema.Holds = []sqlstore.Hold{{Name: storetest.HoldName, Table: "subscriptions", CustomerKey: "customer_id",
		Where: []sqlstore.Condition{{Column: "status", Op: "=", Value: "chargeback"}}}}
	schema.Activity = []sqlstore.Column{{Column: activityColumn}}
	b := newDefaultBackend(t, e, sqlstore.WithSchema(schema), sqlstore.WithAudit(sqlstore.DefaultAuditTable))
	ctx := context.Background()
	addActivity(t, e, b.db)
	for _, st := range []string{
		"DROP TABLE transactions",
		"CREATE TABLE transactions (orderid BIGINT NOT NULL, customer_id BIGINT NOT NULL, amount_cents BIGINT NOT NULL DEFAULT 0)",
		"CREATE INDEX transactions_orderid ON transactions (orderid)",
	} {
		if _, err := b.db.ExecContext(ctx, st); err != nil {
			t.Fatal(err)
		}
	}
	return conformanceBackend{b}
}

func (b conformanceBackend) ShareOrder(ctx context.Context, orderID, customerID string) error {
	_, err := b.sb.Insert("transactions").Columns("orderid", "customer_id").Values(orderID, customerID).RunWith(b.db).ExecContext(ctx)
	return err
}

func (b conformanceBackend) PlaceHold(ctx context.Context, customerID string) error {
	_, err := b.sb.Update("subscriptions").Set("status", "chargeback").Where(sq.Eq{"customer_id": customerID}).RunWith(b.db).ExecContext(ctx)
	return err
}

func (b conformanceBackend) AuditRecords(ctx context.Context) ([]forget.Receipt, error) {
	return b.AuditTrail(ctx, time.Time{})
}

// newUUIDConformanceBackend is the conformance schema with uuid customer
// keys in every table (PostgreSQL's uuid, MariaDB's UUID, TEXT on
// SQLite). The mapping leaves the key type for Verify to learn on
// PostgreSQL, says text on MariaDB (Verify learns uuid), and says uuid on
// SQLite, whose column cannot tell.
func newUUIDConformanceBackend(t testing.TB, e engine, tweaks ...func(db *sql.DB, s *sqlstore.Schema)) conformanceBackend {
	return newUUIDBackend(t, e, true, tweaks...)
}

// newUUIDBackend is newUUIDConformanceBackend, with the keys in CHAR(36)
// columns mapped as key_type uuid unless native.
func newUUIDBackend(t testing.TB, e engine, native bool, tweaks ...func(db *sql.DB, s *sqlstore.Schema)) conformanceBackend {
	ctx := context.Background()
	db, _ := e.open(t)
	quoted, typ, kt := `"customer_id"`, "UUID", sqlstore.KeyType("")
	switch e.dialect {
	case sqlstore.MySQL:
		quoted, kt = "`customer_id`", sqlstore.KeyText
	case sqlstore.SQLite:
		typ, kt = "TEXT", sqlstore.KeyUUID
	}
	if !native && e.dialect != sqlstore.SQLite {
		typ, kt = "CHAR(36)", sqlstore.KeyUUID
	}
	for _, st := range sqlstore.DDL(e.dialect) {
		for _, int := range []string{" BIGINT", " INTEGER"} {
			st = strings.ReplaceAll(st, quoted+int, quoted+" "+typ)
		}
		if _, err := db.ExecContext(ctx, st); err != nil {
			t.Fatal(err)
		}
	}
	for _, st := range []string{
		"DROP TABLE transactions",
		"CREATE TABLE transactions (orderid BIGINT NOT NULL, customer_id " + typ + " NOT NULL, amount_cents BIGINT NOT NULL DEFAULT 0)",
		"CREATE INDEX transactions_orderid ON transactions (orderid)",
	} {
		if _, err := db.ExecContext(ctx, st); err != nil {
			t.Fatal(err)
		}
	}
	schema := sqlstore.DefaultSchema()
	schema.Customers.KeyType = kt
	schema.Holds = []sqlstore.Hold{{Name: storetest.HoldName, Table: "subscriptions", CustomerKey: "customer_id",
		Where: []sqlstore.Condition{{Column: "status", Op: "=", Value: "chargeback"}}}}
	for _, tweak := range tweaks {
		tweak(db, &schema)
	}
	s, err := sqlstore.New(db, e.dialect, sqlstore.WithSchema(schema), sqlstore.WithAudit(sqlstore.DefaultAuditTable),
		sqlstore.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	return conformanceBackend{defaultBackend{Store: s, db: db, sb: statementBuilder(e.dialect)}}
}

// activityColumn is the conformance backends' activity column
// (Schema.Activity), which Seed fills from Customer.LastActive.
const activityColumn = "last_active"

// addActivity adds the activity column, indexed, to db's customers.
func addActivity(t testing.TB, e engine, db *sql.DB) {
	t.Helper()
	typ := map[sqlstore.Dialect]string{sqlstore.SQLite: "TEXT", sqlstore.Postgres: "TIMESTAMP", sqlstore.MySQL: "DATETIME(6)"}[e.dialect]
	for _, st := range []string{
		"ALTER TABLE customers ADD COLUMN " + activityColumn + " " + typ + " NULL",
		"CREATE INDEX customers_" + activityColumn + " ON customers (" + activityColumn + ", customer_id)",
	} {
		if _, err := db.ExecContext(context.Background(), st); err != nil {
			t.Fatalf("%s: %v", st, err)
		}
	}
}

// activityBackend is a conformance backend whose schema has the activity
// column, for the suite's InactiveFinder cases, and that says whether its
// outbox claims may overlap (on SQLite they lock nothing).
type activityBackend struct {
	conformanceBackend
	dialect sqlstore.Dialect
}

// SeedsLastActive implements storetest.ActivityBackend.
func (activityBackend) SeedsLastActive() {}

// ClaimsOverlap implements storetest.ClaimOverlapper.
func (b activityBackend) ClaimsOverlap() bool { return b.dialect == sqlstore.SQLite }

func (b activityBackend) Seed(ctx context.Context, cs []storetest.Customer) error {
	if err := b.conformanceBackend.Seed(ctx, cs); err != nil {
		return err
	}
	for _, c := range cs {
		if c.LastActive.IsZero() {
			continue
		}
		var at any = c.LastActive.UTC()
		if b.dialect == sqlstore.SQLite { // SQLite's own text form
			at = c.LastActive.UTC().Format("2006-01-02 15:04:05")
		}
		if _, err := b.sb.Update("customers").Set(activityColumn, at).Where(sq.Eq{"customer_id": c.ID}).RunWith(b.db).ExecContext(ctx); err != nil {
			return err
		}
	}
	return nil
}

// TestConformanceUUID runs the suite with uuid customer keys.
func TestConformanceUUID(t *testing.T) {
	t.Parallel()
	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) {
			storetest.RunKeys(t, storetest.UUIDKeys(), func(t *testing.T) storetest.Backend {
				return activityBackend{newUUIDConformanceBackend(t, e, func(db *sql.DB, s *sqlstore.Schema) {
					addActivity(t, e, db)
					s.Activity = []sqlstore.Column{{Column: activityColumn}}
				}), e.dialect}
			})
		})
	}
}

func TestConformance(t *testing.T) {
	t.Parallel()
	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) {
			storetest.Run(t, func(t *testing.T) storetest.Backend { return activityBackend{newConformanceBackend(t, e), e.dialect} })
		})
	}
}

// scanAll reads every row of rows as text, NULL as an invalid NullString,
// and closes rows.
func scanAll(t testing.TB, rows *sql.Rows) ([]string, [][]sql.NullString) {
	t.Helper()
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	var out [][]sql.NullString
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		dest := make([]any, len(cols))
		for i := range vals {
			dest[i] = &vals[i]
		}
		if err := rows.Scan(dest...); err != nil {
			t.Fatal(err)
		}
		out = append(out, vals)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return cols, out
}
