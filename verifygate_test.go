package forget_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/forgetkit/forget"
	"github.com/forgetkit/forget/store/memstore"
)

// verifyingStore is a memstore with a Verify that fails while failing is
// set, counting its calls.
type verifyingStore struct {
	*memstore.Store
	failing atomic.Bool
	calls   atomic.Int64
}

var errUnfit = errors.New("table member_note does not exist")

func (s *verifyingStore) Verify(context.Context, forget.Catalogue) error {
	s.calls.Add(1)
	if s.failing.Load() {
		return errUnfit
	}
	return nil
}

// A Forgetter whose host never calls Verify still refuses to erase until
// the store passes, retries a failed verification, and verifies only once.
func TestForgetterVerifiesBeforeFirstForget(t *testing.T) {
	t.Parallel()
	s := &verifyingStore{Store: seeded(t)}
	s.failing.Store(true)
	var logged bytes.Buffer
	f := newForgetter(t, s, forget.WithLogger(slog.New(slog.NewTextHandler(&logged, nil))))
	ctx := context.Background()
	req := forget.Request{Lookup: forget.Lookup{CustomerID: "191"}}

	_, err := f.Forget(ctx, req)
	if !errors.Is(err, forget.ErrUnverified) || !errors.Is(err, errUnfit) {
		t.Fatalf("forget over an unverified store: %v, want ErrUnverified wrapping the cause", err)
	}
	if errors.Is(err, forget.ErrInvalid) || errors.Is(err, forget.ErrNotFound) || forget.Refused(err) {
		t.Fatalf("an unverified store is the host's fault (500-class), not the request's: %v", err)
	}
	if !strings.Contains(logged.String(), "member_note does not exist") {
		t.Errorf("the cause was not logged: %q", logged.String())
	}
	for _, o := range f.ForgetBatch(ctx, []forget.Request{req, req}) {
		if !errors.Is(o.Err, forget.ErrUnverified) {
			t.Fatalf("batch over an unverified store: %v", o.Err)
		}
	}
	if _, err := f.Forget(ctx, forget.Request{Lookup: req.Lookup, DryRun: true}); !errors.Is(err, forget.ErrUnverified) {
		t.Fatalf("dry run over an unverified store: %v", err)
	}
	if n := s.calls.Load(); n != 3 {
		t.Errorf("Verify ran %d times over 3 failing calls, want 3 (a failure is retried, once per call)", n)
	}
	// Nothing was erased: the customer is still found by the old key.
	if _, err := newForgetter(t, s.Store).Forget(ctx, forget.Request{Lookup: req.Lookup, DryRun: true}); err != nil {
		t.Fatalf("customer 191 after refused forgets: %v", err)
	}

	s.failing.Store(false)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := f.Forget(ctx, forget.Request{Lookup: req.Lookup, DryRun: true}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if _, err := f.Forget(ctx, req); err != nil {
		t.Fatal(err)
	}
	if n := s.calls.Load(); n != 4 {
		t.Errorf("Verify ran %d times, want 4: once more when it passed, then never", n)
	}
}

func TestForgetterVerifyCountsAndWithoutVerify(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	req := forget.Request{Lookup: forget.Lookup{CustomerID: "191"}, DryRun: true}

	s := &verifyingStore{Store: seeded(t)}
	f := newForgetter(t, s)
	if err := f.Verify(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Forget(ctx, req); err != nil {
		t.Fatal(err)
	}
	if n := s.calls.Load(); n != 1 {
		t.Errorf("Verify ran %d times, want 1: the host's own Verify counts", n)
	}

	s = &verifyingStore{Store: seeded(t)}
	s.failing.Store(true)
	f = newForgetter(t, s, forget.WithoutVerify())
	if _, err := f.Forget(ctx, req); err != nil {
		t.Fatalf("WithoutVerify: %v", err)
	}
	if n := s.calls.Load(); n != 0 {
		t.Errorf("WithoutVerify: Verify ran %d times", n)
	}
}
