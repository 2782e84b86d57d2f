package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"unicode"

	"github.com/forgetkit/forget"
	"github.com/forgetkit/forget/store/sqlstore"
)

const inspectUsage = `
Usage: forget inspect [-db FILE | -dsn URL] [-schema FILE] [-format text|json] [-sample N] [-in NAMES]
       forget inspect [-db FILE | -dsn URL] [-schema FILE] -customer-id ID | -subscription-id ID | -orderid ID
       forget inspect [-db FILE | -dsn URL] -propose [-customers TABLE] > mapping.json

Shows every table that reaches a customer (it holds the customer key, the
mapping reaches it by a value link, or a chain of foreign keys leads from
it to one that does, or to it from one), every view and materialized view
over one, and, for each of their columns, what a forget does with it:
erased (by which field or table), key, retained (with the mapping's
reason) or unclassified. Unclassified columns whose names or types look
personal are flagged, and so are key columns that do (an e-mail primary
key); -sample N reads up to N values of each unclassified or key column
holding text, JSON, arrays or bytes and counts those that look like
e-mail addresses, phone numbers or IP addresses. The summary names the
schemas (databases) it did not read that hold tables: name them with -in.
Names, types and counts only: never a value from the database. A mapping
that does not fit the database (the default one on a database without its
tables, for one) is refused, as lint refuses it.

With a lookup (-customer-id, -subscription-id, -orderid) it shows instead
the inventory of one customer: for each table, how many of the customer's
rows it holds, what a forget would do with them, and the columns it would
leave as they are (retained, unclassified); counts and names only.

-propose prints a starting mapping for this database instead (JSON, for
-schema as it is), and on stderr, as review: lines, what it guessed and
what it left out. It never guesses a purge: a table's rows are the
customer's only through a foreign key to the customers key, or a column
named like that key (users.id: user_id) whose sampled values are all
keys of existing customers, never a table's own id. The customers table
is the one the most foreign keys point at; -customers TABLE names it,
and when nothing tells, -propose fails asking for it. Before printing
it verifies the mapping as lint does; if the mapping would not load, it
still prints it, says why, and exits 1.

Examples:
  forget inspect -db app.db
  forget inspect -dsn postgres://app@db/app -schema mapping.json -sample 200 -format json
  forget inspect -db app.db -customer-id 191
  forget inspect -db app.db -propose > mapping.json && forget lint -db app.db -schema mapping.json
`

// coverFlags are the flags inspect and lint share.
type coverFlags struct {
	dbf     *dbFlags
	sample  int
	schemas string
}

func (cf *coverFlags) register(fs *command) {
	cf.dbf = fs.database(true)
	fs.IntVar(&cf.sample, "sample", 0, fmt.Sprintf("read up to `N` values (at most %d) of each unclassified or key column holding text, JSON,\narrays or bytes and count those that look like e-mail addresses, phone numbers or IP\naddresses (never printed)", sqlstore.MaxSample))
	fs.StringVar(&cf.schemas, "in", "", "further PostgreSQL schemas or MySQL databases to read, comma-separated `NAMES`\n(the current one, and those the mapping names, are always read)")
}

// check checks the flags after parsing.
func (cf *coverFlags) check() error {
	if cf.sample < 0 || cf.sample > sqlstore.MaxSample {
		return usagef("-sample must be 0 to %d", sqlstore.MaxSample)
	}
	return nil
}

// open opens the database for inspect and lint: the store and catalogue
// as serve and run build them, not verified (both verify it with
// mappingFits, but for -propose, which needs no mapping).
// done closes it and stops listening for Ctrl-C.
func (cf *coverFlags) open(c *cli) (ctx context.Context, o *opened, done func(), err error) {
	return session(func(ctx context.Context) (*opened, error) { return c.openStore(ctx, cf.dbf, c.warnLogger()) })
}

func (cf *coverFlags) inSchemas() []string { return splitList(cf.schemas) }

// coverage reads the coverage of the mapping over the database.
func (cf *coverFlags) coverage(ctx context.Context, o *opened) (*sqlstore.Coverage, error) {
	cov, err := o.store.Coverage(ctx, o.cat, sqlstore.SampleRows(cf.sample), sqlstore.InSchemas(cf.inSchemas()...))
	return cov, stopped(ctx, err)
}

// stopped is err, or errInterrupted when ctx is done: a database call
// that Ctrl-C cut short fails with an error of its own.
func stopped(ctx context.Context, err error) error {
	if err != nil && ctx.Err() != nil {
		return errInterrupted
	}
	return err
}

func (c *cli) inspect(args []string) error {
	fs := c.command("inspect", inspectUsage)
	var cf coverFlags
	cf.register(fs)
	format := fs.String("format", "text", "output `FORMAT`: text (one line per column, grouped by table) or json")
	asJSON := fs.Bool("json", false, "the same as -format json, as other commands spell it")
	propose := fs.Bool("propose", false, "print a starting mapping for this database (JSON, for -schema) instead; what to review goes to stderr")
	customers := fs.String("customers", "", "with -propose: the customers `TABLE` (else chosen by the foreign keys that point at it)")
	var l forget.Lookup
	fs.StringVar(&l.CustomerID, "customer-id", "", "show the inventory of the customer with this `ID` (with -preset nats: the memberid)")
	fs.StringVar(&l.SubscriptionID, "subscription-id", "", "show the inventory of the customer of this subscription `ID`")
	fs.StringVar(&l.OrderID, "orderid", "", "show the inventory of the customer of this order `ID`")
	if err := fs.parse(args); err != nil {
		return err
	}
	if *format != "text" && *format != "json" {
		return usagef("-format must be text or json, not %s", quoteClipped(*format))
	}
	if *asJSON {
		if flagGiven(fs.FlagSet, "format") && *format != "json" {
			return usagef("-json is -format json; drop -format %s", quoteClipped(*format))
		}
		*format = "json"
	}
	if err := cf.check(); err != nil {
		return err
	}
	lookup := l.CustomerID != "" || l.SubscriptionID != "" || l.OrderID != ""
	if *propose && (cf.dbf.schema != "" || cf.sample != 0 || *format != "text" || lookup) {
		return usagef("-propose writes a mapping: it takes no -schema, -sample, -format or lookup")
	}
	if *customers != "" && !*propose {
		return usagef("-customers goes with -propose")
	}
	if lookup && cf.sample != 0 {
		return usagef("-sample goes with the coverage report, not a customer's inventory")
	}
	ctx, o, done, err := cf.open(c)
	if err != nil {
		return err
	}
	defer done()
	if *propose {
		return c.propose(ctx, o, &cf, *customers)
	}
	if err := mappingFits(ctx, o, "inspect"); err != nil {
		return err
	}
	if lookup {
		return c.inventory(ctx, o, l, *format)
	}
	cov, err := cf.coverage(ctx, o)
	if err != nil {
		return err
	}
	if *format == "json" {
		return c.printJSON(cov)
	}
	writeCoverage(c.stdout, cov)
	return nil
}

// printJSON prints v as indented JSON.
func (c *cli) printJSON(v any) error {
	out, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(c.stdout, "%s\n", out)
	return err
}

// inventory prints one customer's inventory.
func (c *cli) inventory(ctx context.Context, o *opened, l forget.Lookup, format string) error {
	inv, err := o.store.Inventory(ctx, l, o.cat)
	switch {
	case err == nil:
	case ctx.Err() != nil:
		return errInterrupted
	case forget.Refused(err):
		return errors.New(forget.ProblemOf(err).Message)
	default:
		return err
	}
	if format == "json" {
		return c.printJSON(inv)
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "table\trows\tforget\tleft as it is")
	for _, it := range inv.Tables {
		rows := strconv.FormatInt(it.Rows, 10)
		if it.Uncounted {
			rows = "?"
		}
		var left []string
		// Columns retained for one reason are listed together.
		var reasons []string
		byReason := map[string][]string{}
		for _, r := range it.Retained {
			if _, ok := byReason[r.Reason]; !ok {
				reasons = append(reasons, r.Reason)
			}
			byReason[r.Reason] = append(byReason[r.Reason], display(r.Column))
		}
		for _, r := range reasons {
			left = append(left, strings.Join(byReason[r], ", ")+" (retained: "+printable(r)+")")
		}
		for _, k := range it.Kept {
			left = append(left, display(k)+" (kept)")
		}
		for _, u := range it.Unclassified {
			mark := ""
			if slices.Contains(it.LikelyPersonal, u) {
				mark = ", likely personal"
			}
			left = append(left, display(u)+" (unclassified"+mark+")")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", display(it.Table), rows, it.Action, strings.Join(left, ", "))
	}
	return tw.Flush()
}

// writeCoverage prints cov as text: each table with how it reaches a
// customer, one line per column, the notes, the summary.
func writeCoverage(w io.Writer, cov *sqlstore.Coverage) {
	for _, t := range cov.Tables {
		fmt.Fprintf(w, "%s (%s)\n", display(t.Table), printable(t.Reach))
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		for _, col := range t.Columns {
			what := printable(col.By)
			if col.Class == sqlstore.ClassUnclassified && col.LikelyPersonal {
				what = "LIKELY PERSONAL: " + printable(col.Hint)
			}
			if s := col.Sample; s != nil {
				what = strings.TrimPrefix(what+"; ", "; ") + fmt.Sprintf("sampled %d: %d e-mail, %d phone, %d IP", s.Values, s.Emails, s.Phones, s.IPs)
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", display(col.Column), printable(col.Type), col.Class, what)
		}
		tw.Flush()
		fmt.Fprintln(w)
	}
	for _, n := range cov.Notes {
		fmt.Fprintf(w, "note: %s\n", printable(n))
	}
	if len(cov.Notes) > 0 {
		fmt.Fprintln(w)
	}
	// The skipped schemas get a line of their own: the list may be long.
	sum := cov.Summary
	sum.Skipped = ""
	fmt.Fprintln(w, sum)
	if s := cov.Summary.Skipped; s != "" {
		fmt.Fprintf(w, "skipped schemas, not read: %s: name them with -in\n", printable(s))
	}
	if n := cov.Summary.ToReview; n > 0 {
		fmt.Fprintf(w, "%d retained %s still marked %q: confirm each reason\n", n, map[bool]string{true: "column is", false: "columns are"}[n == 1], strings.TrimSpace(sqlstore.ReviewPrefix))
	}
}

// display shows a name from the database's catalogue as it is when it is
// plain, quoted when it holds spaces or anything a terminal would act on.
func display(s string) string {
	if s != "" && !strings.ContainsFunc(s, func(r rune) bool { return !unicode.IsPrint(r) || unicode.IsSpace(r) }) {
		return s
	}
	return strconv.Quote(s)
}

// printable escapes what a terminal would act on (control characters,
// escape sequences) in text that may hold names from the catalogue.
func printable(s string) string {
	if !strings.ContainsFunc(s, func(r rune) bool { return !unicode.IsPrint(r) && r != ' ' }) {
		return s
	}
	q := strconv.Quote(s)
	return q[1 : len(q)-1]
}
