package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/forgetkit/forget/internal/syncbuf"

	"github.com/forgetkit/forget"
	"github.com/forgetkit/forget/store/memstore"
	"github.com/forgetkit/forget/store/sqlstore"
)

// rawRequest sends a request line as given, with no client in between to
// clean the path, and returns the response.
func rawRequest(t *testing.T, addr, method, target string) (*http.Response, string) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "%s %s HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", method, target)
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("%s %s: %v", method, target, err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res, string(body)
}

// TestServeAnswersOnlyItsPath: the configured path reaches the handler;
// every other path is a JSON 404 in the handler's error shape, never a
// redirect (ServeMux answered //api/customer/forget with a 307).
func TestServeAnswersOnlyItsPath(t *testing.T) {
	t.Parallel()
	f, err := forget.New(memstore.New(), forget.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	kt, err := forget.NewAPIKeys(map[string]string{"offerit_admin": "key-0123456789abcdef"})
	if err != nil {
		t.Fatal(err)
	}
	h, err := forget.NewHandler(f, kt)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(onlyAt("/api/customer/forget", h))
	defer srv.Close()
	addr := srv.Listener.Addr().String()

	for _, target := range []string{"/api/customer/forget", "/api/customer/forget?x=1", "http://x/api/customer/forget"} {
		res, body := rawRequest(t, addr, "PATCH", target)
		if res.StatusCode != http.StatusUnauthorized || !strings.Contains(body, `"code":"unauthorized"`) {
			t.Errorf("PATCH %s: %d %s, want the handler's 401", target, res.StatusCode, body)
		}
	}
	for _, target := range []string{
		"//api/customer/forget", "/api/customer/forget/", "/api/./customer/forget", "/api/customer/../customer/forget",
		"/api//customer/forget", "/api/customer%2Fforget", "/%61pi/customer/forget", "/API/customer/forget",
		"//x", "/", "/x", "/api/customer/forget%00", "/api/customer/forget/..", "/" + strings.Repeat("a", 5000),
	} {
		for _, method := range []string{"PATCH", "GET", "POST", "OPTIONS"} {
			res, body := rawRequest(t, addr, method, target)
			var e struct{ Result, Code, Data string }
			if err := json.Unmarshal([]byte(body), &e); err != nil || res.StatusCode != http.StatusNotFound ||
				e.Result != "error" || e.Code != forget.CodeNotFound || e.Data == "" || res.Header.Get("Location") != "" ||
				res.Header.Get("Content-Type") != "application/json" {
				t.Errorf("%s %.40s: %d %v %s, want a JSON 404", method, target, res.StatusCode, res.Header, body)
			}
		}
	}
}

func TestCheckServePath(t *testing.T) {
	t.Parallel()
	for _, p := range []string{"/api/customer/forget", "/gdpr/forget/", "/"} {
		if err := checkServePath(p); err != nil {
			t.Errorf("%q: %v", p, err)
		}
	}
	for _, p := range []string{"api", "", "/a?b", "/a#b", "/a b", "/a%41", "//a", "/a/./b", "/a/../b", "/a\x00"} {
		if err := checkServePath(p); err == nil {
			t.Errorf("%q accepted", p)
		}
	}
}

// TestServeReloadsKeysOnHUP: serve re-reads its keys file on SIGHUP. A
// new key (rotation) works at once next to the old one; a file that does
// not parse is logged, naming no key, and the keys in force stay.
func TestServeReloadsKeysOnHUP(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("runs the built command")
	}
	bin := buildForget(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "app.db")
	if out, err := exec.Command(bin, "init", "-db", db, "-demo", "200").CombinedOutput(); err != nil {
		t.Fatalf("init: %v\n%s", err, out)
	}
	const oldKey, newKey = "old-key-0123456789abc", "new-key-0123456789abc"
	keys := filepath.Join(dir, "keys")
	writeKeys := func(s string) {
		t.Helper()
		if err := os.WriteFile(keys, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	writeKeys("offerit_admin:" + oldKey + "\n")
	port := strconv.Itoa(freePort(t))
	cmd := exec.Command(bin, "serve", "-db", db, "-keys", keys, "-addr", "127.0.0.1:"+port)
	var stderr syncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	url := "http://127.0.0.1:" + port + "/api/customer/forget"
	status := func(key string) int {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			req, _ := http.NewRequest("PATCH", url, strings.NewReader("customer_id=191&dry_run=1"))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("api-username", "offerit_admin")
			req.Header.Set("api-key", key)
			res, err := http.DefaultClient.Do(req)
			if err == nil {
				res.Body.Close()
				return res.StatusCode
			}
			if time.Now().After(deadline) {
				t.Fatalf("the server does not answer: %v\n%s", err, stderr.String())
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	// hup sends SIGHUP and waits for the log line that says the
	// reload was done (or refused).
	hup := func(logged string) {
		t.Helper()
		before := strings.Count(stderr.String(), logged)
		if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		for deadline := time.Now().Add(10 * time.Second); strings.Count(stderr.String(), logged) == before; time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("no %q in the log after SIGHUP:\n%s", logged, stderr.String())
			}
		}
	}
	if s := status(oldKey); s != 200 {
		t.Fatalf("old key: %d", s)
	}
	if s := status(newKey); s != 401 {
		t.Fatalf("new key before the reload: %d", s)
	}

	writeKeys("offerit_admin:" + oldKey + "\nofferit_admin:" + newKey + "\n")
	hup("keys file reloaded")
	if a, b := status(oldKey), status(newKey); a != 200 || b != 200 {
		t.Errorf("after adding a key: old %d, new %d; want both 200", a, b)
	}

	writeKeys("offerit_admin:" + newKey + "\nbroken line without a colon " + oldKey + "\n")
	hup("keys file not reloaded")
	if a, b := status(oldKey), status(newKey); a != 200 || b != 200 {
		t.Errorf("after a bad file: old %d, new %d; want the keys in force, both 200", a, b)
	}
	if !strings.Contains(stderr.String(), "line 2: want username:key") {
		t.Errorf("the refusal does not name the line:\n%s", stderr.String())
	}

	writeKeys("offerit_admin:" + newKey + "\n")
	hup("keys file reloaded")
	if a, b := status(oldKey), status(newKey); a != 401 || b != 200 {
		t.Errorf("after retiring the old key: old %d, new %d; want 401, 200", a, b)
	}
	if strings.Contains(stderr.String(), oldKey) || strings.Contains(stderr.String(), newKey) {
		t.Errorf("the log shows a key:\n%s", stderr.String())
	}
	cmd.Process.Signal(syscall.SIGINT)
	if err := cmd.Wait(); err != nil {
		t.Errorf("serve exited with %v:\n%s", err, stderr.String())
	}
}

// syncBuffer collects a process's output while the test reads it.
type syncBuffer = syncbuf.Buffer

// TestKeysReloadUnderLoad: reloads swap the key table while requests are
// authenticated (run with -race); a good key keeps working throughout,
// also across reloads of a bad file.
func TestKeysReloadUnderLoad(t *testing.T) {
	t.Parallel()
	const key = "steady-key-0123456789"
	path := filepath.Join(t.TempDir(), "keys")
	if err := os.WriteFile(path, []byte("u:"+key+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	kt, err := readKeys(path)
	if err != nil {
		t.Fatal(err)
	}
	var keys atomic.Pointer[forget.APIKeys]
	keys.Store(kt)
	hup := make(chan os.Signal)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var logs syncBuffer
	done := make(chan struct{})
	go func() {
		reloadKeysOnHUP(ctx, hup, path, &keys, slog.New(slog.NewTextHandler(&logs, nil)))
		close(done)
	}()
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 500 {
				r := httptest.NewRequest("PATCH", "/", nil)
				r.Header.Set("api-username", "u")
				r.Header.Set("api-key", key)
				if _, err := keys.Load().Authenticate(r); err != nil {
					t.Errorf("the steady key was refused during reloads: %v", err)
					return
				}
			}
		}()
	}
	for i := range 50 {
		body := "u:" + key + "\n"
		if i%2 == 1 {
			body += "broken\n"
		}
		os.WriteFile(path, []byte(body), 0o600)
		hup <- syscall.SIGHUP
	}
	wg.Wait()
	cancel()
	<-done
	if !strings.Contains(logs.String(), "keys file reloaded") || !strings.Contains(logs.String(), "keys file not reloaded") {
		t.Errorf("log:\n%s", logs.String())
	}
}

// TestServeBannerRedactsDSN serves PostgreSQL with a password in the
// user-info and another secret in a query parameter, and reads what serve
// prints: the banner names the database with both redacted.
func TestServeBannerRedactsDSN(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("runs the built command")
	}
	dsn := os.Getenv("FORGET_TEST_POSTGRES")
	if dsn == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("FORGET_TEST_POSTGRES is not set; under CI every engine must run")
		}
		t.Skip("FORGET_TEST_POSTGRES is not set")
	}
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	name := "forget_banner_" + strings.ToLower(rand.Text()[:10])
	if _, err := admin.Exec("CREATE SCHEMA " + name); err != nil {
		t.Fatal(err)
	}
	defer admin.Exec("DROP SCHEMA " + name + " CASCADE")
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", name)
	q.Set("application_name", "Sup3rS3cretApp")
	u.RawQuery = q.Encode()
	u.User = url.UserPassword(u.User.Username(), "Sup3rS3cretPw") // the test server trusts local users
	db, err := sql.Open("pgx", u.String())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := sqlstore.CreateSchema(context.Background(), db, sqlstore.Postgres); err != nil {
		t.Fatal(err)
	}
	keys := filepath.Join(t.TempDir(), "keys")
	os.WriteFile(keys, []byte("ops:key-0123456789abcdef\n"), 0o600)

	cmd := exec.Command(buildForget(t), "serve", "-keys", keys, "-addr", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), envDSN+"="+u.String()) // from the environment, as documented
	srv := startServe(t, cmd, func(line string) bool { return strings.Contains(line, "API key(s)") })
	srv.stop()
	banner, stderr := srv.banner, srv.stderr
	out := banner + stderr.String()
	if strings.Contains(out, "Sup3rS3cret") {
		t.Errorf("serve printed a secret:\n%s", out)
	}
	if !strings.Contains(banner, "over the database postgres://postgres:xxxxx@") || !strings.Contains(banner, "application_name=xxxxx") {
		t.Errorf("banner:\n%s\nstderr:\n%s", banner, stderr.String())
	}
}

// keysFileFor writes a keys file with one key for offerit_admin.
func keysFileFor(t testing.TB) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "keys")
	if err := os.WriteFile(path, []byte("offerit_admin:fk_keysfileforthetests\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestServeNeedsKeysOnAHostDatabase: a key is generated for the demo
// database only; on any other, serve refuses before it opens anything.
func TestServeNeedsKeysOnAHostDatabase(t *testing.T) {
	t.Parallel()
	path := demoDB(t, 200)
	for _, args := range [][]string{
		{"serve", "-db", path, "-addr", "127.0.0.1:0"},
		{"serve", "-dsn", "postgres://app@127.0.0.1:1/app", "-addr", "127.0.0.1:0"},
	} {
		code, stdout, stderr := runMain(args...)
		if code != exitUsage || !strings.Contains(stderr, "needs -keys FILE") {
			t.Errorf("%q: exit %d, want 2 asking for -keys\n%s%s", args, code, stdout, stderr)
		}
		if strings.Contains(stdout+stderr, "api-key") || strings.Contains(stdout+stderr, "fk_") {
			t.Errorf("%q printed a key:\n%s%s", args, stdout, stderr)
		}
	}
}

// TestServeAuthLimitFlags: a negative burst or a refill that is not a
// positive duration is a usage error, before anything is opened.
func TestServeAuthLimitFlags(t *testing.T) {
	for _, c := range []struct{ flag, value, want string }{
		{"-auth-burst", "-1", "-auth-burst must be 0"},
		{"-auth-refill", "0s", "-auth-refill must be a positive duration"},
		{"-auth-refill", "-1s", "-auth-refill must be a positive duration"},
	} {
		code, stdout, stderr := runMain("serve", "-addr", "127.0.0.1:0", c.flag, c.value)
		if code != exitUsage || !strings.Contains(stderr, c.want) {
			t.Errorf("%s %s: exit %d, want 2 saying %q\n%s%s", c.flag, c.value, code, c.want, stdout, stderr)
		}
	}
}
