package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/forgetkit/forget/internal/long"
)

// TestMain runs the command itself when this test binary is started under
// the name forget (its link made by startBuild), and the tests otherwise.
func TestMain(m *testing.M) {
	if filepath.Base(os.Args[0]) == "forget" {
		os.Exit(Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	long.Parallel(4)
	startBuild()
	code := m.Run()
	<-built.done
	if built.dir != "" {
		os.RemoveAll(built.dir)
	}
	os.Exit(code)
}

// packageDir is this package's directory, where the tests start.
var packageDir, _ = os.Getwd()

// built is the command for the tests that run it as a separate process.
var built struct {
	done chan struct{} // closed when bin or err is set
	dir  string
	bin  string
	err  error
}

// startBuild makes the command, before any test runs: a test that sets
// XDG_CACHE_HOME would move go build's cache, and it would build
// everything afresh (minutes under -race). Without -race the command is
// this test binary, linked as forget: nothing to build. Under -race it is
// built without the race detector, which makes a process's SQLite work
// ten times slower; in-process tests run meanwhile.
func startBuild() {
	built.done = make(chan struct{})
	dir, err := os.MkdirTemp("", "forget-bin-")
	if err != nil {
		built.err = err
		close(built.done)
		return
	}
	built.dir, built.bin = dir, filepath.Join(dir, "forget")
	if !raceEnabled {
		self, err := os.Executable()
		if err == nil {
			err = os.Symlink(self, built.bin)
		}
		built.err = err
		close(built.done)
		return
	}
	// -buildvcs=auto: the environment may say false; forget version
	// reports the revision.
	build := exec.Command("go", "build", "-buildvcs=auto", "-o", built.bin, ".")
	build.Dir = packageDir
	build.Env = os.Environ()
	go func() {
		defer close(built.done)
		if out, err := build.CombinedOutput(); err != nil {
			built.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	}()
}

// buildForget returns the command, waiting for startBuild's build.
func buildForget(t testing.TB) string {
	t.Helper()
	<-built.done
	if built.err != nil {
		t.Fatal(built.err)
	}
	return built.bin
}
