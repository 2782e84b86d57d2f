package forget_test

// The Go snippets of the README and of docs/*.md live here, between
// "README:begin FILE NAME" and "README:end" lines, so that each one
// compiles and runs; TestREADMESnippets checks that each file shows its
// snippets exactly, in order, and TestDocLinks that their links resolve.

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"

	_ "modernc.org/sqlite"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/forgetkit/forget"
	"github.com/forgetkit/forget/certificate"
	forgetprom "github.com/forgetkit/forget/observe/prometheus"
	"github.com/forgetkit/forget/propagate"
	"github.com/forgetkit/forget/store/memstore"
	"github.com/forgetkit/forget/store/sqlstore"
)

// README:begin README.md handler
// newForgetHandler builds the erasure endpoint over the host's database.
func newForgetHandler(ctx context.Context, db *sql.DB, apiKey string, logger *slog.Logger) (*forget.Handler, error) {
	store, err := sqlstore.New(db, sqlstore.SQLite, // your schema: sqlstore.WithSchema(mapping)
		sqlstore.WithAudit(sqlstore.DefaultAuditTable))
	if err != nil {
		return nil, err
	}
	f, err := forget.New(store, forget.WithLogger(logger)) // checks the catalogue against the mapping
	if err != nil {
		return nil, err
	}
	if err := f.Verify(ctx); err != nil { // checks the mapping against the live database
		return nil, err
	}
	keys, err := forget.NewAPIKeys(map[string]string{"offerit_admin": apiKey})
	if err != nil {
		return nil, err
	}
	return forget.NewHandler(f, keys) // or forget.HostAuthenticated() behind your own auth
}

// README:end

// mountREADME is the README's mount snippet.
func mountREADME(dbPath string) *http.ServeMux {
	ctx := context.Background()
	mux := http.NewServeMux()
	os.Setenv("FORGET_API_KEY", "fk_0123456789abcdef")
	// README:begin README.md mount
	db, err := sql.Open("sqlite", "file:"+dbPath+"?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_pragma=secure_delete(1)")
	if err != nil {
		log.Fatal(err)
	}
	h, err := newForgetHandler(ctx, db, os.Getenv("FORGET_API_KEY"), slog.Default())
	if err != nil {
		log.Fatal(err)
	}
	mux.Handle("/api/customer/forget", h) // no method in the pattern: the handler answers 405 itself
	// README:end
	return mux
}

// defaultSchemaFile creates a SQLite file with the default schema and the
// rows the statements insert, and returns its path.
func defaultSchemaFile(t *testing.T, inserts ...string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "app.db")
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := sqlstore.CreateSchema(context.Background(), db, sqlstore.SQLite); err != nil {
		t.Fatal(err)
	}
	for _, q := range inserts {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	return path
}

// TestREADMEMount mounts exactly what the README shows and checks that a
// GET gets the handler's JSON 405, not ServeMux's plain-text one, and that
// a PATCH forgets.
func TestREADMEMount(t *testing.T) {
	t.Parallel()
	path := defaultSchemaFile(t, `INSERT INTO customers (customer_id, username, firstname) VALUES (191, 'jdoe', 'Jane')`)
	srv := httptest.NewServer(mountREADME(path))
	defer srv.Close()

	res, err := http.Get(srv.URL + "/api/customer/forget")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusMethodNotAllowed || res.Header.Get("Content-Type") != "application/json" ||
		!strings.Contains(string(body), `"code":"method_not_allowed"`) || res.Header.Get("Allow") != http.MethodPatch {
		t.Errorf("GET: %d %s %q, want the handler's JSON 405", res.StatusCode, res.Header.Get("Content-Type"), body)
	}

	req, _ := http.NewRequest(http.MethodPatch, srv.URL+"/api/customer/forget", strings.NewReader(`{"customer_id": 191, "keep": ["firstname"]}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("api-username", "offerit_admin")
	req.Header.Set("api-key", "fk_0123456789abcdef")
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || string(body) != "true" {
		t.Errorf("PATCH: %d %s, want 200 true", res.StatusCode, body)
	}
}

// limitREADME is docs/http.md's "Failed authentications" snippet.
func limitREADME(f *forget.Forgetter, keys *forget.APIKeys) (*forget.Handler, error) {
	// README:begin docs/http.md limit
	h, err := forget.NewHandler(f, keys,
		forget.WithAuthLimit(forget.AuthLimit{Burst: 20, Refill: 2 * time.Second}),
		// Only a header your proxy sets and clients cannot.
		forget.WithClientAddr(func(r *http.Request) string { return r.Header.Get("X-Real-IP") }),
	)
	// README:end
	return h, err
}

// TestREADMELimit: the snippet's handler allows 20 failures per
// X-Real-IP, whatever the connection's address.
func TestREADMELimit(t *testing.T) {
	t.Parallel()
	keys, err := forget.NewAPIKeys(map[string]string{testUser: testKey})
	if err != nil {
		t.Fatal(err)
	}
	h, err := limitREADME(newForgetter(t, seeded(t)), keys)
	if err != nil {
		t.Fatal(err)
	}
	status := func(realIP string, port int) int {
		req := httptest.NewRequest(http.MethodPatch, "/", nil)
		req.RemoteAddr = fmt.Sprintf("10.0.0.1:%d", port)
		req.Header.Set("X-Real-IP", realIP)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code
	}
	for i := range 20 {
		if s := status("192.0.2.1", i); s != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d", i+1, s)
		}
	}
	if a, b := status("192.0.2.1", 99), status("192.0.2.2", 99); a != http.StatusTooManyRequests || b != http.StatusUnauthorized {
		t.Errorf("past the burst: %d, another client %d; want 429, 401", a, b)
	}
}

// forgetREADME is the README's "Call it from Go" snippet.
func forgetREADME(ctx context.Context, f *forget.Forgetter) string {
	// README:begin docs/http.md call
	rc, err := f.Forget(ctx, forget.Request{
		Lookup: forget.Lookup{OrderID: "19101"},
		Keep:   []string{"firstname", "member_note"},
	})
	var held *forget.HeldError
	switch {
	case errors.As(err, &held):
		return "not now: hold " + held.Hold // 409 held; the refusal is audited
	case forget.Refused(err):
		return forget.ProblemOf(err).Message // invalid, not found, conflict: nothing changed
	case err != nil:
		return "failed; nothing was changed: " + err.Error() // internal: log it, retry later
	}
	return fmt.Sprintf("forgot %s: %d fields erased, rows deleted %v", rc.CustomerID, len(rc.FieldsErased), rc.RowsDeleted)
	// README:end
}

func TestREADMECall(t *testing.T) {
	t.Parallel()
	path := defaultSchemaFile(t,
		`INSERT INTO customers (customer_id, username) VALUES (191, 'jdoe')`,
		`INSERT INTO transactions (orderid, customer_id) VALUES (19101, 191)`,
		`INSERT INTO member_auth (customer_id, kind) VALUES (191, 'totp')`)
	ctx := context.Background()
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=foreign_keys(1)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	store, err := sqlstore.New(db, sqlstore.SQLite, sqlstore.WithAudit(sqlstore.DefaultAuditTable))
	if err != nil {
		t.Fatal(err)
	}
	f := newForgetter(t, store)
	if got, want := forgetREADME(ctx, f), "forgot 191: 22 fields erased, rows deleted map[member_auth:1]"; got != want {
		t.Errorf("first call: %q, want %q", got, want)
	}
	// An order nobody has: a refusal with its public message.
	rc, err := f.Forget(ctx, forget.Request{Lookup: forget.Lookup{OrderID: "1"}})
	if rc != nil || !forget.Refused(err) {
		t.Errorf("unknown order: %v, %v", rc, err)
	}
}

// ExampleCatalogue_extend is the README's "Extend the catalogue" snippet.
func ExampleCatalogue_extend() {
	store := memstore.New()
	// README:begin docs/mapping.md extend
	cat := forget.DefaultCatalogue()
	cat.Fields = append(cat.Fields, forget.FieldSpec{Name: "email", Rule: forget.Pseudonym()}) // a unique column
	cat.Tables = append(cat.Tables, forget.TableSpec{Name: "member_loginlog"})                 // rows deleted
	cat.Tables = append(cat.Tables, forget.TableSpec{Name: "member_ip",                        // rows kept, columns scrubbed
		Scrub: []forget.ColumnRule{{Column: "ip", Rule: forget.Null()}}})
	if err := cat.SetRule(forget.Phone, forget.Null()); err != nil {
		log.Fatal(err)
	}
	f, err := forget.New(store, forget.WithCatalogue(cat))
	// README:end
	if err != nil {
		log.Fatal(err)
	}
	kept, _ := f.Catalogue().ParseKeep("EMAIL, member_ip")
	fmt.Println(kept)
	// Output: [email member_ip]
}

// README:begin docs/mapping.md load
func loadMapping(db *sql.DB, key []byte) (*forget.Forgetter, error) {
	f, err := os.Open("mapping.json") // the file forget lint -schema checks in CI
	if err != nil {
		return nil, err
	}
	defer f.Close()
	schema, err := sqlstore.LoadSchema(f) // unknown keys refused, as -schema does
	if err != nil {
		return nil, err
	}
	store, err := sqlstore.New(db, sqlstore.Postgres, sqlstore.WithSchema(schema), sqlstore.WithHashKey(key))
	if err != nil {
		return nil, err
	}
	cat, err := schema.Catalogue(forget.DefaultCatalogue()) // or store.ExtendCatalogue(ctx, base), as the command does
	if err != nil {
		return nil, err
	}
	return forget.New(store, forget.WithCatalogue(cat))
}

// README:end

// TestLoadMappingSnippet runs docs/mapping.md's loadMapping on a mapping
// file whose phone has a keyed_hash rule.
func TestLoadMappingSnippet(t *testing.T) {
	t.Chdir(t.TempDir())
	s := sqlstore.DefaultSchema()
	phone := s.Fields[forget.Phone]
	phone.Rule = &sqlstore.RuleSpec{Rule: sqlstore.RuleKeyedHash}
	s.Fields[forget.Phone] = phone
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile("mapping.json", b, 0o600); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "app.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	f, err := loadMapping(db, []byte("0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	for _, fs := range f.Catalogue().Fields {
		if fs.Name == forget.Phone && fs.Rule.String() != "keyed_hash" {
			t.Errorf("phone's rule is %s, want the mapping's keyed_hash", fs.Rule)
		}
	}
	if _, err := loadMapping(db, nil); err == nil {
		t.Error("a keyed_hash without a key loaded")
	}
}

// sweepREADME is the README's retention-sweep snippet.
func sweepREADME(ctx context.Context, f *forget.Forgetter, logger *slog.Logger) (forget.SweepReport, error) {
	// README:begin docs/operations.md sweep
	rep, err := f.Sweep(ctx, forget.SweepOptions{
		InactiveSince: time.Now().AddDate(-3, 0, 0),
		Chunk:         1000,
		Progress:      func(r forget.SweepReport) { logger.Info("sweep", "tried", r.Tried) },
	})
	// README:end
	return rep, err
}

var _ = sweepREADME

// searchIndex stands for a host's own downstream system.
type searchIndex struct{ deleted []string }

func (x *searchIndex) DeleteCustomer(_ context.Context, id string) error {
	x.deleted = append(x.deleted, id)
	return nil
}

// propagateREADME is the README's "Propagate erasures" snippet, compiled
// here; propagate's own tests run the same calls against a real server.
func propagateREADME(ctx context.Context, db *sql.DB, natsURL string, index *searchIndex) error {
	// README:begin docs/propagation.md propagate
	store, err := sqlstore.New(db, sqlstore.Postgres, sqlstore.WithAudit(sqlstore.DefaultAuditTable))
	if err != nil {
		return err
	}
	nc, err := nats.Connect(natsURL, nats.MaxReconnects(-1))
	if err != nil {
		return err
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	relay, err := propagate.NewRelay(store, js) // the store is a forget.Outbox
	if err != nil {
		return err
	}
	go relay.Run(ctx) // forget.WithHook can call relay.Wake to cut latency

	// A destination inside the host, instead of a webhook:
	go propagate.Consume(ctx, js, "search-index", func(ctx context.Context, rc forget.Receipt) error {
		return index.DeleteCustomer(ctx, rc.CustomerID) // idempotent; rc.EventID tells repeats
	})
	// README:end
	return nil
}

var _ = propagateREADME

// signingREADME is docs/certificates.md's signing snippet.
func signingREADME(store forget.Store, keyPEM []byte) (*forget.Forgetter, error) {
	// README:begin docs/certificates.md sign
	priv, err := certificate.ParsePrivateKey(keyPEM) // forget keygen's .key file
	if err != nil {
		return nil, err
	}
	signer, err := certificate.NewSigner(priv) // a forget.Certifier
	if err != nil {
		return nil, err
	}
	return forget.New(store, forget.WithCertifier(signer))
	// README:end
}

// receiveCertificateREADME is docs/certificates.md's receiver snippet.
func receiveCertificateREADME(pemBytes, body []byte, archive func(eventID string, body []byte) error) error {
	// README:begin docs/certificates.md receive
	pub, err := certificate.ParsePublicKey(pemBytes) // keygen's .pub, or the base64 of the 32-byte key
	if err != nil {
		return err
	}
	c, err := certificate.Parse(body) // a webhook's body, an event, a certificate
	if err != nil {
		return err
	}
	if err := c.Verify(pub); err != nil {
		return err // not signed with this key, or altered
	}
	return archive(c.EventID, body)
	// README:end
}

// TestREADMECertificate runs the signing snippet, and the receiver
// snippet on a webhook's body and on the body altered.
func TestREADMECertificate(t *testing.T) {
	t.Parallel()
	pub, priv, err := certificate.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	pemBytes, err := certificate.MarshalPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	keyPEM, err := certificate.MarshalPrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	f, err := signingREADME(seeded(t), keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	rc, err := f.Forget(context.Background(), forget.Request{Lookup: forget.Lookup{CustomerID: "191"}})
	if err != nil {
		t.Fatal(err)
	}
	body, err := propagate.Payload(*rc)
	if err != nil {
		t.Fatal(err)
	}
	var archived string
	if err := receiveCertificateREADME(pemBytes, body, func(id string, _ []byte) error { archived = id; return nil }); err != nil || archived != rc.EventID {
		t.Fatalf("receive: %v, archived %q, want %q", err, archived, rc.EventID)
	}
	altered := bytes.Replace(body, []byte(`"customer_id":"191"`), []byte(`"customer_id":"192"`), -1)
	if err := receiveCertificateREADME(pemBytes, altered, func(string, []byte) error { return nil }); !errors.Is(err, certificate.ErrBadSignature) {
		t.Fatalf("receive of an altered body: %v, want ErrBadSignature", err)
	}
}

// observeREADME is the README's "Observability" snippet.
func observeREADME(store forget.Store, admin *http.ServeMux, built **forget.Forgetter) error {
	// README:begin docs/observability.md observe
	reg := prometheus.NewRegistry() // or prometheus.DefaultRegisterer
	obs, err := forgetprom.New(reg) // github.com/forgetkit/forget/observe/prometheus
	if err != nil {
		return err
	}
	f, err := forget.New(store, forget.WithObserver(obs))
	if err != nil {
		return err
	}
	admin.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{})) // an internal address, not the public one
	// README:end
	*built = f
	return nil
}

// TestREADMEObserve scrapes what the README's snippet serves after a
// forget.
func TestREADMEObserve(t *testing.T) {
	t.Parallel()
	admin := http.NewServeMux()
	var f *forget.Forgetter
	if err := observeREADME(seeded(t), admin, &f); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Forget(context.Background(), forget.Request{Lookup: forget.Lookup{CustomerID: "191"}}); err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	admin.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if !strings.Contains(rec.Body.String(), `forget_requests_total{code="",outcome="forgotten"} 1`) {
		t.Errorf("metrics after one forget:\n%s", rec.Body)
	}
}

// guardREADME is the README's "Keep forgotten people out" snippet.
func guardREADME(db *sql.DB, mapping sqlstore.Schema, keyFile io.Reader, mux *http.ServeMux, postback http.Handler) error {
	// README:begin README.md guard
	keys, err := forget.ParseTombstoneKeys(keyFile) // id:hex lines, from your secrets
	if err != nil {
		return err
	}
	store, err := sqlstore.New(db, sqlstore.SQLite, sqlstore.WithSchema(mapping), // mapping.Identities: email, phone
		sqlstore.WithAudit(sqlstore.DefaultAuditTable), sqlstore.WithTombstoneKeys(keys...))
	if err != nil {
		return err
	}
	guard, err := forget.NewGuard(store, map[string]string{"email": "email", "phone": "phone"})
	if err != nil {
		return err
	}
	mux.Handle("/postback", guard.Wrap(postback)) // a forgotten person's post-back: 409, never written
	// README:end
	return nil
}

// TestREADMEGuard forgets a customer through a store built as the
// snippet builds it, then posts the customer's e-mail back.
func TestREADMEGuard(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "g.db")+"?_pragma=foreign_keys(1)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := sqlstore.CreateSchema(ctx, db, sqlstore.SQLite); err != nil {
		t.Fatal(err)
	}
	for _, st := range []string{"ALTER TABLE customers ADD COLUMN email TEXT NOT NULL DEFAULT ''",
		"INSERT INTO customers (customer_id, username, email) VALUES (191, 'jane', 'jane@example.org')"} {
		if _, err := db.Exec(st); err != nil {
			t.Fatal(err)
		}
	}
	mapping := sqlstore.DefaultSchema()
	mapping.Fields["email"] = sqlstore.Column{Column: "email"}
	mapping.Identities = []sqlstore.Identity{{Name: "email", Column: "email", Normalize: "email"}, {Name: "phone", Column: "phone", Normalize: "e164"}}
	keyFile := "k1:" + strings.Repeat("0f", 32) + "\n"
	mux := http.NewServeMux()
	if err := guardREADME(db, mapping, strings.NewReader(keyFile), mux, http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})); err != nil {
		t.Fatal(err)
	}
	keys, _ := forget.ParseTombstoneKeys(strings.NewReader(keyFile))
	store, err := sqlstore.New(db, sqlstore.SQLite, sqlstore.WithSchema(mapping), sqlstore.WithAudit(sqlstore.DefaultAuditTable), sqlstore.WithTombstoneKeys(keys...))
	if err != nil {
		t.Fatal(err)
	}
	cat := forget.DefaultCatalogue()
	cat.Fields = append(cat.Fields, forget.FieldSpec{Name: "email", Rule: forget.Empty()})
	f, err := forget.New(store, forget.WithCatalogue(cat), forget.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: "191"}}); err != nil {
		t.Fatal(err)
	}
	for q, want := range map[string]int{"email=Jane%40example.org": http.StatusConflict, "email=bob%40example.org": http.StatusOK} {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/postback?"+q, nil))
		if rec.Code != want {
			t.Errorf("post-back %s: %d, want %d", q, rec.Code, want)
		}
	}
}

// TestREADMESnippets: every Go block of README.md and docs/*.md is one of
// the snippets above marked with that file, in the same order, so that
// each compiles and runs.
func TestREADMESnippets(t *testing.T) {
	t.Parallel()
	src, err := os.ReadFile("readme_test.go")
	if err != nil {
		t.Fatal(err)
	}
	snippets := markedSnippets(string(src))
	files := docFiles(t)
	for file := range snippets {
		if !slices.Contains(files, file) {
			t.Errorf("readme_test.go marks snippets for %s, which does not exist", file)
		}
	}
	for _, file := range files {
		text, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		blocks := goBlocks(string(text))
		want := snippets[file]
		if len(blocks) != len(want) {
			t.Errorf("%s has %d Go blocks, readme_test.go %d snippets for it", file, len(blocks), len(want))
			continue
		}
		for i := range blocks {
			if blocks[i] != want[i] {
				t.Errorf("%s: Go block %d differs from its snippet (scripts/readme-snippets copies them):\n--- %s\n%s\n--- readme_test.go\n%s", file, i+1, file, blocks[i], want[i])
			}
		}
	}
}

// docFiles is README.md and every page of docs/.
func docFiles(t *testing.T) []string {
	t.Helper()
	pages, err := filepath.Glob("docs/*.md")
	if err != nil || len(pages) == 0 {
		t.Fatalf("no docs/*.md pages: %v", err)
	}
	return append([]string{"README.md"}, pages...)
}

// goBlocks returns the bodies of a Markdown text's ```go blocks.
func goBlocks(text string) []string {
	var blocks, cur []string
	in := false
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		line := sc.Text()
		switch {
		case !in && line == "```go":
			in, cur = true, nil
		case in && line == "```":
			in = false
			blocks = append(blocks, strings.Join(cur, "\n"))
		case in:
			cur = append(cur, line)
		}
	}
	return blocks
}

// markedSnippets returns the snippets of src by the file that shows them,
// in order.
func markedSnippets(src string) map[string][]string {
	snippets := make(map[string][]string)
	var cur []string
	file := ""
	for _, line := range strings.Split(src, "\n") {
		trimmed := strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(trimmed, "// README:begin "):
			file, cur = strings.Fields(trimmed)[2], nil
		case trimmed == "// README:end":
			snippets[file] = append(snippets[file], dedent(cur))
			file = ""
		case file != "":
			cur = append(cur, line)
		}
	}
	return snippets
}

// TestDocLinks: every relative link of README.md, docs/*.md and
// SECURITY.md names a file that exists, and every #anchor a heading of
// its page.
func TestDocLinks(t *testing.T) {
	t.Parallel()
	link := regexp.MustCompile(`\]\(([^)\s]+)\)`)
	for _, file := range append(docFiles(t), "SECURITY.md") {
		text, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range link.FindAllStringSubmatch(withoutCode(string(text)), -1) {
			target := m[1]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			path, anchor, _ := strings.Cut(target, "#")
			if path == "" {
				path = file
			} else {
				path = filepath.Join(filepath.Dir(file), path)
			}
			if _, err := os.Stat(path); err != nil {
				t.Errorf("%s: link %s: %v", file, target, err)
				continue
			}
			if anchor == "" {
				continue
			}
			page, err := os.ReadFile(path)
			if err != nil {
				t.Errorf("%s: link %s: %v", file, target, err)
				continue
			}
			if !slices.Contains(headingAnchors(string(page)), anchor) {
				t.Errorf("%s: link %s: %s has no heading with that anchor", file, target, path)
			}
		}
	}
}

// withoutCode drops fenced blocks and inline code, whose brackets are no
// links.
func withoutCode(text string) string {
	return regexp.MustCompile("`[^`\n]*`").ReplaceAllString(withoutFences(text), "")
}

// headingAnchors returns the anchors GitHub gives a page's headings:
// lower case, spaces as hyphens, other punctuation dropped, repeats
// numbered.
func headingAnchors(text string) []string {
	var anchors []string
	seen := make(map[string]int)
	for _, line := range strings.Split(withoutFences(text), "\n") {
		if !strings.HasPrefix(line, "#") {
			continue
		}
		title := strings.TrimSpace(strings.TrimLeft(line, "#"))
		var b strings.Builder
		for _, r := range strings.ToLower(title) {
			switch {
			case r == ' ':
				b.WriteRune('-')
			case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
				b.WriteRune(r)
			}
		}
		a := b.String()
		if n := seen[a]; n > 0 {
			anchors = append(anchors, fmt.Sprintf("%s-%d", a, n))
		} else {
			anchors = append(anchors, a)
		}
		seen[a]++
	}
	return anchors
}

// withoutFences drops fenced blocks, whose # lines are no headings.
func withoutFences(text string) string {
	var out []string
	in := false
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(line, "```") {
			in = !in
			continue
		}
		if !in {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}

// dedent removes the first line's indentation from every line.
func dedent(lines []string) string {
	if len(lines) == 0 {
		return ""
	}
	indent := lines[0][:len(lines[0])-len(strings.TrimLeft(lines[0], "\t"))]
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = strings.TrimPrefix(l, indent)
	}
	// A trailing blank line separates the snippet from code after it.
	return strings.TrimRight(strings.Join(out, "\n"), "\n")
}

// TestREADMEMapping: the mapping the README shows loads as a mapping file
// does (unknown keys refused) and fits the catalogue with its extension.
func TestREADMEMapping(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(readme)
	at := strings.Index(text, "## Map an existing schema")
	start := strings.Index(text[at:], "```json\n")
	if at < 0 || start < 0 {
		t.Fatal("the README's mapping section has no JSON block")
	}
	body := text[at+start+len("```json\n"):]
	body = body[:strings.Index(body, "```")]
	dec := json.NewDecoder(strings.NewReader(body))
	dec.DisallowUnknownFields()
	var schema sqlstore.Schema
	if err := dec.Decode(&schema); err != nil {
		t.Fatalf("the README's mapping does not load: %v", err)
	}
	db, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "m.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	store, err := sqlstore.New(db, sqlstore.Postgres, sqlstore.WithSchema(schema))
	if err != nil {
		t.Fatalf("sqlstore.New: %v", err)
	}
	cat := forget.DefaultCatalogue()
	cat.Fields = append(cat.Fields, forget.FieldSpec{Name: "email", Rule: forget.Pseudonym()})
	if _, err := forget.New(store, forget.WithCatalogue(cat)); err != nil {
		t.Errorf("the README's mapping does not fit the catalogue: %v", err)
	}
	if len(schema.Holds) != 1 || len(schema.Retain) != 1 {
		t.Errorf("holds %v, retain %v: the README shows one of each", schema.Holds, schema.Retain)
	}
}

// TestMappingReference: docs/mapping.md's table names every key of a
// mapping file, and each of its JSON fragments (a key and its value, or
// a whole mapping but for "...") loads as part of a mapping file does.
func TestMappingReference(t *testing.T) {
	t.Parallel()
	text, err := os.ReadFile("docs/mapping.md")
	if err != nil {
		t.Fatal(err)
	}
	page := string(text)
	st := reflect.TypeOf(sqlstore.Schema{})
	for i := range st.NumField() {
		key, _, _ := strings.Cut(st.Field(i).Tag.Get("json"), ",")
		if !regexp.MustCompile("(?m)^\\| (`[a-z_]+`, )*`" + key + "`").MatchString(page) {
			t.Errorf("docs/mapping.md's key table has no row for %q", key)
		}
	}
	fragments := regexp.MustCompile("(?s)```json\n(.*?)```").FindAllStringSubmatch(page, -1)
	if len(fragments) < 3 {
		t.Fatalf("docs/mapping.md has %d JSON blocks, want its holds, activity and retain examples", len(fragments))
	}
	for _, m := range fragments {
		body := strings.TrimSpace(m[1])
		body = strings.ReplaceAll(body, ",\n ...}", "}")
		if strings.HasPrefix(body, `"`) {
			body = "{" + body + "}"
		}
		dec := json.NewDecoder(strings.NewReader(body))
		dec.DisallowUnknownFields()
		var s sqlstore.Schema
		if err := dec.Decode(&s); err != nil {
			t.Errorf("a JSON block of docs/mapping.md does not load: %v\n%s", err, m[1])
		}
	}
}
