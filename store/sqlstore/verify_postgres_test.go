package sqlstore_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/forgetkit/forget"
	"github.com/forgetkit/forget/store/sqlstore"
)

// TestVerifyWarnsOfCheckConstraints: on PostgreSQL a CHECK constraint on
// a column the mapping writes is named in a warning: a forget failing it
// would make the server log the whole row, old values included.
func TestVerifyWarnsOfCheckConstraints(t *testing.T) {
	t.Parallel()
	for _, e := range engines(t) {
		if e.dialect != sqlstore.Postgres {
			continue
		}
		t.Run(e.name, func(t *testing.T) {
			db, _ := e.open(t)
			if err := sqlstore.CreateSchema(context.Background(), db, e.dialect); err != nil {
				t.Fatal(err)
			}
			check := func() string {
				var logs strings.Builder
				if err := verify(t, db, e.dialect, sqlstore.DefaultSchema(), forget.DefaultCatalogue(),
					sqlstore.WithLogger(slog.New(slog.NewTextHandler(&logs, nil)))); err != nil {
					t.Fatalf("Verify: %v", err)
				}
				return logs.String()
			}
			if logs := check(); strings.Contains(logs, "CHECK constraint") {
				t.Errorf("a warning without a CHECK constraint: %s", logs)
			}
			execAll(t, db, "ALTER TABLE customers ADD CONSTRAINT firstname_given CHECK (firstname <> '')")
			if logs := check(); !strings.Contains(logs, "customers.firstname has CHECK constraint firstname_given") || !strings.Contains(logs, "Failing row contains") {
				t.Errorf("no warning of the CHECK constraint: %s", logs)
			}
		})
	}
}
