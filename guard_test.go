package forget_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/forgetkit/forget"
	"github.com/forgetkit/forget/store/memstore"
)

// forgottenStore is a memstore with jane's e-mail and phone forgotten.
func forgottenStore(t testing.TB) *memstore.Store {
	t.Helper()
	s, err := newForgottenStore()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func newForgottenStore() (*memstore.Store, error) {
	const email forget.Field = "email"
	key := forget.TombstoneKey{ID: "k1", Secret: []byte(strings.Repeat("k", 32))}
	s := memstore.New(memstore.WithIdentity("email", email, forget.Normalization{Kind: forget.NormalizeEmail}),
		memstore.WithIdentity("phone", forget.Phone, forget.Normalization{Kind: forget.NormalizeE164}),
		memstore.WithTombstoneKeys(key))
	if err := s.Add(memstore.Customer{ID: "1", Fields: map[forget.Field]string{forget.Username: "jane", email: "jane@example.org", forget.Phone: "+15550100"}}); err != nil {
		return nil, err
	}
	cat := forget.DefaultCatalogue()
	cat.Fields = append(cat.Fields, forget.FieldSpec{Name: email, Rule: forget.Empty()})
	f, err := forget.New(s, forget.WithCatalogue(cat), forget.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		return nil, err
	}
	_, err = f.Forget(context.Background(), forget.Request{Lookup: forget.Lookup{CustomerID: "1"}})
	return s, err
}

func TestGuard(t *testing.T) {
	t.Parallel()
	s := forgottenStore(t)
	var seen []forget.GuardMatch
	g, err := forget.NewGuard(s, map[string]string{"email": "email", "contact.phone": "phone", "phone": "phone"},
		forget.GuardObserver(func(_ context.Context, m forget.GuardMatch) { seen = append(seen, m) }))
	if err != nil {
		t.Fatal(err)
	}
	var gotBody string
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		gotBody = string(b)
		w.WriteHeader(http.StatusCreated)
	})
	h := g.Wrap(next)
	multipartBody := func(field, v string) (string, string) {
		var b bytes.Buffer
		mw := multipart.NewWriter(&b)
		mw.WriteField("name", "x")
		mw.WriteField(field, v)
		mw.Close()
		return b.String(), mw.FormDataContentType()
	}
	mp, mpType := multipartBody("email", " JANE@example.org")
	mpOK, mpOKType := multipartBody("email", "bob@example.org")
	for _, c := range []struct {
		name, method, target, ctype, body string
		want                              int
	}{
		{"FormMatch", "POST", "/signup", "application/x-www-form-urlencoded", "name=J&email=Jane%40Example.org", http.StatusConflict},
		{"FormOther", "POST", "/signup", "application/x-www-form-urlencoded", "name=B&email=bob%40example.org", http.StatusCreated},
		{"QueryPostback", "GET", "/postback?offer=7&email=jane%40example.org", "", "", http.StatusConflict},
		{"QueryOther", "GET", "/postback?offer=7&email=bob%40example.org", "", "", http.StatusCreated},
		{"JSONNested", "POST", "/import", "application/json", `{"contact": {"phone": "+1 555 0100"}}`, http.StatusConflict},
		{"JSONArray", "POST", "/import", "application/json", `{"contact": [{"phone": "+1999"}, {"phone": "+15550100"}]}`, http.StatusConflict},
		{"JSONNumber", "POST", "/import", "application/json; charset=utf-8", `{"phone": 15550100}`, http.StatusConflict},
		{"JSONCase", "POST", "/import", "application/json", `{"Contact": {"PHONE": "+15550100"}}`, http.StatusConflict},
		{"JSONOther", "POST", "/import", "application/json", `{"email": "bob@example.org", "phone": "+1999"}`, http.StatusCreated},
		{"JSONBroken", "POST", "/import", "application/json", `{"email": `, http.StatusBadRequest},
		{"Multipart", "POST", "/signup", mpType, mp, http.StatusConflict},
		{"MultipartOther", "POST", "/signup", mpOKType, mpOK, http.StatusCreated},
		{"Gzipped", "POST", "/signup", "application/json", "gz", http.StatusUnsupportedMediaType},
		{"TooLarge", "POST", "/signup", "application/json", `{"x": "` + strings.Repeat("a", forget.MaxBodyBytes) + `"}`, http.StatusRequestEntityTooLarge},
	} {
		t.Run(c.name, func(t *testing.T) {
			gotBody = ""
			r := httptest.NewRequest(c.method, c.target, strings.NewReader(c.body))
			if c.ctype != "" {
				r.Header.Set("Content-Type", c.ctype)
			}
			if c.name == "Gzipped" {
				r.Header.Set("Content-Encoding", "gzip")
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != c.want {
				t.Fatalf("status %d, want %d: %s", w.Code, c.want, w.Body)
			}
			switch c.want {
			case http.StatusCreated:
				if gotBody != c.body {
					t.Errorf("the next handler read %q, want the body intact", gotBody)
				}
			case http.StatusConflict:
				if !strings.Contains(w.Body.String(), `"code":"forgotten"`) || strings.Contains(strings.ToLower(w.Body.String()), "jane") || strings.Contains(w.Body.String(), "555") {
					t.Errorf("refusal body %s: want code forgotten and no value", w.Body)
				}
			}
		})
	}
	if st := g.Stats(); st.Matched != 7 || len(seen) != 7 || st.Checked != 11 {
		t.Errorf("stats %+v, %d observed: want 7 matches of 11 checked", st, len(seen))
	}
}

func TestGuardFlagAndFailures(t *testing.T) {
	t.Parallel()
	s := forgottenStore(t)
	g, err := forget.NewGuard(s, map[string]string{"email": "email"}, forget.GuardFlagOnly())
	if err != nil {
		t.Fatal(err)
	}
	var flagged []forget.GuardMatch
	h := g.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { flagged = forget.GuardMatches(r.Context()) }))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/pb?email=jane@example.org", nil))
	if w.Code != http.StatusOK || len(flagged) != 1 || flagged[0].Identity != "email" || !flagged[0].Flagged {
		t.Fatalf("flag only: status %d, matches %+v", w.Code, flagged)
	}

	broken := checkerFunc(func(context.Context, forget.Identity) (bool, error) { return false, errors.New("db down") })
	for _, failOpen := range []bool{false, true} {
		var opts []forget.GuardOption
		if failOpen {
			opts = append(opts, forget.GuardFailOpen())
		}
		opts = append(opts, forget.GuardLogger(slog.New(slog.DiscardHandler)))
		g, _ := forget.NewGuard(broken, map[string]string{"email": "email"}, opts...)
		w := httptest.NewRecorder()
		g.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})).ServeHTTP(w, httptest.NewRequest("GET", "/pb?email=a@b", nil))
		if want := map[bool]int{false: http.StatusServiceUnavailable, true: http.StatusOK}[failOpen]; w.Code != want || g.Stats().Failed != 1 {
			t.Errorf("fail open %v: status %d, want %d; stats %+v", failOpen, w.Code, want, g.Stats())
		}
	}
	for _, c := range []struct {
		tc     forget.TombstoneChecker
		fields map[string]string
	}{{nil, map[string]string{"email": "email"}}, {s, nil}, {s, map[string]string{"": "email"}}} {
		if _, err := forget.NewGuard(c.tc, c.fields); err == nil {
			t.Errorf("NewGuard(%v, %v): no error", c.tc, c.fields)
		}
	}
}

type checkerFunc func(context.Context, forget.Identity) (bool, error)

func (f checkerFunc) Forgotten(ctx context.Context, id forget.Identity) (bool, error) {
	return f(ctx, id)
}

// ExampleGuard puts the guard in front of an advertiser's post-back
// endpoint: a post-back naming a forgotten person is refused, and the
// host's handler never writes it back.
func ExampleGuard() {
	store, err := newForgottenStore() // your store, built with tombstone keys
	if err != nil {
		panic(err)
	}
	guard, err := forget.NewGuard(store, map[string]string{"email": "email", "phone": "phone"})
	if err != nil {
		panic(err)
	}
	postback := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "recorded") })
	mux := http.NewServeMux()
	mux.Handle("/postback", guard.Wrap(postback))

	for _, q := range []string{"email=bob@example.org", "email=Jane@Example.org"} {
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, httptest.NewRequest("GET", "/postback?offer=7&"+q, nil))
		fmt.Print(w.Code, " ", w.Body.String())
		if w.Code != http.StatusOK {
			fmt.Println()
		}
	}
	// Output:
	// 200 recorded
	// 409 {"result":"error","code":"forgotten","data":"field email names a person who asked to be forgotten; it is not accepted"}
}
