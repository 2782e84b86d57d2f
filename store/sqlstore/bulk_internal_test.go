package sqlstore

import (
	"encoding/json"
	"testing"

	"github.com/forgetkit/forget"
)

// TestCountsJSON: the audit record's row counts read exactly as
// json.Marshal writes them (the per-customer path's), whatever the names.
func TestCountsJSON(t *testing.T) {
	t.Parallel()
	for _, m := range []map[forget.Table]int64{
		nil,
		{},
		{"member_note": 3, "member_auth": 2, "a.b-c": 0},
		{"x<y": 1, "café": 2, `q"uote`: -1, "z": 9},
	} {
		want, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		got, err := countsJSON(m)
		if err != nil || got != string(want) {
			t.Errorf("countsJSON(%v) = %q, %v; want %q", m, got, err, want)
		}
	}
}
