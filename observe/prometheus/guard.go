package forgetprom

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/forgetkit/forget"
)

// RegisterGuard registers a [forget.Guard]'s counters on reg:
//
//	forget_guard_checked_total  requests the guard checked
//	forget_guard_matched_total  requests refused or flagged: a field matched a tombstone
//	forget_guard_failed_total   requests whose check failed (the tombstones unreachable)
//
// Each reads the guard's own counter ([forget.Guard.Stats]) when scraped.
// A host with two guards registers each on a prometheus.WrapRegistererWith
// of its registry, with a label that tells them apart.
func RegisterGuard(reg prometheus.Registerer, g *forget.Guard) error {
	if reg == nil || g == nil {
		return fmt.Errorf("forgetprom: RegisterGuard needs a registerer and a guard")
	}
	for _, c := range []struct {
		name, help string
		get        func(forget.GuardStats) int64
	}{
		{"forget_guard_checked_total", "Requests the guard checked against the tombstones.", func(s forget.GuardStats) int64 { return s.Checked }},
		{"forget_guard_matched_total", "Requests refused or flagged because a field matched a tombstone.", func(s forget.GuardStats) int64 { return s.Matched }},
		{"forget_guard_failed_total", "Requests whose tombstone check failed.", func(s forget.GuardStats) int64 { return s.Failed }},
	} {
		get := c.get
		if err := reg.Register(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: c.name, Help: c.help},
			func() float64 { return float64(get(g.Stats())) })); err != nil {
			return fmt.Errorf("forgetprom: register %s: %w", c.name, err)
		}
	}
	return nil
}
