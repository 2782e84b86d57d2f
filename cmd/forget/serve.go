package main

import (
	"bufio"
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
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/forgetkit/forget"
	"github.com/forgetkit/forget/store/sqlstore"
)

const serveUsage = `
Usage: forget serve [-db FILE | -dsn URL] [-schema FILE] [-keys FILE] [-addr HOST:PORT] [-path PATH]

Serves PATCH /api/customer/forget with Offerit's contract.

With neither -db nor -dsn it runs a demo: an embedded SQLite database in
your cache directory, with the default schema and -demo customers (191
among them), and a fresh API key for offerit_admin, printed with ready
curl lines.

Examples:
  forget serve
  forget serve -db /var/lib/app/app.db -keys /etc/forget/keys -addr 0.0.0.0:8080
  forget serve -dsn postgres://app@db:5432/app -schema mapping.json -log-format json
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

func (c *cli) serve(args []string) int {
	fs := c.flags("serve", serveUsage)
	var dbf dbFlags
	dbf.register(fs)
	keysFile := fs.String("keys", "", "a keys `FILE`, one username:key per line, # starts a comment\n(e.g. -keys /etc/forget/keys); without it a random key is made for offerit_admin")
	addr := fs.String("addr", "127.0.0.1:8080", "the `HOST:PORT` to listen on (e.g. -addr 0.0.0.0:8080; port 0 picks a free one)")
	path := fs.String("path", "/api/customer/forget", "the URL `PATH` to serve the API at (e.g. -path /gdpr/forget)")
	logFormat := fs.String("log-format", "text", "access and error log `FORMAT` on stderr: text or json (e.g. -log-format json)")
	demo := fs.Int("demo", 1000, "how many demo customers a new demo database gets (e.g. -demo 5000)")
	if code, ok := c.parse(fs, args); !ok {
		return code
	}
	if *logFormat != "text" && *logFormat != "json" {
		return c.usageError("-log-format must be text or json, not %q", *logFormat)
	}
	if !strings.HasPrefix(*path, "/") {
		return c.usageError("-path must start with /")
	}
	if *demo < 200 {
		return c.usageError("-demo must be at least 200: the printed examples use customers 191 to 193")
	}
	given, err := dbf.check()
	if err != nil {
		return c.usageError("%v", err)
	}

	var logger *slog.Logger
	if *logFormat == "json" {
		logger = slog.New(slog.NewJSONHandler(c.stderr, nil))
	} else {
		logger = slog.New(slog.NewTextHandler(c.stderr, nil))
	}

	keys := map[string]string{}
	if *keysFile != "" {
		if keys, err = readKeys(*keysFile); err != nil {
			return c.usageError("%v", err)
		}
	} else {
		keys["offerit_admin"] = "fk_" + strings.ToLower(rand.Text())
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	where := ""
	if !given {
		dbf.db = demoPath()
		n, err := prepareDemo(ctx, dbf.db, *demo)
		if err != nil {
			return c.failure("demo database: %v", err)
		}
		where = fmt.Sprintf("demo SQLite database %s (%d customers)", dbf.db, n)
	} else if dbf.db != "" {
		where = "SQLite database " + dbf.db
	} else {
		where = "database " + redactDSN(dbf.dsn)
	}
	db, store, err := dbf.open(ctx)
	if err != nil {
		return c.failure("%v", err)
	}
	defer db.Close()
	f, err := forget.New(store, forget.WithLogger(logger))
	if err != nil {
		return c.usageError("%v", err) // the mapping does not fit the catalogue
	}
	kt, err := forget.NewKeyTable(keys)
	if err != nil {
		return c.failure("%v", err)
	}
	h, err := forget.NewHandler(f, kt)
	if err != nil {
		return c.failure("%v", err)
	}
	mux := http.NewServeMux()
	mux.Handle(*path, h)

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return c.failure("listen: %v", err)
	}
	srv := newHTTPServer(accessLog(logger, mux), logger, defaultTimeouts)
	url := "http://" + ln.Addr().String() + *path
	c.banner(url, where, keys, *keysFile == "")

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return c.failure("serve: %v", err)
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return c.failure("shutdown: %v", err)
	}
	if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return c.failure("serve: %v", err)
	}
	return exitOK
}

// banner prints where the server listens, the key, and curl lines that
// work as printed.
func (c *cli) banner(url, where string, keys map[string]string, generated bool) {
	w := c.stdout
	fmt.Fprintf(w, "forget is serving PATCH %s\n", url)
	fmt.Fprintf(w, "over the %s\n", where)
	if !generated {
		fmt.Fprintf(w, "with %d API key(s) from the keys file\n", len(keys))
		return
	}
	key := keys["offerit_admin"]
	fmt.Fprintf(w, "\napi-username: offerit_admin\napi-key:      %s\n\n", key)
	auth := fmt.Sprintf("-H 'api-username: offerit_admin' -H 'api-key: %s'", key)
	fmt.Fprintf(w, "Forget customer 191, as in Offerit's documentation (answers true):\n  curl -X PATCH %s %s -d customer_id=191\n\n", url, auth)
	fmt.Fprintf(w, "Forget the customer of subscription 1921, keeping the first name and notes:\n  curl -X PATCH %s %s -d subscription_id=1921 -d keep=firstname,member_note\n\n", url, auth)
	fmt.Fprintf(w, "Preview what forgetting the customer of order 19301 would erase (answers a receipt):\n  curl -X PATCH %s %s -d orderid=19301 -d dry_run=1\n\n", url, auth)
	fmt.Fprintf(w, "Press Ctrl-C to stop.\n")
}

// prepareDemo creates the demo database with n customers, or reuses it.
func prepareDemo(ctx context.Context, path string, n int) (int, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return 0, err
	}
	db, err := openSQLite(path)
	if err != nil {
		return 0, err
	}
	defer db.Close()
	if err := sqlstore.CreateSchema(ctx, db, sqlstore.SQLite); err != nil {
		return 0, err
	}
	have, err := countCustomers(ctx, db)
	if err != nil {
		return 0, err
	}
	if have > 0 {
		return have, nil
	}
	if err := seedDemo(ctx, db, sqlstore.SQLite, n); err != nil {
		return 0, err
	}
	return n, nil
}

// readKeys reads username:key lines; # starts a comment. A malformed line
// is an error naming its number, never its content (it may hold a key).
func readKeys(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("-keys: %w", err)
	}
	defer f.Close()
	return parseKeys(f, path)
}

func parseKeys(r io.Reader, name string) (map[string]string, error) {
	keys := make(map[string]string)
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		user, key, ok := strings.Cut(line, ":")
		user, key = strings.TrimSpace(user), strings.TrimSpace(key)
		if !ok || user == "" || key == "" {
			return nil, fmt.Errorf("-keys %s line %d: want username:key", name, n)
		}
		if _, dup := keys[user]; dup {
			return nil, fmt.Errorf("-keys %s line %d: username %q appears twice", name, n, user)
		}
		keys[user] = key
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("-keys %s: %w", name, err)
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("-keys %s: no keys", name)
	}
	return keys, nil
}

// redactDSN hides a DSN's password for printing.
func redactDSN(dsn string) string {
	if i := strings.Index(dsn, "://"); i >= 0 {
		if at := strings.LastIndex(dsn, "@"); at > i {
			if colon := strings.Index(dsn[i+3:at], ":"); colon >= 0 {
				return dsn[:i+3+colon] + ":***" + dsn[at:]
			}
		}
	}
	return dsn
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
			slog.String("path", r.URL.Path),
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

func (s *statusRecorder) Write(p []byte) (int, error) {
	n, err := s.ResponseWriter.Write(p)
	s.bytes += n
	return n, err
}
