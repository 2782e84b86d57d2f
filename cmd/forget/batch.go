package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
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
	progress    string   // auto, bar, lines, none
	ignoreHolds []string // holds an operator has cleared, for every request
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
	RowsDeleted map[forget.Table]int64 `json:"rows_deleted,omitempty"`
	Error       string                 `json:"error,omitempty"`
}

// batchChunk is how many requests go to the store at once, which the SQL
// store forgets in one transaction with a savepoint each. The report is
// written, and flushed, once a chunk's outcomes are final. A chunk also
// ends once its lines add up to batchChunkBytes, so that a file of long
// lines does not hold a hundred of them in memory.
const (
	batchChunk      = 100
	batchChunkBytes = 4 << 20
)

func (c *cli) runBatch(ctx context.Context, f *forget.Forgetter, br *batchReader, total int, opt batchOptions) int {
	var report *bufio.Writer
	if opt.report != "" {
		file, err := os.Create(opt.report)
		if err != nil {
			return c.failure("-report: %v", err)
		}
		defer file.Close()
		report = bufio.NewWriter(file)
		defer report.Flush()
	}
	prog := newProgress(c.stderr, opt.progress, total, c.tty)
	counts := map[string]int{}
	start := time.Now()
	done := 0
	items := make([]batchItem, 0, batchChunk)
	outcomes := make([]forget.Outcome, batchChunk)
	reqs := make([]forget.Request, 0, batchChunk)
	at := make([]int, 0, batchChunk)
	var (
		stopped  string // why the batch stopped early, if it did
		firstOut int    // the first line not run, when interrupted
		notRun   int    // requests read but not run
		eof      bool
	)
	for !eof && stopped == "" {
		if ctx.Err() != nil {
			stopped = "interrupted"
			break
		}
		items, reqs, at = items[:0], reqs[:0], at[:0]
		clear(outcomes)
		for size := 0; len(items) < batchChunk && size < batchChunkBytes; {
			it, err := br.next()
			if err == io.EOF {
				eof = true
				break
			}
			if err != nil {
				stopped = "the batch file could not be read further: " + clip(err.Error(), maxRowMessage)
				break
			}
			if it.err == nil {
				it.req.DryRun = opt.dryRun
				it.req.IgnoreHolds = opt.ignoreHolds
				reqs = append(reqs, it.req)
				at = append(at, len(items))
			}
			items = append(items, it)
			size += it.size
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
				line.CustomerID, line.DryRun, line.RowsDeleted = rc.CustomerID, rc.DryRun, rc.RowsDeleted
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
		if interrupted && (notRun > 0 || !eof) {
			stopped = "interrupted"
		}
	}
	prog.finish(done)
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
		return exitFailed
	}
	if counts[outForgotten] != done {
		return exitFailed
	}
	return exitOK
}

// progress shows how far a batch is: a redrawn bar on a terminal, a plain
// line every tenth otherwise.
type progress struct {
	w     io.Writer
	mode  string
	total int
	last  time.Time
	step  int // lines mode: the last tenth printed
	start time.Time
}

func newProgress(w io.Writer, mode string, total int, tty bool) *progress {
	if mode == "auto" {
		mode = "lines"
		if tty {
			mode = "bar"
		}
	}
	return &progress{w: w, mode: mode, total: total, start: time.Now()}
}

func (p *progress) update(done int) {
	switch p.mode {
	case "bar":
		if time.Since(p.last) < 100*time.Millisecond && done < p.total {
			return
		}
		p.last = time.Now()
		rate := float64(done) / max(time.Since(p.start).Seconds(), 1e-3)
		if p.total < 0 { // a pipe: no total
			fmt.Fprintf(p.w, "\r%d  %.0f/s ", done, rate)
			return
		}
		const width = 30
		filled := 0
		if p.total > 0 {
			filled = min(done*width/p.total, width)
		}
		fmt.Fprintf(p.w, "\r[%s%s] %d/%d  %.0f/s ", strings.Repeat("#", filled), strings.Repeat(".", width-filled), done, p.total, rate)
	case "lines":
		if p.total < 0 {
			if done%10000 == 0 {
				fmt.Fprintf(p.w, "progress: %d\n", done)
			}
			return
		}
		if p.total == 0 {
			return
		}
		if tenth := min(done*10/p.total, 10); tenth > p.step {
			p.step = tenth
			fmt.Fprintf(p.w, "progress: %d/%d (%d%%)\n", done, p.total, tenth*10)
		}
	}
}

func (p *progress) clear() {
	if p.mode == "bar" {
		fmt.Fprint(p.w, "\r\033[K")
	}
}

func (p *progress) finish(done int) {
	if p.mode == "bar" {
		p.last = time.Time{}
		p.update(done)
		fmt.Fprintln(p.w)
	}
}
