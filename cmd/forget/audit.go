package main

import (
	"bufio"
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
field's value. Export it regularly to somewhere your database backups are
not: after a restore, 'forget replay' re-applies it.

Examples:
  forget audit -db app.db > audit.jsonl
  forget audit -dsn postgres://app@db/app -since 2026-11-01T00:00:00Z
`

func (c *cli) audit(args []string) int {
	fs := c.flags("audit", auditUsage)
	var dbf dbFlags
	dbf.register(fs)
	since := fs.String("since", "", "only records at or after `TIME`, RFC 3339 (e.g. -since 2026-11-01T00:00:00Z)")
	if code, ok := c.parse(fs, args); !ok {
		return code
	}
	if err := dbf.require("audit"); err != nil {
		return c.usageError("%v", err)
	}
	if dbf.auditTable == "" {
		return c.usageError("-audit-table must name the audit table")
	}
	var from time.Time
	if *since != "" {
		t, err := time.Parse(time.RFC3339, *since)
		if err != nil {
			return c.usageError("-since: want RFC 3339, such as 2026-11-01T00:00:00Z")
		}
		from = t
	}
	ctx := context.Background()
	db, store, err := dbf.open(ctx)
	if err != nil {
		return c.failure("%v", err)
	}
	defer db.Close()
	trail, err := store.AuditTrail(ctx, from)
	if err != nil {
		return c.failure("%v", err)
	}
	w := bufio.NewWriter(c.stdout)
	enc := json.NewEncoder(w)
	for _, rc := range trail {
		if err := enc.Encode(rc); err != nil {
			return c.failure("%v", err)
		}
	}
	if err := w.Flush(); err != nil {
		return c.failure("%v", err)
	}
	return exitOK
}

const replayUsage = `
Usage: forget replay (-db FILE | -dsn URL) -from FILE

Forgets again every customer of an exported audit trail, keeping what each
forget kept. Run it after restoring a backup, with the trail exported
before the restore (or since the backup was taken): the restore brought the
forgotten customers back. Customers the backup does not hold are reported
as not found and need nothing. Re-running it is safe.

Examples:
  forget audit -db app.db > audit.jsonl      # regularly, off the database
  forget replay -db restored.db -from audit.jsonl
`

func (c *cli) replay(args []string) int {
	fs := c.flags("replay", replayUsage)
	var dbf dbFlags
	dbf.register(fs)
	from := fs.String("from", "", "the exported audit trail `FILE`, JSON lines from 'forget audit' (e.g. -from audit.jsonl)")
	if code, ok := c.parse(fs, args); !ok {
		return code
	}
	if err := dbf.require("replay"); err != nil {
		return c.usageError("%v", err)
	}
	if *from == "" {
		return c.usageError("replay needs -from FILE")
	}
	receipts, err := readReceipts(*from)
	if err != nil {
		return c.usageError("%v", err)
	}
	ctx := forget.WithPrincipal(context.Background(), "cli")
	f, closeDB, code := c.openForgetter(ctx, &dbf)
	if f == nil {
		return code
	}
	defer closeDB()
	counts := map[string]int{}
	for i, o := range f.Replay(ctx, receipts) {
		if receipts[i].DryRun {
			continue
		}
		out := outcomeOf(o.Err)
		counts[out]++
		if out != outForgotten && out != outNotFound {
			fmt.Fprintf(c.stderr, "forget: record %d (customer %s): %s\n", i+1, receipts[i].CustomerID, describe(o.Err))
		}
	}
	fmt.Fprintf(c.stdout, "replayed %d records: %d forgotten again, %d not in this database, %d invalid, %d failed\n",
		len(receipts), counts[outForgotten], counts[outNotFound], counts[outInvalid]+counts[outConflict], counts[outFailed])
	if counts[outInvalid]+counts[outConflict]+counts[outFailed] > 0 {
		return exitFailed
	}
	return exitOK
}

func readReceipts(path string) ([]forget.Receipt, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("-from: %w", err)
	}
	defer f.Close()
	dec := json.NewDecoder(f)
	var out []forget.Receipt
	for n := 1; ; n++ {
		var rc forget.Receipt
		err := dec.Decode(&rc)
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("-from %s: record %d: %v", path, n, err)
		}
		if rc.CustomerID == "" {
			return nil, fmt.Errorf("-from %s: record %d has no customer_id", path, n)
		}
		out = append(out, rc)
	}
}
