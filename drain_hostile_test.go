package forget_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/forgetkit/forget"
)

// hostileServer is a handler over the seeded store, served with a
// small receive buffer per connection (see smallBufferListener).
func hostileServer(t *testing.T) *httptest.Server {
	t.Helper()
	f, err := forget.New(seeded(t))
	if err != nil {
		t.Fatal(err)
	}
	keys, err := forget.NewAPIKeys(map[string]string{testUser: testKey})
	if err != nil {
		t.Fatal(err)
	}
	h, err := forget.NewHandler(f, keys)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(h)
	srv.Listener = smallBufferListener{srv.Listener}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

func hostileHead(contentType string) string {
	return "PATCH / HTTP/1.1\r\nHost: x\r\nContent-Type: " + contentType + "\r\n" +
		"api-username: " + testUser + "\r\napi-key: " + testKey + "\r\n"
}

func dial(t *testing.T, srv *httptest.Server) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(20 * time.Second))
	return c
}

// TestBodyAtTheLimit: a JSON dry run padded to exactly MaxBodyBytes is
// answered; one byte more is 413, with a Content-Length and chunked.
func TestBodyAtTheLimit(t *testing.T) {
	t.Parallel()
	srv := hostileServer(t)
	const req = `{"customer_id": 101, "dry_run": true}`
	for _, chunked := range []bool{false, true} {
		for _, size := range []int{forget.MaxBodyBytes, forget.MaxBodyBytes + 1} {
			t.Run(fmt.Sprintf("chunked=%v/%d", chunked, size), func(t *testing.T) {
				body := req + strings.Repeat(" ", size-len(req))
				c := dial(t, srv)
				head := hostileHead("application/json")
				if chunked {
					fmt.Fprintf(c, "%sTransfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n0\r\n\r\n", head, len(body), body)
				} else {
					fmt.Fprintf(c, "%sContent-Length: %d\r\n\r\n%s", head, len(body), body)
				}
				res, err := http.ReadResponse(bufio.NewReader(c), nil)
				if err != nil {
					t.Fatal(err)
				}
				got, _ := io.ReadAll(res.Body)
				res.Body.Close()
				want := http.StatusOK
				if size > forget.MaxBodyBytes {
					want = http.StatusRequestEntityTooLarge
				}
				if res.StatusCode != want {
					t.Errorf("%d bytes: %d %s, want %d", size, res.StatusCode, got, want)
				}
			})
		}
	}
}

// TestTooLargeSlowloris: a client that trickles the rest of an
// oversized body a byte a second holds the handler no longer than the
// drain's time cap: it reads its 413 about a second after the limit is
// passed (or is refused by its Content-Length), not when it stops.
func TestTooLargeSlowloris(t *testing.T) {
	t.Parallel()
	srv := hostileServer(t)
	for _, chunked := range []bool{false, true} {
		t.Run(fmt.Sprintf("chunked=%v", chunked), func(t *testing.T) {
			c := dial(t, srv)
			head := hostileHead("application/x-www-form-urlencoded")
			first := "customer_id=101&keep=" + strings.Repeat("a", forget.MaxBodyBytes)
			if chunked {
				// A chunk far larger than what is sent: the size is a promise.
				fmt.Fprintf(c, "%sTransfer-Encoding: chunked\r\n\r\nfffffffffffffff\r\n%s", head, first)
			} else {
				fmt.Fprintf(c, "%sContent-Length: %d\r\n\r\n%s", head, len(first)+1000, first)
			}
			stop := make(chan struct{})
			defer close(stop)
			go func() {
				for {
					select {
					case <-stop:
						return
					case <-time.After(time.Second):
						if _, err := c.Write([]byte("a")); err != nil {
							return
						}
					}
				}
			}()
			start := time.Now()
			res, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err != nil {
				t.Fatalf("after %v: %v", time.Since(start), err)
			}
			res.Body.Close()
			if res.StatusCode != http.StatusRequestEntityTooLarge {
				t.Errorf("status %d, want 413", res.StatusCode)
			}
			if d := time.Since(start); d > 4*time.Second {
				t.Errorf("the 413 came after %v: the trickle held the handler past the drain's cap", d)
			}
		})
	}
}

// TestTooLargeChunkSizeOverflow: a chunk size that does not fit 64 bits
// is a 400, not a 413 drained for a second nor a panic.
func TestTooLargeChunkSizeOverflow(t *testing.T) {
	t.Parallel()
	srv := hostileServer(t)
	c := dial(t, srv)
	fmt.Fprintf(c, "%sTransfer-Encoding: chunked\r\n\r\n%s\r\ncustomer_id=101\r\n0\r\n\r\n", hostileHead("application/x-www-form-urlencoded"), strings.Repeat("f", 40))
	res, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusBadRequest {
		t.Errorf("%d %s, want 400", res.StatusCode, got)
	}
}

// TestTooLargeExpectContinueChunked: a chunked body announced with
// Expect: 100-continue is invited (its size is unknown), read to the
// limit, drained, and answered 413: the client that sent it all reads it.
func TestTooLargeExpectContinueChunked(t *testing.T) {
	t.Parallel()
	srv := hostileServer(t)
	c := dial(t, srv)
	r := bufio.NewReader(c)
	fmt.Fprintf(c, "%sExpect: 100-continue\r\nTransfer-Encoding: chunked\r\n\r\n", hostileHead("application/x-www-form-urlencoded"))
	line, err := r.ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "HTTP/1.1 100") {
		t.Fatalf("want 100 Continue first, got %q, %v", line, err)
	}
	r.ReadString('\n') // the blank line after it
	body := "customer_id=101&keep=" + strings.Repeat("a", 2<<20)
	if _, err := fmt.Fprintf(c, "%x\r\n%s\r\n0\r\n\r\n", len(body), body); err != nil {
		t.Fatalf("writing the invited body: %v", err)
	}
	res, err := http.ReadResponse(r, nil)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("status %d, want 413", res.StatusCode)
	}
}

// TestPipelinedAfterTooLarge: a request pipelined behind an oversized
// body that was drained whole is answered on the same connection, or the
// 413 says the connection closes: never silently dropped.
func TestPipelinedAfterTooLarge(t *testing.T) {
	t.Parallel()
	srv := hostileServer(t)
	for _, chunked := range []bool{false, true} {
		t.Run(fmt.Sprintf("chunked=%v", chunked), func(t *testing.T) {
			c := dial(t, srv)
			head := hostileHead("application/x-www-form-urlencoded")
			big := "customer_id=101&keep=" + strings.Repeat("a", forget.MaxBodyBytes+100)
			second := "dry_run=1&customer_id=101"
			var req string
			if chunked {
				req = fmt.Sprintf("%sTransfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n0\r\n\r\n", head, len(big), big)
			} else {
				req = fmt.Sprintf("%sContent-Length: %d\r\n\r\n%s", head, len(big), big)
			}
			req += fmt.Sprintf("%sContent-Length: %d\r\n\r\n%s", head, len(second), second)
			if _, err := io.WriteString(c, req); err != nil {
				t.Fatalf("writing: %v", err)
			}
			r := bufio.NewReader(c)
			res, err := http.ReadResponse(r, nil)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode != http.StatusRequestEntityTooLarge {
				t.Fatalf("first: status %d, want 413", res.StatusCode)
			}
			res2, err := http.ReadResponse(r, nil)
			if res.Close {
				return // said so: the client retries on a new connection
			}
			if err != nil {
				t.Fatalf("the pipelined request was dropped without Connection: close: %v", err)
			}
			got, _ := io.ReadAll(res2.Body)
			res2.Body.Close()
			if res2.StatusCode != http.StatusOK || !strings.Contains(string(got), `"dry_run":true`) {
				t.Errorf("second: %d %s, want the dry run's receipt", res2.StatusCode, got)
			}
		})
	}
}

// TestRefusedBeforeBodyWriteFirstClient: a request refused before its
// body is read (a wrong key, a wrong method, a query string) carrying a
// body under the limit but past what net/http discards by itself (256
// KiB) is answered, not reset, for a client that writes first.
func TestRefusedBeforeBodyWriteFirstClient(t *testing.T) {
	t.Parallel()
	srv := hostileServer(t)
	body := "customer_id=101&keep=" + strings.Repeat("a", 900<<10)
	for _, c := range []struct {
		name, method, target, key, ct string
		want                          int
	}{
		{"wrong key", "PATCH", "/", "wrong-key-0123456789", "application/x-www-form-urlencoded", http.StatusUnauthorized},
		{"wrong method", "POST", "/", testKey, "application/x-www-form-urlencoded", http.StatusMethodNotAllowed},
		{"query string", "PATCH", "/?dry_run=1", testKey, "application/x-www-form-urlencoded", http.StatusBadRequest},
		{"media type", "PATCH", "/", testKey, "text/plain", http.StatusUnsupportedMediaType},
	} {
		for i := range 4 {
			t.Run(fmt.Sprintf("%s/%d", c.name, i), func(t *testing.T) {
				conn := dial(t, srv)
				conn.(*net.TCPConn).SetWriteBuffer(64 << 10)
				req := fmt.Sprintf("%s %s HTTP/1.1\r\nHost: x\r\nContent-Type: %s\r\napi-username: %s\r\napi-key: %s\r\nContent-Length: %d\r\n\r\n%s",
					c.method, c.target, c.ct, testUser, c.key, len(body), body)
				if _, err := io.WriteString(conn, req); err != nil {
					t.Fatalf("writing the body: %v (the server closed before reading it)", err)
				}
				res, err := http.ReadResponse(bufio.NewReader(conn), nil)
				if err != nil {
					t.Fatalf("reading the response: %v", err)
				}
				res.Body.Close()
				if res.StatusCode != c.want {
					t.Errorf("status %d, want %d", res.StatusCode, c.want)
				}
			})
		}
	}
	// Waiting for 100 Continue with a wrong key: answered at once, the
	// body not invited, the connection closed (net/http still sees its
	// own body type).
	t.Run("ExpectContinue", func(t *testing.T) {
		conn := dial(t, srv)
		fmt.Fprintf(conn, "PATCH / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\napi-username: %s\r\napi-key: wrong-key-0123456789\r\nExpect: 100-continue\r\nContent-Length: %d\r\n\r\n", testUser, len(body))
		conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		res, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusUnauthorized || !res.Close {
			t.Errorf("status %d, close %v; want 401 and Connection: close", res.StatusCode, res.Close)
		}
	})
}
