package main

import (
	"encoding/csv"
	"errors"
	"io"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/forgetkit/forget"
)

func readAllItems(t *testing.T, r io.Reader, path string) []batchItem {
	t.Helper()
	br, err := newBatchReader(r, path)
	if err != nil {
		t.Fatalf("newBatchReader: %v", err)
	}
	var items []batchItem
	for {
		it, err := br.next()
		if err == io.EOF {
			return items
		}
		if err != nil {
			t.Fatalf("next: %v", err)
		}
		items = append(items, it)
	}
}

// TestBatchReaderBadRowsDoNotStopIt: an unterminated quote, a line over
// the limit and a row of the wrong width are each reported by their file
// line, and every row after them is read. The file starts with Excel's
// byte-order mark and has CRLF line endings.
func TestBatchReaderBadRowsDoNotStopIt(t *testing.T) {
	t.Parallel()
	huge := strings.Repeat("9", maxBatchLine+10)
	file := "\ufeffcustomer_id,keep\r\n" + // 1
		"1,\r\n" + // 2
		"2,\"firstname\r\n" + // 3: the quote is never closed
		"3,\"firstname, phone\"\r\n" + // 4
		"\r\n" + // 5: blank
		huge + ",\r\n" + // 6: too long
		"4,,extra\r\n" + // 7: a field too many
		"5,a\"b\r\n" + // 8: a quote in an unquoted field
		"6,\"x\"y\r\n" + // 9: text after a closing quote
		"  7 , \"member_note\"\r\n" + // 10
		"8," // 11: no final newline
	items := readAllItems(t, strings.NewReader(file), "requests.csv")
	type want struct {
		line int
		id   string
		err  string
	}
	wants := []want{
		{2, "1", ""},
		{3, "", "a quote is not closed on its line"},
		{4, "3", ""},
		{6, "", "longer than 1048576 bytes; skipped"},
		{7, "", "the row has 3 fields, the header 2"},
		{8, "", "a quote inside an unquoted field"},
		{9, "", "text after a closing quote"},
		{10, "7 ", ""},
		{11, "8", ""},
	}
	if len(items) != len(wants) {
		t.Fatalf("%d items, want %d: %+v", len(items), len(wants), items)
	}
	for i, w := range wants {
		it := items[i]
		if it.line != w.line {
			t.Errorf("item %d: line %d, want %d", i, it.line, w.line)
		}
		if w.err == "" {
			if it.err != nil || it.req.Lookup.CustomerID != w.id {
				t.Errorf("line %d: %v, customer %q; want customer %q", w.line, it.err, it.req.Lookup.CustomerID, w.id)
			}
			continue
		}
		if it.err == nil || !strings.Contains(it.err.Error(), w.err) || !errors.Is(it.err, forget.ErrInvalid) {
			t.Errorf("line %d: err %v, want %q", w.line, it.err, w.err)
		}
		if it.err != nil && len(it.err.Error()) > maxRowMessage {
			t.Errorf("line %d: the error is %d bytes long", w.line, len(it.err.Error()))
		}
	}
	if got := items[2].req.Keep; !reflect.DeepEqual(got, []string{"firstname, phone"}) {
		t.Errorf("line 4 keeps %q", got)
	}
}

// TestBatchReaderLongJSONLine: a JSON line over 1 MiB is one bad row, and
// the other 19 lines of the file are all read, numbered by file line.
func TestBatchReaderLongJSONLine(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	for i := 1; i <= 20; i++ {
		if i == 6 {
			b.WriteString(`{"customer_id": "1", "keep": "` + strings.Repeat("x", 2<<20) + `"}` + "\n")
			continue
		}
		b.WriteString(`{"customer_id": ` + strings.Repeat("1", i%5+1) + "}\n")
	}
	items := readAllItems(t, strings.NewReader(b.String()), "requests.jsonl")
	if len(items) != 20 {
		t.Fatalf("%d items, want 20", len(items))
	}
	for i, it := range items {
		if it.line != i+1 {
			t.Errorf("item %d has line %d", i, it.line)
		}
		if (it.err != nil) != (i == 5) {
			t.Errorf("line %d: err %v", it.line, it.err)
		}
	}
}

func TestBatchReaderHeader(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ file, want string }{
		{"customer_id,email\n1,a@example.com\n", `unknown column "email"`},
		{"customer_id,CUSTOMER_ID\n1,1\n", "column customer_id appears twice"},
		{"\"customer_id\n1\n", "line 1, the CSV header: a quote is not closed"},
		{strings.Repeat("x", maxBatchLine+1) + "\n", "line 1 is longer than"},
		{"customer_id," + strings.Repeat("y", 100000) + "\n", "unknown column \"yyyy"},
	} {
		_, err := newBatchReader(strings.NewReader(c.file), "x.csv")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("header %.30q: err %v, want %q", c.file, err, c.want)
		}
		if err != nil && len(err.Error()) > 200 {
			t.Errorf("header %.30q: the error is %d bytes long", c.file, len(err.Error()))
		}
	}
	// Blank lines before the header, no data rows: an empty batch.
	if items := readAllItems(t, strings.NewReader("\n\n customer_id \n"), "x.csv"); len(items) != 0 {
		t.Errorf("want no items, got %+v", items)
	}
	if items := readAllItems(t, strings.NewReader(""), "x"); len(items) != 0 {
		t.Errorf("want no items, got %+v", items)
	}
}

// endless is a reader of n bytes of one digit, then the tail.
type endless struct {
	n    int
	tail string
}

func (e *endless) Read(p []byte) (int, error) {
	if e.n > 0 {
		k := min(len(p), e.n)
		for i := range p[:k] {
			p[i] = '7'
		}
		e.n -= k
		return k, nil
	}
	if e.tail == "" {
		return 0, io.EOF
	}
	k := copy(p, e.tail)
	e.tail = e.tail[k:]
	return k, nil
}

// TestBatchReaderBoundedMemory: a 50 MB cell is skipped without being
// held in memory, and the row after it is read.
func TestBatchReaderBoundedMemory(t *testing.T) {
	// Not parallel: MemStats counts every test's allocations.
	r := io.MultiReader(strings.NewReader("customer_id\n1\n"), &endless{n: 50 << 20, tail: "\n2\n"})
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	items := readAllItems(t, r, "big.csv")
	runtime.ReadMemStats(&after)
	if len(items) != 3 || items[1].err == nil || items[1].line != 3 || items[2].req.Lookup.CustomerID != "2" || items[2].line != 4 {
		t.Fatalf("items: %+v", items)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 8<<20 {
		t.Errorf("reading a 50 MB line allocated %d bytes", alloc)
	}
}

// FuzzParseCSVLine: on one line, parseCSVLine reads what encoding/csv
// reads (with TrimLeadingSpace), and refuses what it refuses.
func FuzzParseCSVLine(f *testing.F) {
	for _, s := range []string{`a,b`, `"a,b",c`, ` "a""b" ,c`, `a"b`, `"a"b`, `"a`, `,,`, `"",""`, "\t\"x\"", ` a , b `, `"a""`, `é,"ü"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		if strings.ContainsAny(line, "\r\n") || strings.TrimSpace(line) == "" {
			return
		}
		r := csv.NewReader(strings.NewReader(line))
		r.FieldsPerRecord = -1
		r.TrimLeadingSpace = true
		want, werr := r.Read()
		got, gerr := parseCSVLine(line)
		if (werr != nil) != (gerr != nil) {
			t.Fatalf("%q: encoding/csv %q, %v; parseCSVLine %q, %v", line, want, werr, got, gerr)
		}
		if werr == nil && !reflect.DeepEqual(got, want) {
			t.Fatalf("%q: encoding/csv %q; parseCSVLine %q", line, want, got)
		}
	})
}
