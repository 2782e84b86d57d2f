package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/forgetkit/forget"
)

// batchItem is one request of a batch file, or the reason it is not one.
type batchItem struct {
	line int
	req  forget.Request
	err  error // a row that could not be read: reported as invalid
}

// readBatchFile reads a CSV or JSON-lines batch. Only a file that cannot
// be read at all (missing, or a CSV header naming an unknown column) is an
// error; a bad row becomes an item carrying its error.
func readBatchFile(path string) ([]batchItem, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("-batch: %w", err)
	}
	if isJSONLines(path, data) {
		return readJSONLines(data), nil
	}
	items, err := readCSV(data)
	if err != nil {
		return nil, fmt.Errorf("-batch %s: %w", path, err)
	}
	return items, nil
}

func isJSONLines(path string, data []byte) bool {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".jsonl", ".ndjson", ".json":
		return true
	case ".csv":
		return false
	}
	return bytes.HasPrefix(bytes.TrimSpace(data), []byte("{"))
}

var batchColumns = map[string]bool{
	forget.KeyCustomerID: true, forget.KeySubscriptionID: true, forget.KeyOrderID: true, forget.ParamKeep: true,
}

func readCSV(data []byte) ([]batchItem, error) {
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1 // rows with the wrong width are reported, not fatal
	r.TrimLeadingSpace = true
	header, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("no CSV header: %w", err)
	}
	for i, h := range header {
		header[i] = strings.ToLower(strings.TrimSpace(h))
		if !batchColumns[header[i]] {
			return nil, fmt.Errorf("unknown column %q in the header; want any of customer_id, subscription_id, orderid, keep", h)
		}
	}
	var items []batchItem
	for {
		rec, err := r.Read()
		if err == io.EOF {
			return items, nil
		}
		line, _ := r.FieldPos(0)
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			items = append(items, batchItem{line: pe.StartLine, err: rowError("malformed CSV")})
			continue
		}
		if err != nil {
			return nil, err
		}
		if len(rec) != len(header) {
			items = append(items, batchItem{line: line, err: rowError(fmt.Sprintf("the row has %d fields, the header %d", len(rec), len(header)))})
			continue
		}
		vals := url.Values{}
		for i, v := range rec {
			if v != "" {
				vals.Add(header[i], v)
			}
		}
		req, err := forget.RequestFromValues(vals)
		items = append(items, batchItem{line: line, req: req, err: err})
	}
}

func readJSONLines(data []byte) []batchItem {
	var items []batchItem
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64<<10), forget.MaxBodyBytes)
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		req, err := forget.RequestFromJSON(line)
		items = append(items, batchItem{line: n, req: req, err: err})
	}
	if err := sc.Err(); err != nil {
		items = append(items, batchItem{line: len(items) + 1, err: rowError(err.Error())})
	}
	return items
}

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
	return forget.PublicMessage(err)
}

type batchOptions struct {
	dryRun   bool
	report   string
	progress string // auto, bar, lines, none
}

// outcome names, as the summary and the report spell them.
const (
	outForgotten = "forgotten"
	outNotFound  = "not_found"
	outInvalid   = "invalid"
	outConflict  = "conflict"
	outFailed    = "failed"
)

func outcomeOf(err error) string {
	switch {
	case err == nil:
		return outForgotten
	case errors.Is(err, forget.ErrNotFound):
		return outNotFound
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

func (c *cli) runBatch(ctx context.Context, f *forget.Forgetter, items []batchItem, opt batchOptions) int {
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
	prog := newProgress(c.stderr, opt.progress, len(items))
	counts := map[string]int{}
	start := time.Now()
	done := 0
	// Requests go to the store a chunk at a time, which the SQL store
	// forgets in one transaction with a savepoint each; the report is
	// written only once a chunk's outcomes are final.
	const chunk = 100
	outcomes := make([]forget.Outcome, chunk)
	reqs := make([]forget.Request, 0, chunk)
	at := make([]int, 0, chunk)
chunks:
	for first := 0; first < len(items) && ctx.Err() == nil; first += chunk {
		last := min(first+chunk, len(items))
		reqs, at = reqs[:0], at[:0]
		clear(outcomes)
		for i := first; i < last; i++ {
			if items[i].err == nil {
				req := items[i].req
				req.DryRun = opt.dryRun
				reqs = append(reqs, req)
				at = append(at, i-first)
			}
		}
		for k, o := range f.ForgetBatch(ctx, reqs) {
			outcomes[at[k]] = o
		}
		for i := first; i < last; i++ {
			it, o := items[i], outcomes[i-first]
			err := it.err
			if err == nil {
				err = o.Err
			}
			out := outcomeOf(err)
			if out == outFailed && ctx.Err() != nil {
				break chunks // interrupted: rolled back, not failed
			}
			counts[out]++
			done++
			line := reportLine{Line: it.line, Outcome: out}
			if rc := o.Receipt; rc != nil && err == nil {
				line.CustomerID, line.DryRun, line.RowsDeleted = rc.CustomerID, rc.DryRun, rc.RowsDeleted
			}
			if err != nil {
				line.Error = publicMessage(err)
				if out == outFailed {
					prog.clear()
					fmt.Fprintf(c.stderr, "forget: line %d: %v\n", it.line, err)
				}
			}
			if report != nil {
				b, _ := json.Marshal(line)
				report.Write(append(b, '\n'))
			}
			prog.update(done)
		}
	}
	prog.finish(done)
	verb := "forgotten"
	if opt.dryRun {
		verb = "would be forgotten (dry run)"
	}
	fmt.Fprintf(c.stdout, "%d requests in %s: %d %s, %d not found, %d invalid, %d conflict, %d failed\n",
		len(items), time.Since(start).Round(time.Millisecond), counts[outForgotten], verb,
		counts[outNotFound], counts[outInvalid], counts[outConflict], counts[outFailed])
	if done < len(items) {
		fmt.Fprintf(c.stdout, "interrupted: %d requests not run; re-running the batch is safe\n", len(items)-done)
		return exitFailed
	}
	if counts[outForgotten] != len(items) {
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

func newProgress(w io.Writer, mode string, total int) *progress {
	if mode == "auto" {
		mode = "lines"
		if f, ok := w.(*os.File); ok {
			if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
				mode = "bar"
			}
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
		const width = 30
		filled := 0
		if p.total > 0 {
			filled = done * width / p.total
		}
		rate := float64(done) / max(time.Since(p.start).Seconds(), 1e-3)
		fmt.Fprintf(p.w, "\r[%s%s] %d/%d  %.0f/s ", strings.Repeat("#", filled), strings.Repeat(".", width-filled), done, p.total, rate)
	case "lines":
		if p.total == 0 {
			return
		}
		if tenth := done * 10 / p.total; tenth > p.step {
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
