package forgetprom_test

import (
	"context"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/forgetkit/forget"
	"github.com/forgetkit/forget/internal/observetest"
	forgetprom "github.com/forgetkit/forget/observe/prometheus"
)

// BenchmarkForget measures the observer's cost: the same forget on
// memstore, without an observer and with the Prometheus one.
//
//	go test -run '^$' -bench Forget -count 10 ./observe/prometheus/ | benchstat -col /observer -
func BenchmarkForget(b *testing.B) {
	for _, tc := range []struct {
		observer string
		new      func() (forget.Observer, error) // nil: none
	}{
		{"none", nil},
		{"prometheus", func() (forget.Observer, error) { return forgetprom.New(prometheus.NewRegistry()) }},
	} {
		b.Run("observer="+tc.observer, func(b *testing.B) {
			st := observetest.Store(b)
			opts := []forget.Option{forget.WithLogger(quiet())}
			if tc.new != nil {
				obs, err := tc.new()
				if err != nil {
					b.Fatal(err)
				}
				opts = append(opts, forget.WithObserver(obs))
			}
			f, err := forget.New(st, opts...)
			if err != nil {
				b.Fatal(err)
			}
			req := forget.Request{Lookup: forget.Lookup{CustomerID: "777002"}, Keep: []string{"firstname"}}
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := f.Forget(ctx, req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkForgetDone measures one report on its own: a committed forget
// of two tables and one failed hook.
func BenchmarkForgetDone(b *testing.B) {
	obs, err := forgetprom.New(prometheus.NewRegistry())
	if err != nil {
		b.Fatal(err)
	}
	s := forget.ForgetStats{
		Outcome: forget.OutcomeForgotten, Duration: 3e6, Attempts: 1, FieldsErased: 22,
		Tables:       []forget.TableRows{{Table: forget.MemberAuth, Rows: 2}, {Table: forget.MemberNote, Rows: 3}},
		HookFailures: []forget.HookFailure{{Hook: "crm", Reason: forget.HookError}},
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		obs.ForgetDone(ctx, s)
	}
}
