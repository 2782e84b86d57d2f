package forget_test

import (
	"os/exec"
	"strings"
	"testing"
)

// The root package is the vocabulary hosts import; it must not drag in
// any third-party module.
func TestRootImportsOnlyStandardLibrary(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, p := range strings.Fields(string(out)) {
		if p != "github.com/forgetkit/forget" {
			t.Errorf("the root package depends on %s", p)
		}
	}
}
