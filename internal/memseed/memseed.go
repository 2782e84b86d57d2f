// Package memseed fills a memory store for tests: the conformance suite's
// customers, or a few of a test's own, each with its catalogue rows.
// Every test package that seeds a memstore does it here, so a change to
// how customers are stored is made once.
package memseed

import (
	"fmt"
	"strconv"
	"testing"

	"github.com/forgetkit/forget"
	"github.com/forgetkit/forget/store/memstore"
	"github.com/forgetkit/forget/store/storetest"
)

// Seed adds the customers to s, each with c.Rows[t] rows of each table t.
func Seed(s *memstore.Store, cs ...storetest.Customer) error {
	for _, c := range cs {
		if err := s.Add(memstore.Customer{ID: c.ID, Fields: c.Fields, Subscriptions: c.Subscriptions, Orders: c.Orders}); err != nil {
			return err
		}
		for table, n := range c.Rows {
			for i := range n {
				if err := s.AddRow(table, c.ID, memstore.Row{"note": fmt.Sprint("row ", i)}); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// New returns a memstore built with opts that holds the customers, or
// fails the test.
func New(tb testing.TB, cs []storetest.Customer, opts ...memstore.Option) *memstore.Store {
	tb.Helper()
	s := memstore.New(opts...)
	if err := Seed(s, cs...); err != nil {
		tb.Fatal(err)
	}
	return s
}

// Users returns customers first..last, each with only a username,
// "user" and its id.
func Users(first, last int) []storetest.Customer {
	var cs []storetest.Customer
	for id := first; id <= last; id++ {
		cs = append(cs, storetest.Customer{ID: strconv.Itoa(id), Fields: map[forget.Field]string{forget.Username: "user" + strconv.Itoa(id)}})
	}
	return cs
}
