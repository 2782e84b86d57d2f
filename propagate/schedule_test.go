package propagate

import (
	"testing"
	"time"
)

// TestDefaultScheduleSpansDays: the default retries span three days, as
// the Standard Webhooks spec recommends, so that a receiver down
// overnight, or for a day, parks nothing.
func TestDefaultScheduleSpansDays(t *testing.T) {
	span := Span(DefaultMaxDeliver, DefaultBackOff())
	if span < 72*time.Hour {
		t.Errorf("the default schedule spans %s, want three days at least", span)
	}
	if want := 75*time.Hour + 35*time.Minute + 5*time.Second; span != want {
		t.Errorf("the default schedule spans %s, want %s (the spec's example)", span, want)
	}
	if got := Span(3, []time.Duration{time.Second, time.Minute}); got != time.Second+time.Minute {
		t.Errorf("Span(3, 1s,1m) = %s", got)
	}
	if got := Span(5, []time.Duration{time.Second, time.Minute}); got != time.Second+3*time.Minute {
		t.Errorf("Span(5, 1s,1m) = %s: the last delay repeats", got)
	}
}

// TestRetryDelay: the schedule's delay lengthened by up to a tenth,
// never shortened; a Retry-After replaces it, within bounds.
func TestRetryDelay(t *testing.T) {
	c := &consumer{set: &settings{backOff: DefaultBackOff()}}
	seen := map[time.Duration]bool{}
	for range 200 {
		d := c.retryDelay(1, 0)
		if d < 5*time.Second || d > 5*time.Second+500*time.Millisecond {
			t.Fatalf("retryDelay(1) = %s, want 5s to 5.5s", d)
		}
		seen[d] = true
	}
	if len(seen) < 10 {
		t.Errorf("retryDelay(1) took %d values in 200 tries: no jitter", len(seen))
	}
	for _, c2 := range []struct {
		n          int
		retryAfter time.Duration
		min, max   time.Duration
	}{
		{9, 0, 24 * time.Hour, 24*time.Hour + 144*time.Minute},
		{50, 0, 24 * time.Hour, 24*time.Hour + 144*time.Minute},
		{1, 2 * time.Second, 2 * time.Second, 2200 * time.Millisecond},
		{9, 2 * time.Second, 2 * time.Second, 2200 * time.Millisecond},
		{1, time.Millisecond, time.Second, 1100 * time.Millisecond},
		{1, 400 * 24 * time.Hour, 24 * time.Hour, 24*time.Hour + 144*time.Minute},
	} {
		if d := c.retryDelay(c2.n, c2.retryAfter); d < c2.min || d > c2.max {
			t.Errorf("retryDelay(%d, %s) = %s, want %s to %s", c2.n, c2.retryAfter, d, c2.min, c2.max)
		}
	}
}

// TestRedeliveryBackOff: the consumer's BackOff, which times only the
// redelivery of an attempt whose deliverer died, is cut to a minute.
func TestRedeliveryBackOff(t *testing.T) {
	got := consumerConfig("crm", "forget.erased.>", &settings{backOff: DefaultBackOff(), workers: 4})
	if len(got.BackOff) != len(defaultBackOff) || got.BackOff[0] != 5*time.Second {
		t.Fatalf("BackOff = %v", got.BackOff)
	}
	for _, d := range got.BackOff[1:] {
		if d != time.Minute {
			t.Errorf("BackOff = %v, want 5s then 1m", got.BackOff)
			break
		}
	}
	if got.MaxAckPending < maxRetrying {
		t.Errorf("MaxAckPending = %d: a few events waiting for a retry would stop the others", got.MaxAckPending)
	}
}
