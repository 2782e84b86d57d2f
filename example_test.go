package forget_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/forgetkit/forget"
	"github.com/forgetkit/forget/store/memstore"
)

// Mount the handler in a host's mux and send the request Offerit's
// documentation shows.
func Example() {
	store := memstore.New()
	store.Add(memstore.Customer{ID: "191", Fields: map[forget.Field]string{
		forget.Username: "jdoe", forget.Firstname: "Jane", forget.Phone: "555-0100",
	}})

	f, err := forget.New(store, forget.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		log.Fatal(err)
	}
	keys, err := forget.NewAPIKeys(map[string]string{"offerit_admin": "s3cret-key"})
	if err != nil {
		log.Fatal(err)
	}
	h, err := forget.NewHandler(f, keys)
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	// No method in the pattern: the handler answers other methods with
	// its JSON 405 (ServeMux would answer them with a plain-text one).
	mux.Handle("/api/customer/forget", h)
	srv := httptest.NewServer(mux)
	defer srv.Close()

	req, _ := http.NewRequest(http.MethodPatch, srv.URL+"/api/customer/forget", strings.NewReader("customer_id=191&keep=firstname"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("api-username", "offerit_admin")
	req.Header.Set("api-key", "s3cret-key")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		log.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	fmt.Println(res.StatusCode, string(body))

	c, _ := store.Customer("191")
	fmt.Printf("firstname %q, phone %q, username is a pseudonym: %v\n",
		c.Fields[forget.Firstname], c.Fields[forget.Phone], strings.HasPrefix(c.Fields[forget.Username], "forgot-"))
	// Output:
	// 200 true
	// firstname "Jane", phone "", username is a pseudonym: true
}

// Call the Forgetter from Go; a dry run reports what a forget would erase.
func ExampleForgetter_Forget() {
	store := memstore.New()
	store.Add(memstore.Customer{ID: "42", Subscriptions: []string{"7"}, Fields: map[forget.Field]string{forget.Username: "jdoe"}})
	store.AddRow(forget.MemberNote, "42", memstore.Row{"note": "called on monday"})

	f, err := forget.New(store, forget.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		log.Fatal(err)
	}
	rc, err := f.Forget(context.Background(), forget.Request{
		Lookup: forget.Lookup{SubscriptionID: "7"},
		Keep:   []string{"member_auth, phone"},
		DryRun: true,
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("customer:", rc.CustomerID, "dry run:", rc.DryRun)
	fmt.Println("fields erased:", len(rc.FieldsErased), "kept:", rc.FieldsKept)
	fmt.Println("rows deleted:", rc.RowsDeleted, "tables kept:", rc.TablesKept)
	// Output:
	// customer: 42 dry run: true
	// fields erased: 22 kept: [phone]
	// rows deleted: map[member_note:1] tables kept: [member_auth]
}

// A typo in a keep list fails the whole request, naming every unknown
// name, so that nothing the caller meant to keep is erased.
func ExampleCatalogue_ParseKeep() {
	kept, err := forget.DefaultCatalogue().ParseKeep(" Firstname, member_note,,firstname")
	fmt.Println(kept, err)
	_, err = forget.DefaultCatalogue().ParseKeep("firstnme,phone,member_notes")
	fmt.Println(err)
	// Output:
	// [firstname member_note] <nil>
	// unknown keep names: "firstnme", "member_notes"; nothing was erased
}

// Extend the catalogue with a host's own field and table, and override a
// default rule.
func ExampleCatalogue() {
	cat := forget.DefaultCatalogue()
	cat.Fields = append(cat.Fields, forget.FieldSpec{Name: "email", Rule: forget.Empty()})
	cat.Tables = append(cat.Tables,
		forget.TableSpec{Name: "member_loginlog"}, // rows deleted
		forget.TableSpec{Name: "orders_shipping", Scrub: []forget.ColumnRule{ // rows kept, columns overwritten
			{Column: "ship_to", Rule: forget.Fixed("forgotten")},
		}},
	)
	if err := cat.SetRule(forget.Phone, forget.Null()); err != nil {
		log.Fatal(err)
	}
	fmt.Println(cat.Validate())
	fmt.Println(cat.ParseKeep("EMAIL,member_loginlog"))
	// Output:
	// <nil>
	// [email member_loginlog] <nil>
}

// Forget many customers: each request succeeds or fails on its own.
func ExampleForgetter_ForgetBatch() {
	store := memstore.New()
	for _, id := range []string{"1", "2"} {
		store.Add(memstore.Customer{ID: id, Fields: map[forget.Field]string{forget.Username: "user" + id}})
	}
	f, err := forget.New(store, forget.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		log.Fatal(err)
	}
	out := f.ForgetBatch(context.Background(), []forget.Request{
		{Lookup: forget.Lookup{CustomerID: "1"}},
		{Lookup: forget.Lookup{CustomerID: "3"}},
		{Lookup: forget.Lookup{CustomerID: "2"}, Keep: []string{"usernme"}},
	})
	for _, o := range out {
		if o.Err != nil {
			fmt.Println("error:", forget.ProblemOf(o.Err).Message)
			continue
		}
		fmt.Println("forgotten:", o.Receipt.CustomerID)
	}
	// Output:
	// forgotten: 1
	// error: no customer matches the lookup
	// error: unknown keep name: "usernme"; nothing was erased
}

// Purge a cache once the erasure is committed. A failing hook is reported
// in the receipt; the erasure stands.
func ExampleWithHook() {
	store := memstore.New()
	store.Add(memstore.Customer{ID: "7", Fields: map[forget.Field]string{forget.Username: "jdoe"}})
	f, err := forget.New(store,
		forget.WithLogger(slog.New(slog.DiscardHandler)),
		forget.WithHook("cache", func(ctx context.Context, rc forget.Receipt) error {
			fmt.Println("purging the cache of customer", rc.CustomerID)
			return nil
		}),
		forget.WithHook("crm", func(ctx context.Context, rc forget.Receipt) error {
			return errors.New("crm unreachable")
		}),
	)
	if err != nil {
		log.Fatal(err)
	}
	rc, err := f.Forget(context.Background(), forget.Request{Lookup: forget.Lookup{CustomerID: "7"}})
	fmt.Println(rc.HooksFailed, err)
	// Output:
	// purging the cache of customer 7
	// [crm] <nil>
}
