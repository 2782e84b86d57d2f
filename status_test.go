package forget_test

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/forgetkit/forget"
)

// TestProblemOf: one table maps every error class to its status, code and
// a message that never shows an internal cause.
func TestProblemOf(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		err    error
		status int
		code   string
		msg    string
	}{
		{&forget.HeldError{Hold: "open_chargeback"}, http.StatusConflict, forget.CodeHeld, `hold "open_chargeback"`},
		{fmt.Errorf("sqlstore: %w", &forget.HeldError{Hold: "tax_retention"}), http.StatusConflict, forget.CodeHeld, "tax_retention"},
		{&forget.UnknownHoldError{Hold: "open_chargebak"}, http.StatusBadRequest, forget.CodeInvalid, "unknown hold"},
		{&forget.KeyError{Key: "orderid", Reason: "is out of range"}, http.StatusBadRequest, forget.CodeInvalid, "orderid is out of range"},
		{fmt.Errorf("sqlstore: orderid: %w", forget.ErrConflict), http.StatusConflict, forget.CodeConflict, "lookup keys name different customers"},
		{fmt.Errorf("x: %w", forget.ErrNotFound), http.StatusNotFound, forget.CodeNotFound, "no customer"},
		{fmt.Errorf("%w: wrong key for user bob", forget.ErrUnauthorized), http.StatusUnauthorized, forget.CodeUnauthorized, "missing or wrong"},
		{errors.New("pq: duplicate key value 'secret@example.com'"), http.StatusInternalServerError, forget.CodeInternal, "internal error"},
	} {
		p := forget.ProblemOf(tc.err)
		if p.Status != tc.status || p.Code != tc.code || !strings.Contains(p.Message, tc.msg) {
			t.Errorf("ProblemOf(%v) = %+v, want %d %s %q", tc.err, p, tc.status, tc.code, tc.msg)
		}
		if strings.Contains(p.Message, "secret@example.com") || strings.Contains(p.Message, "bob") {
			t.Errorf("ProblemOf(%v) shows the cause: %q", tc.err, p.Message)
		}
		if refused := forget.Refused(tc.err); refused != (tc.status == 400 || tc.status == 404 || tc.status == 409) {
			t.Errorf("Refused(%v) = %v", tc.err, refused)
		}
	}
}
