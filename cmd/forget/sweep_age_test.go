package main

import (
	"testing"
	"time"
)

// TestParseAgeDoesNotWrap: 585y was 585×365 days as a time.Duration,
// which wrapped to 21 days and swept customers seen a month ago.
func TestParseAgeDoesNotWrap(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
	sp, err := parseAge("585y")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := sp.Before(now), now.AddDate(-585, 0, 0); !got.Equal(want) {
		t.Errorf("585y before %s = %s, want %s", now, got, want)
	}
	for _, s := range []string{"5001y", "99999999999999999999y", "0d", "3x"} {
		if _, err := parseAge(s); err == nil {
			t.Errorf("%q accepted", s)
		}
	}
}
