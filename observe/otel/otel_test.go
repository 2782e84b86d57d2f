// The tests that read what the observer recorded need the OpenTelemetry
// SDK, which hosts must not download for a test: they are in the
// integration module, integration/observe/otel.

package forgetotel_test

import (
	"testing"

	forgetotel "github.com/forgetkit/forget/observe/otel"
)

func TestNewNil(t *testing.T) {
	t.Parallel()
	if _, err := forgetotel.New(nil); err == nil {
		t.Error("nil MeterProvider accepted")
	}
}
