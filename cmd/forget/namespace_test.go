package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/forgetkit/forget/internal/outboxtest"
)

// TestNamespaceFlagRefused: every command that talks to NATS refuses a
// -namespace that cannot name streams, subjects and buckets, naming the
// flag, before it connects.
func TestNamespaceFlagRefused(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "app.db")
	if code := Main([]string{"init", "-db", db, "-demo", "200"}, strings.NewReader(""), io.Discard, io.Discard); code != 0 {
		t.Fatalf("init: %d", code)
	}
	t.Setenv(envNATS, "")
	nats := "nats://127.0.0.1:1"
	for _, bad := range []string{"Staging", "a.b", "st>", "-x", strings.Repeat("x", 33)} {
		for _, args := range [][]string{
			{"serve", "-db", db, "-nats", nats},
			{"relay", "-db", db, "-nats", nats},
			{"deliver", "-nats", nats, "-name", "crm", "-webhook", "http://x", "-secret-file", db},
			{"status", "-db", db, "-nats", nats, "-customer-id", "1"},
			{"redrive", "-nats", nats, "-name", "crm"},
		} {
			args = append(args, "-namespace", bad)
			var errOut strings.Builder
			code := Main(args, strings.NewReader(""), io.Discard, &errOut)
			if code != exitUsage || !strings.Contains(errOut.String(), "-namespace") {
				t.Errorf("%v: exit %d, stderr %q; want 2 and -namespace", args, code, errOut.String())
			}
		}
	}
}

// TestNamespaceCommands: relay, deliver, status and redrive with
// -namespace staging use FORGET-staging and its bucket; without it they
// see nothing of staging's.
func TestNamespaceCommands(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("runs the command as separate processes")
	}
	bin := buildForget(t)
	ns := startTestNATS(t)
	js := ns.js()
	path, db := crashDB(t, bin, 200)
	if out, err := exec.Command(bin, "run", "-db", path, "-customer-id", "191").CombinedOutput(); err != nil {
		t.Fatalf("run: %v\n%s", err, out)
	}
	run := func(args ...string) (string, int) {
		cmd := exec.Command(bin, args...)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return out.String(), ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return out.String(), 0
	}
	relay := exec.Command(bin, "relay", "-db", path, "-nats", ns.url(), "-namespace", "staging")
	if err := relay.Start(); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 30*time.Second, "the relay", func() bool { _, _, n := outboxtest.AuditEvents(t, db); return n == 0 })
	relay.Process.Signal(syscall.SIGTERM)
	relay.Wait()
	ctx := context.Background()
	if _, err := js.Stream(ctx, "FORGET"); !errors.Is(err, jetstream.ErrStreamNotFound) {
		t.Errorf("stream FORGET: %v, want not found: the relay ignored -namespace", err)
	}
	s, err := js.Stream(ctx, "FORGET-staging")
	if err != nil {
		t.Fatalf("stream FORGET-staging: %v", err)
	}
	if m, err := s.GetMsg(ctx, 1); err != nil || m.Subject != "staging.forget.erased.offerit" {
		t.Fatalf("FORGET-staging's first message: %v", err)
	}

	crm := newHookReceiver(t, 0)
	deliver := exec.Command(bin, "deliver", "-nats", ns.url(), "-namespace", "staging", "-name", "crm", "-webhook", crm.srv.URL, "-secret-file", crm.secretFile(t), "-backoff", "50ms")
	if err := deliver.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { deliver.Process.Signal(syscall.SIGTERM); deliver.Wait() }()
	all, _, _ := outboxtest.AuditEvents(t, db)
	waitUntil(t, 30*time.Second, "crm to get the event", func() bool { m, _ := crm.missing(all); return len(m) == 0 })
	var out string
	var code int
	waitUntil(t, 30*time.Second, "status -namespace staging to say delivered", func() bool {
		out, code = run("status", "-db", path, "-nats", ns.url(), "-namespace", "staging", "-customer-id", "191")
		return code == 0
	})
	if !strings.Contains(out, "crm  delivered") {
		t.Errorf("status -namespace staging:\n%s", out)
	}
	if out, code := run("status", "-db", path, "-nats", ns.url(), "-customer-id", "191"); code != exitPending || !strings.Contains(out, "no destinations") {
		t.Errorf("status without -namespace: exit %d\n%s", code, out)
	}
	if _, err := js.KeyValue(ctx, "forget_delivery-staging"); err != nil {
		t.Errorf("bucket forget_delivery-staging: %v", err)
	}
	if _, err := js.KeyValue(ctx, "forget_delivery"); !errors.Is(err, jetstream.ErrBucketNotFound) {
		t.Errorf("bucket forget_delivery: %v, want not found", err)
	}
	if out, code := run("redrive", "-nats", ns.url(), "-namespace", "staging", "-name", "crm", "-list"); code != 0 || !strings.Contains(out, "0 event(s) parked for crm") {
		t.Errorf("redrive -list -namespace staging: exit %d\n%s", code, out)
	}
	if _, err := js.Stream(ctx, "FORGET_PARKED-staging"); err != nil {
		t.Errorf("stream FORGET_PARKED-staging: %v", err)
	}
}
