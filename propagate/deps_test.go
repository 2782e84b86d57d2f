package propagate_test

import (
	"os/exec"
	"strings"
	"testing"
)

// The NATS client is this package's business (and the command's): no
// other package of the module may import it, so that hosts that do not
// propagate do not download it.
func TestNATSOnlyHere(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Imports " "}}`, "github.com/forgetkit/forget/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	allowed := map[string]bool{"github.com/forgetkit/forget/propagate": true, "github.com/forgetkit/forget/cmd/forget": true,
		"github.com/forgetkit/forget/internal/streamtest": true}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		pkg, imports, _ := strings.Cut(line, " ")
		if allowed[pkg] {
			continue
		}
		for _, imp := range strings.Fields(imports) {
			if strings.HasPrefix(imp, "github.com/nats-io/") {
				t.Errorf("%s imports %s", pkg, imp)
			}
		}
	}
}
