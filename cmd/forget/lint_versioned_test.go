package main

import (
	"strings"
	"testing"

	"github.com/forgetkit/forget/internal/testdb"
	"github.com/forgetkit/forget/store/sqlstore"
)

// TestLintNamesSystemVersionedTables: on MariaDB a system-versioned
// mapped table keeps every erased value as history; lint fails, naming
// it, where it was once green.
func TestLintNamesSystemVersionedTables(t *testing.T) {
	t.Parallel()
	for _, e := range testdb.Servers(t) {
		if e.Dialect != sqlstore.MySQL {
			continue
		}
		t.Run(e.Name, func(t *testing.T) {
			tdb := demoOn(t, e, 0)
			if _, err := tdb.DB.Exec("ALTER TABLE member_note ADD SYSTEM VERSIONING"); err != nil {
				t.Fatal(err)
			}
			code, stdout, stderr := runMain("lint", "-dsn", tdb.URL)
			out := stdout + stderr
			if code == exitOK || !strings.Contains(out, "table member_note is system-versioned") {
				t.Fatalf("lint on a system-versioned member_note: exit %d\n%s", code, out)
			}
		})
	}
}
