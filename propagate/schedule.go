package propagate

import (
	"math/rand/v2"
	"time"
)

// The retry schedule: when Consume tries a failed event again, and when
// it gives up.

// Retries are Consume's, each a NakWithDelay, rather than the broker's
// BackOff list: the schedule's step is the count of finished attempts
// on the status record, which the broker cannot know (its delivery count
// also counts killed deliverers and throttled attempts), and jitter and
// Retry-After are per attempt. The consumer's BackOff only times the
// redelivery of an attempt whose deliverer died; each of its delays is
// cut to maxRedelivery, so that a deliverer killed on a late retry does
// not hold the event back another day.
const maxRedelivery = time.Minute

// Bounds of a Retry-After: a receiver cannot make retries come
// at once, nor hold an event back for longer than the default schedule's
// longest delay.
const (
	minRetryAfter = time.Second
	maxRetryAfter = 24 * time.Hour
)

// redeliveryBackOff is the consumer's BackOff: the schedule, each delay
// cut to maxRedelivery.
func redeliveryBackOff(schedule []time.Duration) []time.Duration {
	out := make([]time.Duration, len(schedule))
	for i, d := range schedule {
		out[i] = min(d, maxRedelivery)
	}
	return out
}

// maxDeliveries is how often, beyond its finished attempts, the broker
// may offer one event to a destination before it is parked as gave_up:
// ten times max-deliver, and at least 50. Deliverers killed mid-attempt
// do not come near it; a message that kills its deliverer every time, or
// whose attempts can never be recorded, is stopped by it. It also bounds
// an event's failed and throttled attempts together.
func maxDeliveries(maxDeliver int) int { return max(10*maxDeliver, 50) }

// delay is the wait before the retry that follows the n-th failure.
func (c *consumer) delay(n int) time.Duration {
	return c.set.backOff[min(max(n, 1), len(c.set.backOff))-1]
}

// retryDelay is the wait before the retry that follows the n-th failed
// or throttled attempt: the receiver's Retry-After when it gave one,
// held within bounds, or else the schedule's; lengthened by up to a
// tenth, so that the retries of many events failed by one outage spread
// out instead of arriving together.
func (c *consumer) retryDelay(n int, retryAfter time.Duration) time.Duration {
	d := c.delay(n)
	if retryAfter > 0 {
		d = min(max(retryAfter, minRetryAfter), maxRetryAfter)
	}
	return d + rand.N(d/10+1)
}

// Span returns how long an event that fails every attempt is retried
// before it is parked, with maxDeliver attempts and the back-off delays
// backOff (the last repeats), jitter left out: 75h35m5s for the
// defaults.
func Span(maxDeliver int, backOff []time.Duration) time.Duration {
	if len(backOff) == 0 {
		return 0
	}
	var span time.Duration
	for n := 1; n < maxDeliver; n++ {
		span += backOff[min(n, len(backOff))-1]
	}
	return span
}
