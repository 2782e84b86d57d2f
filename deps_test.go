package forget_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The root package is the vocabulary hosts import; it must not drag in
// any third-party module, nor any other package of this one. Package
// certificate, which receivers of erasure events import, depends on the
// standard library and the root alone.
func TestRootImportsOnlyStandardLibrary(t *testing.T) {
	t.Parallel()
	for pkg, allowed := range map[string][]string{
		".":             {"github.com/forgetkit/forget"},
		"./certificate": {"github.com/forgetkit/forget/certificate", "github.com/forgetkit/forget"},
	} {
		out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", pkg).CombinedOutput()
		if err != nil {
			t.Fatalf("go list: %v\n%s", err, out)
		}
		deps := strings.Fields(string(out))
		if !slices.Contains(deps, allowed[0]) {
			t.Fatalf("go list -deps %s does not list the package itself: %q", pkg, deps)
		}
		for _, p := range deps {
			if !slices.Contains(allowed, p) {
				t.Errorf("package %s depends on %s", pkg, p)
			}
		}
	}
}

// TestSQLiteHostLinksNoOtherDriver builds the dependency list of a tiny
// SQLite-only host: it must hold no MySQL or PostgreSQL driver, and no
// library package of forget may import a driver at all.
func TestSQLiteHostLinksNoOtherDriver(t *testing.T) {
	t.Parallel()
	// Inside the module, so that it resolves against this tree, but
	// through an overlay: the test writes nothing into the source tree
	// (a read-only checkout must pass too).
	abs, err := filepath.Abs(filepath.Join("internal", "sqlitehost"))
	if err != nil {
		t.Fatal(err)
	}
	src := `package main

import (
	"database/sql"

	"github.com/forgetkit/forget"
	"github.com/forgetkit/forget/store/sqlstore"
	_ "modernc.org/sqlite"
)

func main() {
	db, _ := sql.Open("sqlite", "file:app.db")
	s, _ := sqlstore.New(db, sqlstore.SQLite)
	forget.New(s)
}
`
	tmp := t.TempDir()
	mainGo := filepath.Join(tmp, "main.go")
	if err := os.WriteFile(mainGo, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	overlay, err := json.Marshal(map[string]map[string]string{"Replace": {filepath.Join(abs, "main.go"): mainGo}})
	if err != nil {
		t.Fatal(err)
	}
	overlayFile := filepath.Join(tmp, "overlay.json")
	if err := os.WriteFile(overlayFile, overlay, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("go", "list", "-overlay", overlayFile, "-deps", "-f", "{{.ImportPath}}", "./internal/sqlitehost").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 10 {
		t.Fatalf("go list returned %d packages: %s", len(deps), out)
	}
	for _, p := range deps {
		for _, driver := range []string{"github.com/go-sql-driver/mysql", "github.com/jackc/pgx", "github.com/lib/pq", "github.com/mattn/go-sqlite3"} {
			if strings.HasPrefix(p, driver) {
				t.Errorf("a SQLite-only host links %s", p)
			}
		}
	}
	if !strings.Contains(string(out), "modernc.org/sqlite") {
		t.Error("the host's own driver is missing from its dependencies: the check checks nothing")
	}
	// No library package imports a driver.
	out, err = exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", ".", "./store/...", "./propagate/...", "./observe/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, p := range strings.Fields(string(out)) {
		for _, driver := range []string{"github.com/go-sql-driver/mysql", "github.com/jackc/pgx", "modernc.org/sqlite", "github.com/mattn/go-sqlite3"} {
			if strings.HasPrefix(p, driver) {
				t.Errorf("a library package links the driver %s", p)
			}
		}
	}
}
