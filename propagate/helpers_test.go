package propagate_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	_ "github.com/jackc/pgx/v5/stdlib"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	_ "modernc.org/sqlite"

	"github.com/forgetkit/forget"
	"github.com/forgetkit/forget/propagate"
	"github.com/forgetkit/forget/store/sqlstore"
)

// natsServer is a real NATS server with JetStream, in this process, its
// store in a directory of the test's own.
type natsServer struct {
	t    testing.TB
	dir  string
	port int
	srv  *server.Server
}

func startNATS(t testing.TB) *natsServer {
	t.Helper()
	n := &natsServer{t: t, dir: t.TempDir(), port: -1}
	n.start()
	t.Cleanup(n.stop)
	return n
}

func (n *natsServer) start() {
	n.t.Helper()
	srv, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: n.port, JetStream: true, StoreDir: n.dir, NoLog: true, NoSigs: true})
	if err != nil {
		n.t.Fatal(err)
	}
	srv.Start()
	if !srv.ReadyForConnections(10 * time.Second) {
		n.t.Fatal("nats-server did not start")
	}
	n.srv = srv
	n.port = srv.Addr().(*net.TCPAddr).Port
}

// stop shuts the server down; start brings it back on the same port and
// store, as a broker back from an outage.
func (n *natsServer) stop() {
	if n.srv != nil {
		n.srv.Shutdown()
		n.srv.WaitForShutdown()
		n.srv = nil
	}
}

func (n *natsServer) url() string { return "nats://127.0.0.1:" + strconv.Itoa(n.port) }

// connect returns a JetStream on a connection that reconnects for ever.
func connect(t testing.TB, url string) jetstream.JetStream {
	t.Helper()
	nc, err := nats.Connect(url, nats.MaxReconnects(-1), nats.ReconnectWait(20*time.Millisecond), nats.RetryOnFailedConnect(true))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return js
}

// streamEvents returns the events stream's receipts in stream order.
func streamEvents(t testing.TB, js jetstream.JetStream) []forget.Receipt {
	t.Helper()
	ctx := context.Background()
	s, err := js.Stream(ctx, propagate.StreamName)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var out []forget.Receipt
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq && info.State.Msgs > 0; seq++ {
		m, err := s.GetMsg(ctx, seq)
		if err != nil {
			t.Fatalf("message %d: %v", seq, err)
		}
		var rc forget.Receipt
		if err := json.Unmarshal(m.Data, &rc); err != nil {
			t.Fatalf("message %d: %v", seq, err)
		}
		if m.Header.Get(jetstream.MsgIDHeader) != rc.EventID {
			t.Errorf("message %d: Nats-Msg-Id %q, event id %q", seq, m.Header.Get(jetstream.MsgIDHeader), rc.EventID)
		}
		out = append(out, rc)
	}
	return out
}

// waitFor polls cond until it holds or d passes.
func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// logBuffer collects log output, for tests that check what logs hold.
type logBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func (l *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

// engine is a database the tests run on.
type engine struct {
	name    string
	dialect sqlstore.Dialect
	open    func(t testing.TB) *sql.DB
}

// engines returns SQLite, and PostgreSQL and MariaDB when their DSNs are
// set (under CI they must be).
func engines(t testing.TB) []engine {
	es := []engine{{"sqlite", sqlstore.SQLite, openSQLite}}
	for _, e := range []struct {
		env, name string
		d         sqlstore.Dialect
		open      func(testing.TB, string) *sql.DB
	}{
		{"FORGET_TEST_POSTGRES", "postgres", sqlstore.Postgres, openPostgres},
		{"FORGET_TEST_MYSQL", "mysql", sqlstore.MySQL, openMySQL},
	} {
		dsn := os.Getenv(e.env)
		if dsn == "" {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s is not set; under CI every engine must run", e.env)
			}
			t.Logf("%s is not set: skipping %s", e.env, e.name)
			continue
		}
		es = append(es, engine{e.name, e.d, func(t testing.TB) *sql.DB { return e.open(t, dsn) }})
	}
	return es
}

func randomName() string { return "forget_p_" + strings.ToLower(rand.Text()[:12]) }

func openSQLite(t testing.TB) *sql.DB {
	path := filepath.Join(t.TempDir(), "forget.db")
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=foreign_keys(1)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func openPostgres(t testing.TB, dsn string) *sql.DB {
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	schema := randomName()
	if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
		t.Fatalf("postgres: %v", err)
	}
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	db, err := sql.Open("pgx", u.String())
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(20)
	t.Cleanup(func() {
		db.Close()
		if admin, err := sql.Open("pgx", dsn); err == nil {
			admin.Exec("DROP SCHEMA " + schema + " CASCADE")
			admin.Close()
		}
	})
	return db
}

func openMySQL(t testing.TB, dsn string) *sql.DB {
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		t.Fatal(err)
	}
	admin, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	name := randomName()
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatalf("mysql: %v", err)
	}
	cfg.DBName = name
	db, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(20)
	t.Cleanup(func() {
		db.Close()
		cfg.DBName = ""
		if admin, err := sql.Open("mysql", cfg.FormatDSN()); err == nil {
			admin.Exec("DROP DATABASE " + name)
			admin.Close()
		}
	})
	return db
}

// secretValue is in every seeded customer's fields: no event, webhook
// body or log may ever hold it.
const secretValue = "qzx-personal"

// newStore creates the default schema on a fresh database of e, with
// customers 1..n, and returns the store (with its outbox) and a quiet
// Forgetter on it.
func newStore(t testing.TB, e engine, n int, opts ...forget.Option) (*sql.DB, *sqlstore.Store, *forget.Forgetter) {
	t.Helper()
	ctx := context.Background()
	db := e.open(t)
	if err := sqlstore.CreateSchema(ctx, db, e.dialect); err != nil {
		t.Fatal(err)
	}
	seed(t, db, 1, n)
	s, err := sqlstore.New(db, e.dialect, sqlstore.WithAudit(sqlstore.DefaultAuditTable))
	if err != nil {
		t.Fatal(err)
	}
	f, err := forget.New(s, append([]forget.Option{forget.WithLogger(quiet())}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return db, s, f
}

// seed inserts customers first..last with a personal value in each.
func seed(t testing.TB, db *sql.DB, first, last int) {
	t.Helper()
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	for id := first; id <= last; id++ {
		if _, err := tx.Exec(fmt.Sprintf("INSERT INTO customers (customer_id, username, firstname, phone) VALUES (%d, 'user%d', '%s', '%s')", id, id, secretValue, secretValue)); err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec(fmt.Sprintf("INSERT INTO member_note (customer_id, note) VALUES (%d, '%s')", id, secretValue)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

func forgetID(t testing.TB, f *forget.Forgetter, id int) *forget.Receipt {
	t.Helper()
	rc, err := f.Forget(context.Background(), forget.Request{Lookup: forget.Lookup{CustomerID: strconv.Itoa(id)}})
	if err != nil {
		t.Fatalf("forget %d: %v", id, err)
	}
	return rc
}

// unpublished counts the events waiting in the outbox.
func unpublished(t testing.TB, db *sql.DB) int {
	t.Helper()
	var n int
	if err := db.QueryRow("SELECT COUNT(*) FROM forget_audit WHERE published_at IS NULL").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// auditEvents returns the audit table's event ids by customer, in commit
// order.
func auditEvents(t testing.TB, db *sql.DB) (all []string, byCustomer map[string][]string) {
	t.Helper()
	rows, err := db.Query("SELECT event_id, customer_id FROM forget_audit WHERE held = '' ORDER BY audit_id")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	byCustomer = map[string][]string{}
	for rows.Next() {
		var id, c string
		if err := rows.Scan(&id, &c); err != nil {
			t.Fatal(err)
		}
		all = append(all, id)
		byCustomer[c] = append(byCustomer[c], id)
	}
	return all, byCustomer
}

// checkStream checks that the stream holds each event of the audit table
// exactly once, nothing else, and each customer's events in commit order.
func checkStream(t testing.TB, db *sql.DB, js jetstream.JetStream) {
	t.Helper()
	all, byCustomer := auditEvents(t, db)
	want := make(map[string]bool, len(all))
	for _, id := range all {
		want[id] = true
	}
	got := streamEvents(t, js)
	seen := map[string]bool{}
	streamOrder := map[string][]string{}
	for _, rc := range got {
		if seen[rc.EventID] {
			t.Errorf("event %s is in the stream twice", rc.EventID)
		}
		seen[rc.EventID] = true
		if !want[rc.EventID] {
			t.Errorf("event %s is in the stream but was never committed", rc.EventID)
		}
		streamOrder[rc.CustomerID] = append(streamOrder[rc.CustomerID], rc.EventID)
	}
	for _, id := range all {
		if !seen[id] {
			t.Errorf("committed event %s is not in the stream", id)
		}
	}
	for c, ids := range byCustomer {
		if got := streamOrder[c]; strings.Join(got, ",") != strings.Join(ids, ",") {
			t.Errorf("customer %s: stream order %v, commit order %v", c, got, ids)
		}
	}
	if t.Failed() {
		t.Fatalf("stream: %d messages, audit table: %d events", len(got), len(all))
	}
}
