package forget_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// smallBufferListener gives each accepted connection a small receive
// buffer, as a real network's window is: on loopback the kernel would
// otherwise buffer a whole 2 MiB body and hide the reset.
type smallBufferListener struct{ net.Listener }

func (l smallBufferListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetReadBuffer(64 << 10)
	}
	return c, err
}

// TestTooLargeWriteFirstClient: a client that writes its whole 2 MiB body
// before reading a byte (Python's urllib does) reads 413 too_large, with a
// Content-Length and chunked alike. The server used to close the
// connection with the body unread, and the client got ECONNRESET or EPIPE
// instead (about 1 in 3 here).
func TestTooLargeWriteFirstClient(t *testing.T) {
	t.Parallel()
	srv := hostileServer(t)

	body := "customer_id=101&keep=" + strings.Repeat("a", 2<<20)
	for _, chunked := range []bool{false, true} {
		for i := range 8 {
			t.Run(fmt.Sprintf("chunked=%v/%d", chunked, i), func(t *testing.T) {
				c, err := net.Dial("tcp", srv.Listener.Addr().String())
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				c.(*net.TCPConn).SetWriteBuffer(64 << 10)
				head := hostileHead("application/x-www-form-urlencoded")
				var req string
				if chunked {
					req = head + "Transfer-Encoding: chunked\r\n\r\n" + fmt.Sprintf("%x\r\n", len(body)) + body + "\r\n0\r\n\r\n"
				} else {
					req = head + fmt.Sprintf("Content-Length: %d\r\n\r\n", len(body)) + body
				}
				if _, err := io.WriteString(c, req); err != nil {
					t.Fatalf("writing the body: %v (the server closed before reading it)", err)
				}
				res, err := http.ReadResponse(bufio.NewReader(c), nil)
				if err != nil {
					t.Fatalf("reading the response: %v", err)
				}
				got, _ := io.ReadAll(res.Body)
				res.Body.Close()
				if res.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(string(got), `"too_large"`) {
					t.Errorf("%d %s, want 413 too_large", res.StatusCode, got)
				}
			})
		}
	}
	// A client that waits for 100 Continue is answered at once, and not
	// invited to send the body.
	t.Run("ExpectContinue", func(t *testing.T) {
		c, err := net.Dial("tcp", srv.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		fmt.Fprintf(c, "PATCH / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"+
			"api-username: %s\r\napi-key: %s\r\nExpect: 100-continue\r\nContent-Length: %d\r\n\r\n", testUser, testKey, len(body))
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		res, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusRequestEntityTooLarge {
			t.Errorf("status %d, want 413 before the body", res.StatusCode)
		}
	})
}
