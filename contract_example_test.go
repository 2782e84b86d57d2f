package forget_test

import (
	"fmt"
	"log"
	"log/slog"
	"net/http/httptest"
	"strings"

	"github.com/forgetkit/forget"
	"github.com/forgetkit/forget/store/memstore"
)

// Serving NATS's PATCH /api/member/forget: its catalogue (the 23 fields
// and NATS's member tables) and its contract (memberid; success is
// {"result":true}), with the same handler.
func ExampleNATSMember() {
	store := memstore.New()
	store.Add(memstore.Customer{ID: "39", Fields: map[forget.Field]string{forget.Username: "member39"}})
	f, err := forget.New(store, forget.WithCatalogue(forget.NATSMemberCatalogue()), forget.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		log.Fatal(err)
	}
	h, err := forget.NewHandler(f, forget.HostAuthenticated(), forget.WithContract(forget.NATSMember()))
	if err != nil {
		log.Fatal(err)
	}
	for _, body := range []string{"memberid=39&keep=EpochTransStats", "customer_id=39"} {
		req := httptest.NewRequest("PATCH", "/api/member/forget", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		fmt.Println(rec.Code, rec.Body.String())
	}
	// Output:
	// 200 {"result":true}
	// 400 {"result":"error","code":"invalid","data":"unknown parameter \"customer_id\"; expected memberid, keep or dry_run"}
}
