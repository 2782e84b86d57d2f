package ago_test

import (
	"errors"
	"testing"
	"time"

	"github.com/forgetkit/forget/internal/ago"
)

func TestParseCalendar(t *testing.T) {
	t.Parallel()
	now := time.Date(2027, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		in   string
		want time.Time
	}{
		{"3y", time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)}, // 3×365 days would be 2024-03-02
		{"1000y", time.Date(1027, 3, 1, 12, 0, 0, 0, time.UTC)},
		{"585y", time.Date(1442, 3, 1, 12, 0, 0, 0, time.UTC)},
		{"18mo", time.Date(2025, 9, 1, 12, 0, 0, 0, time.UTC)},
		{"90d", now.AddDate(0, 0, -90)},
		{"2w", now.AddDate(0, 0, -14)},
		{"36h", now.Add(-36 * time.Hour)},
		{"2h30m", now.Add(-150 * time.Minute)},
	} {
		sp, err := ago.Parse(c.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", c.in, err)
			continue
		}
		if got := sp.Before(now); !got.Equal(c.want) {
			t.Errorf("Parse(%q).Before(%s) = %s, want %s", c.in, now, got, c.want)
		}
		if !sp.Before(now).Before(now) {
			t.Errorf("Parse(%q) does not go back", c.in)
		}
	}
}

func TestParseRefuses(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		in   string
		want error
	}{
		{"0d", ago.ErrRange}, {"0y", ago.ErrRange}, {"0s", ago.ErrRange}, {"-3h", ago.ErrRange},
		{"5001y", ago.ErrRange}, {"999999999999999999999y", ago.ErrRange}, {"3000000d", ago.ErrRange},
		{"9999999999999h", ago.ErrRange}, {"60001mo", ago.ErrRange},
		{"300y2d", ago.ErrSyntax}, {"3 y", ago.ErrSyntax}, {"", ago.ErrSyntax}, {"y", ago.ErrSyntax}, {"3Y", ago.ErrSyntax},
		{"+3y", ago.ErrSyntax}, {"2562048h", ago.ErrRange}, {"300000000000000000h", ago.ErrRange},
	} {
		if _, err := ago.Parse(c.in); !errors.Is(err, c.want) {
			t.Errorf("Parse(%q) = %v, want %v", c.in, err, c.want)
		}
	}
}
