package main

import (
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
)

const completionUsage = `
Usage: forget completion bash|zsh

Prints a script that completes forget's commands and their flags.

Examples:
  source <(forget completion bash)                 # this shell
  forget completion bash > /etc/bash_completion.d/forget
  forget completion zsh > "${fpath[1]}/_forget"    # then restart zsh
`

// completion prints a script generated from the commands' own FlagSets,
// so it never lists a flag a command does not have.
func (c *cli) completion(args []string) error {
	fs := c.flags("completion", completionUsage)
	shell := ""
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		shell, args = args[0], args[1:]
	}
	if _, err := c.parseFlags(fs, args); err != nil {
		return err
	}
	flags := commandFlags()
	switch shell {
	case "bash":
		writeBash(c.stdout, flags)
	case "zsh":
		writeZsh(c.stdout, flags)
	case "":
		return usagef("completion needs a shell: forget completion bash or forget completion zsh")
	default:
		return usagef("completion: unknown shell %q (want bash or zsh)", shell)
	}
	return nil
}

// commandFlags returns each command's flag names, sorted, by running the
// command's -h against a cli that writes nowhere and reading back the
// FlagSet it made.
func commandFlags() map[string][]string {
	out := map[string][]string{}
	for name, run := range commands {
		if name == "completion" {
			out[name] = []string{"bash", "zsh"} // its words are shells
			continue
		}
		probe := &cli{stdin: strings.NewReader(""), stdout: io.Discard, stderr: io.Discard}
		_ = run(probe, []string{"-h"})
		var names []string
		for _, fs := range probe.flagSets {
			fs.VisitAll(func(f *flag.Flag) { names = append(names, "-"+f.Name) })
		}
		slices.Sort(names)
		out[name] = slices.Compact(names)
	}
	return out
}

func sortedCommands(flags map[string][]string) []string {
	names := make([]string, 0, len(flags))
	for n := range flags {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

func writeBash(w io.Writer, flags map[string][]string) {
	cmds := sortedCommands(flags)
	fmt.Fprintf(w, `# bash completion for forget: source <(forget completion bash)
_forget() {
  local cur=${COMP_WORDS[COMP_CWORD]} cmd=${COMP_WORDS[1]} words
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=($(compgen -W %q -- "$cur"))
    return
  fi
  case $cmd in
`, strings.Join(append(cmds, "help"), " "))
	for _, n := range cmds {
		fmt.Fprintf(w, "    %s) words=%q ;;\n", n, strings.Join(flags[n], " "))
	}
	fmt.Fprintf(w, `    help) words=%q ;;
    *) return ;;
  esac
  if [[ $cur == -* ]] || [ "$cmd" = help ] || [ "$cmd" = completion ] || [ -z "$words" ]; then
    COMPREPLY=($(compgen -W "$words" -- "$cur"))
  else
    COMPREPLY=($(compgen -f -- "$cur"))
  fi
}
complete -o filenames -F _forget forget
`, strings.Join(cmds, " "))
}

func writeZsh(w io.Writer, flags map[string][]string) {
	cmds := sortedCommands(flags)
	fmt.Fprint(w, `#compdef forget
# zsh completion for forget: forget completion zsh > "${fpath[1]}/_forget"
_forget() {
  local -a cmds
  cmds=(`+strings.Join(append(cmds, "help"), " ")+`)
  if (( CURRENT == 2 )); then
    compadd -a cmds
    return
  fi
  case $words[2] in
`)
	for _, n := range cmds {
		fmt.Fprintf(w, "    %s) compadd -- %s; _files ;;\n", n, strings.Join(flags[n], " "))
	}
	fmt.Fprint(w, `    help) compadd -a cmds ;;
  esac
}
compdef _forget forget
`)
}
