// Package ago reads the relative times of holds ("newer_than": "10y") and
// sweeps (-inactive 3y) as calendar spans, so that both mean the same and
// neither wraps.
package ago

import (
	"errors"
	"fmt"
	"strconv"
	"time"
)

// ErrSyntax is wrapped by Parse for text that is no span; ErrRange for a
// span that is zero or too long.
var (
	ErrSyntax = errors.New("not a span such as 36h, 90d, 6w, 18mo or 3y")
	ErrRange  = errors.New("out of range")
)

// MaxYears bounds a span: 9999 years back from today is before year 1,
// which SQL engines cannot compare with.
const MaxYears = 5000

// Span is a time to go back by: calendar years, months and days (as
// time.AddDate counts them), plus a fixed duration.
type Span struct {
	Years, Months, Days int
	Fixed               time.Duration
}

// units: how each suffix adds to a Span, and how many of it fit in MaxYears.
var units = []struct {
	suffix string
	max    int
	add    func(*Span, int)
}{
	{"mo", MaxYears * 12, func(s *Span, n int) { s.Months = n }},
	{"y", MaxYears, func(s *Span, n int) { s.Years = n }},
	{"w", MaxYears * 366 / 7, func(s *Span, n int) { s.Days = 7 * n }},
	{"d", MaxYears * 366, func(s *Span, n int) { s.Days = n }},
	{"h", int(time.Duration(1<<63-1) / time.Hour), func(s *Span, n int) { s.Fixed = time.Duration(n) * time.Hour }},
}

// Parse reads a positive span: a whole number of hours (h), calendar days
// (d), weeks (w), months (mo) or years (y), or a Go duration ("90m",
// "2h30m"). A year is a calendar year: 3y before 2027-03-01 is
// 2024-03-01. A number too large to fit is refused, not wrapped.
func Parse(s string) (Span, error) {
	for _, u := range units {
		digits, ok := cutSuffix(s, u.suffix)
		if !ok || !allDigits(digits) {
			continue
		}
		n, err := strconv.Atoi(digits)
		if err != nil || n > u.max {
			return Span{}, fmt.Errorf("%s: more than %d%s (%d years): %w", clip(s), u.max, u.suffix, MaxYears, ErrRange)
		}
		if n == 0 {
			return Span{}, fmt.Errorf("%s: must be positive: %w", clip(s), ErrRange)
		}
		var sp Span
		u.add(&sp, n)
		return sp, nil
	}
	d, err := time.ParseDuration(s)
	switch {
	case err != nil:
		return Span{}, fmt.Errorf("%s: %w", clip(s), ErrSyntax)
	case d <= 0:
		return Span{}, fmt.Errorf("%s: must be positive: %w", clip(s), ErrRange)
	}
	return Span{Fixed: d}, nil
}

// Before returns t less the span: calendar units first, then the fixed
// duration.
func (s Span) Before(t time.Time) time.Time {
	return t.AddDate(-s.Years, -s.Months, -s.Days).Add(-s.Fixed)
}

func cutSuffix(s, suffix string) (string, bool) {
	if len(s) <= len(suffix) || s[len(s)-len(suffix):] != suffix {
		return "", false
	}
	return s[:len(s)-len(suffix)], true
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// clip quotes s, shortened, for an error message.
func clip(s string) string {
	if len(s) > 32 {
		s = s[:32] + "..."
	}
	return strconv.Quote(s)
}
