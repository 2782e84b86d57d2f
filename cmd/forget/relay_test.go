package main

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/forgetkit/forget"
	"github.com/forgetkit/forget/internal/long"
	"github.com/forgetkit/forget/internal/outboxtest"
	"github.com/forgetkit/forget/internal/streamtest"
	"github.com/forgetkit/forget/internal/testdb"
	"github.com/forgetkit/forget/propagate"
	"github.com/forgetkit/forget/store/sqlstore"
)

// checkExactlyOnce checks that the stream holds every committed event
// once, each customer's in commit order, and nothing else.
func checkExactlyOnce(t testing.TB, db *sql.DB, js jetstream.JetStream) int {
	t.Helper()
	all, byCustomer, waiting := outboxtest.AuditEvents(t, db)
	if waiting != 0 {
		t.Errorf("%d events still unpublished", waiting)
	}
	committed := make(map[string]bool, len(all))
	for _, id := range all {
		committed[id] = true
	}
	seen := map[string]bool{}
	order := map[string][]string{}
	for _, rc := range streamtest.Receipts(t, js) {
		if seen[rc.EventID] {
			t.Errorf("event %s is in the stream twice", rc.EventID)
		}
		if !committed[rc.EventID] {
			t.Errorf("event %s (customer %s) is in the stream but was never committed", rc.EventID, rc.CustomerID)
		}
		seen[rc.EventID] = true
		order[rc.CustomerID] = append(order[rc.CustomerID], rc.EventID)
	}
	for _, id := range all {
		if !seen[id] {
			t.Errorf("committed event %s is not in the stream", id)
		}
	}
	for c, ids := range byCustomer {
		if strings.Join(order[c], ",") != strings.Join(ids, ",") {
			t.Errorf("customer %s: stream order %v, commit order %v", c, order[c], ids)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	return len(all)
}

// hookReceiver is a webhook receiver that verifies signatures and counts
// each webhook-id's arrivals.
type hookReceiver struct {
	t      testing.TB
	secret string
	srv    *httptest.Server
	slow   time.Duration // up to this long per request, at random
	mu     sync.Mutex
	got    map[string]int
	fail   func(id string) bool
}

func newHookReceiver(t testing.TB, slow time.Duration) *hookReceiver {
	r := &hookReceiver{t: t, secret: propagate.NewSecret(), slow: slow, got: map[string]int{}}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		id, err := propagate.Verify(r.secret, req.Header, body, time.Now(), 5*time.Minute)
		if err != nil {
			t.Errorf("receiver: %v", err)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if r.slow > 0 {
			time.Sleep(rand.N(r.slow))
		}
		r.mu.Lock()
		r.got[id]++
		fail := r.fail != nil && r.fail(id)
		r.mu.Unlock()
		if fail {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *hookReceiver) secretFile(t testing.TB) string {
	p := filepath.Join(t.TempDir(), "hook.secret")
	if err := os.WriteFile(p, []byte(r.secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// missing returns the ids not yet received, and how many arrivals were
// repeats.
func (r *hookReceiver) missing(ids []string) (missing []string, repeats int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, id := range ids {
		if r.got[id] == 0 {
			missing = append(missing, id)
		}
	}
	for _, n := range r.got {
		repeats += max(n-1, 0)
	}
	return missing, repeats
}

// deliverInProcess delivers every event to r under name, until the test
// ends.
func deliverInProcess(t testing.TB, js jetstream.JetStream, name string, r *hookReceiver) {
	wh, err := propagate.NewWebhook(r.srv.URL, r.secret, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		propagate.Consume(ctx, js, name, wh.Deliver, propagate.WithLogger(slog.New(slog.DiscardHandler)), propagate.WithBackOff(100*time.Millisecond), propagate.WithWorkers(8))
	}()
	t.Cleanup(func() { cancel(); <-done })
}

func waitUntil(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// crashKills is how many SIGKILLs each crash test lands: 3, 20 under
// FORGET_LONG=1, or $FORGET_CRASH_ITERATIONS. Every kill is followed by
// the same checks either way.
func crashKills(t testing.TB) int { return long.Count(t, 3, 20) }

// crashDB creates a SQLite database of n demo customers with the command.
func crashDB(t *testing.T, bin string, n int) (string, *sql.DB) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "app.db")
	if out, err := exec.Command(bin, "init", "-db", path, "-demo", strconv.Itoa(n)).CombinedOutput(); err != nil {
		t.Fatalf("init: %v\n%s", err, out)
	}
	db, err := openSQLite(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return path, db
}

// background forgets customers 1..n over and over in this process, as
// the host's application would, until stop; and now and then writes an
// audit record in a transaction it rolls back, which no relay may ever
// publish. It returns how many forgets committed.
func background(t *testing.T, db *sql.DB, d sqlstore.Dialect, n int, pace time.Duration) (stop func() int) {
	t.Helper()
	s, err := sqlstore.New(db, d, sqlstore.WithAudit(sqlstore.DefaultAuditTable))
	if err != nil {
		t.Fatal(err)
	}
	f, err := forget.New(s, forget.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var mu sync.Mutex
	committed := 0
	wg.Add(2)
	go func() {
		defer wg.Done()
		for i := 0; ctx.Err() == nil; i++ {
			id := 1 + (i*7919)%n
			if _, err := f.Forget(context.Background(), forget.Request{Lookup: forget.Lookup{CustomerID: strconv.Itoa(id)}}); err != nil {
				t.Errorf("forget %d: %v", id, err)
				return
			}
			mu.Lock()
			committed++
			mu.Unlock()
			time.Sleep(pace)
		}
	}()
	go func() {
		defer wg.Done()
		for ctx.Err() == nil {
			rolledBack(t, db, d)
			time.Sleep(20 * time.Millisecond)
		}
	}()
	stop = func() int {
		cancel()
		wg.Wait()
		return committed
	}
	// A test that fails early must not leave them writing to a database
	// its cleanup closes.
	t.Cleanup(func() { stop() })
	return stop
}

// rolledBack writes an audit record, holds it a moment, and rolls back.
func rolledBack(t *testing.T, db *sql.DB, d sqlstore.Dialect) {
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Error(err)
		return
	}
	defer conn.Close()
	begin, q := "BEGIN", "?"
	switch d {
	case sqlstore.SQLite:
		begin = "BEGIN IMMEDIATE"
	case sqlstore.Postgres:
		q = "$1"
	}
	if _, err := conn.ExecContext(ctx, begin); err != nil {
		return // busy: try later
	}
	defer conn.ExecContext(ctx, "ROLLBACK")
	at := "at"
	if d == sqlstore.MySQL {
		at = "`at`"
	}
	conn.ExecContext(ctx, `INSERT INTO forget_audit (event_id, customer_id, `+at+`, principal, request_id, fields_erased, fields_kept, tables_kept, rows_deleted, rows_scrubbed, holds_ignored, held)
		VALUES (`+q+`, '1', '2026-01-01T00:00:00.000000000Z', 'never', '', '', '', '', '{}', 'null', '', '')`, fmt.Sprintf("uncommitted%015d", rand.Int64N(1e15)))
	time.Sleep(3 * time.Millisecond)
}

// killAfter starts cmd and kills it with SIGKILL after d, unless it has
// ended; it reports whether the kill landed on a running process.
func killAfter(t *testing.T, cmd *exec.Cmd, d time.Duration) bool {
	t.Helper()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	select {
	case <-done:
		return false
	case <-time.After(d):
	}
	cmd.Process.Signal(syscall.SIGKILL)
	<-done
	ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL
}

// ackedNotMarked counts the events the stream holds that the outbox still
// has unpublished: a relay died after the broker's ack, before its mark.
func ackedNotMarked(t testing.TB, db *sql.DB, js jetstream.JetStream) int {
	t.Helper()
	rows, err := db.Query("SELECT event_id FROM forget_audit WHERE published_at IS NULL")
	if err != nil {
		t.Fatal(err)
	}
	waiting := map[string]bool{}
	for rows.Next() {
		var id string
		rows.Scan(&id)
		waiting[id] = true
	}
	rows.Close()
	n := 0
	for _, rc := range streamtest.Receipts(t, js) {
		if waiting[rc.EventID] {
			n++
		}
	}
	return n
}

// TestCrashRelay kills `forget relay` with SIGKILL at random moments,
// crashKills times on each engine, while the host forgets customers and
// rolls back audit records of its own. After a last relay has drained the
// outbox, every committed erasure is in the stream exactly once, in each
// customer's order, nothing uncommitted is, and every event reaches two
// webhooks.
func TestCrashRelay(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("kills a real process many times")
	}
	bin := buildForget(t)
	for _, e := range crashEngines(t) {
		t.Run(e.name, func(t *testing.T) {
			ns := startTestNATS(t)
			dbArgs, db := e.open(t, bin, 500)
			stop := background(t, db, e.dialect, 500, time.Millisecond)
			rnd := rand.New(rand.NewPCG(20261129, 11))
			js := ns.js()
			kills, betweenAckAndMark := 0, 0
			for round := 0; kills < crashKills(t) && round < 500; round++ {
				args := append([]string{"relay"}, dbArgs...)
				cmd := exec.Command(bin, append(args, "-nats", ns.url(), "-batch", strconv.Itoa(1+rnd.IntN(30)), "-poll", "2ms")...)
				if killAfter(t, cmd, time.Duration(30+rnd.IntN(300))*time.Millisecond) {
					kills++
					if ackedNotMarked(t, db, js) > 0 {
						betweenAckAndMark++
					}
				}
			}
			committed := stop()
			_, _, waiting := outboxtest.AuditEvents(t, db)
			t.Logf("%d SIGKILLs of the relay, %d of them between the broker's ack and the mark; %d forgets committed meanwhile; %d events waited for the last relay",
				kills, betweenAckAndMark, committed, waiting)
			last := exec.Command(bin, append(append([]string{"relay"}, dbArgs...), "-nats", ns.url())...)
			var lastErr syncBuffer
			last.Stderr = &lastErr
			if err := last.Start(); err != nil {
				t.Fatal(err)
			}
			waitUntil(t, 60*time.Second, "the last relay to drain the outbox", func() bool {
				_, _, n := outboxtest.AuditEvents(t, db)
				return n == 0
			})
			// With nothing left to drain (repeats send no event), the
			// outbox may be empty before the relay handles signals.
			waitUntil(t, 30*time.Second, "the last relay to start", func() bool { return strings.Contains(lastErr.String(), "relaying erasure events") })
			last.Process.Signal(syscall.SIGTERM)
			if err := last.Wait(); err != nil {
				t.Errorf("relay after SIGTERM: %v", err)
			}
			n := checkExactlyOnce(t, db, js)
			all, _, _ := outboxtest.AuditEvents(t, db)
			crm, search := newHookReceiver(t, 0), newHookReceiver(t, 0)
			deliverInProcess(t, js, "crm", crm)
			deliverInProcess(t, js, "search", search)
			waitUntil(t, 120*time.Second, "every event at both webhooks", func() bool {
				m1, _ := crm.missing(all)
				m2, _ := search.missing(all)
				return len(m1) == 0 && len(m2) == 0
			})
			t.Logf("%d events in the stream, each once; all reached both webhooks", n)
		})
	}
}

// crashEngine is a database the crash tests run the command on.
type crashEngine struct {
	name    string
	dialect sqlstore.Dialect
	// open creates the default schema with n demo customers in a fresh
	// database and returns the command's flags naming it.
	open func(t *testing.T, bin string, n int) ([]string, *sql.DB)
}

// crashEngines returns SQLite, and PostgreSQL and MariaDB when their DSNs
// are set (under CI they must be).
func crashEngines(t *testing.T) []crashEngine {
	es := []crashEngine{{"sqlite", sqlstore.SQLite, func(t *testing.T, bin string, n int) ([]string, *sql.DB) {
		path, db := crashDB(t, bin, n)
		return []string{"-db", path}, db
	}}}
	for _, e := range testdb.Servers(t) {
		es = append(es, crashEngine{e.Name, e.Dialect, func(t *testing.T, _ string, n int) ([]string, *sql.DB) {
			tdb := e.Open(t)
			ctx := context.Background()
			if err := sqlstore.CreateSchema(ctx, tdb.DB, e.Dialect); err != nil {
				t.Fatal(err)
			}
			if err := seedDemo(ctx, tdb.DB, e.Dialect, n); err != nil {
				t.Fatal(err)
			}
			return []string{"-dsn", tdb.URL}, tdb.DB
		}})
	}
	return es
}

// TestCrashServeNATS kills `forget serve -nats` with SIGKILL at random
// moments under load, crashKills times. Every forget the server answered
// 200 is committed and in the stream once, as is every other committed
// one; nothing uncommitted is published; every event reaches the webhook.
func TestCrashServeNATS(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("kills a real process many times")
	}
	bin := buildForget(t)
	if help, _ := exec.Command(bin, "serve", "-h").CombinedOutput(); !strings.Contains(string(help), "-nats") {
		t.Skip("forget serve has no -nats flag yet (serve.go)")
	}
	ns := startTestNATS(t)
	const customers = 2000
	path, db := crashDB(t, bin, customers)
	keys := filepath.Join(t.TempDir(), "keys")
	const key = "fk_crash_test_key_0123456789"
	if err := os.WriteFile(keys, []byte("ops:"+key+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	servingRE := regexp.MustCompile(`forget is serving PATCH (\S+)`)
	rnd := rand.New(rand.NewPCG(20261129, 12))
	var mu sync.Mutex
	answered := map[string]bool{} // customers the server said it forgot
	kills, ok200 := 0, 0
	client := &http.Client{Timeout: 5 * time.Second}
	for round := 0; kills < crashKills(t) && round < 200; round++ {
		cmd := exec.Command(bin, "serve", "-db", path, "-keys", keys, "-addr", "127.0.0.1:0", "-nats", ns.url())
		stdout, _ := cmd.StdoutPipe()
		cmd.Stderr = io.Discard
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(stdout)
		var url string
		for sc.Scan() {
			if m := servingRE.FindStringSubmatch(sc.Text()); m != nil {
				url = m[1]
				break
			}
		}
		go io.Copy(io.Discard, stdout)
		if url == "" {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatal("serve printed no URL")
		}
		ctx, cancel := context.WithCancel(context.Background())
		var load sync.WaitGroup
		for w := range 4 {
			load.Add(1)
			go func() {
				defer load.Done()
				for i := 0; ctx.Err() == nil; i++ {
					id := strconv.Itoa(1 + (round*977+w*131+i*17)%customers)
					req, _ := http.NewRequest(http.MethodPatch, url, strings.NewReader("customer_id="+id))
					req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
					req.Header.Set("api-username", "ops")
					req.Header.Set("api-key", key)
					resp, err := client.Do(req)
					if err != nil {
						return // the server is gone
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode == http.StatusOK {
						mu.Lock()
						answered[id] = true
						ok200++
						mu.Unlock()
					}
				}
			}()
		}
		time.Sleep(time.Duration(100+rnd.IntN(400)) * time.Millisecond)
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			kills++
		}
		cancel()
		load.Wait()
	}
	all, byCustomer, waiting := outboxtest.AuditEvents(t, db)
	t.Logf("%d SIGKILLs of serve; %d forgets answered 200; %d events committed, %d waiting for a relay", kills, ok200, len(all), waiting)
	for id := range answered {
		if len(byCustomer[id]) == 0 {
			t.Errorf("customer %s: answered 200 but no event committed", id)
		}
	}
	last := exec.Command(bin, "relay", "-db", path, "-nats", ns.url())
	if err := last.Start(); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 60*time.Second, "a relay to drain the outbox", func() bool {
		_, _, n := outboxtest.AuditEvents(t, db)
		return n == 0
	})
	last.Process.Signal(syscall.SIGTERM)
	last.Wait()
	js := ns.js()
	checkExactlyOnce(t, db, js)
	hook := newHookReceiver(t, 0)
	deliverInProcess(t, js, "crm", hook)
	waitUntil(t, 120*time.Second, "every event at the webhook", func() bool {
		m, _ := hook.missing(all)
		return len(m) == 0
	})
}

// TestRelayCommandUsage: bad flags are usage errors that name the
// problem, and no secret of the NATS URL is printed.
func TestRelayCommandUsage(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "app.db")
	if code := Main([]string{"init", "-db", db, "-demo", "200"}, strings.NewReader(""), io.Discard, io.Discard); code != 0 {
		t.Fatalf("init: %d", code)
	}
	t.Setenv(envNATS, "")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"relay", "-db", db}, "needs -nats"},
		{[]string{"relay", "-nats", "nats://127.0.0.1:1"}, "needs -db"},
		{[]string{"relay", "-db", db, "-nats", "nats://127.0.0.1:1", "-audit-table", ""}, "outbox"},
		{[]string{"relay", "-db", db, "-nats", "not a url"}, "-nats"},
		{[]string{"relay", "-db", db, "-nats", "nats://127.0.0.1:1", "-batch", "0"}, "batch"},
		{[]string{"relay", "-db", db, "-nats", "nats://127.0.0.1:1", "-log-format", "xml"}, "log-format"},
		{[]string{"deliver", "-nats", "nats://127.0.0.1:1"}, "-name"},
		{[]string{"deliver", "-nats", "nats://127.0.0.1:1", "-name", "crm", "-webhook", "http://x", "-secret-file", filepath.Join(dir, "none")}, "secret-file"},
		{[]string{"deliver", "-nats", "nats://127.0.0.1:1", "-name", "crm", "-webhook", "http://x", "-secret-file", db, "-backoff", "1s,soon"}, "backoff"},
		{[]string{"status", "-db", db, "-nats", "nats://127.0.0.1:1"}, "-customer-id"},
		{[]string{"redrive", "-nats", "nats://127.0.0.1:1"}, "-name"},
		{[]string{"redrive", "-name", "crm"}, "needs -nats"},
	} {
		var out, errOut strings.Builder
		code := Main(c.args, strings.NewReader(""), &out, &errOut)
		if code != exitUsage || !strings.Contains(errOut.String(), c.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", c.args, code, errOut.String(), c.want)
		}
	}
	// A bad secret file is refused without being quoted.
	bad := filepath.Join(dir, "bad.secret")
	os.WriteFile(bad, []byte("whsec_not-base64-p4ssw0rd"), 0o600)
	var errOut strings.Builder
	code := Main([]string{"deliver", "-nats", "nats://127.0.0.1:1", "-name", "crm", "-webhook", "http://x", "-secret-file", bad}, strings.NewReader(""), io.Discard, &errOut)
	if code != exitUsage || strings.Contains(errOut.String(), "p4ssw0rd") {
		t.Errorf("bad secret: exit %d, %q", code, errOut.String())
	}
	// The password of a NATS URL never shows, even in an error.
	errOut.Reset()
	code = Main([]string{"redrive", "-nats", "nats://ops:s3cretpw@127.0.0.1:1", "-name", "crm"}, strings.NewReader(""), io.Discard, &errOut)
	if code != exitFailed || strings.Contains(errOut.String(), "s3cretpw") {
		t.Errorf("unreachable NATS: exit %d, %q", code, errOut.String())
	}
	// -new-secret prints a secret that parses.
	var out strings.Builder
	if code := Main([]string{"deliver", "-new-secret"}, strings.NewReader(""), &out, io.Discard); code != 0 {
		t.Fatalf("-new-secret: %d", code)
	}
	if _, err := propagate.ParseSecret(out.String()); err != nil {
		t.Errorf("-new-secret printed %q: %v", out.String(), err)
	}
}
