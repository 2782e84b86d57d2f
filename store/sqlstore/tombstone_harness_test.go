package sqlstore_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/forgetkit/forget"
	"github.com/forgetkit/forget/internal/long"
	"github.com/forgetkit/forget/store/sqlstore"
)

// TestTombstoneHarness is the measure at a smaller scale (with
// FORGET_LONG=1 its own: 10⁵ forgotten, 10⁶ never forgotten): forget n
// customers on SQLite, then re-ingest each through the guard as a
// sign-up, a post-back and an import row would spell it (case, spaces,
// plus tags, phone punctuation): every one caught; and m identities
// never forgotten: none caught.
func TestTombstoneHarness(t *testing.T) {
	t.Parallel()
	n, m := long.Count(t, 2000, 100000), long.Count(t, 20000, 1000000)
	ctx := context.Background()
	db, _ := openSQLite(t)
	if err := sqlstore.CreateSchema(ctx, db, sqlstore.SQLite); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("ALTER TABLE customers ADD COLUMN email TEXT NOT NULL DEFAULT ''"); err != nil {
		t.Fatal(err)
	}
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	for start := 0; start < n; start += 500 {
		var vals []string
		for i := start; i < min(start+500, n); i++ {
			vals = append(vals, fmt.Sprintf("(%d, 'u%d', 'Person.%d+shop@Example.org', '07700 %06d')", i+1, i, i, i))
		}
		if _, err := tx.Exec("INSERT INTO customers (customer_id, username, email, phone) VALUES " + strings.Join(vals, ", ")); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	st, err := sqlstore.New(db, sqlstore.SQLite, sqlstore.WithSchema(tombSchema()), sqlstore.WithAudit(sqlstore.DefaultAuditTable),
		sqlstore.WithTombstoneKeys(tombKeyA), sqlstore.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	f, err := forget.New(st, forget.WithCatalogue(tombCatalogue()), forget.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	reqs := make([]forget.Request, n)
	for i := range reqs {
		reqs[i] = forget.Request{Lookup: forget.Lookup{CustomerID: fmt.Sprint(i + 1)}}
	}
	for start := 0; start < n; start += 1000 {
		for i, o := range f.ForgetBatch(ctx, reqs[start:min(start+1000, n)]) {
			if o.Err != nil {
				t.Fatalf("forget %d: %v", start+i+1, o.Err)
			}
		}
	}
	g, err := forget.NewGuard(st, map[string]string{"email": "email", "phone": "phone"})
	if err != nil {
		t.Fatal(err)
	}
	h := g.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	post := func(email, phone string) int {
		form := url.Values{"email": {email}, "phone": {phone}}
		r := httptest.NewRequest(http.MethodPost, "/signup", strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Code
	}
	caught := 0
	for i := range n {
		var code int
		switch i % 3 {
		case 0: // a sign-up: the address as typed, another tag
			code = post(fmt.Sprintf(" PERSON.%d+news@example.ORG", i), "")
		case 1: // a post-back: the phone, international form
			code = post("", fmt.Sprintf("+44 7700 %06d", i))
		default: // an import row: both, plain
			code = post(fmt.Sprintf("person.%d@example.org", i), fmt.Sprintf("0044-7700-%06d", i))
		}
		if code == http.StatusConflict {
			caught++
		}
	}
	if caught != n {
		t.Errorf("%d of %d re-ingests caught, want all", caught, n)
	}
	false_ := 0
	for i := range m {
		ok1, err1 := st.Forgotten(ctx, forget.Identity{Name: "email", Value: fmt.Sprintf("person.%d@example.org", n+i)})
		ok2, err2 := st.Forgotten(ctx, forget.Identity{Name: "phone", Value: fmt.Sprintf("+44 7701 %06d", i%1000000)})
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		if ok1 || ok2 {
			false_++
		}
	}
	if false_ != 0 {
		t.Errorf("%d of %d never-forgotten identities matched", false_, m)
	}
	if s := g.Stats(); s.Matched != int64(n) || s.Failed != 0 {
		t.Errorf("guard stats %+v, want %d matched", s, n)
	}
}
