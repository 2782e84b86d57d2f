package memstore_test

import (
	"context"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/forgetkit/forget"
	"github.com/forgetkit/forget/internal/memseed"
	"github.com/forgetkit/forget/store/memstore"
	"github.com/forgetkit/forget/store/storetest"
)

// backend adapts a memstore.Store to the conformance suite.
type backend struct {
	*memstore.Store
	held *sync.Map // customer ids under storetest.HoldName
}

// lastActive is the backend's activity field.
const lastActive forget.Field = "last_active"

func newBackend() backend {
	held := &sync.Map{}
	s := memstore.New(memstore.WithAudit(), memstore.WithActivity(lastActive), memstore.WithHold(storetest.HoldName, func(id string) bool {
		_, ok := held.Load(id)
		return ok
	}))
	return backend{Store: s, held: held}
}

func (b backend) PlaceHold(_ context.Context, customerID string) error {
	b.held.Store(customerID, true)
	return nil
}

func (b backend) AuditRecords(ctx context.Context) ([]forget.Receipt, error) {
	return b.AuditTrail(ctx, time.Time{})
}

func (b backend) Seed(_ context.Context, cs []storetest.Customer) error {
	cs = slices.Clone(cs)
	for i, c := range cs {
		if !c.LastActive.IsZero() {
			cs[i].Fields = maps.Clone(c.Fields)
			cs[i].Fields[lastActive] = c.LastActive.UTC().Format(time.RFC3339)
		}
	}
	return memseed.Seed(b.Store, cs...)
}

// SeedsLastActive implements storetest.ActivityBackend.
func (backend) SeedsLastActive() {}

func (b backend) ShareOrder(_ context.Context, orderID, customerID string) error {
	return b.AddOrder(customerID, orderID)
}

func (b backend) Snapshot(context.Context) (storetest.Snapshot, error) {
	snap := make(storetest.Snapshot)
	cat := forget.DefaultCatalogue()
	for _, id := range b.CustomerIDs() {
		c, _ := b.Customer(id)
		st := storetest.State{Fields: map[forget.Field]forget.Value{}, Rows: map[forget.Table]int{}}
		for _, f := range cat.Fields {
			v, ok := c.Fields[f.Name]
			st.Fields[f.Name] = forget.Value{String: v, Null: !ok}
		}
		for _, t := range cat.Tables {
			st.Rows[t.Name] = len(b.Rows(t.Name, id))
		}
		snap[id] = st
	}
	return snap, nil
}

func TestConformance(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) storetest.Backend { return newBackend() })
}
