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
// bad usage. Connection and operational flags may also come from the
// environment: FORGET_DSN for -dsn, FORGET_SECRET_FILE for -secret-file.
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

	"github.com/peterbourgon/ff/v3"
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
	// flagSets are the FlagSets this invocation made, in order: the
	// completion scripts read each command's flags from them.
	flagSets []*flag.FlagSet
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
  forget migrate [flags]  bring the audit table to this release's schema version
  forget audit  [flags]   export the audit trail as JSON lines
  forget replay [flags]   forget again what an exported audit trail forgot (after restoring a backup)
  forget sweep  [flags]   forget every customer inactive for longer than a retention period
  forget relay  [flags]   publish erasure events from the database to NATS JetStream
  forget deliver [flags]  deliver erasure events from NATS JetStream to a webhook
  forget status [flags]   show where a customer's erasure events have reached
  forget redrive [flags]  send a destination's parked events back to it
  forget deliveries [flags] list parked or retrying deliveries across customers
  forget inspect [flags]  show what a forget does with every column that reaches a customer
  forget lint   [flags]   exit 1 while a column that reaches a customer is unclassified (for CI)
  forget check  [flags]   report the rows of an import file that would bring back a forgotten person
  forget suppression export [flags] write the tombstones as a suppression list (keyed hashes, no addresses)
  forget keygen  [flags]  create the key pair that signs erasure certificates
  forget certificate verify FILE -public-key KEY  check erasure certificates offline
  forget version          print the release, the VCS revision and the Go version
  forget completion SHELL print a completion script for bash or zsh

Run 'forget help COMMAND' (or 'forget COMMAND -h') for a command's flags and examples.
`

// Main runs the command line args and returns the exit status. Every
// subcommand returns an error, which exitStatus maps to a status here and
// nowhere else.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	c := &cli{stdin: stdin, stdout: stdout, stderr: stderr}
	if f, ok := stderr.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			c.tty = true
		}
	}
	return c.exitStatus(c.dispatch(args))
}

// commands are the subcommands by name.
var commands = map[string]func(*cli, []string) error{
	"serve": (*cli).serve, "init": (*cli).init, "run": (*cli).run, "schema": (*cli).schema,
	"audit": (*cli).audit, "replay": (*cli).replay, "sweep": (*cli).sweep, "relay": (*cli).relay,
	"deliver": (*cli).deliver, "status": (*cli).status, "redrive": (*cli).redrive,
	"deliveries": (*cli).deliveries, "inspect": (*cli).inspect, "lint": (*cli).lint, "version": (*cli).version,
	"migrate": (*cli).migrate, "check": (*cli).check,
	"suppression": (*cli).suppression,
	"keygen":      (*cli).keygen, "certificate": (*cli).certificate,
}

// completion reads commands, so it joins them after initialisation.
func init() { commands["completion"] = (*cli).completion }

func (c *cli) dispatch(args []string) error {
	if len(args) == 0 {
		fmt.Fprint(c.stderr, mainUsage)
		return exitError(exitUsage)
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "help", "-h", "-help", "--help":
		if len(rest) > 0 && cmd == "help" {
			if run, ok := commands[rest[0]]; ok {
				return run(c, []string{"-h"}) // forget help run = forget run -h
			}
			fmt.Fprintf(c.stderr, "forget help: unknown command %q\n\n%s", rest[0], mainUsage)
			return exitError(exitUsage)
		}
		fmt.Fprint(c.stdout, mainUsage)
		return nil
	}
	run, ok := commands[cmd]
	if !ok {
		fmt.Fprintf(c.stderr, "forget: unknown command %q\n\n%s", cmd, mainUsage)
		return exitError(exitUsage)
	}
	return run(c, rest)
}

// usageError is bad usage (exit status 2): wrong flags, a bad value, a
// mapping that does not fit the database.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// usagef returns a usageError with a formatted message.
func usagef(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

// exitError is an exit status whose reason the command has already
// printed (a batch's summary, a usage text, status's table).
type exitError int

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

// errInterrupted is a command stopped by Ctrl-C before it did anything.
var errInterrupted = errors.New("interrupted")

// exitStatus prints err (unless it is printed already) and returns its
// exit status: 0 for none or -h, 2 for bad usage, the status of an
// exitError, 1 for any other failure.
func (c *cli) exitStatus(err error) int {
	var (
		status exitError
		usage  usageError
	)
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp): // the flag package printed the usage
		return exitOK
	case errors.As(err, &status):
		return int(status)
	case errors.As(err, &usage):
		c.say("%v", err)
		return exitUsage
	}
	c.say("%v", err)
	return exitFailed
}

// flags returns a FlagSet whose -h prints usage text, examples and every
// flag (to stderr, as Go's own tools do).
func (c *cli) flags(name, usage string) *flag.FlagSet {
	fs := flag.NewFlagSet("forget "+name, flag.ContinueOnError)
	c.flagSets = append(c.flagSets, fs)
	fs.SetOutput(c.stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), strings.TrimLeft(usage, "\n"))
		fmt.Fprintln(fs.Output(), "\nFlags:")
		fs.PrintDefaults()
		fmt.Fprintf(fs.Output(), "\n%s\n", envUsage)
	}
	return fs
}

// envPrefix names the environment variables flags may come from:
// FORGET_DSN for -dsn, FORGET_SECRET_FILE for -secret-file.
const envPrefix = "FORGET"

const envUsage = `Connection and operational flags may also come from the environment, as ` + envPrefix + `_<FLAG> in
capitals with dashes as underscores (` + envPrefix + `_DSN, ` + envPrefix + `_KEYS, ` + envPrefix + `_SECRET_FILE...), which keeps secrets
out of ps; a flag on the command line wins. Every other flag (whom to erase, what to spare, which
activity counts, the principal and audit table written as evidence, -dry-run, -limit...) comes only
from the command line: such a variable in the environment is refused.`

// envName is the environment variable a flag may come from.
func envName(flagName string) string {
	return envPrefix + "_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// parsed is what parseFlags learnt: which flags the command line set.
type parsed map[string]bool

// parseFlags parses args into fs, then fills the flags the command line
// did not set from the environment (ff's FORGET_<FLAG>). Flag errors and
// stray arguments are usage errors; -h is flag.ErrHelp. The flag package
// prints its own errors, with the usage.
func (c *cli) parseFlags(fs *flag.FlagSet, args []string) (parsed, error) {
	// The flag package prints the whole usage after its error too, which
	// buries the error under every flag: -h alone prints it.
	full := fs.Usage
	fs.Usage = func() {}
	err := fs.Parse(args)
	fs.Usage = full
	if errors.Is(err, flag.ErrHelp) {
		full()
		return nil, err
	}
	if err != nil {
		fmt.Fprintf(fs.Output(), "Run '%s -h' for its flags and examples.\n", fs.Name())
		return nil, exitError(exitUsage)
	}
	if fs.NArg() > 0 {
		return nil, usagef("%s: unexpected argument %q", fs.Name(), fs.Arg(0))
	}
	if name := repeatedFlag(fs, args); name != "" {
		return nil, usagef("-%s is given more than once; give each flag once (the flag package would silently keep only the last)", name)
	}
	cmdline := parsed{}
	fs.Visit(func(f *flag.Flag) { cmdline[f.Name] = true })
	// The arguments are parsed already: ff only reads the environment,
	// and only for the flags that configure; a variable left over from
	// an earlier shell must never choose whom to erase.
	fromEnv := flag.NewFlagSet(fs.Name(), flag.ContinueOnError)
	var refused error
	fs.VisitAll(func(f *flag.Flag) {
		switch {
		case cmdline[f.Name]:
		case envSettable[f.Name]:
			fromEnv.Var(f.Value, f.Name, f.Usage)
		default:
			if refused == nil && os.Getenv(envName(f.Name)) != "" {
				refused = usagef("$%s is set, but -%s may decide whom to erase or what is recorded as evidence, and comes only from the command line; unset it", envName(f.Name), f.Name)
			}
		}
	})
	if refused != nil {
		return nil, refused
	}
	if err := ff.Parse(fromEnv, nil, ff.WithEnvVarPrefix(envPrefix)); err != nil {
		return nil, usageError{err}
	}
	return cmdline, nil
}

// repeatedFlag returns the name of a flag args give twice, or "". The
// flag package keeps the last value: "-customer-id 5 -customer-id 6"
// would erase 6 alone without a word, where the HTTP handler refuses a
// repeated customer_id. No flag of the command accumulates. args are
// already parsed by fs, so every flag in them is known.
func repeatedFlag(fs *flag.FlagSet, args []string) string {
	seen := map[string]bool{}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if len(a) < 2 || a[0] != '-' || a == "--" {
			return "" // the flag package stops here too
		}
		name := strings.TrimPrefix(a[1:], "-")
		name, _, hasValue := strings.Cut(name, "=")
		f := fs.Lookup(name)
		if f == nil {
			return ""
		}
		if seen[f.Name] {
			return f.Name
		}
		seen[f.Name] = true
		if b, ok := f.Value.(interface{ IsBoolFlag() bool }); !hasValue && !(ok && b.IsBoolFlag()) {
			i++ // the next argument is the value
		}
	}
	return ""
}

// envSettable are the only flags the environment may set: where the
// database, broker and files are, and how the command runs. Every other
// flag may decide whom a forget erases, what it spares or what is written
// as evidence (-activity, -principal, -audit-table, -dry-run...), and a
// variable left over from an earlier shell must never do that: an
// allow-list, so that a new flag is command-line only until it is judged
// harmless here (TestEnvironmentSetsOnlyOperationalFlags enumerates them).
var envSettable = map[string]bool{
	// Where things are.
	"db": true, "dsn": true, "nats": true, "keys": true, "secret-file": true, "signing-key-file": true,
	"addr": true, "admin-addr": true, "path": true, "webhook": true, "name": true,
	"schema": true, "preset": true, "dialect": true, "report": true, "namespace": true,
	// How the command runs: speed, logs, output, retries.
	"log-format": true, "progress": true, "format": true, "json": true,
	"batch-size": true, "chunk": true, "workers": true, "poll": true, "timeout": true,
	"max-deliver": true, "backoff": true, "demo": true, "require-coverage": true,
	"auth-burst": true, "auth-refill": true,
	"sqlite-cache": true, "sqlite-mmap": true, "sqlite-checkpoint": true, "sqlite-checkpoint-every": true,
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

// command is a subcommand's flags: its FlagSet, and the database and NATS
// flags when it has them, which parse checks.
type command struct {
	*flag.FlagSet
	c            *cli
	db           *dbFlags
	dbRequired   bool
	nats         *natsFlags
	natsRequired bool
}

// command returns a subcommand's flags; -h prints usage (its text,
// examples and every flag).
func (c *cli) command(name, usage string) *command {
	return &command{FlagSet: c.flags(name, usage), c: c}
}

// database registers the database flags: -db, -dsn, -schema...
func (cmd *command) database(required bool) *dbFlags {
	cmd.db, cmd.dbRequired = &dbFlags{}, required
	cmd.db.register(cmd.FlagSet)
	return cmd.db
}

// natsServer registers -nats.
func (cmd *command) natsServer(required bool) *natsFlags {
	cmd.nats, cmd.natsRequired = &natsFlags{}, required
	cmd.nats.register(cmd.FlagSet)
	return cmd.nats
}

// name is the subcommand's name, as messages give it.
func (cmd *command) name() string { return strings.TrimPrefix(cmd.Name(), "forget ") }

// parse is every subcommand's prologue: it parses args (then the
// environment), checks the database and NATS flags and hides their
// secrets from everything the command prints.
func (cmd *command) parse(args []string) error {
	cmdline, err := cmd.c.parseFlags(cmd.FlagSet, args)
	if err != nil {
		return err
	}
	if cmd.db != nil {
		if err := cmd.db.check(cmd.c, cmdline, cmd.name(), cmd.dbRequired); err != nil {
			return err
		}
	}
	if cmd.nats != nil {
		if err := cmd.nats.check(cmd.c, cmd.name(), cmd.natsRequired); err != nil {
			return err
		}
	}
	return nil
}
