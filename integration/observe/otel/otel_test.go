package forgetotel_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/forgetkit/forget"
	forgetotel "github.com/forgetkit/forget/observe/otel"
	"github.com/forgetkit/forget/store/memstore"
)

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

var planted = []string{"Zebulon", "zq-user-7731", "zq-phone-5550199", "zq-note-secret", "777001", "777002", "zq-principal", "zq-request", "88811"}

func store(t *testing.T) *memstore.Store {
	t.Helper()
	st := memstore.New(memstore.WithHold("chargeback", func(id string) bool { return id == "777001" }))
	for i, id := range []string{"777001", "777002"} {
		err := st.Add(memstore.Customer{ID: id, Subscriptions: []string{[]string{"88811", "88812"}[i]}, Fields: map[forget.Field]string{
			forget.Username: "zq-user-7731" + id, forget.Firstname: "Zebulon", forget.Phone: "zq-phone-5550199",
		}})
		if err != nil {
			t.Fatal(err)
		}
		if err := st.AddRow(forget.MemberNote, id, memstore.Row{"note": "zq-note-secret"}); err != nil {
			t.Fatal(err)
		}
	}
	return st
}

type brokenStore struct{ forget.Store }

func (brokenStore) Forget(context.Context, forget.Lookup, forget.Plan) (forget.Result, error) {
	return forget.Result{Attempts: 3}, errors.New("deadlock on zq-user-7731")
}

func run(f *forget.Forgetter) {
	ctx := context.Background()
	for _, req := range []forget.Request{
		{Lookup: forget.Lookup{CustomerID: "777002"}, DryRun: true},
		{Lookup: forget.Lookup{CustomerID: "777002"}, Keep: []string{"firstname"}, Principal: "zq-principal", RequestID: "zq-request"},
		{Lookup: forget.Lookup{CustomerID: "777001"}},
		{Lookup: forget.Lookup{CustomerID: "777003"}},
		{Lookup: forget.Lookup{CustomerID: "777002", SubscriptionID: "88811"}},
		{Lookup: forget.Lookup{CustomerID: "777002"}, Keep: []string{"zq-note-secret"}},
	} {
		f.Forget(ctx, req)
	}
}

// points flattens what reader collected into "name{k=v,...} value" lines,
// histograms by their count.
func points(t *testing.T, reader *sdkmetric.ManualReader) []string {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	label := func(set attribute.Set) string {
		var kv []string
		for _, a := range set.ToSlice() {
			kv = append(kv, string(a.Key)+"="+a.Value.String())
		}
		return "{" + strings.Join(kv, ",") + "}"
	}
	var out []string
	for _, sm := range rm.ScopeMetrics {
		if sm.Scope.Name != forgetotel.Scope {
			t.Errorf("scope %q", sm.Scope.Name)
		}
		for _, m := range sm.Metrics {
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				for _, p := range d.DataPoints {
					out = append(out, fmt.Sprintf("%s%s %d", m.Name, label(p.Attributes), p.Value))
				}
			case metricdata.Histogram[float64]:
				for _, p := range d.DataPoints {
					out = append(out, fmt.Sprintf("%s%s count=%d", m.Name, label(p.Attributes), p.Count))
				}
			default:
				t.Errorf("%s: unexpected %T", m.Name, d)
			}
		}
	}
	sort.Strings(out)
	return out
}

func TestMetrics(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	obs, err := forgetotel.New(sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader)))
	if err != nil {
		t.Fatal(err)
	}
	st := store(t)
	f, err := forget.New(st, forget.WithLogger(quiet()), forget.WithObserver(obs),
		forget.WithHook("crm", func(context.Context, forget.Receipt) error { return errors.New("zq-user-7731 down") }))
	if err != nil {
		t.Fatal(err)
	}
	run(f)
	broken, err := forget.New(brokenStore{st}, forget.WithLogger(quiet()), forget.WithObserver(obs))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	broken.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: "777002"}})
	broken.Forget(context.Background(), forget.Request{Lookup: forget.Lookup{CustomerID: "777002"}})

	got := points(t, reader)
	want := []string{
		"forget.duration{outcome=dry_run} count=1",
		"forget.duration{outcome=failed} count=2",
		"forget.duration{outcome=forgotten} count=1",
		"forget.duration{outcome=refused} count=4",
		"forget.fields_erased{} 22",
		"forget.hook_failures{hook=crm,reason=error} 1",
		"forget.requests{code=,outcome=dry_run} 1",
		"forget.requests{code=,outcome=forgotten} 1",
		"forget.requests{code=canceled,outcome=failed} 1",
		"forget.requests{code=conflict,outcome=refused} 1",
		"forget.requests{code=held,outcome=refused} 1",
		"forget.requests{code=internal,outcome=failed} 1",
		"forget.requests{code=invalid,outcome=refused} 1",
		"forget.requests{code=not_found,outcome=refused} 1",
		"forget.retries{} 4",
		"forget.rows{action=deleted,table=member_auth} 0",
		"forget.rows{action=deleted,table=member_note} 1",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("collected:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	all := strings.Join(got, "\n")
	for _, v := range planted {
		if strings.Contains(all, v) {
			t.Errorf("the metrics hold %q", v)
		}
	}
}

// TestConcurrent: many forgets at once on one observer (run with -race).
func TestConcurrent(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	obs, err := forgetotel.New(sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader)))
	if err != nil {
		t.Fatal(err)
	}
	f, err := forget.New(store(t), forget.WithLogger(quiet()), forget.WithObserver(obs))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() { run(f) })
	}
	wg.Wait()
	for _, p := range points(t, reader) {
		if strings.HasPrefix(p, "forget.requests") && !strings.HasSuffix(p, " 8") {
			t.Errorf("%s, want 8", p)
		}
	}
}
