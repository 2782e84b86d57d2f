package forget_test

import (
	"context"
	"fmt"
	"log"
	"log/slog"
	"sync"

	"github.com/forgetkit/forget"
)

// mapStore is the least a Store does: resolve the lookup, apply the plan
// all or nothing, and report. A real store also serialises forgets of one
// customer, deletes the plan's tables, keeps an audit trail and passes
// store/storetest.
type mapStore struct {
	mu        sync.Mutex
	customers map[string]map[forget.Field]string // by customer id
}

func (s *mapStore) Forget(ctx context.Context, l forget.Lookup, p forget.Plan) (forget.Result, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var id string
	err := l.Keys(func(key, v string) error {
		if key != forget.KeyCustomerID {
			return fmt.Errorf("%w: this store finds customers by customer_id only", forget.ErrInvalid)
		}
		if _, err := forget.ParseIntKey(key, v); err != nil {
			return err // a *KeyError: the key, never its value
		}
		id = v
		return nil
	})
	if err != nil {
		return forget.Result{}, err
	}
	c, ok := s.customers[id]
	if !ok {
		return forget.Result{}, fmt.Errorf("customer_id: %w", forget.ErrNotFound)
	}
	if !p.DryRun {
		for _, a := range p.Fields {
			c[a.Field] = a.Value.String
		}
	}
	return forget.Result{CustomerID: id}, nil
}

// Write a Store: the Forgetter plans, the store applies the plan, and the
// Forgetter makes the receipt.
func ExampleStore() {
	s := &mapStore{customers: map[string]map[forget.Field]string{
		"7": {forget.Username: "jdoe", forget.Firstname: "Jane", forget.Phone: "555-0100"},
	}}
	f, err := forget.New(s, forget.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	rc, err := f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: "7"}, Keep: []string{"phone"}})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(rc.CustomerID, len(rc.FieldsErased), "fields erased, kept", rc.FieldsKept)
	fmt.Printf("firstname %q, phone %q\n", s.customers["7"][forget.Firstname], s.customers["7"][forget.Phone])

	for _, id := range []string{"8", "x7"} {
		_, err := f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: id}})
		p := forget.ProblemOf(err)
		fmt.Println(p.Status, p.Code, p.Message)
	}
	// Output:
	// 7 22 fields erased, kept [phone]
	// firstname "", phone "555-0100"
	// 404 not_found no customer matches the lookup
	// 400 invalid customer_id must be an integer
}
