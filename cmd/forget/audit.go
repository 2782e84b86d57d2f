package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/forgetkit/forget"
)

const auditUsage = `
Usage: forget audit (-db FILE | -dsn URL) [-since TIME] [-audit-table TABLE]

Prints the audit trail, one receipt per line as JSON: who forgot which
customer when, what was erased and kept, how many rows went. Never a
field's value. An erasure committed with a signing key holds its signed
certificate ('forget certificate verify' checks the whole export). Export it regularly to somewhere your database backups are
not: after a restore, 'forget replay' re-applies it.

Examples:
  forget audit -db app.db > audit.jsonl
  forget audit -dsn postgres://app@db/app -since 2026-11-01T00:00:00Z
`

func (c *cli) audit(args []string) error {
	fs := c.command("audit", auditUsage)
	dbf := fs.database(true)
	since := fs.String("since", "", "only records at or after `TIME`, RFC 3339 (e.g. -since 2026-11-01T00:00:00Z)")
	if err := fs.parse(args); err != nil {
		return err
	}
	if dbf.auditTable == "" {
		return usagef("-audit-table must name the audit table")
	}
	var from time.Time
	if *since != "" {
		t, err := time.Parse(time.RFC3339, *since)
		if err != nil {
			return usagef("-since: want RFC 3339, such as 2026-11-01T00:00:00Z")
		}
		from = t
	}
	ctx, o, done, err := c.openSession(dbf, c.warnLogger())
	if err != nil {
		return err
	}
	defer done()
	trail, err := o.store.AuditTrail(ctx, from)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(c.stdout)
	enc := json.NewEncoder(w)
	for _, rc := range trail {
		if err := enc.Encode(rc); err != nil {
			return err
		}
	}
	return w.Flush()
}

const replayUsage = `
Usage: forget replay (-db FILE | -dsn URL) -from FILE [-batch-size N] [-progress MODE] [-json]

Forgets again every customer of an exported audit trail, keeping what each
forget kept and ignoring the holds each ignored (-ignore-hold): the summary
counts them. Run it after restoring a backup, with the trail exported
before the restore (or since the backup was taken): the restore brought the
forgotten customers back. Customers the backup does not hold are reported
as not found and need nothing. Re-running it is safe. Every replayed
forget sends its erasure event again, a repeat too (systems downstream may
have been restored as well). -json prints the summary as one JSON object.

Examples:
  forget audit -db app.db > audit.jsonl      # regularly, off the database
  forget replay -db restored.db -from audit.jsonl
`

func (c *cli) replay(args []string) error {
	fs := c.command("replay", replayUsage)
	dbf := fs.database(true)
	fs.signing()
	from := fs.String("from", "", "the exported audit trail `FILE`, JSON lines from 'forget audit' (e.g. -from audit.jsonl)")
	batchSize := fs.batchSize(dbf)
	progress := fs.progress()
	asJSON := fs.jsonSummary()
	if err := fs.parse(args); err != nil {
		return err
	}
	if *from == "" {
		return usagef("replay needs -from FILE")
	}
	// Read the whole trail once before forgetting anything: a bad record
	// is bad usage, found before the first forget.
	total, err := forEachReceipt(*from, nil)
	if err != nil {
		return usageError{err}
	}
	ctx, o, done, err := c.openSession(dbf, c.warnLogger())
	if err != nil {
		return err
	}
	defer done()
	ctx = forget.WithPrincipal(ctx, "cli")
	return c.runReplay(ctx, o.f, *from, total, *batchSize, c.newProgress(*progress, total), *asJSON)
}

// runReplay replays the trail at path, total records, chunk records at a
// time, so that an interruption stops after the chunk in progress.
func (c *cli) runReplay(ctx context.Context, f *forget.Forgetter, path string, total, size int, prog *progress, asJSON bool) error {
	counts := map[string]int{}
	done, ignoring := 0, 0 // ignoring: forgotten again with the holds their erasure ignored
	chunk := make([]forget.Receipt, 0, size)
	at := make([]int, 0, size)
	replay := func() {
		if len(chunk) == 0 {
			return
		}
		outcomes := f.Replay(ctx, chunk)
		interrupted := ctx.Err() != nil
		for i, oc := range outcomes {
			if chunk[i].DryRun {
				done++
				continue
			}
			out := outcomeOf(oc.Err)
			if out == outFailed && interrupted {
				continue // rolled back by the interruption: not run
			}
			done++
			counts[out]++
			if out == outForgotten && len(chunk[i].HoldsIgnored) > 0 {
				ignoring++
			}
			if out != outForgotten && out != outNotFound {
				prog.clear()
				fmt.Fprintf(c.stderr, "forget: record %d (customer %s): %s\n", at[i], quoteClipped(chunk[i].CustomerID), clip(describe(oc.Err), maxRowMessage))
			}
		}
		prog.update(done)
		chunk, at = chunk[:0], at[:0]
	}
	_, err := forEachReceipt(path, func(n int, rc forget.Receipt) bool {
		if ctx.Err() != nil {
			return false
		}
		chunk = append(chunk, rc)
		at = append(at, n)
		if len(chunk) == size {
			replay()
		}
		return true
	})
	if err == nil && ctx.Err() == nil {
		replay()
	}
	prog.finish(done)
	interrupted := err == nil && ctx.Err() != nil && done < total
	if asJSON {
		sum := replaySummary{Records: done, Forgotten: counts[outForgotten], IgnoringHolds: ignoring, NotFound: counts[outNotFound],
			Invalid: counts[outInvalid] + counts[outConflict], Held: counts[outHeld], Failed: counts[outFailed], Interrupted: interrupted}
		if interrupted {
			sum.NotReplayed = total - done
		}
		if perr := c.printJSON(sum); perr != nil {
			return perr
		}
	}
	held := ""
	if counts[outHeld] > 0 {
		held = fmt.Sprintf(", %d held", counts[outHeld])
	}
	ignored := ""
	if ignoring > 0 { // only then, so that the usual line stays as scripts parse it
		ignored = fmt.Sprintf(" (%d with the holds their erasure ignored)", ignoring)
	}
	if !asJSON {
		fmt.Fprintf(c.stdout, "replayed %d records: %d forgotten again%s, %d not in this database, %d invalid%s, %d failed\n",
			done, counts[outForgotten], ignored, counts[outNotFound], counts[outInvalid]+counts[outConflict], held, counts[outFailed])
	}
	switch {
	case err != nil:
		return err
	case interrupted:
		if !asJSON {
			fmt.Fprintf(c.stdout, "interrupted: %d records not replayed; re-running the replay is safe\n", total-done)
		}
		return exitError(exitFailed)
	case counts[outInvalid]+counts[outConflict]+counts[outHeld]+counts[outFailed] > 0:
		return exitError(exitFailed)
	}
	return nil
}

// maxReceiptLine bounds one record of an exported audit trail: receipts
// are small, and a huge line is not one.
const maxReceiptLine = 1 << 20

// forEachReceipt reads the JSON-lines audit trail at path, calling fn (when
// not nil) with each record and its number until fn returns false. It
// returns the number of records; a record that is not a receipt is an
// error naming its number.
func forEachReceipt(path string, fn func(n int, rc forget.Receipt) bool) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, fmt.Errorf("-from: %w", err)
	}
	defer f.Close()
	lr := newLineReader(f, maxReceiptLine)
	n := 0
	for {
		line, tooLong, err := lr.next()
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, fmt.Errorf("-from %s: %w", path, err)
		}
		if !tooLong && len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		n++
		if tooLong {
			return n, fmt.Errorf("-from %s: record %d (line %d) is longer than %d bytes", path, n, lr.n, maxReceiptLine)
		}
		var rc forget.Receipt
		if err := json.Unmarshal(line, &rc); err != nil {
			return n, fmt.Errorf("-from %s: record %d (line %d) is not a receipt as 'forget audit' writes: %s", path, n, lr.n, clip(err.Error(), maxRowMessage))
		}
		if rc.CustomerID == "" {
			return n, fmt.Errorf("-from %s: record %d has no customer_id", path, n)
		}
		if fn != nil && !fn(n, rc) {
			return n, nil
		}
	}
}
