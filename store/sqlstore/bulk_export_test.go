package sqlstore

import "time"

// InactiveTiesSQL is the page statement of a sweep through activity
// column part for the customers sharing the cursor's activity value.
func InactiveTiesSQL(s *Store, part int, cutoff time.Time) (string, []any) {
	cur := sweepCursor{part: part, at: cutoff.Add(-time.Hour).UTC().Format("2006-01-02 15:04:05"), key: "5"}
	return s.inactiveTiesSQL(part, cutoff, cur, 100)
}
