package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/forgetkit/forget"
	"github.com/forgetkit/forget/store/sqlstore"
)

const sweepUsage = `
Usage: forget sweep (-db FILE | -dsn URL) [-schema FILE] [-activity COLUMNS] -inactive AGE
                    [-dry-run] [-limit N] [-chunk N] [-report FILE] [-progress MODE]

Forgets every customer inactive for AGE or longer: whose latest activity
(the mapping's activity columns, or -activity) is older than now minus
AGE. Customers under a hold are refused, audited and counted apart;
customers with no activity recorded at all are never swept.

Customers are read a page at a time, in order of activity, by the
activity column's index, and forgotten in chunks, each chunk one
transaction. A sweep is safe to stop (Ctrl-C, or a crash) and run again:
it skips customers the audit trail shows fully forgotten since the
cutoff, so a re-run goes on where the last one stopped. It therefore needs
the audit table.

Exit status: 0 when no forget failed (held customers are not failures),
1 when any failed or the sweep was interrupted, 2 on bad usage.

Examples:
  forget sweep -db app.db -activity last_login -inactive 3y -dry-run
  forget sweep -dsn postgres://app@db/app -schema mapping.json -inactive 400d -report sweep.jsonl
`

// sweepSQLiteCache is a sweep's SQLite page cache, in MiB, unless
// -sqlite-cache says otherwise.
const sweepSQLiteCache = 64

// sweepLine is one line of -report: a customer's outcome, never a value.
type sweepLine struct {
	CustomerID string `json:"customer_id"`
	Outcome    string `json:"outcome"`
	DryRun     bool   `json:"dry_run,omitempty"`
	Hold       string `json:"hold,omitempty"`
	Error      string `json:"error,omitempty"`
}

func (c *cli) sweep(args []string) int {
	fs := c.flags("sweep", sweepUsage)
	var dbf dbFlags
	dbf.register(fs)
	var (
		inactive  = fs.String("inactive", "", "forget customers inactive for this `AGE`: 3y, 400d, 6w, 36h (e.g. -inactive 3y)")
		activity  = fs.String("activity", "", "comma-separated activity `COLUMNS` of the customers table, the latest counting\n(e.g. -activity last_login,last_order_at); default: the mapping's \"activity\"")
		dryRun    = fs.Bool("dry-run", false, "report what would be forgotten, change nothing")
		limit     = fs.Int("limit", 0, "forget at most `N` customers in this run (0: all)")
		chunk     = fs.Int("chunk", 0, "customers per transaction (default 5000 on SQLite, 100 elsewhere)")
		report    = fs.String("report", "", "write one JSON line per customer tried, its outcome, to `FILE`")
		progress  = fs.String("progress", "auto", "progress `MODE`: auto (a bar on a terminal, else lines), bar, lines or none")
		principal = fs.String("principal", "sweep", "who asks, recorded in receipts")
	)
	if code, ok := c.parse(fs, args); !ok {
		return code
	}
	cacheSet := false
	fs.Visit(func(f *flag.Flag) { cacheSet = cacheSet || f.Name == "sqlite-cache" })
	if !cacheSet {
		// A sweep writes thousands of customers a transaction: a larger
		// cache halved a million-customer sweep (165 s with 2 MiB, 113 s
		// with 64 MiB), where single forgets gained nothing from one.
		dbf.sqliteCache = sweepSQLiteCache
	}
	if err := dbf.require(c, "sweep"); err != nil {
		return c.usageError("%v", err)
	}
	age, err := parseAge(*inactive)
	switch {
	case *inactive == "":
		return c.usageError("sweep needs -inactive AGE (e.g. -inactive 3y)")
	case err != nil:
		return c.usageError("-inactive: %v", err)
	case *limit < 0:
		return c.usageError("-limit must not be negative")
	case *chunk < 0 || *chunk > 10000:
		return c.usageError("-chunk must be between 1 and 10000")
	case dbf.auditTable == "":
		return c.usageError("a sweep needs the audit table, which tells it whom it has already forgotten; drop -audit-table ''")
	}
	mode := *progress
	if mode != "auto" && mode != "bar" && mode != "lines" && mode != "none" {
		return c.usageError("-progress must be auto, bar, lines or none")
	}
	if *activity != "" {
		m := sqlstore.DefaultSchema()
		if dbf.mapping != nil {
			m = *dbf.mapping
		}
		m.Activity = nil
		for _, col := range strings.Split(*activity, ",") {
			m.Activity = append(m.Activity, sqlstore.Column{Column: strings.TrimSpace(col)})
		}
		if err := m.Validate(); err != nil {
			return c.usageError("-activity: %v", err)
		}
		dbf.mapping = &m
	}
	if dbf.mapping == nil || len(dbf.mapping.Activity) == 0 {
		return c.usageError("name the activity columns: -activity COLUMNS, or \"activity\" in the -schema mapping")
	}
	if *report != "" && (*report == dbf.db || sameFile(*report, dbf.db)) {
		return c.usageError("-report names the database itself")
	}

	ctx, stop := interruptible()
	defer stop()
	o, code := c.openForgetter(ctx, &dbf, c.warnLogger())
	if o == nil {
		return code
	}
	defer o.close()
	n := *chunk
	if n == 0 {
		n = 100
		if o.store.Dialect() == sqlstore.SQLite {
			// One writer at a time anyway: larger transactions write each
			// page once for more customers (a chunk holds the write lock
			// for about half a second).
			n = 5000
		}
	}
	// The store again, with the chunk as its transaction size.
	opts := []sqlstore.Option{sqlstore.WithSchema(*dbf.mapping), sqlstore.WithAudit(dbf.auditTable), sqlstore.WithBatchSize(n)}
	store, err := sqlstore.New(o.db, o.store.Dialect(), opts...)
	if err != nil {
		return c.usageError("%v", err)
	}
	f, err := forget.New(store, forget.WithLogger(c.warnLogger()))
	if err != nil {
		return c.usageError("%v", err)
	}

	var rw *bufio.Writer
	if *report != "" {
		file, err := os.Create(*report)
		if err != nil {
			return c.failure("-report: %v", err)
		}
		defer file.Close()
		rw = bufio.NewWriter(file)
		defer rw.Flush()
	}
	cutoff := time.Now().Add(-age)
	prog := newProgress(c.stderr, mode, -1, c.tty)
	var reportErr error
	start := time.Now()
	rep, err := f.Sweep(ctx, forget.SweepOptions{
		InactiveSince: cutoff, Limit: *limit, DryRun: *dryRun, Principal: *principal, Chunk: n,
		OnOutcome: func(id string, out forget.Outcome) {
			if rw == nil || reportErr != nil {
				return
			}
			line := sweepLine{CustomerID: id, Outcome: outcomeOf(out.Err), DryRun: *dryRun}
			var held *forget.HeldError
			if errors.As(out.Err, &held) {
				line.Hold = held.Hold
			}
			if out.Err != nil {
				line.Error = clip(publicMessage(out.Err), maxRowMessage)
			}
			b, _ := json.Marshal(line)
			if _, err := rw.Write(append(b, '\n')); err != nil {
				reportErr = err
			}
		},
		Progress: func(r forget.SweepReport) {
			if rw != nil && reportErr == nil {
				reportErr = rw.Flush() // each chunk's lines once it is final
			}
			prog.update(r.Tried)
		},
	})
	prog.finish(rep.Tried)
	c.sweepSummary(rep, time.Since(start))
	switch {
	case err != nil && ctx.Err() != nil:
		fmt.Fprintln(c.stdout, "interrupted: re-running the sweep is safe; it goes on where this one stopped")
		return exitFailed
	case err != nil:
		return c.failure("%s", describe(err))
	case reportErr != nil:
		return c.failure("-report: %v", reportErr)
	case rep.Failed > 0:
		return exitFailed
	}
	return exitOK
}

// sweepSummary prints the counts of a sweep: one line, and the holds.
func (c *cli) sweepSummary(rep forget.SweepReport, took time.Duration) {
	verb := "forgotten"
	if rep.DryRun {
		verb = "would be forgotten (dry run)"
	}
	fmt.Fprintf(c.stdout, "%d customers inactive since %s in %s: %d %s, %d held, %d not found, %d failed\n",
		rep.Tried, rep.Cutoff.Format(time.RFC3339), took.Round(time.Millisecond), rep.Forgotten, verb, rep.Held, rep.NotFound, rep.Failed)
	holds := make([]string, 0, len(rep.HeldBy))
	for h := range rep.HeldBy {
		holds = append(holds, h)
	}
	sort.Strings(holds)
	for _, h := range holds {
		fmt.Fprintf(c.stdout, "  held by %s: %d\n", h, rep.HeldBy[h])
	}
}

var ageRE = regexp.MustCompile(`^([0-9]{1,6})([hdwy])$`)

// parseAge reads 36h, 90d, 6w or 3y (a year is 365 days), or a Go
// duration such as 2160h.
func parseAge(s string) (time.Duration, error) {
	if m := ageRE.FindStringSubmatch(s); m != nil {
		n, _ := strconv.Atoi(m[1])
		unit := map[string]time.Duration{"h": time.Hour, "d": 24 * time.Hour, "w": 7 * 24 * time.Hour, "y": 365 * 24 * time.Hour}[m[2]]
		if n == 0 {
			return 0, errors.New("the age must be positive: a sweep of everyone inactive since now would forget everybody")
		}
		return time.Duration(n) * unit, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%s is not an age such as 3y, 400d, 6w or 36h", quoteClipped(s))
	}
	return d, nil
}
