// Package long says how much of a crash loop or soak a test runs. By
// default a short version, so that `go test ./...` takes seconds: fewer
// kills, each followed by the same checks as in the full version. With
// FORGET_LONG=1 (.ci/run sets it) every kill the test was written for.
// FORGET_CRASH_ITERATIONS=N sets the count outright (a soak of thousands).
package long

import (
	"flag"
	"os"
	"runtime"
	"strconv"
	"testing"
)

// The environment variables.
const (
	Env           = "FORGET_LONG"
	EnvIterations = "FORGET_CRASH_ITERATIONS"
)

// Enabled reports whether FORGET_LONG=1.
func Enabled() bool { return os.Getenv(Env) == "1" }

// Count returns how many kills (or rounds) a crash loop runs: n of
// FORGET_CRASH_ITERATIONS=n, else full under FORGET_LONG=1, else short.
func Count(t testing.TB, short, full int) int {
	t.Helper()
	if s := os.Getenv(EnvIterations); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("%s=%q: want a positive integer", EnvIterations, s)
		}
		return n
	}
	if Enabled() {
		return full
	}
	return short
}

// Parallel, called by a TestMain before m.Run, lets n parallel tests run
// at once (GOMAXPROCS if more) unless -parallel says otherwise: the
// tests that call it mostly wait, on fsync and on the processes they
// start, so GOMAXPROCS at a time (two on two cores) leaves the CPU idle.
// Under -fuzz, where -parallel counts fuzzing workers, it does nothing.
func Parallel(n int) {
	flag.Parse()
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "test.parallel" || f.Name == "test.fuzz" })
	if !set {
		flag.Set("test.parallel", strconv.Itoa(max(n, runtime.GOMAXPROCS(0))))
	}
}
