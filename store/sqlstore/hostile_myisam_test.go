package sqlstore_test

import (
	"context"
	"strings"
	"testing"

	"github.com/forgetkit/forget"
	"github.com/forgetkit/forget/store/sqlstore"
)

// TestHostileMyISAMViaTableDryRun: on MariaDB the newsletter table (a via
// by e-mail) is MyISAM, which has no transactions. A dry run runs its
// statements and rolls back, and a MyISAM DELETE does not roll back: the
// dry run erases customer 3's newsletter row for real. Verify should
// refuse (or the dry run must not write): either way the row must still
// be there after a dry run.
func TestHostileMyISAMViaTableDryRun(t *testing.T) {
	t.Parallel()
	for _, e := range engines(t) {
		if e.dialect != sqlstore.MySQL {
			continue
		}
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			for _, alter := range []string{"ENGINE=MyISAM", "ADD SYSTEM VERSIONING"} {
				shop := newViaShop(t, e, viaShopOpts{})
				execAll(t, shop.db, "ALTER TABLE newsletter "+alter)
				f, err := shop.forgetter(t, viaShopSchema(map[forget.Table]string{"addresses": sqlstore.SharedKeep}))
				if err != nil {
					if !strings.Contains(err.Error(), "newsletter") {
						t.Errorf("%s: Verify refuses without naming newsletter: %v", alter, err)
					}
					continue // refused up front: what should happen
				}
				before := shop.dump(t)
				rc, err := f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: shop.key(3)}, DryRun: true})
				if err != nil {
					t.Fatalf("dry run: %v", err)
				}
				if rc.RowsDeleted["newsletter"] != 1 {
					t.Errorf("dry run counts %d newsletter rows, want 1", rc.RowsDeleted["newsletter"])
				}
				sameDump(t, "after a dry run", shop.dump(t), before)
			}
		})
	}
}
