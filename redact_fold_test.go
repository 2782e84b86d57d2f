package forget_test

import (
	"testing"

	"github.com/forgetkit/forget"
)

// TestRedactStringCanonicalForms: a pre-image matches the texts a reader
// cannot tell from it (either Unicode form, marks in another order,
// invisible characters either side), the whole of the match goes
// (combining marks and invisible characters inside it included), and only those:
// a name with other or no accents is someone else's.
func TestRedactStringCanonicalForms(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, pre, text, want string }{
		{"NFDMarkGoesWithTheName", "Chloë", "by Chloe\u0308, today", "by [redacted], today"},
		{"NFCText", "Chloe\u0308", "by CHLOË.", "by [redacted]."},
		{"MarksInAnotherOrder", "s\u0307\u0323ara", "ṩara!", "[redacted]!"},
		{"Hangul", "김민수", "안녕 김민수 님", "안녕 [redacted] 님"},
		{"FormatCharInText", "Annabel", "x Anna\u00adbel\u200f y", "x [redacted]\u200f y"},
		{"HiddenWordGoesOn", "Annabel", "Annabel\u200bla", "Annabel\u200bla"},
		{"OtherAccentIsAnotherName", "Chloë", "Chloé and Chloe wrote", "Chloé and Chloe wrote"},
		{"NoPrefixOfADecomposedLetter", "Chloe", "Chloe\u0308 wrote", "Chloe\u0308 wrote"},
		{"OnlyInvisibleIsTooShort", "\u200b\u200b\u200b\u200bAl", "Al and \u200b", "Al and \u200b"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got, _ := forget.RedactString(tc.text, []string{tc.pre}, nil); got != tc.want {
				t.Errorf("RedactString(%q, pre %q) = %q, want %q", tc.text, tc.pre, got, tc.want)
			}
		})
	}
}
