package main

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/forgetkit/forget"
)

type pingFunc func(ctx context.Context) error

func (f pingFunc) PingContext(ctx context.Context) error { return f(ctx) }

func get(t *testing.T, h http.Handler, method, target string) (int, string, http.Header) {
	t.Helper()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(method, target, nil))
	return w.Code, w.Body.String(), w.Header()
}

// TestAdminHealthz: /healthz answers ok while the database answers its
// ping, and a bare 503 when it does not or is too slow: never the DSN or
// the driver's error, which go to the log.
func TestAdminHealthz(t *testing.T) {
	t.Parallel()
	const dsnInError = "dial tcp db.internal:5432 for postgres://app:Sup3rS3cret@db.internal/app: connection refused"
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	var deadline time.Duration
	cases := []struct {
		name   string
		ping   pingFunc
		status int
		body   string
	}{
		{"Up", func(context.Context) error { return nil }, 200, "ok\n"},
		{"Down", func(context.Context) error { return errors.New(dsnInError) }, 503, "unavailable\n"},
		{"Slow", func(ctx context.Context) error {
			d, _ := ctx.Deadline()
			deadline = time.Until(d)
			<-ctx.Done()
			return ctx.Err()
		}, 503, "unavailable\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := adminMux(prometheus.NewRegistry(), tc.ping, logger)
			for _, method := range []string{"GET", "HEAD"} {
				status, body, hdr := get(t, h, method, "/healthz")
				if method == "HEAD" {
					body = tc.body // no body is written for HEAD by a real server; the recorder keeps it
				}
				if status != tc.status || body != tc.body || hdr.Get("Cache-Control") != "no-store" {
					t.Errorf("%s /healthz: %d %q %v, want %d %q", method, status, body, hdr, tc.status, tc.body)
				}
				if strings.Contains(body, "Sup3rS3cret") || strings.Contains(body, "db.internal") {
					t.Errorf("the answer holds the error: %q", body)
				}
			}
		})
	}
	if deadline <= 0 || deadline > healthTimeout {
		t.Errorf("the ping's deadline was %v away, want at most %v", deadline, healthTimeout)
	}
	if !strings.Contains(logs.String(), "healthz: the database did not answer") {
		t.Errorf("the failure is not logged:\n%s", logs.String())
	}
}

// TestAdminRoutes: only GET (and HEAD) of /metrics and /healthz are
// served; the metrics are the registry's.
func TestAdminRoutes(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "forget_test_total", Help: "test"})
	reg.MustRegister(c)
	c.Add(3)
	h := adminMux(reg, pingFunc(func(context.Context) error { return nil }), slog.New(slog.DiscardHandler))
	if status, body, _ := get(t, h, "GET", "/metrics"); status != 200 || !strings.Contains(body, "forget_test_total 3") {
		t.Errorf("GET /metrics: %d %s", status, body)
	}
	for _, tc := range []struct{ method, target string }{
		{"POST", "/metrics"}, {"PATCH", "/healthz"}, {"DELETE", "/healthz"},
	} {
		if status, _, _ := get(t, h, tc.method, tc.target); status != http.StatusMethodNotAllowed {
			t.Errorf("%s %s: %d, want 405", tc.method, tc.target, status)
		}
	}
	for _, target := range []string{"/", "/api/customer/forget", "/debug/pprof/", "/metrics/x", "/healthz/x"} {
		if status, _, _ := get(t, h, "GET", target); status != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", target, status)
		}
	}
}

// TestAdminConcurrentScrapes: scrapes and probes at once (run with
// -race).
func TestAdminConcurrentScrapes(t *testing.T) {
	t.Parallel()
	adm, err := newAdmin("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h := adminMux(adm.reg, pingFunc(func(context.Context) error { return nil }), slog.New(slog.DiscardHandler))
	srv := httptest.NewServer(h)
	defer srv.Close()
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			path := []string{"/metrics", "/healthz"}[i%2]
			res, err := http.Get(srv.URL + path)
			if err != nil {
				t.Error(err)
				return
			}
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			// More scrapes at once than promhttp allows are a 503.
			if res.StatusCode != 200 && (path != "/metrics" || res.StatusCode != 503) {
				t.Errorf("GET %s: %d", path, res.StatusCode)
			}
		})
	}
	wg.Wait()
}

// The planted customer: every value, id and key distinctive, so that a
// metric that showed one would be found.
const (
	plantedID, plantedSub, plantedOrder = "8642097531", "9753186420", "7531864209"
	plantedUser, plantedKey, plantedRID = "zq_operator_8812", "zq-key-0123456789abcdef", "zq-req-6612"
)

var plantedValues = []string{plantedID, plantedSub, plantedOrder, plantedUser, plantedKey, plantedRID,
	"zqplant_user_5531", "Zebulonia", "555-7391-zq", "zq-note-4471", "zq-secret-9917"}

// plantedDB makes a demo database (customers 1 to 200) with the planted
// customer too, and a keys file with the planted key.
func plantedDB(t *testing.T) (path, keys string, db *sql.DB) {
	t.Helper()
	dir := t.TempDir()
	path = filepath.Join(dir, "app.db")
	if _, err := presets[0].create(context.Background(), path, 200); err != nil {
		t.Fatal(err)
	}
	db, err := openSQLite(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	for _, q := range []string{
		"INSERT INTO customers (customer_id, username, firstname, phone) VALUES (" + plantedID + ", 'zqplant_user_5531', 'Zebulonia', '555-7391-zq')",
		"INSERT INTO subscriptions (subscription_id, customer_id, status) VALUES (" + plantedSub + ", " + plantedID + ", 'active')",
		"INSERT INTO transactions (orderid, customer_id, amount_cents) VALUES (" + plantedOrder + ", " + plantedID + ", 100)",
		"INSERT INTO member_note (customer_id, note) VALUES (" + plantedID + ", 'zq-note-4471')",
		"INSERT INTO member_auth (customer_id, kind, secret) VALUES (" + plantedID + ", 'totp', 'zq-secret-9917')",
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	keys = filepath.Join(dir, "keys")
	if err := os.WriteFile(keys, []byte(plantedUser+":"+plantedKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path, keys, db
}

// checkPlantedMetrics sends forgets of every outcome to apiURL (a failure
// too: a table dropped under the server), then reads adminURL's
// /healthz and /metrics: the forgets are counted, and no planted string
// is there.
func checkPlantedMetrics(t *testing.T, apiURL, adminURL string, db *sql.DB) {
	t.Helper()
	forgetReq := func(body string) int {
		t.Helper()
		req, _ := http.NewRequest("PATCH", apiURL, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("api-username", plantedUser)
		req.Header.Set("api-key", plantedKey)
		req.Header.Set(forget.HeaderRequestID, plantedRID)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res.StatusCode
	}
	for _, tc := range []struct {
		body   string
		status int
	}{
		{"customer_id=" + plantedID + "&dry_run=1", 200},
		{"customer_id=" + plantedID + "&subscription_id=1921", 409},
		{"customer_id=" + plantedID + "&keep=zqplant_user_5531", 400},
		{"customer_id=" + plantedID + "&keep=firstname", 200},
		{"customer_id=8642097532", 404},
	} {
		if s := forgetReq(tc.body); s != tc.status {
			t.Errorf("%s: %d, want %d", tc.body, s, tc.status)
		}
	}
	if _, err := db.Exec("DROP TABLE member_note"); err != nil {
		t.Fatal(err)
	}
	if s := forgetReq("customer_id=193"); s != 500 {
		t.Errorf("forget without member_note: %d, want 500", s)
	}

	res, err := http.Get(adminURL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || string(body) != "ok\n" {
		t.Errorf("/healthz: %d %q", res.StatusCode, body)
	}
	res, err = http.Get(adminURL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(res.Body)
	res.Body.Close()
	metrics := string(body)
	for _, want := range []string{
		`forget_requests_total{code="",outcome="forgotten"} 1`,
		`forget_requests_total{code="",outcome="dry_run"} 1`,
		`forget_requests_total{code="conflict",outcome="refused"} 1`,
		`forget_requests_total{code="invalid",outcome="refused"} 1`,
		`forget_requests_total{code="not_found",outcome="refused"} 1`,
		`forget_requests_total{code="internal",outcome="failed"} 1`,
		`forget_rows_total{action="deleted",table="member_note"} 1`,
		`forget_rows_total{action="deleted",table="member_auth"} 1`,
		`go_sql_open_connections{db_name="forget"}`,
		`process_start_time_seconds`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	for _, v := range plantedValues {
		if strings.Contains(metrics, v) {
			t.Errorf("/metrics holds the planted %q", v)
		}
	}
	if t.Failed() {
		t.Logf("/metrics:\n%s", metrics)
	}
}

// TestAdminMetricsHoldNoCustomerValues builds what serve -admin-addr
// builds, in process: the Forgetter over SQLite fed to the admin's
// registry, the API on one listener and the admin on another.
func TestAdminMetricsHoldNoCustomerValues(t *testing.T) {
	t.Parallel()
	path, keysFile, db := plantedDB(t)
	var stderr syncBuffer
	c := &cli{stdout: io.Discard, stderr: &stderr}
	fs := c.command("serve", serveUsage)
	dbf := fs.database(true)
	if err := fs.parse([]string{"-db", path}); err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(&stderr, nil))
	adm, err := newAdmin("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	o, err := c.openForgetter(ctx, dbf, logger, adm.options()...)
	if err != nil {
		t.Fatal(err)
	}
	defer o.close()
	adminURL, err := adm.listen(o.db, logger)
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go adm.serve(served)
	keys, err := readKeys(keysFile)
	if err != nil {
		t.Fatal(err)
	}
	h, err := forget.NewHandler(o.f, keys)
	if err != nil {
		t.Fatal(err)
	}
	api := httptest.NewServer(h)
	defer api.Close()

	checkPlantedMetrics(t, api.URL, adminURL, db)
	// The log names customers, principals and request ids; never a key
	// or a value.
	for _, v := range append([]string{plantedKey}, plantedValues[6:]...) {
		if strings.Contains(stderr.String(), v) {
			t.Errorf("the log holds %q", v)
		}
	}

	if err := adm.shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		t.Errorf("admin Serve: %v", err)
	}
	if _, err := http.Get(adminURL + "/healthz"); err == nil {
		t.Error("the admin server answers after shutdown")
	}
}

// TestServeAdminAddr runs forget serve -admin-addr 127.0.0.1:0: the
// banner names the admin address, /metrics there counts the forgets and
// holds none of the planted strings, the API's address serves no
// metrics, and Ctrl-C stops both servers.
func TestServeAdminAddr(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("runs the built command")
	}
	path, keys, db := plantedDB(t)
	srv := startServe(t, exec.Command(buildForget(t), "serve", "-db", path, "-keys", keys, "-addr", "127.0.0.1:0", "-admin-addr", "127.0.0.1:0"),
		func(line string) bool { return strings.HasPrefix(line, "metrics at ") })
	apiURL, adminURL := bannerURLs(srv.banner)
	stderr := srv.stderr
	if apiURL == "" || adminURL == "" {
		t.Fatalf("no API or admin address in the banner:\n%s\nstderr:\n%s", srv.banner, stderr.String())
	}
	checkPlantedMetrics(t, apiURL, adminURL, db)
	if res, err := http.Get(strings.TrimSuffix(apiURL, "/api/customer/forget") + "/metrics"); err != nil || res.StatusCode != 404 {
		t.Errorf("the API's address answers /metrics: %v %v", res, err)
	}
	if err := srv.stop(); err != nil {
		t.Errorf("serve exited with %v:\n%s", err, stderr.String())
	}
	if _, err := http.Get(adminURL + "/healthz"); err == nil {
		t.Error("the admin server outlived serve")
	}
	if strings.Contains(stderr.String(), plantedKey) {
		t.Errorf("the log holds the key:\n%s", stderr.String())
	}
}

// TestServeAuthLimitMetrics: serve -auth-burst and -auth-refill limit
// failed authentications from one address, answer 429 with Retry-After,
// log each failure with the username tried and never the key, and count
// failures and the 415 in -admin-addr's /metrics.
func TestServeAuthLimitMetrics(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the built command")
	}
	path, keys, _ := plantedDB(t)
	srv := startServe(t, exec.Command(buildForget(t), "serve", "-db", path, "-keys", keys, "-addr", "127.0.0.1:0", "-admin-addr", "127.0.0.1:0",
		"-auth-burst", "3", "-auth-refill", "1m", "-log-format", "json"),
		func(line string) bool { return strings.HasPrefix(line, "metrics at ") })
	apiURL, adminURL := bannerURLs(srv.banner)
	if apiURL == "" || adminURL == "" {
		t.Fatalf("no API or admin address in the banner:\n%s", srv.banner)
	}
	const wrongKey = "zq-wrong-key-never-logged-77"
	send := func(contentType, user, key string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest("PATCH", apiURL, strings.NewReader("customer_id=191&dry_run=1"))
		req.Header.Set("Content-Type", contentType)
		req.Header.Set("api-username", user)
		req.Header.Set("api-key", key)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res
	}
	form := "application/x-www-form-urlencoded"
	if res := send(form, plantedUser, plantedKey); res.StatusCode != 200 {
		t.Fatalf("the right key: %d", res.StatusCode)
	}
	if res := send("text/plain", plantedUser, plantedKey); res.StatusCode != 415 {
		t.Errorf("text/plain: %d, want 415", res.StatusCode)
	}
	for i, user := range []string{plantedUser, "zq_nobodé", plantedUser} {
		if res := send(form, user, wrongKey); res.StatusCode != 401 {
			t.Errorf("wrong key %d: %d, want 401", i, res.StatusCode)
		}
	}
	res := send(form, plantedUser, plantedKey)
	if res.StatusCode != 429 || res.Header.Get("Retry-After") != "60" {
		t.Errorf("past the burst: %d, Retry-After %q; want 429 and 60 (-auth-refill 1m)", res.StatusCode, res.Header.Get("Retry-After"))
	}

	res, err := http.Get(adminURL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	for _, want := range []string{
		`forget_auth_failures_total{reason="wrong_key"} 2`,
		`forget_auth_failures_total{reason="unknown_user"} 1`,
		`forget_auth_failures_total{reason="limited"} 1`,
		`forget_auth_failures_total{reason="missing_credentials"} 0`,
		`forget_http_refusals_total{code="unsupported_media_type"} 1`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %s:\n%s", want, grepLines(string(body), "forget_auth_failures_total", "forget_http_refusals_total"))
		}
	}
	if err := srv.stop(); err != nil {
		t.Errorf("serve exited with %v:\n%s", err, srv.stderr.String())
	}
	logs := srv.stderr.String()
	if strings.Contains(logs, wrongKey) || strings.Contains(logs, plantedKey) {
		t.Errorf("the log holds a key:\n%s", logs)
	}
	if !strings.Contains(logs, `"msg":"forget: authentication failed","reason":"unknown_user","username":"zq_nobod\\u00e9"`) {
		t.Errorf("the unknown username's failure is not logged, escaped:\n%s", logs)
	}
}

// grepLines returns the lines of s that start with one of prefixes.
func grepLines(s string, prefixes ...string) string {
	var b strings.Builder
	for line := range strings.Lines(s) {
		for _, p := range prefixes {
			if strings.HasPrefix(line, p) {
				b.WriteString(line)
			}
		}
	}
	return b.String()
}

// bannerURLs reads the API's and the admin server's URLs from serve's
// banner.
func bannerURLs(banner string) (apiURL, adminURL string) {
	for _, line := range strings.Split(banner, "\n") {
		if u, ok := strings.CutPrefix(line, "forget is serving PATCH "); ok {
			apiURL = u
		}
		if u, ok := strings.CutPrefix(line, "metrics at "); ok {
			adminURL = strings.TrimSuffix(strings.Fields(u)[0], "/metrics,")
		}
	}
	return apiURL, adminURL
}
