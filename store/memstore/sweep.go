package memstore

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/forgetkit/forget"
)

// maxInactivePage bounds a page of Inactive, as the SQL store's.
const maxInactivePage = 10000

type inactive struct {
	at time.Time
	id string
}

func (a inactive) compare(b inactive) int {
	if c := a.at.Compare(b.at); c != 0 {
		return c
	}
	return cmp.Compare(a.id, b.id)
}

// Inactive implements forget.InactiveFinder over the activity fields
// (WithActivity); whether a customer was already forgotten comes from the
// audit trail, which is why a sweep needs one (WithAudit). Activity
// values that are not RFC 3339 times are ignored, as NULLs would be.
func (s *Store) Inactive(ctx context.Context, cutoff time.Time, cursor string, limit int) ([]string, string, error) {
	if limit < 1 || limit > maxInactivePage {
		return nil, "", fmt.Errorf("memstore: a page of inactive customers holds 1 to %d, not %d: %w", maxInactivePage, limit, forget.ErrInvalid)
	}
	var after *inactive
	if cursor != "" {
		at, id, ok := strings.Cut(cursor, "|")
		t, err := time.Parse(time.RFC3339Nano, at)
		if !ok || err != nil {
			return nil, "", fmt.Errorf("memstore: malformed sweep cursor: %w", forget.ErrInvalid)
		}
		after = &inactive{at: t, id: id}
	}
	if err := ctx.Err(); err != nil {
		return nil, "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	found, err := s.inactive(cutoff, after)
	if err != nil {
		return nil, "", err
	}
	slices.SortFunc(found, inactive.compare)
	if len(found) > limit {
		found = found[:limit]
	}
	ids := make([]string, len(found))
	for i, a := range found {
		ids[i] = a.id
	}
	next := ""
	if len(found) == limit {
		last := found[len(found)-1]
		next = last.at.UTC().Format(time.RFC3339Nano) + "|" + last.id
	}
	return ids, next, nil
}

// CountInactive implements forget.InactiveCounter: how many customers
// Inactive would return over all its pages.
func (s *Store) CountInactive(ctx context.Context, cutoff time.Time) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	found, err := s.inactive(cutoff, nil)
	return len(found), err
}

// inactive returns, unordered, the customers inactive since cutoff and
// not fully forgotten since, after the cursor's position when there is
// one. s.mu must be held.
func (s *Store) inactive(cutoff time.Time, after *inactive) ([]inactive, error) {
	switch {
	case len(s.activity) == 0:
		return nil, errors.New("memstore: the store names no activity field (WithActivity): a sweep cannot tell who is inactive")
	case !s.auditing:
		return nil, errors.New("memstore: a sweep needs the audit trail (WithAudit) to tell whom it has already forgotten")
	}
	forgotten := make(map[string]bool)
	for _, rc := range s.audit {
		if fullErasureSince(rc, cutoff) {
			forgotten[rc.CustomerID] = true
		}
	}
	var found []inactive
	for id, c := range s.customers {
		var latest time.Time
		for _, f := range s.activity {
			if t, err := time.Parse(time.RFC3339Nano, c.Fields[f]); err == nil && t.After(latest) {
				latest = t
			}
		}
		a := inactive{at: latest, id: id}
		if latest.IsZero() || !latest.Before(cutoff) || forgotten[id] || (after != nil && a.compare(*after) <= 0) {
			continue
		}
		found = append(found, a)
	}
	return found, nil
}

// fullErasureSince reports whether rc records a forget that kept nothing,
// at or after cutoff: a customer a sweep from cutoff has done.
func fullErasureSince(rc forget.Receipt, cutoff time.Time) bool {
	return rc.Held == "" && !rc.DryRun && len(rc.FieldsKept) == 0 && len(rc.TablesKept) == 0 && !rc.At.Before(cutoff)
}

// forgottenSince reports whether the audit trail shows customer id fully
// forgotten at or after cutoff. s.mu must be held.
func (s *Store) forgottenSince(id string, cutoff time.Time) bool {
	for _, rc := range slices.Backward(s.audit) {
		if rc.CustomerID == id && fullErasureSince(rc, cutoff) {
			return true
		}
	}
	return false
}
