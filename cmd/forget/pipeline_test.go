package main

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/forgetkit/forget"
	"github.com/forgetkit/forget/propagate"
	"github.com/forgetkit/forget/store/sqlstore"
)

// TestAdminReadyz: /readyz answers ok while every check does, and a bare
// 503 naming nothing when one fails; /healthz without a database is
// liveness alone, ok however the checks fare.
func TestAdminReadyz(t *testing.T) {
	t.Parallel()
	const secretInError = "nats: dial tcp nats.internal:4222 for nats://app:Sup3rS3cret@nats.internal"
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	up := readyCheck{"database", func(context.Context) error { return nil }}
	down := readyCheck{"broker", func(context.Context) error { return errors.New(secretInError) }}
	for _, tc := range []struct {
		name   string
		checks []readyCheck
		status int
		body   string
	}{
		{"None", nil, 200, "ok\n"},
		{"Up", []readyCheck{up}, 200, "ok\n"},
		{"BrokerDown", []readyCheck{up, down}, 503, "unavailable\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := adminMux(prometheus.NewRegistry(), nil, logger, tc.checks...)
			status, body, hdr := get(t, h, "GET", "/readyz")
			if status != tc.status || body != tc.body || hdr.Get("Cache-Control") != "no-store" {
				t.Errorf("/readyz: %d %q %v, want %d %q", status, body, hdr, tc.status, tc.body)
			}
			if status, body, _ := get(t, h, "GET", "/healthz"); status != 200 || body != "ok\n" {
				t.Errorf("/healthz without a database: %d %q, want 200 ok", status, body)
			}
			if status, _, _ := get(t, h, "POST", "/readyz"); status != http.StatusMethodNotAllowed {
				t.Errorf("POST /readyz: %d, want 405", status)
			}
		})
	}
	if !strings.Contains(logs.String(), "readyz: the broker did not answer") {
		t.Errorf("the failure is not logged:\n%s", logs.String())
	}
}

// adminGet GETs url and returns the status and body; 0 when nothing
// answers.
func adminGet(url string) (int, string) {
	c := http.Client{Timeout: 3 * time.Second}
	res, err := c.Get(url)
	if err != nil {
		return 0, ""
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// metricValue returns the value of the series line that starts with
// series (name and labels) in a /metrics text, or -1.
func metricValue(text, series string) float64 {
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`).FindStringSubmatch(text)
	if m == nil {
		return -1
	}
	v, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return -1
	}
	return v
}

// startAdminProcess starts cmd, whose -admin-addr is addr, and waits for
// its /readyz to answer ok. The process is interrupted when the test
// ends.
func startAdminProcess(t *testing.T, cmd *exec.Cmd, base string) *syncBuffer {
	t.Helper()
	logs := new(syncBuffer)
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		var metrics string
		if t.Failed() {
			_, metrics = adminGet(base + "/metrics")
		}
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
		if t.Failed() {
			t.Logf("%s's output:\n%s\nits metrics:\n%s", cmd.Args[1], logs.String(), metrics)
		}
	})
	waitUntil(t, 20*time.Second, "/readyz ok", func() bool {
		status, _ := adminGet(base + "/readyz")
		return status == 200
	})
	return logs
}

// checkReadyFails kills the broker and checks that /readyz fails within
// 5 seconds while /healthz stays ok.
func checkReadyFails(t *testing.T, ns *testNATS, base string, logs *syncBuffer) {
	t.Helper()
	killed := time.Now()
	ns.kill()
	for {
		status, _ := adminGet(base + "/readyz")
		if status == http.StatusServiceUnavailable {
			break
		}
		if time.Since(killed) > 5*time.Second {
			t.Fatalf("/readyz still answers %d 5s after the broker died\n%s", status, logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("/readyz failed %s after the broker died", time.Since(killed).Round(time.Millisecond))
	if status, body := adminGet(base + "/healthz"); status != 200 || body != "ok\n" {
		t.Errorf("/healthz with the broker down: %d %q, want 200 ok: liveness is not readiness", status, body)
	}
}

// TestRelayAdminMetrics: forget relay -admin-addr serves the outbox
// gauges, /healthz and /readyz; /readyz fails within 5 s of the broker's
// death, and the backlog the relay cannot publish then shows in the
// gauges.
func TestRelayAdminMetrics(t *testing.T) {
	t.Parallel()
	bin := buildForget(t)
	ns := startTestNATS(t)
	path, db := crashDB(t, bin, 3)
	base := "http://127.0.0.1:" + strconv.Itoa(freePort(t))
	cmd := exec.Command(bin, "relay", "-db", path, "-nats", ns.url(), "-admin-addr", strings.TrimPrefix(base, "http://"))
	logs := startAdminProcess(t, cmd, base)
	waitUntil(t, 10*time.Second, "the relay's first backlog", func() bool {
		_, text := adminGet(base + "/metrics")
		return metricValue(text, "forget_outbox_pending") == 0 && metricValue(text, "forget_outbox_oldest_age_seconds") == 0
	})
	checkReadyFails(t, ns, base, logs)

	_, f := auditedForgetter(t, db)
	for _, id := range []string{"1", "2", "3"} {
		if _, err := f.Forget(t.Context(), forget.Request{Lookup: forget.Lookup{CustomerID: id}}); err != nil {
			t.Fatal(err)
		}
	}
	var text string
	waitUntil(t, 10*time.Second, "3 events pending, the oldest aging", func() bool {
		_, text = adminGet(base + "/metrics")
		return metricValue(text, "forget_outbox_pending") == 3 && metricValue(text, "forget_outbox_oldest_age_seconds") > 0
	})
	for _, name := range []string{"forget_relay_published_total", "forget_relay_failures_total"} {
		if metricValue(text, name) < 0 {
			t.Errorf("/metrics has no %s:\n%s", name, text)
		}
	}
}

// TestDeliverAdminMetrics: forget deliver -admin-addr counts deliveries
// by destination and outcome and the destination's parked events, and
// /readyz fails within 5 s of the broker's death.
func TestDeliverAdminMetrics(t *testing.T) {
	t.Parallel()
	bin := buildForget(t)
	ns := startTestNATS(t)
	_, db := crashDB(t, bin, 2)
	hook := newHookReceiver(t, 0)
	hook.mu.Lock()
	hook.fail = func(string) bool { return true }
	hook.mu.Unlock()
	base := "http://127.0.0.1:" + strconv.Itoa(freePort(t))
	cmd := exec.Command(bin, "deliver", "-nats", ns.url(), "-name", "crm", "-webhook", hook.srv.URL, "-secret-file", hook.secretFile(t),
		"-max-deliver", "2", "-backoff", "50ms", "-admin-addr", strings.TrimPrefix(base, "http://"))
	logs := startAdminProcess(t, cmd, base)
	_, text := adminGet(base + "/metrics")
	for _, series := range []string{`forget_deliveries_total{destination="crm",outcome="delivered"}`, `forget_deliveries_total{destination="crm",outcome="parked"}`, `forget_parked{destination="crm"}`} {
		if v := metricValue(text, series); v != 0 {
			t.Errorf("%s = %v before any event, want 0:\n%s", series, v, text)
		}
	}

	s, f := auditedForgetter(t, db)
	if _, err := f.Forget(t.Context(), forget.Request{Lookup: forget.Lookup{CustomerID: "1"}}); err != nil {
		t.Fatal(err)
	}
	r, err := propagate.NewRelay(s, ns.js(), propagate.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	if n, err := r.Drain(t.Context()); n != 1 || err != nil {
		t.Fatalf("Drain = %d, %v", n, err)
	}
	waitUntil(t, 30*time.Second, "the failing event parked and counted", func() bool {
		_, text = adminGet(base + "/metrics")
		// The parked copy is counted on the broker a moment before the
		// deliverer counts its park.
		return metricValue(text, `forget_parked{destination="crm"}`) == 1 &&
			metricValue(text, `forget_deliveries_total{destination="crm",outcome="parked"}`) == 1
	})
	if v := metricValue(text, `forget_deliveries_total{destination="crm",outcome="failed"}`); v != 2 {
		t.Errorf("failed deliveries = %v, want 2 (-max-deliver 2):\n%s", v, text)
	}
	if v := metricValue(text, `forget_deliveries_total{destination="crm",outcome="parked"}`); v != 1 {
		t.Errorf("parked deliveries = %v, want 1:\n%s", v, text)
	}
	checkReadyFails(t, ns, base, logs)
}

// TestServeReadyzBroker: serve -nats -admin-addr's /readyz fails within
// 5 s of the broker's death, while /healthz (the database's ping) stays
// ok: liveness is not readiness.
func TestServeReadyzBroker(t *testing.T) {
	t.Parallel()
	bin := buildForget(t)
	ns := startTestNATS(t)
	path, _ := crashDB(t, bin, 3)
	keys := filepath.Join(t.TempDir(), "keys")
	if err := os.WriteFile(keys, []byte("ops:"+strings.Repeat("k", 32)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	base := "http://127.0.0.1:" + strconv.Itoa(freePort(t))
	cmd := exec.Command(bin, "serve", "-db", path, "-keys", keys, "-addr", "127.0.0.1:0", "-nats", ns.url(), "-admin-addr", strings.TrimPrefix(base, "http://"))
	logs := startAdminProcess(t, cmd, base)
	waitUntil(t, 10*time.Second, "the in-process relay's backlog", func() bool {
		_, text := adminGet(base + "/metrics")
		return metricValue(text, "forget_outbox_pending") == 0
	})
	checkReadyFails(t, ns, base, logs)
}

// auditedForgetter forgets in db (SQLite) beside a running command,
// writing the audit trail the command relays.
func auditedForgetter(t *testing.T, db *sql.DB) (*sqlstore.Store, *forget.Forgetter) {
	t.Helper()
	s, err := sqlstore.New(db, sqlstore.SQLite, sqlstore.WithAudit(sqlstore.DefaultAuditTable))
	if err != nil {
		t.Fatal(err)
	}
	f, err := forget.New(s, forget.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	return s, f
}
