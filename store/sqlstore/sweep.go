package sqlstore

import (
	"fmt"
	"strings"
)

// maxActivity bounds the activity columns: a sweep runs a statement per
// column.
const maxActivity = 8

// validateActivity checks the activity columns: plain columns of the
// customers table, each named once.
func (s Schema) validateActivity() []error {
	var errs []error
	if len(s.Activity) > maxActivity {
		errs = append(errs, fmt.Errorf("activity names %d columns; at most %d", len(s.Activity), maxActivity))
	}
	seen := map[string]bool{}
	for i, c := range s.Activity {
		what := fmt.Sprintf("activity column %d", i+1)
		if c.Table != "" && c.Table != s.Customers.Table {
			errs = append(errs, fmt.Errorf("%s: table %q is not the customers table %q; activity columns live in the customers table", what, clipName(c.Table), s.Customers.Table))
		}
		if !validIdent(c.Column) || strings.Contains(c.Column, ".") {
			errs = append(errs, fmt.Errorf("%s: column %q is not a plain identifier", what, clipName(c.Column)))
			continue
		}
		if c.Column == s.Customers.Key {
			errs = append(errs, fmt.Errorf("%s: %s is the customers key, not a time", what, c.Column))
		}
		if seen[strings.ToLower(c.Column)] {
			errs = append(errs, fmt.Errorf("%s: %s is named twice", what, c.Column))
		}
		seen[strings.ToLower(c.Column)] = true
	}
	return errs
}
