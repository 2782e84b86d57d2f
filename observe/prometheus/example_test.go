package forgetprom_test

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/forgetkit/forget"
	forgetprom "github.com/forgetkit/forget/observe/prometheus"
	"github.com/forgetkit/forget/store/memstore"
)

// Count a Forgetter's forgets on a registry of the host's own, which its
// /metrics serves (promhttp.HandlerFor(reg, promhttp.HandlerOpts{})).
func ExampleNew() {
	store := memstore.New()
	store.Add(memstore.Customer{ID: "191", Fields: map[forget.Field]string{forget.Username: "jdoe"}})

	reg := prometheus.NewRegistry()
	obs, err := forgetprom.New(reg)
	if err != nil {
		fmt.Println(err)
		return
	}
	f, err := forget.New(store, forget.WithObserver(obs), forget.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		fmt.Println(err)
		return
	}
	f.Forget(context.Background(), forget.Request{Lookup: forget.Lookup{CustomerID: "191"}})
	f.Forget(context.Background(), forget.Request{Lookup: forget.Lookup{CustomerID: "404"}})

	mfs, _ := reg.Gather()
	for _, mf := range mfs {
		if mf.GetName() != "forget_requests_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			if v := m.GetCounter().GetValue(); v > 0 {
				fmt.Println(m.GetLabel()[1].GetValue(), m.GetLabel()[0].GetValue(), v)
			}
		}
	}
	// Output:
	// forgotten  1
	// refused not_found 1
}
