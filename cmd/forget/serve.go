package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	pathpkg "path"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/forgetkit/forget"
	"github.com/forgetkit/forget/store/sqlstore"
)

const serveUsage = `
Usage: forget serve [-db FILE | -dsn URL] [-schema FILE] [-keys FILE] [-addr HOST:PORT] [-path PATH]
                    [-preset offerit|nats] [-require-coverage] [-auth-burst N] [-auth-refill DURATION]

Serves PATCH /api/customer/forget with Offerit's contract, at exactly
-path: any other path is a JSON 404. The database is checked against the
mapping before anything is served.

With neither -db nor -dsn (nor $FORGET_DSN) it runs a demo: an embedded
SQLite database in your cache directory, with the default schema and
-demo customers (191 among them), and a fresh API key for offerit_admin,
printed with ready curl lines. On any other database -keys is required:
serve never makes up a key for a real database.

The keys file holds one username:key per line, or username:sha256:HEX (the
SHA-256 of the key, so the file need not hold it); keys have 16 characters
or more; a user may have several keys, for rotation; a line starting with
# is a comment; every line ends with a newline. Send SIGHUP to re-read
it: a file that does not parse, or whose last line has no newline (cut off
mid-write), is logged and the keys in force stay. Replace it by rename.

Failed authentications are limited with a token bucket per client
address and one per api-username: -auth-burst failures at once (10),
one more every -auth-refill (1s); a request past it is answered 429 with
Retry-After, its key not compared. Successes take nothing, and an address
that has authenticated as a user is still served while others exhaust
that user's bucket. Each failure is logged with the username tried (never
the key) and counted in -admin-addr's forget_auth_failures_total{reason}.
The address is the connection's: behind a reverse proxy every client
shares the proxy's, so limit there and give -auth-burst 0 (no limit).

On a SQLite database, serve copies the write-ahead log into the database
file in the background every -sqlite-checkpoint-every (2s), so that a
forget does not stop to do it: on a large database that copy is most of
what a slow forget costs.

Examples:
  forget serve
  forget serve -db /var/lib/app/app.db -keys /etc/forget/keys -addr 0.0.0.0:8080
  FORGET_DSN=postgres://app:PASSWORD@db:5432/app forget serve -schema mapping.json -log-format json
  forget serve -preset nats        NATS's PATCH /api/member/forget (memberid), on a demo database
`

// The timeouts forget serve sets, and that hosts mounting the handler
// should set on their own http.Server: a client that sends its headers or
// body slowly is cut off instead of holding a connection open.
type timeouts struct{ readHeader, read, write, idle time.Duration }

var defaultTimeouts = timeouts{readHeader: 5 * time.Second, read: 30 * time.Second, write: 30 * time.Second, idle: 60 * time.Second}

func newHTTPServer(h http.Handler, logger *slog.Logger, t timeouts) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: t.readHeader,
		ReadTimeout:       t.read,
		WriteTimeout:      t.write,
		IdleTimeout:       t.idle,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
}

func (c *cli) serve(args []string) error {
	fs := c.command("serve", serveUsage)
	dbf := fs.database(false)
	fs.signing()
	keysFile := fs.String("keys", "", "a keys `FILE`, one username:key or username:sha256:HEX per line, re-read on SIGHUP\n(e.g. -keys /etc/forget/keys); required with -db or -dsn; on the demo database, without it,\na random key is made for offerit_admin")
	addr := fs.String("addr", "127.0.0.1:8080", "the `HOST:PORT` to listen on (e.g. -addr 0.0.0.0:8080; port 0 picks a free one)")
	adminAddr := fs.String("admin-addr", "", "a second `HOST:PORT` serving GET /metrics (Prometheus), GET /healthz (pings the database) and\nGET /readyz (the database and, with -nats, the broker)\n(e.g. -admin-addr 127.0.0.1:9090); off by default, so that metrics are not public")
	path := fs.String("path", "/api/customer/forget", "the URL `PATH` to serve the API at (e.g. -path /gdpr/forget)")
	logFormat := fs.String("log-format", "text", "access and error log `FORMAT` on stderr: text or json (e.g. -log-format json)")
	demo := fs.Int("demo", 1000, "how many demo customers a new demo database gets (e.g. -demo 5000)")
	fs.BoolVar(&dbf.requireCoverage, "require-coverage", false, "refuse to start while a column that reaches a customer is unclassified (see 'forget lint')")
	checkpointEvery := fs.Duration("sqlite-checkpoint-every", defaultCheckpointEvery, "with -db: how often serve copies SQLite's WAL into the database in the background, so that\nforgets need not (e.g. -sqlite-checkpoint-every 2s; 0: forgets do, every -sqlite-checkpoint pages)")
	authBurst := fs.Int("auth-burst", forget.DefaultAuthBurst, "failed authentications allowed at once per client address and per username, before 429\n(e.g. -auth-burst 20; 0: no limit, for a proxy that limits)")
	authRefill := fs.Duration("auth-refill", forget.DefaultAuthRefill, "how long each address's and username's bucket takes to allow one more failure (e.g. -auth-refill 5s)")
	nf := fs.natsServer(false)
	if err := fs.parse(args); err != nil {
		return err
	}
	logger, err := c.logger(*logFormat)
	if err != nil {
		return err
	}
	if err := checkServePath(*path); err != nil {
		return usageError{err}
	}
	if *demo < 200 {
		return usagef("-demo must be at least 200: the printed examples use customers 191 to 193")
	}
	if *checkpointEvery != 0 && *checkpointEvery < minCheckpointEvery {
		return usagef("-sqlite-checkpoint-every must be 0 (off) or at least %v", minCheckpointEvery)
	}
	if *checkpointEvery > 0 && !flagGiven(fs.FlagSet, "sqlite-checkpoint") {
		dbf.sqliteCheckpoint = backstopSQLiteCheckpoint
	}
	if nf.url != "" && dbf.auditTable == "" {
		return usagef("-nats needs the audit table: it is the outbox (-audit-table '' keeps none)")
	}
	if *keysFile == "" && dbf.given() {
		// A key made up here would be a live credential for a real
		// database, printed into whatever collects the logs.
		return usagef("serve -db or -dsn needs -keys FILE (one username:key or username:sha256:HEX per line): a key is generated only for the demo database")
	}
	if *authBurst < 0 {
		return usagef("-auth-burst must be 0 (no limit) or more")
	}
	if *authRefill <= 0 {
		return usagef("-auth-refill must be a positive duration, such as 1s")
	}
	authLimit := forget.WithAuthLimit(forget.AuthLimit{Burst: *authBurst, Refill: *authRefill})
	if *authBurst == 0 {
		authLimit = forget.WithoutAuthLimit()
	}
	relay := serveRelay{nf: nf}
	if !flagGiven(fs.FlagSet, "path") {
		*path = dbf.contract().Path
	}

	var (
		kt           *forget.APIKeys
		generatedKey string
	)
	if *keysFile != "" {
		if kt, err = readKeys(*keysFile); err != nil {
			return usageError{err}
		}
	} else {
		generatedKey = "fk_" + strings.ToLower(rand.Text())
		if kt, err = forget.NewAPIKeys(map[string]string{"offerit_admin": generatedKey}); err != nil {
			return err
		}
	}
	var keys atomic.Pointer[forget.APIKeys]
	keys.Store(kt)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *keysFile != "" {
		// Registered before serving, so that a SIGHUP never kills the server.
		hup := make(chan os.Signal, 1)
		signal.Notify(hup, syscall.SIGHUP)
		defer signal.Stop(hup)
		go reloadKeysOnHUP(ctx, hup, *keysFile, &keys, logger)
	}

	where := ""
	if !dbf.given() {
		var n int
		dbf.db, n, err = dbf.demo(ctx, *demo)
		if err != nil {
			return fmt.Errorf("demo database: %w", err)
		}
		where = fmt.Sprintf("demo SQLite database %s (%d %s)", dbf.db, n, dbf.thePreset().noun)
	} else if dbf.db != "" {
		where = "SQLite database " + dbf.db
	} else {
		where = "database " + redactDSN(dbf.dsn)
	}
	adm, err := newAdmin(*adminAddr)
	if err != nil {
		return err
	}
	o, err := c.openForgetter(ctx, dbf, logger, append(adm.options(), relay.options()...)...)
	if err != nil {
		return err
	}
	defer o.close()
	if dbf.db != "" && *checkpointEvery > 0 {
		defer checkpointInBackground(ctx, o.store, *checkpointEvery, logger)() // before the database closes
	}
	relayObs, err := relay.observe(adm)
	if err != nil {
		return err
	}
	waitRelay, err := relay.start(ctx, o, dbf.presetName(), logger, relayObs...)
	if err != nil {
		return err
	}
	defer waitRelay() // it stops with ctx, before the database is closed
	auth := forget.AuthenticatorFunc(func(r *http.Request) (string, error) {
		return keys.Load().Authenticate(r)
	})
	h, err := forget.NewHandler(o.f, auth, forget.WithContract(dbf.contract()), authLimit)
	if err != nil {
		return err
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	srv := newHTTPServer(accessLog(logger, onlyAt(*path, h)), logger, defaultTimeouts)
	adminURL, err := adm.listen(o.db, logger, relay.ready()...)
	if err != nil {
		return err
	}
	url := "http://" + ln.Addr().String() + *path
	if p := dbf.thePreset(); p.name != presets[0].name && generatedKey != "" {
		c.presetBanner(url, where, p, generatedKey)
	} else {
		c.banner(url, where, kt.Len(), generatedKey)
	}
	if adminURL != "" {
		fmt.Fprintf(c.stdout, "metrics at %s/metrics, health at %s/healthz\n", adminURL, adminURL)
	}

	served := make(chan error, 2)
	go func() { served <- srv.Serve(ln) }()
	go adm.serve(served)
	select {
	case err := <-served:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := errors.Join(srv.Shutdown(shutdownCtx), adm.shutdown(shutdownCtx)); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

// Serve copies SQLite's WAL in the background (see docs/sqlstore.md's "Large
// SQLite databases"); forgets checkpoint it themselves only past the
// backstop, should the background checkpoints stop or fall behind (about
// 400 MiB of WAL at 4 KiB pages).
const (
	defaultCheckpointEvery   = 2 * time.Second
	backstopSQLiteCheckpoint = 100000 // pages
	// Below this, an idle server would spin checking an empty log.
	minCheckpointEvery = 10 * time.Millisecond
)

// checkpointInBackground runs the store's CheckpointSQLite until ctx ends
// or the returned function is called, which waits for it to stop.
func checkpointInBackground(ctx context.Context, store *sqlstore.Store, every time.Duration, logger *slog.Logger) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := store.CheckpointSQLite(ctx, every); err != nil {
			logger.Warn("background checkpoints stopped; forgets checkpoint the WAL themselves, every -sqlite-checkpoint pages", "error", err)
		}
	}()
	return func() {
		cancel()
		<-done
	}
}

// checkServePath refuses a -path that no client would send as it is: one
// with a query or fragment, spaces or control characters, or not clean
// (clients resolve "." and ".." before sending).
func checkServePath(p string) error {
	if !strings.HasPrefix(p, "/") {
		return errors.New("-path must start with /")
	}
	for i := 0; i < len(p); i++ {
		if c := p[i]; c <= ' ' || c == 0x7f || c == '?' || c == '#' || c == '%' {
			return errors.New("-path must be a plain path such as /api/customer/forget: no spaces, control characters, '?', '#' or '%'")
		}
	}
	if clean := pathpkg.Clean(p); clean != p && clean+"/" != p {
		return fmt.Errorf("-path must be clean: %s, not %s", quoteClipped(clean), quoteClipped(p))
	}
	return nil
}

// onlyAt serves h at exactly path and a JSON 404 everywhere else. Not a
// ServeMux: it answers a non-clean path ("//api/customer/forget") with a
// redirect, which a client may follow as a GET, and a path it does not
// know with a plain-text 404.
func onlyAt(path string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// RawPath is set only when the client escaped the path in a way
		// of its own (%2F, %61...): that is not the configured path.
		if r.URL.Path == path && r.URL.RawPath == "" {
			h.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, `{"result":"error","code":"`+forget.CodeNotFound+`","data":"nothing is served at this path"}`)
	})
}

// banner prints where the server listens and, for a generated key, the
// key and curl lines that work as printed.
func (c *cli) banner(url, where string, nkeys int, generatedKey string) {
	w := c.stdout
	fmt.Fprintf(w, "forget is serving PATCH %s\n", url)
	fmt.Fprintf(w, "over the %s\n", where)
	if generatedKey == "" {
		fmt.Fprintf(w, "with %d API key(s) from the keys file\n", nkeys)
		return
	}
	key := generatedKey
	fmt.Fprintf(w, "\napi-username: offerit_admin\napi-key:      %s\n\n", key)
	auth := fmt.Sprintf("-H 'api-username: offerit_admin' -H 'api-key: %s'", key)
	fmt.Fprintf(w, "Forget customer 191, as in Offerit's documentation (answers true):\n  curl -X PATCH %s %s -d customer_id=191\n\n", url, auth)
	fmt.Fprintf(w, "Forget the customer of subscription 1921, keeping the first name and notes:\n  curl -X PATCH %s %s -d subscription_id=1921 -d keep=firstname,member_note\n\n", url, auth)
	fmt.Fprintf(w, "Preview what forgetting the customer of order 19301 would erase (answers a receipt):\n  curl -X PATCH %s %s -d orderid=19301 -d dry_run=1\n\n", url, auth)
	fmt.Fprintf(w, "Press Ctrl-C to stop.\n")
}

// readKeys reads a keys file (see forget.ParseAPIKeyFile). An error names
// the line, never its content (it may hold a key).
func readKeys(path string) (*forget.APIKeys, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("-keys: %w", err)
	}
	defer f.Close()
	kt, err := forget.ParseAPIKeyFile(f)
	var kfe *forget.APIKeyFileError
	switch {
	case errors.As(err, &kfe) && kfe.Line > 0:
		return nil, fmt.Errorf("-keys %s line %d: %s", path, kfe.Line, kfe.Reason)
	case errors.As(err, &kfe):
		return nil, fmt.Errorf("-keys %s: %s", path, kfe.Reason)
	case err != nil:
		return nil, fmt.Errorf("-keys %s: %w", path, err)
	}
	return kt, nil
}

// reloadKeysOnHUP re-reads the keys file on each SIGHUP. A file that does
// not parse is logged and the keys in force stay: a typo must not lock
// every caller out.
func reloadKeysOnHUP(ctx context.Context, hup <-chan os.Signal, path string, keys *atomic.Pointer[forget.APIKeys], logger *slog.Logger) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
		}
		kt, err := readKeys(path)
		if err != nil {
			logger.Error("keys file not reloaded; the keys in force stay", slog.String("error", err.Error()))
			continue
		}
		keys.Store(kt)
		logger.Info("keys file reloaded", slog.Int("keys", kt.Len()))
	}
}

// accessLog logs one line per request: method, path, status, size,
// duration and request id. Never a body, a query string or a header value.
func accessLog(logger *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		logger.LogAttrs(r.Context(), slog.LevelInfo, "request",
			slog.String("method", r.Method),
			slog.String("path", clip(r.URL.Path, 200)),
			slog.Int("status", rec.status),
			slog.Int("bytes", rec.bytes),
			slog.Duration("duration", time.Since(start)),
			slog.String("request_id", rec.Header().Get(forget.HeaderRequestID)),
			slog.String("remote", r.RemoteAddr),
		)
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status, bytes int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the connection (the
// handler's 413 sets a read deadline to drain an oversized body).
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

func (s *statusRecorder) Write(p []byte) (int, error) {
	n, err := s.ResponseWriter.Write(p)
	s.bytes += n
	return n, err
}
