// Package natstest runs a real NATS server with JetStream inside the test
// process, its store in a directory of the test's own, and connects to
// it. Every test that needs a broker it can stop and restart uses this
// package, so the server's set-up is written once.
//
// With $FORGET_TEST_NATS_SERVER naming a nats-server binary (CI sets
// /usr/sbin/nats-server, Debian's 2.9.10), each server is that binary
// instead, run as a process on a free port, and Stop kills it: the tests
// then run against the server hosts install as well as the module's.
package natstest

import (
	"bytes"
	"context"
	"net"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// EnvServer names a nats-server binary to run instead of the in-process
// server.
const EnvServer = "FORGET_TEST_NATS_SERVER"

// Server is a NATS server with JetStream: in-process, or the binary of
// $FORGET_TEST_NATS_SERVER.
type Server struct {
	tb   testing.TB
	dir  string
	port int
	srv  *server.Server

	bin    string        // the external binary, or ""
	proc   *exec.Cmd     // its running process
	exited chan struct{} // closed once proc has exited
	out    bytes.Buffer
}

// Start starts a server on a free port, its store in tb.TempDir(), and
// stops it when the test ends.
func Start(tb testing.TB) *Server {
	tb.Helper()
	s := &Server{tb: tb, dir: tb.TempDir(), port: -1, bin: os.Getenv(EnvServer)}
	s.Start()
	tb.Cleanup(s.Stop)
	return s
}

// External reports whether the server is an external binary's process.
func (s *Server) External() bool { return s.bin != "" }

// Start starts the server again after Stop, on the same port and store,
// as a broker back from an outage.
func (s *Server) Start() {
	s.tb.Helper()
	if s.bin != "" {
		s.startProcess()
		return
	}
	srv, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: s.port, JetStream: true, StoreDir: s.dir, NoLog: true, NoSigs: true})
	if err != nil {
		s.tb.Fatal(err)
	}
	srv.Start()
	if !srv.ReadyForConnections(10 * time.Second) {
		s.tb.Fatal("nats-server did not start")
	}
	s.srv = srv
	s.port = srv.Addr().(*net.TCPAddr).Port
}

// startProcess runs the external binary, on a free port the first time
// and on the same one after a Stop, and waits until JetStream answers.
func (s *Server) startProcess() {
	s.tb.Helper()
	if s.proc != nil {
		return
	}
	for try := 1; ; try++ {
		fresh := s.port < 0
		if fresh {
			s.port = freePort(s.tb)
		}
		s.out.Reset()
		cmd := exec.Command(s.bin, "-a", "127.0.0.1", "-p", strconv.Itoa(s.port), "-js", "-sd", s.dir)
		cmd.Stdout, cmd.Stderr = &s.out, &s.out
		if err := cmd.Start(); err != nil {
			s.tb.Fatalf("%s: %v", EnvServer, err)
		}
		exited := make(chan struct{})
		go func() { cmd.Wait(); close(exited) }()
		if s.ready(exited) {
			s.proc, s.exited = cmd, exited
			return
		}
		cmd.Process.Kill()
		<-exited
		// The free port was taken meanwhile: another one, if it was fresh.
		if !fresh || try >= 3 {
			s.tb.Fatalf("%s %s did not start on port %d:\n%s", EnvServer, s.bin, s.port, s.out.String())
		}
		s.port = -1
	}
}

// ready waits until the process answers JetStream requests, or exits.
func (s *Server) ready(exited <-chan struct{}) bool {
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return false
		default:
		}
		if nc, err := nats.Connect(s.URL(), nats.Timeout(time.Second)); err == nil {
			js, err := jetstream.New(nc)
			if err == nil {
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
				_, err = js.AccountInfo(ctx)
				cancel()
			}
			nc.Close()
			if err == nil {
				return true
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return false
}

// freePort returns a TCP port free a moment ago.
func freePort(tb testing.TB) int {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// Stop shuts the server down and waits until it is gone; a second Stop
// does nothing. An external server's process is killed, as an outage
// would.
func (s *Server) Stop() {
	if s.proc != nil {
		s.proc.Process.Signal(syscall.SIGKILL)
		<-s.exited
		s.proc = nil
	}
	if s.srv != nil {
		s.srv.Shutdown()
		s.srv.WaitForShutdown()
		s.srv = nil
	}
}

// URL is the server's client URL; it stays the same across Stop and
// Start.
func (s *Server) URL() string { return "nats://127.0.0.1:" + strconv.Itoa(s.port) }

// Connect returns a JetStream on a new connection to the server that
// reconnects for ever, closed when the test ends.
func (s *Server) Connect(tb testing.TB) jetstream.JetStream {
	tb.Helper()
	nc, err := nats.Connect(s.URL(), nats.MaxReconnects(-1), nats.ReconnectWait(20*time.Millisecond), nats.RetryOnFailedConnect(true))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		tb.Fatal(err)
	}
	return js
}

// Version is the version the running server reports to clients.
func (s *Server) Version(tb testing.TB) string {
	tb.Helper()
	nc, err := nats.Connect(s.URL())
	if err != nil {
		tb.Fatal(err)
	}
	defer nc.Close()
	return nc.ConnectedServerVersion()
}
