package main

import (
	"bufio"
	"fmt"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/forgetkit/forget"
	"github.com/forgetkit/forget/store/memstore"
)

// TestSlowClientsAreCutOff: a client that sends its headers or its body
// slowly is disconnected once the server's read timeouts pass, instead of
// holding a connection for as long as it likes.
func TestSlowClientsAreCutOff(t *testing.T) {
	t.Parallel()
	f, err := forget.New(memstore.New(), forget.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	h, err := forget.NewHandler(f, forget.HostAuthenticated())
	if err != nil {
		t.Fatal(err)
	}
	srv := newHTTPServer(h, slog.New(slog.DiscardHandler), timeouts{readHeader: 300 * time.Millisecond, read: 600 * time.Millisecond, write: time.Second, idle: time.Second})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	defer srv.Close()

	for _, tc := range []struct {
		name  string
		first string // sent at once; then one byte every 100ms
	}{
		{"SlowHeaders", "PATCH / HTTP/1.1\r\nHost: x\r\n"},
		{"SlowBody", "PATCH / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\ncustomer_id="},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conn, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			start := time.Now()
			fmt.Fprint(conn, tc.first)
			closed := make(chan struct{})
			go func() {
				// Read until the server gives up on us (a response, then EOF).
				io.Copy(io.Discard, bufio.NewReader(conn))
				close(closed)
			}()
			tick := time.NewTicker(100 * time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-closed:
					if d := time.Since(start); d > 3*time.Second {
						t.Errorf("cut off after %s, want about the timeout", d)
					}
					return
				case <-tick.C:
					if time.Since(start) > 10*time.Second {
						t.Fatal("the server still holds the connection after 10s")
					}
					conn.Write([]byte("1"))
				}
			}
		})
	}
}
