package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/forgetkit/forget/internal/long"
)

// TestMain runs the command itself when this test binary is started under
// the name forget (buildForget's link to it), and the tests otherwise.
func TestMain(m *testing.M) {
	if filepath.Base(os.Args[0]) == "forget" {
		os.Exit(Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	long.Parallel(4)
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// packageDir is this package's directory, where the tests start.
var packageDir, _ = os.Getwd()

var (
	buildOnce sync.Once
	binDir    string
	builtBin  string
	buildErr  error
)

// buildForget returns the command for the tests that run it as a separate
// process. Without -race it is this test binary, linked as forget, so
// there is nothing to build. Under -race the command is built once without
// the race detector, which makes a process's SQLite work ten times slower.
func buildForget(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		binDir, buildErr = os.MkdirTemp("", "forget-bin-")
		if buildErr != nil {
			return
		}
		builtBin = filepath.Join(binDir, "forget")
		if !raceEnabled {
			self, err := os.Executable()
			if err == nil {
				err = os.Symlink(self, builtBin)
			}
			buildErr = err
			return
		}
		build := exec.Command("go", "build", "-o", builtBin, ".")
		build.Dir = packageDir // a test may have changed directory
		if out, err := build.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return builtBin
}
