package propagate_test

import (
	"log/slog"
	"reflect"
	"testing"
	"time"

	"github.com/forgetkit/forget/propagate"
)

// The options each part takes, checked by the compiler: a relay option
// passed to Consume, or a consumer option passed to NewRelay, does not
// compile.
var (
	_ propagate.RelayOption = propagate.WithPreset("p")
	_ propagate.RelayOption = propagate.WithBatch(1)
	_ propagate.RelayOption = propagate.WithPollInterval(time.Second)
	_ propagate.RelayOption = propagate.WithPublishTimeout(time.Second)
	_ propagate.RelayOption = propagate.WithDuplicateWindow(time.Minute)

	_ propagate.ConsumerOption = propagate.WithMaxDeliver(1)
	_ propagate.ConsumerOption = propagate.WithBackOff(time.Second)
	_ propagate.ConsumerOption = propagate.WithAttemptTimeout(time.Second)
	_ propagate.ConsumerOption = propagate.WithWorkers(1)

	_ propagate.RelayOption    = propagate.WithLogger(slog.Default())
	_ propagate.ConsumerOption = propagate.WithLogger(slog.Default())
	_ propagate.RelayOption    = propagate.WithClock(time.Now)
	_ propagate.ConsumerOption = propagate.WithClock(time.Now)

	// WithNamespace is the one option of Status, Destinations,
	// ListParked and Redrive, and the relay's and consumer's too.
	_ propagate.Option         = propagate.WithNamespace("ns")
	_ propagate.RelayOption    = propagate.WithNamespace("ns")
	_ propagate.ConsumerOption = propagate.WithNamespace("ns")
)

// TestOptionsApplyWhereTheySay: what the compiler refuses, seen from
// reflection, so that a constructor that drifts to a wider type fails.
func TestOptionsApplyWhereTheySay(t *testing.T) {
	relay, consumer := reflect.TypeFor[propagate.RelayOption](), reflect.TypeFor[propagate.ConsumerOption]()
	reader := reflect.TypeFor[propagate.Option]()
	for name, tc := range map[string]struct {
		opt                     any
		relay, consumer, reader bool
	}{
		"WithPreset":          {propagate.WithPreset("p"), true, false, false},
		"WithBatch":           {propagate.WithBatch(1), true, false, false},
		"WithPollInterval":    {propagate.WithPollInterval(time.Second), true, false, false},
		"WithPublishTimeout":  {propagate.WithPublishTimeout(time.Second), true, false, false},
		"WithDuplicateWindow": {propagate.WithDuplicateWindow(time.Minute), true, false, false},
		"WithMaxDeliver":      {propagate.WithMaxDeliver(1), false, true, false},
		"WithBackOff":         {propagate.WithBackOff(time.Second), false, true, false},
		"WithAttemptTimeout":  {propagate.WithAttemptTimeout(time.Second), false, true, false},
		"WithWorkers":         {propagate.WithWorkers(1), false, true, false},
		"WithLogger":          {propagate.WithLogger(slog.Default()), true, true, false},
		"WithClock":           {propagate.WithClock(time.Now), true, true, false},
		"WithNamespace":       {propagate.WithNamespace("ns"), true, true, true},
	} {
		typ := reflect.TypeOf(tc.opt)
		if got := typ.Implements(relay); got != tc.relay {
			t.Errorf("%s is a RelayOption: %v, want %v", name, got, tc.relay)
		}
		if got := typ.Implements(consumer); got != tc.consumer {
			t.Errorf("%s is a ConsumerOption: %v, want %v", name, got, tc.consumer)
		}
		if got := typ == reader; got != tc.reader {
			t.Errorf("%s is an Option (Status, Redrive...): %v, want %v", name, got, tc.reader)
		}
	}
}
