package forgetprom_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/expfmt"
	_ "modernc.org/sqlite"

	"github.com/forgetkit/forget"
	"github.com/forgetkit/forget/internal/observetest"
	forgetprom "github.com/forgetkit/forget/observe/prometheus"
	"github.com/forgetkit/forget/store/sqlstore"
)

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

func TestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	obs, err := forgetprom.New(reg)
	if err != nil {
		t.Fatal(err)
	}
	observetest.Observe(t, obs)

	want := requestsText(1, 1) + `# HELP forget_rows_total Rows of catalogue tables that committed forgets deleted or scrubbed.
# TYPE forget_rows_total counter
forget_rows_total{action="deleted",table="member_auth"} 0
forget_rows_total{action="deleted",table="member_note"} 1
# HELP forget_retries_total Transactions a store tried again after a deadlock, serialisation failure or busy lock; a batch's shared transaction counts once per forget in it.
# TYPE forget_retries_total counter
forget_retries_total 4
# HELP forget_hook_failures_total After-forget hooks that failed, by hook and reason (error, panic, timeout); the erasures stood.
# TYPE forget_hook_failures_total counter
forget_hook_failures_total{hook="crm",reason="error"} 1
# HELP forget_fields_erased_total Fields erased by committed forgets.
# TYPE forget_fields_erased_total counter
forget_fields_erased_total 22
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want),
		"forget_requests_total", "forget_rows_total", "forget_retries_total", "forget_hook_failures_total", "forget_fields_erased_total"); err != nil {
		t.Error(err)
	}
	if n, err := testutil.GatherAndCount(reg, "forget_duration_seconds"); err != nil || n != 4 {
		t.Errorf("%d duration series, want one per outcome", n)
	}
	noPlanted(t, reg)
}

// requestsText is forget_requests_total's exposition after rounds of
// observetest.Run, and failed of each failure (canceled, internal).
func requestsText(rounds, failed int) string {
	return fmt.Sprintf(`
# HELP forget_requests_total Forgets by outcome (forgotten, dry_run, refused, failed) and error code.
# TYPE forget_requests_total counter
forget_requests_total{code="",outcome="dry_run"} %[1]d
forget_requests_total{code="",outcome="forgotten"} %[1]d
forget_requests_total{code="canceled",outcome="failed"} %[2]d
forget_requests_total{code="conflict",outcome="refused"} %[1]d
forget_requests_total{code="held",outcome="refused"} %[1]d
forget_requests_total{code="internal",outcome="failed"} %[2]d
forget_requests_total{code="invalid",outcome="refused"} %[1]d
forget_requests_total{code="not_found",outcome="refused"} %[1]d
`, rounds, failed)
}

// noPlanted fails when the exposition holds any planted value.
func noPlanted(t *testing.T, g prometheus.Gatherer) {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	enc := expfmt.NewEncoder(&buf, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range mfs {
		if err := enc.Encode(mf); err != nil {
			t.Fatal(err)
		}
	}
	for _, v := range observetest.Planted {
		if strings.Contains(buf.String(), v) {
			t.Errorf("the metrics hold %q:\n%s", v, buf.String())
		}
	}
}

func TestNewRefusesBadConfiguration(t *testing.T) {
	t.Parallel()
	if _, err := forgetprom.New(nil); err == nil {
		t.Error("nil registerer accepted")
	}
	for _, b := range [][]float64{{}, {1, 1}, {2, 1}, {0.1, nan()}} {
		reg := prometheus.NewRegistry()
		if _, err := forgetprom.New(reg, forgetprom.WithBuckets(b)); err == nil {
			t.Errorf("buckets %v accepted", b)
		}
		if mfs, _ := reg.Gather(); len(mfs) != 0 {
			t.Errorf("buckets %v: a refused New registered %d metrics", b, len(mfs))
		}
	}
	reg := prometheus.NewRegistry()
	if _, err := forgetprom.New(reg); err != nil {
		t.Fatal(err)
	}
	_, err := forgetprom.New(reg)
	if are := (prometheus.AlreadyRegisteredError{}); !errors.As(err, &are) || !strings.Contains(err.Error(), "WrapRegistererWith") {
		t.Errorf("second New on one registry: %v", err)
	}
	// Two Forgetters on one registry, each wrapped with a label.
	shared := prometheus.NewRegistry()
	for _, name := range []string{"eu", "us"} {
		if _, err := forgetprom.New(prometheus.WrapRegistererWith(prometheus.Labels{"forgetter": name}, shared)); err != nil {
			t.Errorf("wrapped registerer %s: %v", name, err)
		}
	}
	custom := prometheus.NewRegistry()
	if _, err := forgetprom.New(custom, forgetprom.WithBuckets([]float64{0.001, 0.01})); err != nil {
		t.Fatal(err)
	}
}

func nan() float64 { var z float64; return z / z }

// TestHostileStats: a caller may hand ForgetDone anything; labels that
// Prometheus refuses and negative counts are dropped, never a panic.
func TestHostileStats(t *testing.T) {
	reg := prometheus.NewRegistry()
	obs, err := forgetprom.New(reg)
	if err != nil {
		t.Fatal(err)
	}
	obs.ForgetDone(context.Background(), forget.ForgetStats{
		Outcome: forget.OutcomeForgotten, Duration: -time.Second, Attempts: -4, FieldsErased: -1,
		Tables:       []forget.TableRows{{Table: "t\xff", Rows: 3}, {Table: "member_note", Rows: -5}},
		HookFailures: []forget.HookFailure{{Hook: "bad\xffname", Reason: forget.HookError}},
	})
	if got := value(t, reg, "forget_retries_total"); got != 0 {
		t.Errorf("negative attempts counted %v retries", got)
	}
	if got := value(t, reg, "forget_fields_erased_total"); got != 0 {
		t.Errorf("negative fields counted %v", got)
	}
}

// TestConcurrent: many forgets at once on one observer (run with -race).
func TestConcurrent(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	obs, err := forgetprom.New(reg)
	if err != nil {
		t.Fatal(err)
	}
	observetest.ObserveConcurrently(t, obs, 8)
	if err := testutil.GatherAndCompare(reg, strings.NewReader(requestsText(8, 0)), "forget_requests_total"); err != nil {
		t.Error(err)
	}
}

// TestSQLiteRetries: the SQL store reports its attempts. While another
// connection holds SQLite's write lock (and no busy timeout waits for
// it), every attempt is refused busy: the forget, and a batch of one,
// fail after all three, and two retries each are counted. Once the lock is gone, a forget takes one
// attempt and counts none.
func TestSQLiteRetries(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "app.db")
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	if err := sqlstore.CreateSchema(ctx, db, sqlstore.SQLite); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO customers (customer_id, username, firstname) VALUES (777002, 'zq-user-7731', 'Zebulon')`); err != nil {
		t.Fatal(err)
	}
	st, err := sqlstore.New(db, sqlstore.SQLite, sqlstore.WithAttempts(3))
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	obs, err := forgetprom.New(reg)
	if err != nil {
		t.Fatal(err)
	}
	f, err := forget.New(st, forget.WithLogger(quiet()), forget.WithObserver(obs))
	if err != nil {
		t.Fatal(err)
	}

	locker, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := locker.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: "777002"}}); err == nil {
		t.Fatal("the forget ran while another connection held the write lock")
	}
	if got := value(t, reg, "forget_retries_total"); got != 2 {
		t.Errorf("forget_retries_total = %v after three busy attempts, want 2", got)
	}
	// A batch of one takes the per-customer batch path, which counts too.
	if out := f.ForgetBatch(ctx, []forget.Request{{Lookup: forget.Lookup{CustomerID: "777002"}}}); out[0].Err == nil {
		t.Fatal("the batch ran while another connection held the write lock")
	}
	if got := value(t, reg, "forget_retries_total"); got != 4 {
		t.Errorf("forget_retries_total = %v after a batch's three busy attempts, want 4", got)
	}
	locker.ExecContext(ctx, "ROLLBACK")
	locker.Close()

	if _, err := f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: "777002"}}); err != nil {
		t.Fatal(err)
	}
	if got := value(t, reg, "forget_retries_total"); got != 4 {
		t.Errorf("forget_retries_total = %v after a first-try forget, want still 4", got)
	}
	if err := testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP forget_rows_total Rows of catalogue tables that committed forgets deleted or scrubbed.
# TYPE forget_rows_total counter
forget_rows_total{action="deleted",table="member_auth"} 0
forget_rows_total{action="deleted",table="member_note"} 0
`), "forget_rows_total"); err != nil {
		t.Error(err)
	}
	noPlanted(t, reg)
}

// value returns the value of the counter name in reg, which has no labels.
func value(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			return mf.GetMetric()[0].GetCounter().GetValue()
		}
	}
	t.Fatalf("no %s", name)
	return 0
}

// TestHandlerRefusals: a Handler built on a Forgetter with the observer
// counts failed authentications by reason, the limiter's 429s among
// them, and the 405, 413 and 415 it answers without a forget.
func TestHandlerRefusals(t *testing.T) {
	reg := prometheus.NewRegistry()
	obs, err := forgetprom.New(reg)
	if err != nil {
		t.Fatal(err)
	}
	f, err := forget.New(observetest.Store(t), forget.WithObserver(obs), forget.WithLogger(quiet()))
	if err != nil {
		t.Fatal(err)
	}
	keys, err := forget.NewAPIKeys(map[string]string{"offerit_admin": "key-for-the-metrics-test"})
	if err != nil {
		t.Fatal(err)
	}
	h, err := forget.NewHandler(f, keys, forget.WithAuthLimit(forget.AuthLimit{Burst: 3, Refill: time.Hour}))
	if err != nil {
		t.Fatal(err)
	}
	send := func(method, contentType, body, user, key string) {
		req := httptest.NewRequest(method, "/", strings.NewReader(body))
		req.Header.Set("Content-Type", contentType)
		req.Header.Set("api-username", user)
		req.Header.Set("api-key", key)
		h.ServeHTTP(httptest.NewRecorder(), req)
	}
	form := "application/x-www-form-urlencoded"
	send("PATCH", form, "customer_id=101", "", "")
	send("PATCH", form, "customer_id=101", "mallory", "some-wrong-key-0123")
	send("PATCH", form, "customer_id=101", "offerit_admin", "some-wrong-key-0123")
	send("PATCH", form, "customer_id=101", "offerit_admin", "key-for-the-metrics-test") // limited: the burst is spent
	send("GET", "", "", "offerit_admin", "key-for-the-metrics-test")                    // 405 comes first
	want := `
# HELP forget_auth_failures_total Failed authentications, by reason (missing_credentials, unknown_user, wrong_key, rejected, limited: answered 429 without comparing the key).
# TYPE forget_auth_failures_total counter
forget_auth_failures_total{reason="limited"} 1
forget_auth_failures_total{reason="missing_credentials"} 1
forget_auth_failures_total{reason="rejected"} 0
forget_auth_failures_total{reason="unknown_user"} 1
forget_auth_failures_total{reason="wrong_key"} 1
# HELP forget_http_refusals_total Requests the handler refused without a forget, authentication aside, by code (invalid, method_not_allowed, too_large, unsupported_media_type).
# TYPE forget_http_refusals_total counter
forget_http_refusals_total{code="invalid"} 0
forget_http_refusals_total{code="method_not_allowed"} 1
forget_http_refusals_total{code="too_large"} 0
forget_http_refusals_total{code="unsupported_media_type"} 0
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "forget_auth_failures_total", "forget_http_refusals_total"); err != nil {
		t.Error(err)
	}

	// A client the limiter has not met: its refusals after authentication.
	fresh, err := forget.NewHandler(f, keys)
	if err != nil {
		t.Fatal(err)
	}
	h = fresh
	send("PATCH", "text/plain", "customer_id=101", "offerit_admin", "key-for-the-metrics-test")
	send("PATCH", form, "keep="+strings.Repeat("x", forget.MaxBodyBytes), "offerit_admin", "key-for-the-metrics-test")
	send("PATCH", form, "customer_id=101&bogus=1", "offerit_admin", "key-for-the-metrics-test")
	want = `
# HELP forget_http_refusals_total Requests the handler refused without a forget, authentication aside, by code (invalid, method_not_allowed, too_large, unsupported_media_type).
# TYPE forget_http_refusals_total counter
forget_http_refusals_total{code="invalid"} 1
forget_http_refusals_total{code="method_not_allowed"} 1
forget_http_refusals_total{code="too_large"} 1
forget_http_refusals_total{code="unsupported_media_type"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "forget_http_refusals_total"); err != nil {
		t.Error(err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "forget_requests_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			if v := m.GetCounter().GetValue(); v != 0 {
				t.Errorf("forget_requests_total %v = %v: refusals before a forget are not forgets", m.GetLabel(), v)
			}
		}
	}
	noPlanted(t, reg)
}
