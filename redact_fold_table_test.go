package forget_test

import (
	"testing"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"github.com/forgetkit/forget"
)

// TestDecompositionsTable checks the generated table of the redactor's
// fold against golang.org/x/text's NFD (a test-only oracle: the root
// package itself imports only the standard library): every entry is the
// character's canonical decomposition, and every character of the Latin,
// Greek and Cyrillic blocks that decomposes into a base and combining
// marks is in it.
func TestDecompositionsTable(t *testing.T) {
	t.Parallel()
	for r, want := range forget.Decompositions {
		if got := norm.NFD.String(string(r)); got != want {
			t.Errorf("U+%04X: table %+q, NFD %+q", r, want, got)
		}
	}
	for r := rune(0xC0); r < 0x530; r++ {
		d := []rune(norm.NFD.String(string(r)))
		if len(d) < 2 || unicode.Is(unicode.Mn, d[0]) {
			continue
		}
		marks := true
		for _, m := range d[1:] {
			marks = marks && unicode.Is(unicode.Mn, m)
		}
		if _, ok := forget.Decompositions[r]; marks && !ok {
			t.Errorf("U+%04X %q decomposes to %+q but is not in the table", r, r, string(d))
		}
	}
}
