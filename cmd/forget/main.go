// Command forget serves Offerit's PATCH /api/customer/forget over a
// database, and performs erasures from the command line.
//
//	forget serve                      demo server on an embedded SQLite database
//	forget serve -db app.db -keys K   serve an existing SQLite database
//	forget init -db app.db -demo 100  create the default schema (and demo data)
//	forget run -db app.db -customer-id 191 -keep firstname
//	forget run -db app.db -batch requests.csv -report out.jsonl
//	forget schema -dialect postgres   print the default schema's DDL
//
// Exit status: 0 on success, 1 when a forget (or the server) fails, 2 on
// bad usage.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"unicode/utf8"
)

func main() {
	os.Exit(Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// Exit statuses.
const (
	exitOK     = 0
	exitFailed = 1
	exitUsage  = 2
)

// cli is one invocation: its streams, so tests can run it in-process too.
type cli struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	tty            bool // stderr is a terminal
}

// hide makes every later write to stdout and stderr replace secrets (a
// DSN's password, say), whoever writes: messages, logs, a driver's error.
func (c *cli) hide(secrets []string) {
	if len(secrets) == 0 {
		return
	}
	c.stdout = newScrubWriter(c.stdout, secrets)
	c.stderr = newScrubWriter(c.stderr, secrets)
}

const mainUsage = `forget erases customers' identifying details (Offerit's PATCH /api/customer/forget).

Usage:
  forget serve  [flags]   serve the HTTP API (no flags: a demo on embedded SQLite)
  forget init   [flags]   create the default schema in a SQLite file
  forget run    [flags]   forget one customer, or a batch from a file
  forget schema [flags]   print the default schema's DDL
  forget audit  [flags]   export the audit trail as JSON lines
  forget replay [flags]   forget again what an exported audit trail forgot (after restoring a backup)
  forget sweep  [flags]   forget every customer inactive for longer than a retention period
  forget relay  [flags]   publish erasure events from the database to NATS JetStream
  forget deliver [flags]  deliver erasure events from NATS JetStream to a webhook
  forget status [flags]   show where a customer's erasure events have reached
  forget redrive [flags]  send a destination's parked events back to it
  forget inspect [flags]  show what a forget does with every column that reaches a customer
  forget lint   [flags]   exit 1 while a column that reaches a customer is unclassified (for CI)

Run 'forget COMMAND -h' for a command's flags and examples.
`

// Main runs the command line args and returns the exit status.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	c := &cli{stdin: stdin, stdout: stdout, stderr: stderr}
	if f, ok := stderr.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			c.tty = true
		}
	}
	if len(args) == 0 {
		fmt.Fprint(stderr, mainUsage)
		return exitUsage
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		return c.serve(rest)
	case "init":
		return c.init(rest)
	case "run":
		return c.run(rest)
	case "schema":
		return c.schema(rest)
	case "audit":
		return c.audit(rest)
	case "replay":
		return c.replay(rest)
	case "sweep":
		return c.sweep(rest)
	case "relay":
		return c.relay(rest)
	case "deliver":
		return c.deliver(rest)
	case "status":
		return c.status(rest)
	case "redrive":
		return c.redrive(rest)
	case "inspect":
		return c.inspect(rest)
	case "lint":
		return c.lint(rest)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, mainUsage)
		return exitOK
	}
	fmt.Fprintf(stderr, "forget: unknown command %q\n\n%s", cmd, mainUsage)
	return exitUsage
}

// flags returns a FlagSet whose -h prints usage text, examples and every
// flag (to stderr, as Go's own tools do).
func (c *cli) flags(name, usage string) *flag.FlagSet {
	fs := flag.NewFlagSet("forget "+name, flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), strings.TrimLeft(usage, "\n"))
		fmt.Fprintln(fs.Output(), "\nFlags:")
		fs.PrintDefaults()
	}
	return fs
}

// parse parses args; it returns an exit status and false when the command
// should stop (help was asked for, or the flags were wrong).
func (c *cli) parse(fs *flag.FlagSet, args []string) (int, bool) {
	err := fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK, false // the flag package has printed the usage
	}
	if err != nil {
		return exitUsage, false // the flag package has printed the error and usage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(c.stderr, "%s: unexpected argument %q\n", fs.Name(), fs.Arg(0))
		return exitUsage, false
	}
	return exitOK, true
}

func (c *cli) usageError(format string, args ...any) int {
	c.say(format, args...)
	return exitUsage
}

func (c *cli) failure(format string, args ...any) int {
	c.say(format, args...)
	return exitFailed
}

// say prints a message to stderr, cut short: it may quote a batch file's
// or a flag's content, which can be huge.
func (c *cli) say(format string, args ...any) {
	fmt.Fprintf(c.stderr, "forget: %s\n", clip(fmt.Sprintf(format, args...), maxMessage))
}

// Bounds on what the command prints of one error.
const (
	maxMessage    = 2000 // an error the command stops on
	maxRowMessage = 300  // an error of one batch row or record
)

// clip cuts s to at most n bytes, on a UTF-8 boundary, marking the cut.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const more = "... (cut)"
	i := max(n-len(more), 0)
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + more
}

// quoteClipped quotes a piece of input for a message, cut short.
func quoteClipped(s string) string { return strconv.Quote(clip(s, 60)) }
