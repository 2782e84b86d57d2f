package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestCompletionBash loads the bash script in bash and completes
// commands, flags and shells with it.
func TestCompletionBash(t *testing.T) {
	t.Parallel()
	bash, err := exec.LookPath("bash")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("bash is not installed")
		}
		t.Skip("bash is not installed")
	}
	code, script, stderr := runMain("completion", "bash")
	if code != exitOK {
		t.Fatalf("completion bash: exit %d: %s", code, stderr)
	}
	file := filepath.Join(t.TempDir(), "forget.bash")
	if err := os.WriteFile(file, []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	driver := `source "$1" || exit 1
complete -p forget >/dev/null || exit 1
comp() { COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]}-1)); COMPREPLY=(); _forget; echo "${COMPREPLY[*]}"; }
comp forget sw
comp forget run -customer
comp forget sweep -inac
comp forget completion z
comp forget help rel
comp forget run -no-such
`
	out, err := exec.Command(bash, "-c", driver, "bash", file).CombinedOutput()
	if err != nil {
		t.Fatalf("bash: %v\n%s", err, out)
	}
	got := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	want := []string{"sweep", "-customer-id", "-inactive", "zsh", "relay", ""}
	if len(got) != len(want) {
		t.Fatalf("completions: %q\nwant %q", out, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("completion %d = %q, want %q", i, got[i], want[i])
		}
	}
}

// TestCompletionListsEveryFlag: the scripts come from the commands' own
// flags, so every command and every flag of it is in both.
func TestCompletionListsEveryFlag(t *testing.T) {
	t.Parallel()
	flags := commandFlags()
	if len(flags["run"]) < 10 || !contains(flags["run"], "-customer-id") || !contains(flags["serve"], "-keys") {
		t.Fatalf("commandFlags: run %q, serve %q", flags["run"], flags["serve"])
	}
	for _, shell := range []string{"bash", "zsh"} {
		_, script, _ := runMain("completion", shell)
		for name, fl := range flags {
			if !strings.Contains(script, name) {
				t.Errorf("%s script lacks the command %s", shell, name)
			}
			for _, f := range fl {
				if !strings.Contains(script, " "+f) && !strings.Contains(script, `"`+f) {
					t.Errorf("%s script lacks %s %s", shell, name, f)
				}
			}
		}
	}
	if code, _, stderr := runMain("completion", "fish"); code != exitUsage || !strings.Contains(stderr, `unknown shell "fish"`) {
		t.Errorf("completion fish: exit %d, %q", code, stderr)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
