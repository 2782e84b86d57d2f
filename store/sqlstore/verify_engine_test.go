package sqlstore_test

import (
	"context"
	"testing"

	"github.com/forgetkit/forget"
	"github.com/forgetkit/forget/store/sqlstore"
)

// TestVerifyRefusesNonTransactionalAndVersionedTables: on MariaDB a
// MyISAM or Aria mapped table would keep a dry run's writes, and a
// system-versioned one every erased value; Verify names each.
func TestVerifyRefusesNonTransactionalAndVersionedTables(t *testing.T) {
	for _, e := range engines(t) {
		if e.dialect != sqlstore.MySQL {
			continue
		}
		t.Run(e.name, func(t *testing.T) {
			db, _ := e.open(t)
			if err := sqlstore.CreateSchema(context.Background(), db, e.dialect); err != nil {
				t.Fatal(err)
			}
			opts := sqlstore.WithAudit(sqlstore.DefaultAuditTable)
			if err := verify(t, db, e.dialect, sqlstore.DefaultSchema(), forget.DefaultCatalogue(), opts); err != nil {
				t.Fatalf("Verify on InnoDB: %v", err)
			}
			execAll(t, db, "ALTER TABLE customers ENGINE=MyISAM", "ALTER TABLE "+sqlstore.DefaultAuditTable+" ENGINE=Aria")
			err := verify(t, db, e.dialect, sqlstore.DefaultSchema(), forget.DefaultCatalogue(), opts)
			wantVerifyError(t, err, "table customers uses engine MyISAM", "table "+sqlstore.DefaultAuditTable+" uses engine Aria")
			execAll(t, db, "ALTER TABLE customers ENGINE=InnoDB", "ALTER TABLE "+sqlstore.DefaultAuditTable+" ENGINE=InnoDB",
				"ALTER TABLE customers ADD SYSTEM VERSIONING")
			err = verify(t, db, e.dialect, sqlstore.DefaultSchema(), forget.DefaultCatalogue(), opts)
			wantVerifyError(t, err, "table customers is system-versioned")
		})
	}
}
