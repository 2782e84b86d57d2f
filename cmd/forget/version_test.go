package main

import (
	"os/exec"
	"runtime/debug"
	"strings"
	"testing"
)

func TestVersionLine(t *testing.T) {
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
	bin := buildForget(t)
	out, err := exec.Command(bin, "version").CombinedOutput()
	if err != nil {
		t.Fatalf("forget version: %v\n%s", err, out)
	}
	line := string(out)
	if !strings.HasPrefix(line, "forget ") || !strings.Contains(line, " go1.") {
		t.Errorf("forget version printed %q", line)
	}
	head, err := exec.Command("git", "-C", packageDir, "rev-parse", "HEAD").Output()
	if err != nil {
		t.Logf("not a git checkout (%v): the revision is not checked", err)
		return
	}
	if rev := strings.TrimSpace(string(head)); !strings.Contains(line, "revision "+rev[:12]) {
		t.Errorf("forget version printed %q, want revision %s", line, rev[:12])
	}
	if code, _, stderr := runMain("version", "extra"); code != exitUsage || !strings.Contains(stderr, "unexpected argument") {
		t.Errorf("forget version extra: exit %d, stderr %q", code, stderr)
	}
}
