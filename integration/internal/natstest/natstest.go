// Package natstest runs a real NATS server with JetStream inside the test
// process, its store in a directory of the test's own, and connects to
// it. Every test that needs a broker it can stop and restart uses this
// package, so the server's set-up is written once.
package natstest

import (
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Server is an in-process NATS server with JetStream.
type Server struct {
	tb   testing.TB
	dir  string
	port int
	srv  *server.Server
}

// Start starts a server on a free port, its store in tb.TempDir(), and
// stops it when the test ends.
func Start(tb testing.TB) *Server {
	tb.Helper()
	s := &Server{tb: tb, dir: tb.TempDir(), port: -1}
	s.Start()
	tb.Cleanup(s.Stop)
	return s
}

// Start starts the server again after Stop, on the same port and store,
// as a broker back from an outage.
func (s *Server) Start() {
	s.tb.Helper()
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

// Stop shuts the server down and waits until it is gone; a second Stop
// does nothing.
func (s *Server) Stop() {
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
