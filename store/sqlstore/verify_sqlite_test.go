package sqlstore_test

import (
	"context"
	"database/sql"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/forgetkit/forget"
	"github.com/forgetkit/forget/store/sqlstore"
)

// TestVerifySQLiteSecureDelete: Verify warns, through the store's logger,
// when a SQLite connection leaves deleted content in the file's free
// space (secure_delete off or FAST), and is quiet when it is on.
func TestVerifySQLiteSecureDelete(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "sd.db")
	for _, tc := range []struct {
		pragma, warn string
	}{
		{"", "secure_delete is off"},
		{"&_pragma=secure_delete(FAST)", "secure_delete is FAST"},
		{"&_pragma=secure_delete(1)", ""},
	} {
		db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)&_pragma=foreign_keys(1)"+tc.pragma)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if err := sqlstore.CreateSchema(context.Background(), db, sqlstore.SQLite); err != nil {
			t.Fatal(err)
		}
		var logs strings.Builder
		err = verify(t, db, sqlstore.SQLite, sqlstore.DefaultSchema(), forget.DefaultCatalogue(),
			sqlstore.WithAudit("forget_audit"), sqlstore.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
		if err != nil {
			t.Errorf("%q: Verify: %v", tc.pragma, err)
		}
		switch {
		case tc.warn == "" && strings.Contains(logs.String(), "secure_delete"):
			t.Errorf("%q: a warning with secure_delete on: %s", tc.pragma, logs.String())
		case tc.warn != "" && (!strings.Contains(logs.String(), tc.warn) || !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), "_pragma=secure_delete(1)")):
			t.Errorf("%q: no warning %q: %s", tc.pragma, tc.warn, logs.String())
		}
	}
}
