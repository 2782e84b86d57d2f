package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/forgetkit/forget/internal/testdb"
	"github.com/forgetkit/forget/store/sqlstore"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// testNATS is a NATS server with JetStream of the test's own: the system
// nats-server binary, run as a subprocess with its store in a directory
// of the test's, so that each test sees only its own streams. Without the
// binary the test is skipped, or fails under CI=true.
type testNATS struct {
	t    testing.TB
	port int
	cmd  *exec.Cmd
}

func startTestNATS(t testing.TB) *testNATS {
	t.Helper()
	bin, err := exec.LookPath("nats-server")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("nats-server is not on PATH, and CI=true")
		}
		t.Skip("nats-server is not on PATH: install it (apt install nats-server) to run this test")
	}
	n := &testNATS{t: t, port: freePort(t)}
	dir := t.TempDir()
	var out bytes.Buffer
	cmd := exec.Command(bin, "-js", "-a", "127.0.0.1", "-p", strconv.Itoa(n.port), "-sd", dir)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	n.cmd = cmd
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		nc, err := nats.Connect(n.url(), nats.Timeout(time.Second))
		if err == nil {
			js, jerr := jetstream.New(nc)
			if jerr == nil {
				_, jerr = js.AccountInfo(t.Context())
			}
			nc.Close()
			if jerr == nil {
				return n
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("nats-server did not start: %v\n%s", err, out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// kill kills the server, as a crash would.
func (n *testNATS) kill() { n.cmd.Process.Kill() }

func (n *testNATS) url() string { return "nats://127.0.0.1:" + strconv.Itoa(n.port) }

func (n *testNATS) js() jetstream.JetStream {
	n.t.Helper()
	nc, err := nats.Connect(n.url(), nats.MaxReconnects(-1), nats.ReconnectWait(20*time.Millisecond))
	if err != nil {
		n.t.Fatal(err)
	}
	n.t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		n.t.Fatal(err)
	}
	return js
}

// freePort returns a TCP port free a moment ago.
func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// runMain runs the command in-process and returns its exit status,
// stdout and stderr.
func runMain(args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = Main(args, nil, &out, &errOut)
	return code, out.String(), errOut.String()
}

// demoDB makes a SQLite database with n demo customers, through the
// command itself.
func demoDB(t *testing.T, n int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "app.db")
	if code, _, errOut := runMain("init", "-db", path, "-demo", strconv.Itoa(n)); code != exitOK {
		t.Fatalf("init: exit %d: %s", code, errOut)
	}
	return path
}

// sqlq runs a query on the SQLite database at path and returns its rows,
// one a line, columns separated by |, NULL as NULL.
func sqlq(t testing.TB, path, query string) string {
	t.Helper()
	db, err := openSQLite(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(query)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var b strings.Builder
	for rows.Next() {
		vals := make([]*string, len(cols))
		dest := make([]any, len(cols))
		for i := range vals {
			dest[i] = &vals[i]
		}
		if err := rows.Scan(dest...); err != nil {
			t.Fatal(err)
		}
		for i, v := range vals {
			if i > 0 {
				b.WriteByte('|')
			}
			if v == nil {
				b.WriteString("NULL")
			} else {
				b.WriteString(*v)
			}
		}
		b.WriteByte('\n')
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// serving is a `forget serve` process a test started, its banner read.
type serving struct {
	cmd     *exec.Cmd
	banner  string
	stderr  *syncBuffer
	drained chan struct{} // closed when stdout reaches its end
}

// startServe starts cmd, a `forget serve`, and reads its standard output
// up to the banner line that last says is the last; the rest of the
// output is drained in the background. The process is killed when the
// test ends, if it still runs.
func startServe(t testing.TB, cmd *exec.Cmd, last func(line string) bool) *serving {
	t.Helper()
	s := &serving{cmd: cmd, stderr: new(syncBuffer), drained: make(chan struct{})}
	cmd.Stderr = s.stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	var banner strings.Builder
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		banner.WriteString(sc.Text() + "\n")
		if last(sc.Text()) {
			break
		}
	}
	s.banner = banner.String()
	go func() {
		io.Copy(io.Discard, stdout)
		close(s.drained)
	}()
	return s
}

// stop interrupts the server as Ctrl-C would and waits for it to exit.
func (s *serving) stop() error {
	s.cmd.Process.Signal(syscall.SIGINT)
	<-s.drained
	return s.cmd.Wait()
}

// demoOn makes the default schema with n demo customers in a fresh
// database of engine e.
func demoOn(t *testing.T, e testdb.Engine, n int) testdb.DB {
	t.Helper()
	tdb := e.Open(t)
	ctx := context.Background()
	if err := sqlstore.CreateSchema(ctx, tdb.DB, e.Dialect); err != nil {
		t.Fatal(err)
	}
	if err := seedDemo(ctx, tdb.DB, e.Dialect, n); err != nil {
		t.Fatal(err)
	}
	return tdb
}
