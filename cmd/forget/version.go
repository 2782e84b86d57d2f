package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
)

const versionUsage = `
Usage: forget version

Prints the module version (the release tag, or a pseudo-version for a
build between tags), the VCS revision it was built from and the Go version.
`

// version prints what debug.ReadBuildInfo knows: go build stamps the module
// version from the tag and the VCS revision since Go 1.24.
func (c *cli) version(args []string) error {
	fs := c.flags("version", versionUsage)
	if _, err := c.parseFlags(fs, args); err != nil {
		return err
	}
	fmt.Fprintln(c.stdout, versionLine(debug.ReadBuildInfo()))
	return nil
}

func versionLine(bi *debug.BuildInfo, ok bool) string {
	if !ok {
		return "forget (unknown version: built without module support) " + runtime.Version()
	}
	v := bi.Main.Version
	if v == "" {
		v = "(devel)"
	}
	var rev, when string
	dirty := false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			when = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "forget %s", v)
	if rev != "" {
		if len(rev) > 12 {
			rev = rev[:12]
		}
		fmt.Fprintf(&b, " (revision %s", rev)
		if when != "" {
			fmt.Fprintf(&b, ", %s", when)
		}
		if dirty {
			b.WriteString(", modified")
		}
		b.WriteString(")")
	}
	fmt.Fprintf(&b, " %s", bi.GoVersion)
	return b.String()
}
