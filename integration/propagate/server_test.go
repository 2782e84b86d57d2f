package propagate_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/forgetkit/forget/integration/internal/natstest"
)

// TestServerUnderTest: with $FORGET_TEST_NATS_SERVER set, the tests run
// against that binary, not the in-process server, so that CI's second
// run really is on the server it installs.
func TestServerUnderTest(t *testing.T) {
	ns := natstest.Start(t)
	got := ns.Version(t)
	bin := os.Getenv(natstest.EnvServer)
	if bin == "" {
		if got != server.VERSION {
			t.Fatalf("in-process server reports %s, want %s", got, server.VERSION)
		}
		t.Logf("nats-server %s, in-process", got)
		return
	}
	out, err := exec.Command(bin, "--version").Output()
	if err != nil {
		t.Fatalf("%s --version: %v", bin, err)
	}
	if want := strings.TrimPrefix(strings.TrimSpace(strings.TrimPrefix(string(out), "nats-server:")), "v"); got != want || !ns.External() {
		t.Fatalf("the server reports %s; %s is %s", got, bin, want)
	}
	t.Logf("nats-server %s, %s", got, bin)
}
