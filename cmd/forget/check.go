package main

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/forgetkit/forget"
)

const checkUsage = `
Usage: forget check -batch FILE -column COLUMN[=IDENTITY],... [-o FILE] -tombstone-keys KEYS (-db FILE | -dsn URL) [-schema MAPPING]
       forget check -hashed FILE -identity IDENTITY -tombstone-keys KEYS (-db FILE | -dsn URL) [-schema MAPPING]

Reads an import file (CSV with a header row, or JSON lines: .jsonl,
.ndjson) and reports, by line number, every row whose named columns
match a tombstone: a person who was forgotten and whom importing the row
would bring back. It never prints a value. Each column is checked as the
identity of its own name, or as the one named after '=' (the mapping's
identities; see docs/mapping.md). With -o FILE it also writes the rows
that pass (the header too) to FILE: the import file, filtered. Exit
status: 0 when no row matches, 1 when one does (or a check fails), 2 for
bad usage.

With -hashed, the file holds SHA-256 hashes (64 hex digits a line) of
normalised identifiers, as California's Delete Act lists send them; each
is matched in one pass over the identity's column and against the
tombstones, and reported by its line: "forgotten" (a tombstone: erased
before), "found: customers 191, 204" (to be forgotten: forget run
-customer-id), "held (HOLD): customer 191" (a dry run was refused by a
hold) or "not found". No value is read into the output or written
anywhere. Exit status 0 when the list was read whole, 1 when a line was
not a hash (reported) or a check failed.

Examples:
  forget check -db app.db -schema mapping.json -tombstone-keys tomb.keys -batch import.csv -column email
  forget check -db app.db -schema mapping.json -tombstone-keys tomb.keys -batch leads.jsonl -column contact_email=email,mobile=phone
  forget check -db app.db -schema mapping.json -tombstone-keys tomb.keys -hashed drop-2026-03.txt -identity email
`

// errMatches is a check that found rows to keep out; they are printed.
var errMatches = exitError(exitFailed)

func (c *cli) check(args []string) error {
	fs := c.command("check", checkUsage)
	dbf := fs.database(true)
	batch := fs.String("batch", "", "the import `FILE` to check: CSV with a header row, or JSON lines (.jsonl, .ndjson)")
	hashed := fs.String("hashed", "", "a `FILE` of SHA-256 hashes of normalised identifiers, one a line (a Delete Act list), to report one by one")
	identity := fs.String("identity", "", "with -hashed: the `IDENTITY` the hashes are of (e.g. -identity email)")
	outFile := fs.String("o", "", "with -batch: write the rows that pass (not forgotten, readable; the header too) to `FILE`, created with mode 0600")
	columns := fs.String("column", "", "the `COLUMNS` to check, comma-separated, each COLUMN or COLUMN=IDENTITY (e.g. -column email,mobile=phone)")
	if err := fs.parse(args); err != nil {
		return err
	}
	if dbf.tombstoneKeys == "" {
		return usagef("check needs -tombstone-keys FILE (or $%s): the keys the tombstones were written under", envTombstoneKeys)
	}
	if *hashed != "" {
		if *batch != "" || *columns != "" || *identity == "" {
			return usagef("check -hashed FILE needs -identity IDENTITY, and neither -batch nor -column")
		}
		return c.checkHashed(dbf, *hashed, *identity)
	}
	if *batch == "" || *columns == "" {
		return usagef("check needs -batch FILE and -column COLUMN (or -hashed FILE -identity IDENTITY)")
	}
	cols, err := parseCheckColumns(*columns)
	if err != nil {
		return usageError{err}
	}
	f, err := os.Open(*batch)
	if err != nil {
		return usagef("-batch: %v", err)
	}
	defer f.Close()
	ctx, o, done, err := c.openSession(dbf, c.warnLogger())
	if err != nil {
		return err
	}
	defer done()
	// Every identity named must be the mapping's: a typo must not pass
	// every row as never forgotten.
	for _, col := range cols {
		if _, err := o.f.Forgotten(ctx, forget.Identity{Name: col.identity}); err != nil {
			return usagef("-column %s: %v", col.column, err)
		}
	}
	rows := csvRows
	if lower := strings.ToLower(*batch); strings.HasSuffix(lower, ".jsonl") || strings.HasSuffix(lower, ".ndjson") {
		rows = jsonRows
	}
	var kept *os.File
	if *outFile != "" {
		if kept, err = os.OpenFile(*outFile, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600); err != nil {
			return usagef("-o: %v", err)
		}
		defer kept.Close()
	}
	var keptW *bufio.Writer
	if kept != nil {
		keptW = bufio.NewWriter(kept)
	}
	var checked, matched, unreadable int
	err = rows(f, cols, keptW, func(line int, values map[string]string, rerr error) (bool, error) {
		if rerr != nil {
			unreadable++
			fmt.Fprintf(c.stdout, "line %d: cannot be read\n", line)
			return false, nil
		}
		checked++
		var hit []string
		for _, col := range cols {
			v, ok := values[col.column]
			if !ok || strings.TrimSpace(v) == "" {
				continue
			}
			yes, err := o.f.Forgotten(ctx, forget.Identity{Name: col.identity, Value: v})
			if err != nil {
				return false, fmt.Errorf("line %d: %w", line, err)
			}
			if yes {
				hit = append(hit, col.column)
			}
		}
		if len(hit) > 0 {
			matched++
			fmt.Fprintf(c.stdout, "line %d: forgotten (%s)\n", line, strings.Join(hit, ", "))
			return false, nil
		}
		return true, nil
	})
	if err == nil && keptW != nil {
		if err = keptW.Flush(); err == nil {
			err = kept.Close()
		}
	}
	if err != nil {
		if kept != nil {
			os.Remove(*outFile) // half a file must not pass for the filtered whole
		}
		if ctx.Err() != nil {
			return errInterrupted
		}
		return err
	}
	fmt.Fprintf(c.stderr, "checked %d rows of %s: %d would re-identify a forgotten person", checked, *batch, matched)
	if unreadable > 0 {
		fmt.Fprintf(c.stderr, ", %d could not be read", unreadable)
	}
	fmt.Fprintln(c.stderr)
	if matched > 0 || unreadable > 0 {
		return errMatches
	}
	return nil
}

type checkColumn struct{ column, identity string }

func parseCheckColumns(s string) ([]checkColumn, error) {
	var out []checkColumn
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		col, id, found := strings.Cut(item, "=")
		col, id = strings.TrimSpace(col), strings.TrimSpace(id)
		if !found {
			id = col
		}
		if col == "" || id == "" {
			return nil, fmt.Errorf("-column %q: want COLUMN or COLUMN=IDENTITY", item)
		}
		out = append(out, checkColumn{column: col, identity: id})
	}
	if len(out) == 0 {
		return nil, errors.New("-column names no column")
	}
	return out, nil
}

// csvRows calls fn with each data row of a CSV file with a header row,
// by the line it starts on.
func csvRows(r io.Reader, cols []checkColumn, kept *bufio.Writer, fn func(line int, values map[string]string, err error) (keep bool, ferr error)) error {
	cr := csv.NewReader(bufio.NewReaderSize(r, 64<<10))
	var cw *csv.Writer
	if kept != nil {
		cw = csv.NewWriter(kept)
	}
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err != nil {
		return usagef("-batch: the header row cannot be read: %v", err)
	}
	index := map[string]int{}
	for i, h := range header {
		index[strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))] = i
	}
	for _, col := range cols {
		if _, ok := index[col.column]; !ok {
			return usagef("-column %s: the header row has no such column", col.column)
		}
	}
	if cw != nil {
		if err := cw.Write(header); err != nil {
			return err
		}
	}
	values := map[string]string{}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			if cw != nil {
				cw.Flush()
				return cw.Error()
			}
			return nil
		}
		line, _ := cr.FieldPos(0)
		var perr *csv.ParseError
		if errors.As(err, &perr) {
			line = perr.StartLine
		}
		clear(values)
		if err == nil {
			for _, col := range cols {
				if i := index[col.column]; i < len(rec) {
					values[col.column] = rec[i]
				}
			}
		} else if perr == nil {
			return fmt.Errorf("-batch: %w", err)
		}
		keep, ferr := fn(line, values, err)
		if ferr != nil {
			return ferr
		}
		if keep && cw != nil {
			if err := cw.Write(rec); err != nil {
				return err
			}
		}
	}
}

// jsonRows calls fn with each line of a JSON lines file; a column is a
// top-level member holding a string or a number.
func jsonRows(r io.Reader, cols []checkColumn, kept *bufio.Writer, fn func(line int, values map[string]string, err error) (keep bool, ferr error)) error {
	lr := newLineReader(r, maxBatchLine)
	values := map[string]string{}
	for {
		b, tooLong, err := lr.next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("-batch: %w", err)
		}
		if !tooLong && strings.TrimSpace(string(b)) == "" {
			continue
		}
		clear(values)
		var obj map[string]json.RawMessage
		if tooLong {
			err = errors.New("too long")
		} else {
			err = json.Unmarshal(b, &obj)
		}
		for _, col := range cols {
			var v any
			if raw, ok := obj[col.column]; ok && json.Unmarshal(raw, &v) == nil {
				switch x := v.(type) {
				case string:
					values[col.column] = x
				case float64:
					values[col.column] = strings.TrimSuffix(string(raw), "\n")
				}
			}
		}
		keep, ferr := fn(lr.n, values, err)
		if ferr != nil {
			return ferr
		}
		if keep && kept != nil {
			kept.Write(b)
			kept.WriteByte('\n')
		}
	}
}
