package forgetprom_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/forgetkit/forget"
	forgetprom "github.com/forgetkit/forget/observe/prometheus"
)

type oneForgotten struct{}

func (oneForgotten) Forgotten(_ context.Context, id forget.Identity) (bool, error) {
	return id.Value == "jane@example.org", nil
}

func TestRegisterGuard(t *testing.T) {
	g, err := forget.NewGuard(oneForgotten{}, map[string]string{"email": "email"})
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	if err := forgetprom.RegisterGuard(reg, g); err != nil {
		t.Fatal(err)
	}
	h := g.Wrap(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	for _, q := range []string{"jane@example.org", "bob@example.org", "jane@example.org"} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/pb?email="+q, nil))
	}
	want := `
# HELP forget_guard_checked_total Requests the guard checked against the tombstones.
# TYPE forget_guard_checked_total counter
forget_guard_checked_total 3
# HELP forget_guard_matched_total Requests refused or flagged because a field matched a tombstone.
# TYPE forget_guard_matched_total counter
forget_guard_matched_total 2
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "forget_guard_checked_total", "forget_guard_matched_total"); err != nil {
		t.Fatal(err)
	}
	if err := forgetprom.RegisterGuard(reg, g); err == nil {
		t.Error("registering twice on one registry: no error")
	}
}
