package sqlstore

import (
	"context"
	"fmt"
)

// secureDelete warns, on SQLite, when the connection does not overwrite
// deleted content: without secure_delete a deleted note, or the old
// value of an overwritten field, stays in the file's free space, readable
// with "grep -a" and in every copy or backup, until SQLite happens to
// reuse the space. FAST zeroes within pages but not freed pages, so only
// 1 passes. It reads one pooled connection: set it in the DSN
// (_pragma=secure_delete(1)) so that every connection has it.
func (v *verifier) secureDelete(ctx context.Context) {
	var mode int
	if err := v.s.db.QueryRowContext(ctx, "PRAGMA secure_delete").Scan(&mode); err != nil {
		v.fail("read PRAGMA secure_delete: %w", err)
		return
	}
	if mode != 1 {
		v.warnings = append(v.warnings, fmt.Sprintf("SQLite secure_delete is %s on this connection: what a forget deletes or overwrites stays readable in the database file's free space (and in its copies); open it with _pragma=secure_delete(1) in the DSN", map[int]string{0: "off", 2: "FAST"}[mode]))
	}
}
