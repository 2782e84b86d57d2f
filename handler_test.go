package forget_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/forgetkit/forget"
	"github.com/forgetkit/forget/internal/syncbuf"
	"github.com/forgetkit/forget/store/memstore"
	"github.com/forgetkit/forget/store/storetest"
)

const (
	testUser = "offerit_admin"
	testKey  = "k3y-for-tests-only-0123456789"
)

type testServer struct {
	*httptest.Server
	logs *syncbuf.Buffer
}

func newServer(t testing.TB, store forget.Store, opts ...forget.Option) testServer {
	t.Helper()
	logs := &syncbuf.Buffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	f, err := forget.New(store, append([]forget.Option{forget.WithLogger(logger)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := forget.NewAPIKeys(map[string]string{testUser: testKey, "other": "another-key-for-tests"})
	if err != nil {
		t.Fatal(err)
	}
	h, err := forget.NewHandler(f, keys)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/api/customer/forget", h)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return testServer{srv, logs}
}

type call struct {
	method, query, contentType, body string
	headers                          map[string]string // replaces the default auth headers when set
}

type response struct {
	status int
	header http.Header
	body   string
}

func (s testServer) do(t testing.TB, c call) response {
	t.Helper()
	method := c.method
	if method == "" {
		method = http.MethodPatch
	}
	req, err := http.NewRequest(method, s.URL+"/api/customer/forget"+c.query, strings.NewReader(c.body))
	if err != nil {
		t.Fatal(err)
	}
	if c.contentType != "" {
		req.Header.Set("Content-Type", c.contentType)
	}
	headers := c.headers
	if headers == nil {
		headers = map[string]string{"api-key": testKey, "api-username": testUser}
	}
	for k, v := range headers {
		req.Header[k] = []string{v} // as sent, to prove names are matched case-insensitively
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{res.StatusCode, res.Header, string(body)}
}

const form = "application/x-www-form-urlencoded"

func multipartBody(t testing.TB, fields ...[2]string) (contentType, body string) {
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	for _, f := range fields {
		if err := w.WriteField(f[0], f[1]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return w.FormDataContentType(), b.String()
}

type handlerCase struct {
	name   string
	call   call
	status int
	code   string // error code; "" for success
	data   string // part of the error message
}

func handlerCases(t testing.TB) []handlerCase {
	mpType, mpBody := multipartBody(t, [2]string{"customer_id", "102"}, [2]string{"keep", "firstname"})
	return []handlerCase{
		{"OffiritFormExample", call{contentType: form, body: "customer_id=191"}, 200, "", ""},
		{"FormWithKeep", call{contentType: form + "; charset=utf-8", body: "subscription_id=1011&keep=firstname%2Cmember_note"}, 200, "", ""},
		{"JSONNumber", call{contentType: "application/json", body: `{"customer_id": 102, "keep": ["firstname", "member_note"]}`}, 200, "", ""},
		{"JSONString", call{contentType: "application/json", body: `{"orderid": "10301", "keep": "firstname,member_note", "dry_run": null}`}, 200, "", ""},
		{"Multipart", call{contentType: mpType, body: mpBody}, 200, "", ""},
		{"HeaderNamesAnyCase", call{contentType: form, body: "customer_id=101", headers: map[string]string{"API-KEY": testKey, "Api-Username": testUser}}, 200, "", ""},
		{"DryRun", call{contentType: form, body: "customer_id=101&dry_run=1"}, 200, "", ""},
		{"DryRunJSON", call{contentType: "application/json", body: `{"customer_id":"101","dry_run":true}`}, 200, "", ""},

		{"MethodGet", call{method: http.MethodGet}, 405, "method_not_allowed", "PATCH"},
		{"MethodPost", call{method: http.MethodPost, contentType: form, body: "customer_id=101"}, 405, "method_not_allowed", "PATCH"},
		{"NoAuthHeaders", call{contentType: form, body: "customer_id=101", headers: map[string]string{}}, 401, "unauthorized", "api-key"},
		{"WrongKey", call{contentType: form, body: "customer_id=101", headers: map[string]string{"api-key": "nope", "api-username": testUser}}, 401, "unauthorized", ""},
		{"OtherUsersKey", call{contentType: form, body: "customer_id=101", headers: map[string]string{"api-key": testKey, "api-username": "other"}}, 401, "unauthorized", ""},
		{"UnknownUser", call{contentType: form, body: "customer_id=101", headers: map[string]string{"api-key": testKey, "api-username": "mallory"}}, 401, "unauthorized", ""},
		{"NoLookup", call{contentType: form, body: "keep=firstname"}, 400, "invalid", "customer_id"},
		{"BlankLookup", call{contentType: form, body: "customer_id=+++"}, 400, "invalid", "customer_id"},
		{"EmptyBody", call{}, 400, "invalid", "empty"},
		{"LookupInQueryOnly", call{query: "?customer_id=101"}, 400, "invalid", "belong in the request body"},
		{"KeepInQuery", call{query: "?keep=firstname", contentType: form, body: "customer_id=101"}, 400, "invalid", "query string must be empty"},
		{"UnknownKeep", call{contentType: form, body: "customer_id=101&keep=firstnme,member_notes"}, 400, "invalid", `"firstnme", "member_notes"`},
		{"MalformedID", call{contentType: form, body: "customer_id=abc"}, 400, "invalid", "customer_id must be an integer"},
		{"UnknownParameter", call{contentType: form, body: "customer_id=101&kep=firstname"}, 400, "invalid", `unknown parameter "kep"`},
		{"RepeatedID", call{contentType: form, body: "customer_id=101&customer_id=102"}, 400, "invalid", "more than once"},
		{"BadDryRun", call{contentType: form, body: "customer_id=101&dry_run=maybe"}, 400, "invalid", "dry_run"},
		{"BadJSON", call{contentType: "application/json", body: `{"customer_id": 101`}, 400, "invalid", "malformed"},
		{"JSONArray", call{contentType: "application/json", body: `[101]`}, 400, "invalid", "object"},
		{"JSONTrailing", call{contentType: "application/json", body: `{"customer_id": 101} {}`}, 400, "invalid", "after"},
		{"JSONDuplicateKey", call{contentType: "application/json", body: `{"customer_id": 101, "customer_id": 102}`}, 400, "invalid", "more than once"},
		{"JSONKeepNumber", call{contentType: "application/json", body: `{"customer_id": 101, "keep": 5}`}, 400, "invalid", "keep"},
		{"JSONIDObject", call{contentType: "application/json", body: `{"customer_id": {"x":1}}`}, 400, "invalid", "customer_id"},
		{"MultipartNoBoundary", call{contentType: "multipart/form-data", body: "x"}, 400, "invalid", "boundary"},
		{"NotFound", call{contentType: form, body: "customer_id=999"}, 404, "not_found", ""},
		{"OrderNotFound", call{contentType: form, body: "orderid=999"}, 404, "not_found", ""},
		{"Conflict", call{contentType: form, body: "customer_id=101&orderid=10201"}, 409, "conflict", ""},
		{"TooLarge", call{contentType: form, body: "customer_id=101&keep=" + strings.Repeat("a", forget.MaxBodyBytes)}, 413, "too_large", "1048576"},
		{"TextPlain", call{contentType: "text/plain", body: "customer_id=101"}, 415, "unsupported_media_type", "application/json"},
		{"NoContentType", call{body: "customer_id=101"}, 415, "unsupported_media_type", ""},
		{"BadContentType", call{contentType: "%%%", body: "customer_id=101"}, 415, "unsupported_media_type", ""},
	}
}

func TestHandler(t *testing.T) {
	t.Parallel()
	for _, tc := range handlerCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			store := seeded(t)
			srv := newServer(t, store)
			before := snapshotOf(store)
			res := srv.do(t, tc.call)
			if res.status != tc.status {
				t.Fatalf("status = %d, want %d; body %s", res.status, tc.status, res.body)
			}
			if ct := res.header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q, want application/json", ct)
			}
			if res.header.Get(forget.HeaderRequestID) == "" {
				t.Error("no X-Request-Id in the response")
			}
			if cc := res.header.Get("Cache-Control"); cc != "no-store" {
				t.Errorf("Cache-Control = %q, want no-store", cc)
			}
			if tc.status == 405 && res.header.Get("Allow") != "PATCH" {
				t.Errorf("Allow = %q, want PATCH", res.header.Get("Allow"))
			}
			if tc.code != "" {
				var e struct{ Result, Code, Data string }
				if err := json.Unmarshal([]byte(res.body), &e); err != nil {
					t.Fatalf("error body %q is not JSON: %v", res.body, err)
				}
				if e.Result != "error" || e.Code != tc.code || !strings.Contains(e.Data, tc.data) {
					t.Errorf("error body = %+v, want code %q and data containing %q", e, tc.code, tc.data)
				}
				if after := snapshotOf(store); !equalSnapshots(before, after) {
					t.Error("a refused request changed the store")
				}
				return
			}
			dry := strings.Contains(tc.name, "DryRun")
			if !dry {
				if res.body != "true" {
					t.Errorf("body = %q, want true", res.body)
				}
				if equalSnapshots(before, snapshotOf(store)) {
					t.Error("a successful forget changed nothing")
				}
				return
			}
			var rc forget.Receipt
			if err := json.Unmarshal([]byte(res.body), &rc); err != nil {
				t.Fatalf("dry run body %q is not a receipt: %v", res.body, err)
			}
			if !rc.DryRun || rc.CustomerID != "101" || rc.RowsDeleted[forget.MemberNote] != 3 || rc.Principal != testUser {
				t.Errorf("receipt = %+v", rc)
			}
			if !equalSnapshots(before, snapshotOf(store)) {
				t.Error("a dry run changed the store")
			}
		})
	}
}

func TestHandlerForgetsWhatItSays(t *testing.T) {
	t.Parallel()
	store := seeded(t)
	srv := newServer(t, store)
	res := srv.do(t, call{contentType: "application/json", body: `{"subscription_id": 1021, "keep": ["Firstname", " member_note "]}`})
	if res.status != 200 {
		t.Fatalf("status %d: %s", res.status, res.body)
	}
	c, _ := store.Customer("102")
	if c.Fields[forget.Firstname] != "firstname-of-102-qzx" || c.Fields[forget.Lastname] != "" {
		t.Errorf("firstname kept = %v, lastname erased = %v", c.Fields[forget.Firstname] == "firstname-of-102-qzx", c.Fields[forget.Lastname] == "")
	}
	if len(store.Rows(forget.MemberNote, "102")) != 3 || len(store.Rows(forget.MemberAuth, "102")) != 0 {
		t.Error("member_note should be kept and member_auth purged")
	}
}

func TestHandlerRequestID(t *testing.T) {
	t.Parallel()
	srv := newServer(t, seeded(t))
	res := srv.do(t, call{contentType: form, body: "customer_id=101&dry_run=true", headers: map[string]string{"api-key": testKey, "api-username": testUser, "X-Request-Id": "abc-123"}})
	if got := res.header.Get(forget.HeaderRequestID); got != "abc-123" {
		t.Errorf("X-Request-Id = %q, want the caller's", got)
	}
	if !strings.Contains(res.body, `"request_id":"abc-123"`) {
		t.Errorf("receipt %s does not carry the request id", res.body)
	}
	res = srv.do(t, call{contentType: form, body: "customer_id=101", headers: map[string]string{"api-key": testKey, "api-username": testUser, "X-Request-Id": "bad id\twith spaces"}})
	if got := res.header.Get(forget.HeaderRequestID); got == "" || strings.ContainsAny(got, " \t") {
		t.Errorf("X-Request-Id = %q, want a fresh one in place of a malformed one", got)
	}
}

// failingStore fails every forget the way a driver might: quoting the new
// value that broke a constraint. It remembers the values it was given.
type failingStore struct {
	mu     sync.Mutex
	values []string
}

func (s *failingStore) Forget(_ context.Context, _ forget.Lookup, p forget.Plan) (forget.Result, error) {
	s.mu.Lock()
	for _, a := range p.Fields {
		if len(a.Value.String) >= 4 {
			s.values = append(s.values, a.Value.String)
		}
	}
	s.mu.Unlock()
	return forget.Result{}, fmt.Errorf("Error 1062: Duplicate entry '%s' for key 'username'", p.Fields[0].Value.String)
}

func TestHandlerInternalError(t *testing.T) {
	t.Parallel()
	srv := newServer(t, &failingStore{})
	res := srv.do(t, call{contentType: form, body: "customer_id=101"})
	if res.status != 500 {
		t.Fatalf("status = %d, want 500", res.status)
	}
	var e struct{ Result, Code, Data string }
	if err := json.Unmarshal([]byte(res.body), &e); err != nil || e.Code != "internal" {
		t.Fatalf("body %q, want code internal", res.body)
	}
	if strings.Contains(res.body, "1062") || strings.Contains(res.body, "Duplicate") {
		t.Errorf("500 body %q tells the client about internals", res.body)
	}
	logs := srv.logs.String()
	if !strings.Contains(logs, "Duplicate entry '[redacted]'") {
		t.Errorf("the cause did not reach the log, redacted: %s", logs)
	}
	if strings.Contains(logs, "forgot-") {
		t.Errorf("the log holds the new username: %s", logs)
	}
}

func TestNewHandlerNeedsAuthenticator(t *testing.T) {
	t.Parallel()
	f, err := forget.New(memstore.New(), forget.WithLogger(quiet()))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := forget.NewHandler(f, nil); err == nil {
		t.Error("NewHandler accepted a nil Authenticator")
	}
	if _, err := forget.NewHandler(nil, forget.HostAuthenticated()); err == nil {
		t.Error("NewHandler accepted a nil Forgetter")
	}
	// The explicit opt-out: behind host middleware the principal comes
	// from the context.
	f, _ = forget.New(seeded(t), forget.WithLogger(quiet()))
	h, err := forget.NewHandler(f, forget.HostAuthenticated())
	if err != nil {
		t.Fatalf("explicit opt-out refused: %v", err)
	}
	req := httptest.NewRequest(http.MethodPatch, "/", strings.NewReader("customer_id=101&dry_run=1"))
	req.Header.Set("Content-Type", form)
	req = req.WithContext(forget.WithPrincipal(req.Context(), "sso:jane"))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"principal":"sso:jane"`) {
		t.Errorf("got %d %s, want a receipt for sso:jane", rec.Code, rec.Body)
	}
}

func TestNewAPIKeys(t *testing.T) {
	t.Parallel()
	for _, keys := range []map[string]string{nil, {"": "k"}, {"u": ""}, {" u": "k"}, {"u": "k "}} {
		if _, err := forget.NewAPIKeys(keys); err == nil {
			t.Errorf("NewAPIKeys(%q) succeeded", keys)
		}
	}
}

// TestNoValuesLeak runs every handler case (successes, dry runs, every
// refusal, conflicts), a failing store, and after-forget hooks that fail,
// and checks that no catalogue value, old or new, reaches a log line, a
// response, an audit record or a hook's argument.
func TestNoValuesLeak(t *testing.T) {
	t.Parallel()
	store := seeded(t, memstore.WithAudit())
	var hookArgs syncbuf.Buffer
	srv := newServer(t, store,
		forget.WithHook("record", func(_ context.Context, rc forget.Receipt) error {
			b, _ := json.Marshal(rc)
			hookArgs.Write(b)
			return nil
		}),
		forget.WithHook("broken", func(context.Context, forget.Receipt) error { return errors.New("downstream refused") }),
	)
	var seen strings.Builder
	for _, tc := range handlerCases(t) {
		res := srv.do(t, tc.call)
		fmt.Fprintf(&seen, "%v\n%s\n", res.header, res.body)
	}
	store2 := &failingStore{}
	failing := newServer(t, store2)
	res := failing.do(t, call{contentType: form, body: "customer_id=101"})
	fmt.Fprintf(&seen, "%v\n%s\n", res.header, res.body)
	if len(store2.values) == 0 {
		t.Fatal("the failing store saw no values; the check below would prove nothing")
	}
	for _, v := range store2.values {
		if strings.Contains(failing.logs.String(), v) || strings.Contains(seen.String(), v) {
			t.Error("a value the failing store was given reached the log or a response")
		}
	}

	var after []memstore.Customer
	for _, id := range store.CustomerIDs() {
		c, _ := store.Customer(id)
		after = append(after, c)
	}
	audit, err := json.Marshal(mustTrail(t, store))
	if err != nil {
		t.Fatal(err)
	}
	fix := storetest.Fixtures()
	assertNoValues(t, "responses", seen.String(), fix, after...)
	assertNoValues(t, "logs", srv.logs.String(), fix, after...)
	assertNoValues(t, "logs", failing.logs.String(), fix, after...)
	assertNoValues(t, "audit records", string(audit), fix, after...)
	assertNoValues(t, "hook arguments", hookArgs.String(), fix, after...)
	for what, text := range map[string]string{"log": srv.logs.String(), "audit trail": string(audit), "hook arguments": hookArgs.String()} {
		if !strings.Contains(text, "customer_id") {
			t.Errorf("the %s is empty; the leak check would prove nothing", what)
		}
	}
	if !strings.Contains(srv.logs.String(), "downstream refused") {
		t.Error("the failing hook was not logged")
	}
}

// assertNoValues fails when text holds a seeded value or a current value
// of a customer (the new pseudonyms and random values after a forget).
func assertNoValues(t *testing.T, where, text string, seeded []storetest.Customer, current ...memstore.Customer) {
	t.Helper()
	for _, c := range seeded {
		for f, v := range c.Fields {
			if strings.Contains(text, v) {
				t.Errorf("%s hold the old %s of %s", where, f, c.ID)
			}
		}
	}
	if strings.Contains(text, "-of-191-qzx") {
		t.Errorf("%s hold an old value of 191", where)
	}
	for _, c := range current {
		for f, v := range c.Fields {
			if len(v) >= 4 && strings.Contains(text, v) {
				t.Errorf("%s hold the current %s of %s", where, f, c.ID)
			}
		}
	}
}

func snapshotOf(s *memstore.Store) map[string]string {
	out := make(map[string]string)
	for _, id := range s.CustomerIDs() {
		c, _ := s.Customer(id)
		out[id] = fmt.Sprint(c.Fields, len(s.Rows(forget.MemberAuth, id)), len(s.Rows(forget.MemberNote, id)))
	}
	return out
}

func equalSnapshots(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// blockingStore blocks every forget until the request's context ends, then
// fails with err (the context's error when err is nil), as a driver does
// when the client hangs up mid-query.
type blockingStore struct {
	entered chan struct{}
	err     error
}

func (s *blockingStore) Forget(ctx context.Context, _ forget.Lookup, _ forget.Plan) (forget.Result, error) {
	close(s.entered)
	<-ctx.Done()
	if s.err != nil {
		return forget.Result{}, s.err
	}
	return forget.Result{}, fmt.Errorf("blocking store: begin: %w", ctx.Err())
}

// TestHandlerClientGone: a request whose context is cancelled while the
// store works is logged at INFO as cancelled, not at ERROR as internal,
// and answered 503 canceled (documented in openapi.yaml), whatever error
// the driver made of the cancel. Before, it was an ERROR "internal error"
// and a 500.
func TestHandlerClientGone(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		err  error
	}{
		{"ContextError", nil},
		{"DriverError", errors.New("driver: bad connection")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			store := &blockingStore{entered: make(chan struct{}), err: tc.err}
			logs := &syncbuf.Buffer{}
			f := newForgetter(t, store, forget.WithLogger(slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
			h, err := forget.NewHandler(f, forget.HostAuthenticated())
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			req := httptest.NewRequestWithContext(ctx, http.MethodPatch, "/", strings.NewReader("customer_id=101"))
			req.Header.Set("Content-Type", form)
			rec := httptest.NewRecorder()
			done := make(chan struct{})
			go func() {
				defer close(done)
				h.ServeHTTP(rec, req)
			}()
			<-store.entered
			cancel()
			<-done
			if rec.Code != http.StatusServiceUnavailable {
				t.Fatalf("status %d, want 503: %s", rec.Code, rec.Body)
			}
			if e := decodeError(t, rec); e.Code != forget.CodeCanceled || !strings.Contains(e.Data, "cancelled") {
				t.Errorf("error %+v, want code canceled", e)
			}
			checkCancelLogged(t, logs.String())
		})
	}
}

func checkCancelLogged(t *testing.T, logs string) {
	t.Helper()
	if !strings.Contains(logs, `"level":"INFO","msg":"forget: request cancelled before it completed"`) {
		t.Errorf("no INFO line for the cancelled request: %s", logs)
	}
	if strings.Contains(logs, `"level":"ERROR"`) || strings.Contains(logs, "internal error") {
		t.Errorf("a cancelled request was logged as an internal error: %s", logs)
	}
}

// TestHandlerClientDisconnects: the same over a real connection that the
// client drops while the store works.
func TestHandlerClientDisconnects(t *testing.T) {
	t.Parallel()
	store := &blockingStore{entered: make(chan struct{})}
	logs := &syncbuf.Buffer{}
	f := newForgetter(t, store, forget.WithLogger(slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	h, err := forget.NewHandler(f, forget.HostAuthenticated())
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer close(served)
		h.ServeHTTP(w, r)
	}))
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodPatch, srv.URL, strings.NewReader("customer_id=101"))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", form)
	go func() {
		<-store.entered
		cancel()
	}()
	if _, err := srv.Client().Do(req); !errors.Is(err, context.Canceled) {
		t.Fatalf("client: %v, want context.Canceled", err)
	}
	<-served
	checkCancelLogged(t, logs.String())
}

// panickingStore panics with a message holding a customer's value.
type panickingStore struct{ v any }

func (s panickingStore) Forget(context.Context, forget.Lookup, forget.Plan) (forget.Result, error) {
	panic(s.v)
}

// TestHandlerRecoversPanics: a store that panics gets the client a JSON
// 500 and the log a line without the panic's value. Before, net/http
// dropped the connection and logged the value.
func TestHandlerRecoversPanics(t *testing.T) {
	t.Parallel()
	srv := newServer(t, panickingStore{"constraint failed on firstname-of-101-qzx"})
	res := srv.do(t, call{contentType: form, body: "customer_id=101"})
	if res.status != http.StatusInternalServerError {
		t.Fatalf("status %d, want 500: %s", res.status, res.body)
	}
	var e errorBody
	if err := json.Unmarshal([]byte(res.body), &e); err != nil || e.Code != forget.CodeInternal {
		t.Errorf("body %q, want the JSON internal error", res.body)
	}
	logs := srv.logs.String()
	if !strings.Contains(logs, "panic of type string") || strings.Contains(logs, "qzx") || strings.Contains(res.body, "qzx") {
		t.Errorf("log %s: want the panic noted without its value", logs)
	}

	// http.ErrAbortHandler is how a handler means to abort: it goes on.
	h := handlerOver(t, panickingStore{http.ErrAbortHandler})
	defer func() {
		if v := recover(); v != http.ErrAbortHandler {
			t.Errorf("recovered %v, want http.ErrAbortHandler to pass through", v)
		}
	}()
	serveBody(h, form, "customer_id=101")
	t.Error("ServeHTTP returned after an ErrAbortHandler panic")
}

type hostIDKey struct{}

// TestRequestIDFromHostMiddleware: the id the host's middleware put in the
// context is the response's, the log's and the receipt's; a hostile one is
// replaced.
func TestRequestIDFromHostMiddleware(t *testing.T) {
	t.Parallel()
	s := seeded(t, memstore.WithAudit())
	f := newForgetter(t, s)
	keys, err := forget.NewAPIKeys(map[string]string{"ops": "key-of-ops-0123456789"})
	if err != nil {
		t.Fatal(err)
	}
	h, err := forget.NewHandler(f, keys, forget.WithRequestIDFrom(func(ctx context.Context) string {
		id, _ := ctx.Value(hostIDKey{}).(string)
		return id
	}))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ given, want string }{
		{"host-7f3a/000042", "host-7f3a/000042"},
		{"bad id\n", ""}, // not printable: a fresh one
	} {
		req := httptest.NewRequest(http.MethodPatch, "/api/customer/forget", strings.NewReader("customer_id=101&dry_run=1"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("api-username", "ops")
		req.Header.Set("api-key", "key-of-ops-0123456789")
		req.Header.Set(forget.HeaderRequestID, "from-the-client")
		req = req.WithContext(context.WithValue(req.Context(), hostIDKey{}, tc.given))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		got := rec.Header().Get(forget.HeaderRequestID)
		switch {
		case rec.Code != http.StatusOK:
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		case tc.want != "" && (got != tc.want || !strings.Contains(rec.Body.String(), `"request_id":"`+tc.want+`"`)):
			t.Errorf("request id %q, body %s; want %q in both", got, rec.Body, tc.want)
		case tc.want == "" && (got == tc.given || got == "from-the-client" || got == ""):
			t.Errorf("hostile host id %q: got %q, want a fresh one", tc.given, got)
		}
	}
}
