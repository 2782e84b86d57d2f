package forgetotel_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/forgetkit/forget"
	"github.com/forgetkit/forget/internal/observetest"
	forgetotel "github.com/forgetkit/forget/observe/otel"
)

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
	observetest.Observe(t, obs)

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
	for _, v := range observetest.Planted {
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
	observetest.ObserveConcurrently(t, obs, 8)
	for _, p := range points(t, reader) {
		if strings.HasPrefix(p, "forget.requests") && !strings.HasSuffix(p, " 8") {
			t.Errorf("%s, want 8", p)
		}
	}
}

// TestHandlerRefused: the handler's refusals become forget.auth_failures
// by reason and forget.http_refusals by code.
func TestHandlerRefused(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	obs, err := forgetotel.New(sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // a request's context may be done: it still counts
	for _, s := range []forget.RefusalStats{
		{Status: 401, Code: forget.CodeUnauthorized, AuthReason: forget.AuthWrongKey},
		{Status: 401, Code: forget.CodeUnauthorized, AuthReason: forget.AuthWrongKey},
		{Status: 429, Code: forget.CodeTooManyRequests, AuthReason: forget.AuthLimited},
		{Status: 413, Code: forget.CodeTooLarge},
		{Status: 415, Code: forget.CodeUnsupportedMediaType},
	} {
		obs.HandlerRefused(ctx, s)
	}
	got := strings.Join(points(t, reader), "\n")
	want := strings.Join([]string{
		"forget.auth_failures{reason=limited} 1",
		"forget.auth_failures{reason=wrong_key} 2",
		"forget.http_refusals{code=too_large} 1",
		"forget.http_refusals{code=unsupported_media_type} 1",
	}, "\n")
	if got != want {
		t.Errorf("collected:\n%s\nwant:\n%s", got, want)
	}
}
