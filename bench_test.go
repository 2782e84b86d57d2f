package forget_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/forgetkit/forget"
)

const benchBody = "customer_id=191&keep=firstname"

// decodeOnly is the floor the handler is measured against: it reads the
// same form, checks the lookup is there, and answers true.
func decodeOnly() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, forget.MaxBodyBytes)
		if err := r.ParseForm(); err != nil || r.PostForm.Get("customer_id") == "" {
			http.Error(w, "bad", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, "true")
	})
}

func benchHandler(b *testing.B) http.Handler {
	f := newForgetter(b, seeded(b))
	keys, err := forget.NewAPIKeys(map[string]string{testUser: testKey})
	if err != nil {
		b.Fatal(err)
	}
	h, err := forget.NewHandler(f, keys)
	if err != nil {
		b.Fatal(err)
	}
	return h
}

// handlerImpls are the two handlers every handler benchmark compares.
var handlerImpls = []struct {
	name string
	h    func(*testing.B) http.Handler
}{
	{"impl=forget", benchHandler},
	{"impl=decode-only", func(*testing.B) http.Handler { return decodeOnly() }},
}

// BenchmarkHandlerHTTP sends real requests over loopback HTTP, one at a
// time on a kept-alive connection: the handler over memstore against the
// decode-only floor. Requests/s is 1e9 / ns/op.
func BenchmarkHandlerHTTP(b *testing.B) {
	for _, tc := range handlerImpls {
		b.Run(tc.name, func(b *testing.B) {
			srv := httptest.NewServer(tc.h(b))
			defer srv.Close()
			client := srv.Client()
			b.ResetTimer()
			for range b.N {
				req, _ := http.NewRequest(http.MethodPatch, srv.URL, strings.NewReader(benchBody))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.Header.Set("api-username", testUser)
				req.Header.Set("api-key", testKey)
				res, err := client.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode != 200 {
					b.Fatalf("status %d", res.StatusCode)
				}
			}
		})
	}
}

// resettableBody lets one request be served again and again without
// allocating, so that allocs/op counts only what ServeHTTP allocates.
type resettableBody struct{ strings.Reader }

func (*resettableBody) Close() error { return nil }

type discardWriter struct{ h http.Header }

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (d *discardWriter) WriteHeader(int)             {}

// BenchmarkHandlerServeHTTP measures ServeHTTP alone, in process: its time
// and its allocations per request.
func BenchmarkHandlerServeHTTP(b *testing.B) {
	for _, tc := range handlerImpls {
		b.Run(tc.name, func(b *testing.B) {
			h := tc.h(b)
			body := &resettableBody{}
			req := httptest.NewRequest(http.MethodPatch, "/api/customer/forget", nil)
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("api-username", testUser)
			req.Header.Set("api-key", testKey)
			w := &discardWriter{h: http.Header{}}
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				body.Reset(benchBody)
				req.Body = body
				req.PostForm, req.Form = nil, nil
				clear(w.h)
				h.ServeHTTP(w, req)
			}
		})
	}
}
