package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/forgetkit/forget"
)

var _ forget.Verifier = (*Store)(nil)

// Verify implements forget.Verifier: it checks the mapping against the
// live database before the store serves.
func (s *Store) Verify(ctx context.Context, cat forget.Catalogue) error {
	if err := s.schema.check(cat); err != nil {
		return err
	}
	if s.auditTable != "" {
		if _, err := s.AuditTrail(ctx, time.Now().Add(24*time.Hour)); err != nil {
			return fmt.Errorf("sqlstore: audit table %s: %w", s.auditTable, err)
		}
	}
	return nil
}
