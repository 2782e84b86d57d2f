package forget

import (
	"errors"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/iotest"
)

// TestKeysFileHostileBytes: line ends, byte-order marks, encodings and
// reads that fail, as editors and half-finished writes leave them. A
// CRLF file's keys are the keys without the CR; anything that may be a
// cut-off or misread file is refused, never half-accepted.
func TestKeysFileHostileBytes(t *testing.T) {
	t.Parallel()
	const key = "alice-key-0123456789"
	accepts := func(t *testing.T, file string) {
		t.Helper()
		kt, err := ParseAPIKeyFile(strings.NewReader(file))
		if err != nil {
			t.Fatalf("ParseAPIKeyFile(%q): %v", file, err)
		}
		r := httptest.NewRequest("PATCH", "/", nil)
		r.Header.Set("api-username", "alice")
		r.Header.Set("api-key", key)
		if _, err := kt.Authenticate(r); err != nil {
			t.Errorf("ParseAPIKeyFile(%q): alice's key is refused: %v", file, err)
		}
		r.Header.Set("api-key", key+"\r")
		if _, err := kt.Authenticate(r); err == nil {
			t.Errorf("ParseAPIKeyFile(%q): the key with a CR is accepted too", file)
		}
	}
	for _, file := range []string{
		"alice:" + key + "\r\n",
		"\ufeffalice:" + key + "\r\n",
		"# keys\r\n\r\nalice:" + key + "\r\n\r\n",
		"alice:" + key + " \t\n",
	} {
		accepts(t, file)
	}
	for _, c := range []struct{ file, want string }{
		{"", "no keys"},
		{"\n", "no keys"},
		{"\r\n", "no keys"},
		{"\ufeff\n", "no keys"},
		{"\ufeff", "does not end with a newline"},
		{"alice:" + key + "\r", "does not end with a newline"},            // cut between CR and LF
		{"alice:" + key + "\n# end", "does not end with a newline"},       // a comment cut off is a cut too
		{"alice:" + key + "\n   ", "does not end with a newline"},         // so is trailing space
		{"alice:" + key + "\rbob:" + key + "\r", "control character"},     // classic Mac line ends: one line
		{"bob:" + key + "\n\ufeffalice:" + key + "\n", "printable ASCII"}, // a BOM mid-file is not skipped
		{"\xff\xfea\x00l\x00:\x00k\x00\n\x00", "printable ASCII"},         // UTF-16
		{"alice:" + key + "\x00\n", "control character"},
	} {
		_, err := ParseAPIKeyFile(strings.NewReader(c.file))
		var kfe *APIKeyFileError
		if !errors.As(err, &kfe) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ParseAPIKeyFile(%q) = %v, want an *APIKeyFileError saying %q", c.file, err, c.want)
		}
	}
	// A read that fails after whole lines (the file vanished from an
	// NFS mount, an I/O error) is refused, not taken as the whole file.
	whole := "alice:" + key + "\n"
	for _, r := range []io.Reader{
		io.MultiReader(strings.NewReader(whole), iotest.ErrReader(errors.New("input/output error"))),
		iotest.TimeoutReader(strings.NewReader(whole + whole)),
		iotest.OneByteReader(strings.NewReader(whole[:len(whole)-1])),
	} {
		if kt, err := ParseAPIKeyFile(r); err == nil {
			t.Errorf("a failed or short read gave %d keys", kt.Len())
		}
	}
	if _, err := ParseAPIKeyFile(iotest.OneByteReader(strings.NewReader(whole))); err != nil {
		t.Errorf("a reader returning one byte at a time: %v", err)
	}
}
