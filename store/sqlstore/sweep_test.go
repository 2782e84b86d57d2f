package sqlstore_test

import (
	"strings"
	"testing"

	"github.com/forgetkit/forget/store/sqlstore"
)

// TestActivityValidation: activity columns are plain columns of the
// customers table, named once, never its key.
func TestActivityValidation(t *testing.T) {
	for _, tc := range []struct {
		name     string
		activity []sqlstore.Column
		want     string
	}{
		{"Fine", []sqlstore.Column{{Column: "last_login"}, {Table: "customers", Column: "last_order_at"}}, ""},
		{"OtherTable", []sqlstore.Column{{Table: "transactions", Column: "created_at"}}, "not the customers table"},
		{"Injection", []sqlstore.Column{{Column: "last_login; DROP TABLE customers"}}, "not a plain identifier"},
		{"Qualified", []sqlstore.Column{{Column: "customers.last_login"}}, "not a plain identifier"},
		{"Twice", []sqlstore.Column{{Column: "last_login"}, {Column: "LAST_LOGIN"}}, "named twice"},
		{"Key", []sqlstore.Column{{Column: "customer_id"}}, "customers key"},
		{"TooMany", make([]sqlstore.Column, 9), "at most 8"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := sqlstore.DefaultSchema()
			s.Activity = tc.activity
			err := s.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("Validate: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("Validate: %v, want an error saying %q", err, tc.want)
			}
		})
	}
}
