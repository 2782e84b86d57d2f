package forget_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/forgetkit/forget"
	"github.com/forgetkit/forget/store/memstore"
)

// serveTarget sends one authenticated PATCH for target (a path with any
// query) straight to h and returns the recorded response.
func serveTarget(h http.Handler, target, contentType string, body io.Reader) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPatch, target, body)
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("api-key", testKey)
	req.Header.Set("api-username", testUser)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func handlerOver(t testing.TB, s forget.Store) http.Handler {
	t.Helper()
	keys, err := forget.NewAPIKeys(map[string]string{testUser: testKey})
	if err != nil {
		t.Fatal(err)
	}
	h, err := forget.NewHandler(newForgetter(t, s), keys)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

type errorBody struct{ Result, Code, Data string }

func decodeError(t testing.TB, rec *httptest.ResponseRecorder) errorBody {
	t.Helper()
	var e errorBody
	if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Result != "error" {
		t.Fatalf("status %d, body %.300q: not the JSON error shape", rec.Code, rec.Body)
	}
	return e
}

// TestHandlerRefusesAnyQueryString: whatever a query string holds, and
// however net/url would parse it, the request is refused and nothing is
// erased. Before, only the five exact names that url.Query kept were
// refused, so each of these erased everything.
func TestHandlerRefusesAnyQueryString(t *testing.T) {
	t.Parallel()
	for _, q := range []string{
		"?dryRun=1", "?dry-run=1", "?DRY_RUN=1", "?dry_run=1;", "?keep=firstname;",
		"?keep%5B%5D=firstname", "?KEEP=firstname", "?x=1", "?customer_id=101",
		"?&", "?;", "?=", "?dry_run", "?%zz", "?" + strings.Repeat("k", 10000),
	} {
		t.Run(q[:min(len(q), 20)], func(t *testing.T) {
			store := seeded(t)
			before := snapshotOf(store)
			rec := serveTarget(handlerOver(t, store), "/api/customer/forget"+q, form, strings.NewReader("customer_id=101"))
			if rec.Code != http.StatusBadRequest {
				t.Fatalf("status %d, want 400; body %s", rec.Code, rec.Body)
			}
			if e := decodeError(t, rec); e.Code != forget.CodeInvalid || !strings.Contains(e.Data, "query string") {
				t.Errorf("error %+v, want invalid naming the query string", e)
			}
			if rec.Body.Len() > 200 {
				t.Errorf("the error echoes the query: %d bytes", rec.Body.Len())
			}
			if !equalSnapshots(before, snapshotOf(store)) {
				t.Error("a request with a query string changed the store")
			}
		})
	}
	// A bare "?" carries no parameter (RawQuery is empty, ForceQuery set):
	// nothing can be ignored, so it is served. Documented in openapi.yaml.
	t.Run("BareQuestionMark", func(t *testing.T) {
		store := seeded(t)
		rec := serveTarget(handlerOver(t, store), "/api/customer/forget?", form, strings.NewReader("customer_id=101&dry_run=1"))
		if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"dry_run":true`) {
			t.Fatalf("status %d, body %s; want a dry-run receipt", rec.Code, rec.Body)
		}
	})
}

// TestUnknownKeepNamesBounded: the error names at most the first five
// unknown names, each cut short, and counts every distinct one, so a 1 MiB
// keep list gets a short answer. Before, the message listed all of them
// (319 KB for a 169 KB body).
func TestUnknownKeepNamesBounded(t *testing.T) {
	t.Parallel()
	t.Run("ManyNames", func(t *testing.T) {
		list := distinctNames(forget.MaxBodyBytes - 40)
		total := strings.Count(list, ",") + 1
		rec := serveTarget(handlerOver(t, seeded(t)), "/", form, strings.NewReader("customer_id=101&keep="+list))
		if rec.Code != http.StatusBadRequest {
			t.Fatalf("status %d", rec.Code)
		}
		e := decodeError(t, rec)
		want := fmt.Sprintf(`unknown keep names: "aaaa", "baaa", "caaa", "daaa", "eaaa" and %d more; nothing was erased`, total-5)
		if e.Data != want {
			t.Errorf("message %.300q, want %q", e.Data, want)
		}
	})
	t.Run("CountIsDistinct", func(t *testing.T) {
		_, err := forget.DefaultCatalogue().ParseKeep("a1,b1,phone,a1,c1,d1, e1 ,f1,A1,f1,g1,a1,f1")
		var un *forget.UnknownNamesError
		if !errors.As(err, &un) || !errors.Is(err, forget.ErrInvalid) {
			t.Fatalf("error %v, want *UnknownNamesError", err)
		}
		if fmt.Sprint(un.Names) != "[a1 b1 c1 d1 e1]" || un.Count != 8 {
			t.Errorf("Names %q, Count %d; want the first five and 8 (A1 differs from a1)", un.Names, un.Count)
		}
		if want := `unknown keep names: "a1", "b1", "c1", "d1", "e1" and 3 more; nothing was erased`; err.Error() != want {
			t.Errorf("message %q, want %q", err, want)
		}
	})
	t.Run("HugeName", func(t *testing.T) {
		huge := strings.Repeat("é", forget.MaxBodyBytes/4) // two bytes each: a cut must not split one
		_, err := forget.DefaultCatalogue().ParseKeep("phone," + huge)
		var un *forget.UnknownNamesError
		if !errors.As(err, &un) || len(un.Names) != 1 || un.Count != 1 {
			t.Fatalf("error %v", err)
		}
		n := un.Names[0]
		if len(n) > forget.MaxUnknownNameBytes || !strings.HasSuffix(n, "...") || !strings.HasPrefix(huge, strings.TrimSuffix(n, "...")) {
			t.Errorf("name %q (%d bytes), want a prefix of at most %d bytes ending in ...", n, len(n), forget.MaxUnknownNameBytes)
		}
		if len(err.Error()) > 200 || strings.Contains(err.Error(), `\x`) {
			t.Errorf("message %q: too long, or a rune was cut", err)
		}
	})
	t.Run("HandBuiltErrorStaysBounded", func(t *testing.T) {
		e := &forget.UnknownNamesError{Names: []string{"a", "b", "c", "d", "e", "f", "g", strings.Repeat("x", 1000)}}
		if want := `unknown keep names: "a", "b", "c", "d", "e" and 3 more; nothing was erased`; e.Error() != want {
			t.Errorf("message %q, want %q", e, want)
		}
	})
	t.Run("ASCIIFoldingOnly", func(t *testing.T) {
		// "\u212A" is the Kelvin sign, which strings.ToLower turns into "k":
		// a keep list must name the catalogue, not something that folds to it.
		if _, err := forget.DefaultCatalogue().ParseKeep("TO\u212AEN_HASH"); err == nil {
			t.Error("the Kelvin sign was taken for k")
		}
		if got, err := forget.DefaultCatalogue().ParseKeep("TOKEN_HASH, Member_Note"); err != nil || fmt.Sprint(got) != "[token_hash member_note]" {
			t.Errorf("ParseKeep = %q, %v", got, err)
		}
	})
}

// hostileSetup returns a seeded store, a handler over it and its state,
// for the tests that send 1 MiB bodies (not under -short).
func hostileSetup(t *testing.T) (*memstore.Store, http.Handler, map[string]string) {
	t.Helper()
	if testing.Short() {
		t.Skip("1 MiB bodies")
	}
	store := seeded(t)
	return store, handlerOver(t, store), snapshotOf(store)
}

// TestHostileBodies: every 1 MiB-class body built to make decoding slow
// or greedy is refused with a short 400, changes nothing, and allocates a
// small multiple of the body. Before, a JSON keep array took 40 s, 1 MiB
// of multipart parts 30 MB, and a 1 MiB keep name came back in the error.
func TestHostileBodies(t *testing.T) {
	store, h, before := hostileSetup(t)
	for _, tc := range hostileBodies(t) {
		t.Run(tc.name, func(t *testing.T) {
			var m0, m1 runtime.MemStats
			runtime.ReadMemStats(&m0)
			rec := serveBody(h, tc.contentType, tc.body)
			runtime.ReadMemStats(&m1)
			if rec.Code != http.StatusBadRequest {
				t.Fatalf("status %d, want 400: %.300s", rec.Code, rec.Body)
			}
			decodeError(t, rec)
			if rec.Body.Len() > 400 {
				t.Errorf("error body is %d bytes: %.300s", rec.Body.Len(), rec.Body)
			}
			// ~2.7 MB at most (4.9 MB under -race, where sync.Pool keeps
			// little); each was 10 to 45 MB before. The set of distinct
			// unknown names is the one cost that grows with the names, not
			// the bytes: ~15 MB for 209,000 of them.
			limit := uint64(8 * forget.MaxBodyBytes)
			if strings.HasSuffix(tc.name, "DistinctUnknown") {
				limit = 24 * forget.MaxBodyBytes
			}
			if got := m1.TotalAlloc - m0.TotalAlloc; got > limit {
				t.Errorf("allocated %d bytes for a %d-byte body, want at most %d", got, len(tc.body), limit)
			}
		})
	}
	if !equalSnapshots(before, snapshotOf(store)) {
		t.Error("a hostile body changed the store")
	}
}

// TestMaxParams: at most MaxParams parameters, JSON keep items counted,
// in every encoding; at the limit the request is served.
func TestMaxParams(t *testing.T) {
	t.Parallel()
	h := handlerOver(t, seeded(t))
	formBody := func(n int) string { // customer_id, dry_run and n-2 keeps
		return "customer_id=101&dry_run=1" + strings.Repeat("&keep=phone", n-2)
	}
	jsonBody := func(n int) string { // customer_id, dry_run, keep and n-3 items
		items := strings.TrimSuffix(strings.Repeat(`"phone",`, n-3), ",")
		return `{"customer_id":101,"dry_run":true,"keep":[` + items + `]}`
	}
	multipartOf := func(n int) (string, string) {
		fields := [][2]string{{"customer_id", "101"}, {"dry_run", "1"}}
		for range n - 2 {
			fields = append(fields, [2]string{"keep", "phone"})
		}
		return multipartBody(t, fields...)
	}
	for _, n := range []int{forget.MaxParams, forget.MaxParams + 1} {
		mpType, mpBody := multipartOf(n)
		for _, tc := range []struct{ name, contentType, body string }{
			{"Form", form, formBody(n)},
			{"JSON", "application/json", jsonBody(n)},
			{"Multipart", mpType, mpBody},
		} {
			t.Run(fmt.Sprint(tc.name, n), func(t *testing.T) {
				rec := serveBody(h, tc.contentType, tc.body)
				if n <= forget.MaxParams {
					if rec.Code != http.StatusOK {
						t.Fatalf("status %d at the limit: %s", rec.Code, rec.Body)
					}
					return
				}
				if rec.Code != http.StatusBadRequest || !strings.Contains(decodeError(t, rec).Data, "more than 1000 parameters") {
					t.Errorf("status %d, body %s; want 400 naming the limit", rec.Code, rec.Body)
				}
			})
		}
	}
}

// readRecorder fails a test that reads a body it should not.
type readRecorder struct {
	io.Reader
	read bool
}

func (r *readRecorder) Read(p []byte) (int, error) {
	r.read = true
	return r.Reader.Read(p)
}

// TestRefusedWithoutReadingTheBody: a declared length over the limit is
// 413 and an unsupported media type 415 before a byte of the body is read.
func TestRefusedWithoutReadingTheBody(t *testing.T) {
	t.Parallel()
	h := handlerOver(t, seeded(t))
	for _, tc := range []struct {
		name, contentType string
		encoding          string // Content-Encoding
		length            int64
		status            int
	}{
		{"DeclaredTooLarge", form, "", forget.MaxBodyBytes + 1, 413},
		{"DeclaredHuge", "application/json", "", 1 << 40, 413},
		{"TextPlain", "text/plain", "", 100, 415},
		{"MultipartMixed", "multipart/mixed; boundary=x", "", 100, 415},
		// The handler does not decompress: a gzip body would be garbage to it.
		{"Gzipped", form, "gzip", 100, 415},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := &readRecorder{Reader: strings.NewReader("customer_id=101")}
			req := httptest.NewRequest(http.MethodPatch, "/", body)
			req.ContentLength = tc.length
			req.Header.Set("Content-Type", tc.contentType)
			req.Header.Set("api-key", testKey)
			req.Header.Set("api-username", testUser)
			if tc.encoding != "" {
				req.Header.Set("Content-Encoding", tc.encoding)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tc.status, rec.Body)
			}
			if body.read {
				t.Error("the body was read")
			}
		})
	}
}

// TestDecodeEdges: smaller refusals and acceptances of the decoders.
func TestDecodeEdges(t *testing.T) {
	t.Parallel()
	deep := strings.Repeat("[", 100000) + strings.Repeat("]", 100000)
	for _, tc := range []struct {
		name, contentType, body string
		status                  int
		data                    string
	}{
		{"LongBoundary", "multipart/form-data; boundary=" + strings.Repeat("b", 71), "--" + strings.Repeat("b", 71) + "--\r\n", 400, "boundary is longer than 70"},
		{"UnknownJSONParamBeforeItsValue", "application/json", `{"customer_id":101,"x":` + deep + `}`, 400, `unknown parameter "x"`},
		{"JSONKeepDeep", "application/json", `{"customer_id":101,"keep":` + deep + `}`, 400, "keep must be a string or an array of strings"},
		{"JSONKeepObject", "application/json", `{"customer_id":101,"keep":{"a":1}}`, 400, "keep must be"},
		{"JSONKeepNumberItem", "application/json", `{"customer_id":101,"keep":["phone",1]}`, 400, "keep must be"},
		{"JSONKeepNullItemIgnored", "application/json", `{"customer_id":101,"keep":["phone",null],"dry_run":1}`, 200, ""},
		{"JSONKeepNull", "application/json", `{"customer_id":101,"keep":null,"dry_run":1}`, 200, ""},
		{"JSONKeepUnclosed", "application/json", `{"customer_id":101,"keep":["phone"`, 400, "malformed"},
		{"FormSemicolon", form, "customer_id=101;keep=phone", 400, "not ;"},
		{"FormBadEscapeName", form, "customer_id=101&%zz=1", 400, "malformed"},
		{"FormBadEscapeValue", form, "customer_id=101&keep=%zz", 400, "malformed"},
		{"FormEmptyPairsIgnored", form, "&&customer_id=101&&dry_run=1&", 200, ""},
		{"FormEscapedNames", form, "customer%5Fid=101&dry%5frun=1&keep=first%6eame", 200, ""},
		{"FormDryRunEmpty", form, "customer_id=101&dry_run=", 400, "dry_run is empty"},
		{"FormDryRunBare", form, "customer_id=101&dry_run", 400, "dry_run is empty"},
		{"JSONDryRunEmptyString", "application/json", `{"customer_id":101,"dry_run":""}`, 400, "dry_run is empty"},
		{"HugeParamNameCut", form, "customer_id=101&x" + strings.Repeat("\u00e9", 5000) + "=1", 400, `unknown parameter "x` + strings.Repeat("\u00e9", 19) + `..."`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			store := seeded(t)
			before := snapshotOf(store)
			rec := serveBody(handlerOver(t, store), tc.contentType, tc.body)
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d: %.300s", rec.Code, tc.status, rec.Body)
			}
			if tc.status != http.StatusOK {
				if e := decodeError(t, rec); !strings.Contains(e.Data, tc.data) {
					t.Errorf("message %q, want it to contain %q", e.Data, tc.data)
				}
			}
			if !equalSnapshots(before, snapshotOf(store)) {
				t.Error("the store changed")
			}
		})
	}
}

// TestHandlerConcurrentHostile: hostile bodies and dry runs at once on one
// handler (run with -race): each gets its own answer, nothing is erased.
func TestHandlerConcurrentHostile(t *testing.T) {
	t.Parallel()
	store, h, before := hostileSetup(t)
	bodies := hostileBodies(t)
	errs := make(chan error, 4*len(bodies))
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range bodies {
				tc := bodies[(i+g)%len(bodies)]
				if rec := serveBody(h, tc.contentType, tc.body); rec.Code != http.StatusBadRequest {
					errs <- fmt.Errorf("%s: status %d", tc.name, rec.Code)
				}
				if rec := serveBody(h, form, "customer_id=101&dry_run=1"); rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"customer_id":"101"`) {
					errs <- fmt.Errorf("dry run: status %d %.200s", rec.Code, rec.Body)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if !equalSnapshots(before, snapshotOf(store)) {
		t.Error("the store changed")
	}
}
