package main

import (
	"os/exec"
	"regexp"
	"runtime/debug"
	"strings"
	"testing"
)

func TestVersionLine(t *testing.T) {
	t.Parallel()
	bi := &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Path: "github.com/forgetkit/forget", Version: "v0.4.0"},
		Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "0123456789abcdef0123"},
			{Key: "vcs.time", Value: "2026-12-08T00:00:00Z"},
			{Key: "vcs.modified", Value: "true"},
		}}
	got := versionLine(bi, true)
	want := "forget v0.4.0 (revision 0123456789ab, 2026-12-08T00:00:00Z, modified) go1.26.0"
	if got != want {
		t.Errorf("versionLine = %q, want %q", got, want)
	}
	if got := versionLine(&debug.BuildInfo{GoVersion: "go1.26.0"}, true); got != "forget (devel) go1.26.0" {
		t.Errorf("versionLine without version or VCS = %q", got)
	}
	if got := versionLine(nil, false); !strings.Contains(got, "unknown version") {
		t.Errorf("versionLine without build info = %q", got)
	}
}

// TestVersionOfBuiltBinary: a binary built in a checkout names its revision.
func TestVersionOfBuiltBinary(t *testing.T) {
	t.Parallel()
	bin := buildForget(t)
	out, err := exec.Command(bin, "version").CombinedOutput()
	if err != nil {
		t.Fatalf("forget version: %v\n%s", err, out)
	}
	line := string(out)
	if !strings.HasPrefix(line, "forget ") || !strings.Contains(line, " go1.") {
		t.Errorf("forget version printed %q", line)
	}
	// The revision the toolchain stamped, if it did (not in a git
	// worktree, nor without git): forget version must print it.
	info, err := exec.Command("go", "version", "-m", bin).Output()
	if err != nil {
		t.Fatalf("go version -m: %v", err)
	}
	if m := regexp.MustCompile(`(?m)^\s+build\s+vcs\.revision=([0-9a-f]{12})`).FindSubmatch(info); m != nil {
		if !strings.Contains(line, "revision "+string(m[1])) {
			t.Errorf("forget version printed %q, want revision %s", line, m[1])
		}
	} else {
		t.Logf("the binary carries no VCS revision (%s): only the line's form is checked", bin)
	}
	if code, _, stderr := runMain("version", "extra"); code != exitUsage || !strings.Contains(stderr, "unexpected argument") {
		t.Errorf("forget version extra: exit %d, stderr %q", code, stderr)
	}
}
