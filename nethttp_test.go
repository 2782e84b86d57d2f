package forget_test

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestNetHTTPAnswersFirst: some malformed requests never reach the
// handler; net/http answers them itself, in plain text, with the statuses
// openapi.yaml and SECURITY.md list. This pins those documents to what a
// real http.Server (as forget serve's, MaxHeaderBytes 64 KiB) does.
func TestNetHTTPAnswersFirst(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	h := handlerOver(t, seeded(t))
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		h.ServeHTTP(w, r)
	}))
	srv.Config.MaxHeaderBytes = 64 << 10
	srv.Start()
	defer srv.Close()

	const head = "PATCH /api/customer/forget HTTP/1.1\r\nHost: x\r\napi-key: " + testKey + "\r\napi-username: " + testUser + "\r\n"
	const body = "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 15\r\n\r\ncustomer_id=101"
	for _, tc := range []struct {
		name, request string
		status        int
		plain         bool // a text/plain body; 417 has none
	}{
		{"HeadersTooLarge", head + "X-Pad: " + strings.Repeat("a", 128<<10) + "\r\n" + body, 431, true},
		{"UnsupportedTransferEncoding", head + "Transfer-Encoding: gzip\r\nContent-Type: application/x-www-form-urlencoded\r\n\r\n", 501, true},
		{"UnknownExpectation", head + "Expect: teapot\r\n" + body, 417, false},
		{"MalformedHeader", head + "no colon here\r\n" + body, 400, true},
		{"NoHost", "PATCH /api/customer/forget HTTP/1.1\r\n" + body, 400, true},
		{"UnsupportedVersion", "PATCH /api/customer/forget HTTP/3.0\r\nHost: x\r\n" + body, 505, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conn, err := net.Dial("tcp", srv.Listener.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			conn.SetDeadline(time.Now().Add(10 * time.Second))
			go io.WriteString(conn, tc.request) // the server may answer before it has read it all
			res, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if ct := res.Header.Get("Content-Type"); res.StatusCode != tc.status || strings.HasPrefix(ct, "text/plain") != tc.plain {
				t.Errorf("got %d %q, want %d (text/plain: %v)", res.StatusCode, ct, tc.status, tc.plain)
			}
		})
	}
	if n := calls.Load(); n != 0 {
		t.Errorf("the handler ran %d times", n)
	}
}
