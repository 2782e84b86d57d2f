package main

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/forgetkit/forget"
)

const runUsage = `
Usage: forget run (-db FILE | -dsn URL) [-schema FILE] LOOKUP [-keep NAMES] [-dry-run]
       forget run (-db FILE | -dsn URL) [-schema FILE] -batch FILE [-report FILE] [-batch-size N] [-dry-run] [-repropagate] [-json]

Forgets one customer, named by any of -customer-id, -subscription-id and
-orderid (all given must name the same customer), and prints the receipt
as JSON. Or forgets every request of a batch file, each in its own
transaction, reporting bad rows and missing customers and going on.
-batch-size requests share one database transaction, each in a savepoint
of its own, so that each is still all or nothing.

A batch file is CSV with a header naming any of customer_id,
subscription_id, orderid and keep (keep lists are quoted: "firstname,phone"),
or JSON lines with the same names ({"orderid": 19301, "keep": ["phone"]}).
Each physical line is one request (batch values never hold a line break,
so a CSV quote never spans lines); lines may end in CRLF; a UTF-8
byte-order mark (Excel's "CSV UTF-8") is fine. The file is streamed, so
it may be of any size; a line longer than 1 MiB is skipped. A bad row is
reported with its line number, and the batch goes on. Forgetting is
idempotent: re-running a batch is safe, also after Ctrl-C, which stops
after the current group of requests and reports what was done. A forget
of a customer already fully forgotten, with nothing left to erase, is a
repeat: audited, its receipt says "repeat": true, and it sends no new
erasure event downstream unless -repropagate.

With -batch, -json prints the summary as one JSON object instead
({"requests": 3, "forgotten": 3, "repeats": 0, ...}); a single forget
prints its receipt as JSON anyway.

The database URL may come from $FORGET_DSN instead of -dsn, which keeps
its password out of ps.

Exit status: 0 when every forget succeeded, 1 when any failed (or was
refused, or found no customer), 2 on bad usage.

Examples:
  forget run -db app.db -customer-id 191
  forget run -db app.db -orderid 19301 -keep firstname,member_note -dry-run
  forget run -dsn postgres://app@db/app -batch requests.csv -report report.jsonl
`

func (c *cli) run(args []string) error {
	fs := c.command("run", runUsage)
	dbf := fs.database(true)
	fs.signing()
	var (
		customerID     = fs.String("customer-id", "", "the customer's `ID` (e.g. -customer-id 191)")
		subscriptionID = fs.String("subscription-id", "", "the `ID` of one of the customer's subscriptions (e.g. -subscription-id 1911)")
		orderID        = fs.String("orderid", "", "the event `ID` of one of the customer's transactions (e.g. -orderid 19101)")
		keep           = fs.String("keep", "", "comma-separated fields and tables to keep (e.g. -keep firstname,member_note)")
		dryRun         = fs.Bool("dry-run", false, "report what would be erased, change nothing (e.g. -dry-run)")
		batch          = fs.String("batch", "", "a CSV or JSON-lines `FILE` of requests, one forget each (e.g. -batch requests.csv)")
		report         = fs.String("report", "", "with -batch: write one JSON line per request, its outcome, to `FILE` (e.g. -report out.jsonl)")
		batchSize      = fs.batchSize(dbf)
		progress       = fs.progress()
		principal      = fs.String("principal", "cli", "who asks, recorded in receipts (e.g. -principal ops:jane)")
		repropagate    = fs.Bool("repropagate", false, "send the erasure event of a repeat too: a forget of a customer already fully forgotten,\nwith nothing left to erase, is audited but sends no new event without it (e.g. -repropagate)")
		asJSON         = fs.jsonSummary()
		ignoreHolds    = fs.String("ignore-hold", "", "comma-separated `NAMES` of holds an operator has cleared: not checked for these forgets,\nand recorded in each receipt and audit record (e.g. -ignore-hold open_chargeback)")
	)
	if err := fs.parse(args); err != nil {
		return err
	}
	lookupGiven := *customerID != "" || *subscriptionID != "" || *orderID != ""
	switch {
	case *batch != "" && (lookupGiven || *keep != ""):
		return usagef("-batch takes its lookups and keep lists from the file; drop -customer-id, -subscription-id, -orderid and -keep")
	case *batch == "" && !lookupGiven:
		return usagef("give -customer-id, -subscription-id or -orderid (or -batch FILE)")
	case *batch == "" && *report != "":
		return usagef("-report goes with -batch")
	}

	var (
		br    *batchReader
		total int
	)
	if *batch != "" {
		file, err := os.Open(*batch)
		if err != nil {
			return usagef("-batch: %v", err)
		}
		defer file.Close()
		if *report != "" && sameFile(*batch, *report) {
			return usagef("-report names the batch file itself")
		}
		if br, err = newBatchReader(file, *batch); err != nil {
			return usagef("-batch %s: %v", *batch, err)
		}
		total = countBatch(*batch, !br.jsonl)
	}
	ctx, o, done, err := c.openSession(dbf, c.warnLogger())
	if err != nil {
		return err
	}
	defer done()
	ctx = forget.WithPrincipal(ctx, *principal)
	if *batch != "" {
		return c.runBatch(ctx, o.f, br, total, batchOptions{dryRun: *dryRun, report: *report, size: *batchSize,
			progress: c.newProgress(*progress, total), ignoreHolds: splitList(*ignoreHolds), repropagate: *repropagate, json: *asJSON})
	}

	vals := url.Values{}
	for name, v := range map[string]string{forget.KeyCustomerID: *customerID, forget.KeySubscriptionID: *subscriptionID, forget.KeyOrderID: *orderID, "keep": *keep} {
		if v != "" {
			vals.Set(name, v)
		}
	}
	req, err := forget.DecodeBody("application/x-www-form-urlencoded", []byte(vals.Encode()))
	if err != nil {
		return errors.New(forget.ProblemOf(err).Message)
	}
	req.DryRun = *dryRun
	req.IgnoreHolds = splitList(*ignoreHolds)
	req.Repropagate = *repropagate
	rc, err := o.f.Forget(ctx, req)
	if err != nil {
		if ctx.Err() != nil {
			return errors.New("interrupted; nothing was changed")
		}
		return errors.New(describe(err))
	}
	enc := json.NewEncoder(c.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(rc)
}

// interruptible returns a context cancelled by the first Ctrl-C (or
// SIGTERM), so that the command stops cleanly; a second one kills it as
// usual, which is safe too: a forget is all or nothing.
func interruptible() (context.Context, context.CancelFunc) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop()
	}()
	return ctx, stop
}

// sameFile reports whether a and b name one existing file.
func sameFile(a, b string) bool {
	sa, err := os.Stat(a)
	if err != nil {
		return false
	}
	sb, err := os.Stat(b)
	return err == nil && os.SameFile(sa, sb)
}

// describe is what the operator is told of a failed forget: the public
// message of a refusal, or the (value-free) cause of an internal error.
func describe(err error) string {
	if p := forget.ProblemOf(err); p.Status < 500 {
		return p.Message
	}
	return err.Error()
}

// splitList splits a comma-separated flag value, dropping empty items.
func splitList(v string) []string {
	var out []string
	for _, item := range strings.Split(v, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}
