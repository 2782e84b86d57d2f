package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"time"

	"github.com/forgetkit/forget"
)

// rowError is a batch row that is not a request. It is ErrInvalid, and
// its message is shown as it is.
type rowError string

func (e rowError) Error() string        { return string(e) }
func (e rowError) Is(target error) bool { return target == forget.ErrInvalid }

// publicMessage is what a report says of a failed request.
func publicMessage(err error) string {
	var re rowError
	if errors.As(err, &re) {
		return string(re)
	}
	return forget.ProblemOf(err).Message
}

type batchOptions struct {
	dryRun      bool
	report      string
	size        int // requests per chunk: -batch-size
	progress    *progress
	ignoreHolds []string // holds an operator has cleared, for every request
	repropagate bool     // -repropagate: a repeat's event is sent too
	json        bool     // -json: the summary as one JSON object
}

// outcome names, as the summary and the report spell them.
const (
	outForgotten = "forgotten"
	outNotFound  = "not_found"
	outInvalid   = "invalid"
	outConflict  = "conflict"
	outHeld      = "held"
	outFailed    = "failed"
)

func outcomeOf(err error) string {
	switch {
	case err == nil:
		return outForgotten
	case errors.Is(err, forget.ErrNotFound):
		return outNotFound
	case errors.Is(err, forget.ErrHeld):
		return outHeld
	case errors.Is(err, forget.ErrConflict):
		return outConflict
	case errors.Is(err, forget.ErrInvalid):
		return outInvalid
	}
	return outFailed
}

// reportLine is one line of -report: an outcome, never a field value.
type reportLine struct {
	Line        int                    `json:"line"`
	Outcome     string                 `json:"outcome"`
	CustomerID  string                 `json:"customer_id,omitempty"`
	DryRun      bool                   `json:"dry_run,omitempty"`
	Repeat      bool                   `json:"repeat,omitempty"`
	RowsDeleted map[forget.Table]int64 `json:"rows_deleted,omitempty"`
	Error       string                 `json:"error,omitempty"`
}

// defaultBatchSize is -batch-size's default: how many requests the
// command reads at once and the store forgets in one transaction, each in
// a savepoint of its own (sqlstore.WithBatchSize gets the same number, so
// that the two agree). A thousand per transaction took a 20,000-customer
// SQLite batch from 1.54x to 1.05x of the sqlite3 shell's time. The
// report is written, and flushed, once a chunk's outcomes are final. A
// chunk also ends once its lines add up to batchChunkBytes, so that a file
// of long lines does not hold a thousand of them in memory.
const (
	defaultBatchSize = 1000
	maxBatchSize     = 10000
	batchChunkBytes  = 4 << 20
)

// bulkGCPercent is the garbage collector's target while run -batch
// forgets: a chunk's requests, plans and receipts are garbage a chunk
// later, so the default 100 collected many times a chunk. 400 cut a
// 20,000-customer run -batch by a tenth, for 11 MiB more peak RSS; the
// heap still holds one chunk at most, so memory stays flat in the number
// of customers. (forget sweep keeps the default: its figures were
// measured so.)
const bulkGCPercent = 400

// bulkGC sets bulkGCPercent, unless $GOGC chose otherwise, and returns
// what restores the previous setting (Main runs in tests' processes too).
func bulkGC() (restore func()) {
	if os.Getenv("GOGC") != "" {
		return func() {}
	}
	old := debug.SetGCPercent(bulkGCPercent)
	return func() { debug.SetGCPercent(old) }
}

// batchSize registers -batch-size, which dbf passes to the store.
func (cmd *command) batchSize(dbf *dbFlags) *int {
	dbf.sized = true
	cmd.IntVar(&dbf.batchSize, "batch-size", defaultBatchSize, fmt.Sprintf("how many requests to forget in one transaction, each all or nothing on its own (`N`, 1 to %d)", maxBatchSize))
	return &dbf.batchSize
}

func (c *cli) runBatch(ctx context.Context, f *forget.Forgetter, br *batchReader, total int, opt batchOptions) error {
	defer bulkGC()()
	var report *bufio.Writer
	if opt.report != "" {
		file, err := os.Create(opt.report)
		if err != nil {
			return fmt.Errorf("-report: %w", err)
		}
		defer file.Close()
		report = bufio.NewWriter(file)
		defer report.Flush()
	}
	prog := opt.progress
	counts := map[string]int{}
	repeats := 0
	start := time.Now()
	done := 0
	items := make([]batchItem, 0, opt.size)
	outcomes := make([]forget.Outcome, opt.size)
	reqs := make([]forget.Request, 0, opt.size)
	at := make([]int, 0, opt.size)
	var (
		stopped  string // why the batch stopped early, if it did
		firstOut int    // the first line not run, when interrupted
		notRun   int    // requests read but not run
		eof      bool
	)
	for !eof && stopped == "" {
		items, reqs, at = items[:0], reqs[:0], at[:0]
		clear(outcomes)
		for size := 0; len(items) < opt.size && size < batchChunkBytes; {
			it, err := br.next()
			if err == io.EOF {
				eof = true
				break
			}
			if err != nil {
				stopped = "the batch file could not be read further: " + clip(err.Error(), maxRowMessage)
				break
			}
			if it.err == nil && it.req.DryRun && !opt.dryRun {
				// The same body over HTTP is a preview: never erase for it.
				it.err = rowError("dry_run is true on this line, but a batch is a dry run only as a whole (-dry-run); nothing was done")
			}
			if it.err == nil {
				it.req.DryRun = opt.dryRun
				it.req.IgnoreHolds = opt.ignoreHolds
				it.req.Repropagate = opt.repropagate
				reqs = append(reqs, it.req)
				at = append(at, len(items))
			}
			items = append(items, it)
			size += it.size
		}
		if ctx.Err() != nil {
			// Interrupted between chunks: the one read is not run. A
			// file whose last chunk was done is not interrupted.
			if len(items) > 0 {
				stopped = "interrupted"
				if notRun == 0 {
					firstOut = items[0].line
				}
				notRun += len(items)
			}
			break
		}
		for k, o := range f.ForgetBatch(ctx, reqs) {
			outcomes[at[k]] = o
		}
		interrupted := ctx.Err() != nil
		for i, it := range items {
			o := outcomes[i]
			err := it.err
			if err == nil {
				err = o.Err
			}
			out := outcomeOf(err)
			if out == outFailed && interrupted {
				// Rolled back by the interruption, not failed: no line,
				// and a re-run does it. Later items of the chunk may
				// have been committed before it: they get their lines.
				if notRun == 0 {
					firstOut = it.line
				}
				notRun++
				continue
			}
			counts[out]++
			done++
			line := reportLine{Line: it.line, Outcome: out}
			if rc := o.Receipt; rc != nil && err == nil {
				line.CustomerID, line.DryRun, line.Repeat, line.RowsDeleted = rc.CustomerID, rc.DryRun, rc.Repeat, rc.RowsDeleted
				if rc.Repeat {
					repeats++
				}
			}
			if err != nil {
				line.Error = clip(publicMessage(err), maxRowMessage)
				if out == outFailed {
					prog.clear()
					fmt.Fprintf(c.stderr, "forget: line %d: %s\n", it.line, clip(err.Error(), maxRowMessage))
				}
			}
			if report != nil {
				b, _ := json.Marshal(line)
				report.Write(append(b, '\n'))
			}
			prog.update(done)
		}
		if report != nil {
			if err := report.Flush(); err != nil {
				stopped = "-report: " + clip(err.Error(), maxRowMessage) + "; the batch stopped so that no forget goes unreported"
			}
		}
		if interrupted && notRun > 0 {
			stopped = "interrupted" // else the next round finds whether any is left
		}
	}
	prog.finish(done)
	if opt.json {
		sum := batchSummary{Requests: done, TookMS: millis(time.Since(start)), DryRun: opt.dryRun,
			Forgotten: counts[outForgotten], NotFound: counts[outNotFound], Invalid: counts[outInvalid],
			Conflict: counts[outConflict], Held: counts[outHeld], Failed: counts[outFailed],
			Repeats: repeats, Repropagated: opt.repropagate && repeats > 0, Stopped: stopped}
		if stopped == "interrupted" {
			sum.NotRun = notRun
			if total >= 0 {
				sum.NotRun = max(total-done, notRun)
			}
		}
		if err := c.printJSON(sum); err != nil {
			return err
		}
		if stopped != "" || counts[outForgotten] != done {
			return exitError(exitFailed)
		}
		return nil
	}
	verb := "forgotten"
	if opt.dryRun {
		verb = "would be forgotten (dry run)"
	}
	held := ""
	if counts[outHeld] > 0 { // only then, so that the usual line stays as scripts parse it
		held = fmt.Sprintf(", %d held", counts[outHeld])
	}
	fmt.Fprintf(c.stdout, "%d requests in %s: %d %s, %d not found, %d invalid, %d conflict%s, %d failed\n",
		done, time.Since(start).Round(time.Millisecond), counts[outForgotten], verb,
		counts[outNotFound], counts[outInvalid], counts[outConflict], held, counts[outFailed])
	if repeats > 0 {
		// A line of its own, so that the usual one stays as scripts parse it.
		fmt.Fprintf(c.stdout, "%d of them repeats: already forgotten, nothing left to erase, %s\n", repeats, repeatEvents(opt.repropagate))
	}
	if stopped != "" {
		switch {
		case stopped != "interrupted":
			fmt.Fprintf(c.stdout, "stopped: %s\n", stopped)
		case total >= 0:
			fmt.Fprintf(c.stdout, "interrupted: %d requests not run; re-running the batch is safe\n", max(total-done, notRun))
		case notRun > 0:
			fmt.Fprintf(c.stdout, "interrupted: the requests from line %d on were not run; re-running the batch is safe\n", firstOut)
		default:
			fmt.Fprintf(c.stdout, "interrupted: the rest of the file was not run; re-running the batch is safe\n")
		}
		return exitError(exitFailed)
	}
	if counts[outForgotten] != done {
		return exitError(exitFailed)
	}
	return nil
}

// repeatEvents says what became of the repeats' events.
func repeatEvents(repropagate bool) string {
	if repropagate {
		return "their events sent again (-repropagate)"
	}
	return "no new event sent (-repropagate sends them)"
}
