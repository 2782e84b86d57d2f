package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"unicode"

	"github.com/forgetkit/forget"
)

// maxBatchLine is the longest line a batch file may have: the body limit
// of the HTTP API, whose requests batch rows are.
const maxBatchLine = forget.MaxBodyBytes

// batchItem is one request of a batch file, or the reason it is not one.
type batchItem struct {
	line int
	size int // the line's length, which the request holds parts of
	req  forget.Request
	err  error // a row that could not be read: reported as invalid
}

// lineReader reads physical lines with bounded memory: a line longer than
// max is skipped to its newline and reported as too long.
type lineReader struct {
	r    *bufio.Reader
	max  int
	n    int // the number of the line last returned
	buf  []byte
	done bool
}

func newLineReader(r io.Reader, max int) *lineReader {
	return &lineReader{r: bufio.NewReaderSize(r, 64<<10), max: max}
}

// next returns the next line without its "\n" or "\r\n". tooLong is set,
// and line is nil, when the line was longer than max. At the end it
// returns io.EOF; any other error is a read error.
func (lr *lineReader) next() (line []byte, tooLong bool, err error) {
	if lr.done {
		return nil, false, io.EOF
	}
	lr.buf = lr.buf[:0]
	read := false
	for {
		chunk, err := lr.r.ReadSlice('\n')
		read = read || len(chunk) > 0
		if !tooLong {
			if len(lr.buf)+len(chunk) > lr.max+2 { // +2: the line ending
				tooLong, lr.buf = true, lr.buf[:0]
			} else {
				lr.buf = append(lr.buf, chunk...)
			}
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err == io.EOF {
			lr.done = true
			if !read {
				return nil, false, io.EOF
			}
		} else if err != nil {
			return nil, false, err
		}
		break
	}
	lr.n++
	if tooLong {
		return nil, true, nil
	}
	line = bytes.TrimSuffix(lr.buf, []byte("\n"))
	line = bytes.TrimSuffix(line, []byte("\r"))
	if lr.n == 1 {
		line = bytes.TrimPrefix(line, []byte("\ufeff")) // Excel's "CSV UTF-8" starts with a byte-order mark
	}
	if len(line) > lr.max {
		return nil, true, nil
	}
	return line, false, nil
}

// batchReader streams the requests of a CSV or JSON-lines batch file, one
// per physical line: batch values never hold a newline.
type batchReader struct {
	lr      *lineReader
	jsonl   bool
	header  []string
	pending *batchItem // the first JSON line, read to tell the format
}

// newBatchReader reads up to the first request: the CSV header, or the
// first JSON line. Only a file that cannot be a batch (unreadable, or a
// CSV header that is malformed or names an unknown column) is an error; a
// bad row later is an item carrying its error.
func newBatchReader(r io.Reader, path string) (*batchReader, error) {
	br := &batchReader{lr: newLineReader(r, maxBatchLine)}
	var first []byte
	for {
		line, tooLong, err := br.lr.next()
		if err == io.EOF {
			return br, nil // an empty batch
		}
		if err != nil {
			return nil, err
		}
		if tooLong {
			return nil, fmt.Errorf("line %d is longer than %d bytes", br.lr.n, maxBatchLine)
		}
		if len(bytes.TrimSpace(line)) > 0 {
			first = line
			break
		}
	}
	switch strings.ToLower(filepath.Ext(path)) {
	case ".jsonl", ".ndjson", ".json":
		br.jsonl = true
	case ".csv":
	default:
		br.jsonl = bytes.HasPrefix(bytes.TrimSpace(first), []byte("{"))
	}
	if br.jsonl {
		it := br.jsonItem(first)
		br.pending = &it
		return br, nil
	}
	header, err := parseCSVLine(string(first))
	if err != nil {
		return nil, fmt.Errorf("line %d, the CSV header: %v", br.lr.n, err)
	}
	seen := map[string]bool{}
	for i, h := range header {
		header[i] = strings.ToLower(strings.TrimSpace(h))
		if !batchColumns[header[i]] {
			return nil, fmt.Errorf("unknown column %s in the header; want any of customer_id, subscription_id, orderid, keep", quoteClipped(h))
		}
		if seen[header[i]] {
			return nil, fmt.Errorf("column %s appears twice in the header", header[i])
		}
		seen[header[i]] = true
	}
	br.header = header
	return br, nil
}

var batchColumns = map[string]bool{
	forget.KeyCustomerID: true, forget.KeySubscriptionID: true, forget.KeyOrderID: true, "keep": true,
}

// next returns the next request, or io.EOF at the end of the file. Any
// other error means the file could not be read further.
func (br *batchReader) next() (batchItem, error) {
	if br.pending != nil {
		it := *br.pending
		br.pending = nil
		return it, nil
	}
	for {
		line, tooLong, err := br.lr.next()
		if err != nil {
			return batchItem{}, err
		}
		n := br.lr.n
		if tooLong {
			return batchItem{line: n, err: rowError(fmt.Sprintf("the line is longer than %d bytes; skipped", maxBatchLine))}, nil
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		if br.jsonl {
			return br.jsonItem(line), nil
		}
		return br.csvItem(n, string(line)), nil
	}
}

func (br *batchReader) jsonItem(line []byte) batchItem {
	req, err := forget.DecodeBody("application/json", line)
	return batchItem{line: br.lr.n, size: len(line), req: req, err: err}
}

func (br *batchReader) csvItem(n int, line string) batchItem {
	rec, err := parseCSVLine(line)
	if err != nil {
		return batchItem{line: n, err: rowError("malformed CSV: " + err.Error())}
	}
	if len(rec) != len(br.header) {
		return batchItem{line: n, err: rowError(fmt.Sprintf("the row has %d fields, the header %d", len(rec), len(br.header)))}
	}
	vals := url.Values{}
	for i, v := range rec {
		if v != "" {
			vals.Add(br.header[i], v)
		}
	}
	req, err := forget.DecodeBody("application/x-www-form-urlencoded", []byte(vals.Encode()))
	return batchItem{line: n, size: len(line), req: req, err: err}
}

// parseCSVLine splits one CSV record that holds no line break, as
// encoding/csv does with TrimLeadingSpace: fields separated by commas,
// leading spaces dropped, a field in double quotes may hold commas and
// doubled quotes. Parsing line by line keeps one bad quote from
// swallowing the rest of the file.
func parseCSVLine(line string) ([]string, error) {
	var fields []string
	var b strings.Builder
	for {
		line = strings.TrimLeftFunc(line, unicode.IsSpace)
		if !strings.HasPrefix(line, `"`) {
			i := strings.IndexByte(line, ',')
			field := line
			if i >= 0 {
				field = line[:i]
			}
			if strings.Contains(field, `"`) {
				return nil, errors.New(`a quote inside an unquoted field`)
			}
			fields = append(fields, field)
			if i < 0 {
				return fields, nil
			}
			line = line[i+1:]
			continue
		}
		// A quoted field: up to the quote not followed by another.
		b.Reset()
		line = line[1:]
		for {
			i := strings.IndexByte(line, '"')
			if i < 0 {
				return nil, errors.New("a quote is not closed on its line (batch values never span lines)")
			}
			b.WriteString(line[:i])
			line = line[i+1:]
			if strings.HasPrefix(line, `"`) {
				b.WriteByte('"')
				line = line[1:]
				continue
			}
			break
		}
		fields = append(fields, b.String())
		switch {
		case line == "":
			return fields, nil
		case line[0] == ',':
			line = line[1:]
		default:
			return nil, errors.New("text after a closing quote")
		}
	}
}

// countBatch counts the requests of a batch file (its non-blank lines, but
// for a CSV header) for the progress display, when path is a regular
// file; -1 when it is not (a pipe cannot be read twice).
func countBatch(path string, csv bool) int {
	st, err := os.Stat(path)
	if err != nil || !st.Mode().IsRegular() {
		return -1
	}
	f, err := os.Open(path)
	if err != nil {
		return -1
	}
	defer f.Close()
	lr := newLineReader(f, maxBatchLine)
	n := 0
	for {
		line, tooLong, err := lr.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return -1
		}
		if tooLong || len(bytes.TrimSpace(line)) > 0 {
			n++
		}
	}
	if csv && n > 0 {
		n-- // the header
	}
	return n
}
