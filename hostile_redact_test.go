package forget_test

import (
	"strings"
	"testing"

	"github.com/forgetkit/forget"
)

// TestHostileRedactStringUnicodeForms: the same name in another Unicode
// form is still the customer's name. A pre-image stored in NFC ("Chloë")
// must be found in a text in NFD ("Chloe\u0308", as macOS and some
// keyboards send it), and a pre-image carrying an invisible bidi mark
// (U+200F, common in names typed in right-to-left interfaces) must be
// found where the text has none.
func TestHostileRedactStringUnicodeForms(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, pre, text, gone string
	}{
		{"NFCPreimageNFDText", "Chloë", "ticket from Chloe\u0308 today", "Chlo"},
		{"NFDPreimageNFCText", "Chloe\u0308", "ticket from Chloë today", "Chlo"},
		{"BidiMarkInPreimage", "\u200fAnnabel", "ticket from Annabel today", "Annabel"},
		{"ZeroWidthInPreimage", "Anna\u200bbel", "ticket from Annabel today", "Annabel"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, _ := forget.RedactString(tc.text, []string{tc.pre}, nil)
			if strings.Contains(got, tc.gone) {
				t.Errorf("RedactString(%q, pre %q) = %q: the name survives", tc.text, tc.pre, got)
			}
		})
	}
}
