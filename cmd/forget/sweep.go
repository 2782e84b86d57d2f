package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/forgetkit/forget"
	"github.com/forgetkit/forget/internal/ago"
	"github.com/forgetkit/forget/store/sqlstore"
)

const sweepUsage = `
Usage: forget sweep (-db FILE | -dsn URL) [-schema FILE] [-activity COLUMNS] -inactive AGE
                    [-dry-run] [-limit N] [-chunk N] [-report FILE] [-progress MODE] [-json]

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

Before the first page, one COUNT by the same predicate (and the same
indexes) tells how many customers are inactive: the progress shows that
total and the time left. It is an upper bound: held customers are
refused, and customers that another sweep forgets meanwhile are skipped.

-json prints the summary as one JSON object instead of text: the
counts of forget.SweepReport, the total counted first, took_ms, and
interrupted or error when the sweep did not finish.

Exit status: 0 when no forget failed (held customers are not failures),
1 when any failed or the sweep was interrupted, 2 on bad usage.

Examples:
  forget sweep -db app.db -activity last_login -inactive 3y -dry-run
  forget sweep -dsn postgres://app@db/app -schema mapping.json -inactive 400d -report sweep.jsonl
`

// maxSweepFailures bounds the failed forgets a sweep describes on stderr.
const maxSweepFailures = 5

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

func (c *cli) sweep(args []string) error {
	fs := c.command("sweep", sweepUsage)
	dbf := fs.database(true)
	fs.signing()
	var (
		inactive  = fs.String("inactive", "", "forget customers inactive for this `AGE`: 3y, 18mo, 400d, 6w, 36h (e.g. -inactive 3y)")
		activity  = fs.String("activity", "", "comma-separated activity `COLUMNS` of the customers table, the latest counting\n(e.g. -activity last_login,last_order_at); default: the mapping's \"activity\"")
		dryRun    = fs.Bool("dry-run", false, "report what would be forgotten, change nothing")
		limit     = fs.Int("limit", 0, "forget at most `N` customers in this run (0: all)")
		chunk     = fs.Int("chunk", 0, "customers per transaction (default 5000 on SQLite, 100 elsewhere)")
		report    = fs.String("report", "", "write one JSON line per customer tried, its outcome, to `FILE`")
		progress  = fs.progress()
		principal = fs.String("principal", "sweep", "who asks, recorded in receipts")
		asJSON    = fs.jsonSummary()
	)
	if err := fs.parse(args); err != nil {
		return err
	}
	if !flagGiven(fs.FlagSet, "sqlite-cache") {
		// A sweep writes thousands of customers a transaction: a larger
		// cache halved a million-customer sweep (165 s with 2 MiB, 113 s
		// with 64 MiB), where single forgets gained nothing from one.
		dbf.sqliteCache = sweepSQLiteCache
	}
	age, err := parseAge(*inactive)
	switch {
	case *inactive == "":
		return usagef("sweep needs -inactive AGE (e.g. -inactive 3y)")
	case err != nil:
		return usagef("-inactive: %v", err)
	case *limit < 0:
		return usagef("-limit must not be negative")
	case *chunk < 0 || *chunk > maxBatchSize:
		return usagef("-chunk must be between 1 and %d", maxBatchSize)
	case dbf.auditTable == "":
		return usagef("a sweep needs the audit table, which tells it whom it has already forgotten; drop -audit-table ''")
	}
	if *activity != "" {
		m := dbf.thePreset().schema()
		if dbf.mapping != nil {
			m = *dbf.mapping
		}
		m.Activity = nil
		for _, col := range strings.Split(*activity, ",") {
			m.Activity = append(m.Activity, sqlstore.Column{Column: strings.TrimSpace(col)})
		}
		if err := m.Validate(); err != nil {
			return usagef("-activity: %v", err)
		}
		dbf.mapping = &m
	}
	if dbf.mapping == nil || len(dbf.mapping.Activity) == 0 {
		return usagef("name the activity columns: -activity COLUMNS, or \"activity\" in the -schema mapping")
	}
	if *report != "" && (*report == dbf.db || sameFile(*report, dbf.db)) {
		return usagef("-report names the database itself")
	}
	dbf.batchSize = *chunk
	if dbf.batchSize == 0 {
		dbf.batchSize = 100
		if dbf.dialect().SingleWriter() {
			// One writer at a time anyway: larger transactions write each
			// page once for more customers (a chunk holds the write lock
			// for about half a second).
			dbf.batchSize = 5000
		}
	}
	ctx, o, done, err := c.openSession(dbf, c.warnLogger())
	if err != nil {
		return err
	}
	defer done()

	var rw *bufio.Writer
	if *report != "" {
		file, err := os.Create(*report)
		if err != nil {
			return fmt.Errorf("-report: %w", err)
		}
		defer file.Close()
		rw = bufio.NewWriter(file)
		defer rw.Flush()
	}
	cutoff := age.Before(time.Now())
	// One COUNT by the sweep's own predicate, so that the progress shows
	// a total and the time left; an upper bound (held customers, and
	// any another sweep forgets meanwhile, are not forgotten by this one).
	total, err := o.store.CountInactive(ctx, cutoff)
	if err != nil {
		if ctx.Err() != nil {
			return errors.New("interrupted; nothing was changed")
		}
		// Only the progress needs it: the sweep goes on without a total,
		// and its own statements say what fails, if anything does.
		c.say("no total for the progress: %s", clip(describe(err), maxRowMessage))
		total = -1
	}
	if *limit > 0 && total >= 0 {
		total = min(total, *limit)
	} else if *limit > 0 {
		total = *limit // the most there is to do
	}
	prog := c.newProgress(*progress, total)
	var reportErr error
	failures := 0
	start := time.Now()
	rep, err := o.f.Sweep(ctx, forget.SweepOptions{
		InactiveSince: cutoff, Limit: *limit, DryRun: *dryRun, Principal: *principal, Chunk: dbf.batchSize,
		OnOutcome: func(id string, out forget.Outcome) {
			if outcomeOf(out.Err) == outFailed && failures < maxSweepFailures {
				// Why, for the first few: the counts alone do not say.
				// Not the customer's id, which the database gave.
				failures++
				prog.clear()
				c.say("a customer's forget failed: %s", clip(out.Err.Error(), maxRowMessage))
				if failures == maxSweepFailures {
					c.say("further failures are not shown here (-report lists every customer's outcome)")
				}
			}
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
	if *asJSON {
		sum := sweepSummary{SweepReport: rep, Total: total, TookMS: millis(time.Since(start)), Interrupted: err != nil && ctx.Err() != nil}
		if err != nil && !sum.Interrupted {
			sum.Error = describe(err)
		}
		if perr := c.printJSON(sum); perr != nil {
			return perr
		}
		switch {
		case sum.Interrupted:
			return exitError(exitFailed)
		case err != nil:
			return fmt.Errorf("sweep failed (re-running it is safe): %s", describe(err))
		case reportErr != nil:
			return fmt.Errorf("-report: %w; the counts are complete, the report is not", reportErr)
		case rep.Failed > 0:
			return exitError(exitFailed)
		}
		return nil
	}
	switch {
	case err != nil && ctx.Err() != nil:
		c.sweepSummary(rep, time.Since(start))
		fmt.Fprintln(c.stdout, "interrupted: re-running the sweep is safe; it goes on where this one stopped")
		return exitError(exitFailed)
	case err != nil:
		// No summary that reads like a finished sweep: what was done
		// before the error, then the error, which says what failed.
		if rep.Tried > 0 {
			fmt.Fprintf(c.stdout, "sweep failed after trying %d customers inactive since %s: %d %s, %d held, %d not found, %d failed\n",
				rep.Tried, rep.Cutoff.Format(time.RFC3339), rep.Forgotten, sweepVerb(rep), rep.Held, rep.NotFound, rep.Failed)
			return fmt.Errorf("sweep failed (re-running it is safe): %s", describe(err))
		}
		return fmt.Errorf("sweep failed before forgetting anybody: %s", describe(err))
	}
	c.sweepSummary(rep, time.Since(start))
	if reportErr != nil {
		return fmt.Errorf("-report: %w; the counts above are complete, the report is not", reportErr)
	}
	if rep.Failed > 0 {
		return exitError(exitFailed)
	}
	return nil
}

func sweepVerb(rep forget.SweepReport) string {
	if rep.DryRun {
		return "would be forgotten (dry run)"
	}
	return "forgotten"
}

// sweepSummary prints the counts of a sweep: one line, and the holds.
func (c *cli) sweepSummary(rep forget.SweepReport, took time.Duration) {
	already := ""
	if rep.AlreadyForgotten > 0 { // only then, so that the usual line stays as scripts parse it
		already = fmt.Sprintf(", %d already forgotten by another sweep", rep.AlreadyForgotten)
	}
	fmt.Fprintf(c.stdout, "%d customers inactive since %s in %s: %d %s, %d held, %d not found%s, %d failed\n",
		rep.Tried, rep.Cutoff.Format(time.RFC3339), took.Round(time.Millisecond), rep.Forgotten, sweepVerb(rep), rep.Held, rep.NotFound, already, rep.Failed)
	holds := make([]string, 0, len(rep.HeldBy))
	for h := range rep.HeldBy {
		holds = append(holds, h)
	}
	sort.Strings(holds)
	for _, h := range holds {
		fmt.Fprintf(c.stdout, "  held by %s: %d\n", h, rep.HeldBy[h])
	}
}

// parseAge reads 36h, 90d, 6w, 18mo or 3y (calendar months and years),
// or a Go duration such as 2160h.
func parseAge(s string) (ago.Span, error) {
	sp, err := ago.Parse(s)
	switch {
	case errors.Is(err, ago.ErrSyntax):
		return ago.Span{}, fmt.Errorf("%s is not an age such as 3y, 18mo, 400d, 6w or 36h", quoteClipped(s))
	case err != nil:
		return ago.Span{}, fmt.Errorf("the age must be positive and at most %d years (a sweep of everyone inactive since now would forget everybody): %w", ago.MaxYears, err)
	}
	return sp, nil
}
