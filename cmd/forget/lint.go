package main

import (
	"fmt"
	"strings"

	"github.com/forgetkit/forget"
	"github.com/forgetkit/forget/store/sqlstore"
)

const lintUsage = `
Usage: forget lint [-db FILE | -dsn URL] [-schema FILE] [-personal-only] [-review] [-sample N]

Checks, for a host's CI, that the mapping covers every column that reaches
a customer (see 'forget inspect'): exit status 1, listing them, while any
is unclassified (with -personal-only, while any that looks personal is),
or while the mapping does not fit the database; 0 when all are erased,
keys or retained with a reason. Names only: never a value.

Examples:
  forget lint -db app.db -schema mapping.json
  forget lint -dsn postgres://ci@db/app -schema mapping.json -personal-only -sample 100
`

func (c *cli) lint(args []string) int {
	fs := c.flags("lint", lintUsage)
	var cf coverFlags
	cf.register(fs)
	personalOnly := fs.Bool("personal-only", false, "fail only for unclassified columns that look personal (by name, type or -sample)")
	review := fs.Bool("review", false, "also fail while retained columns' reasons start with REVIEW: (as 'forget inspect -propose' writes them)")
	if code, ok := c.parse(fs, args); !ok {
		return code
	}
	if err := cf.check(c, "lint"); err != nil {
		return c.usageError("%v", err)
	}
	ctx, stop := interruptible()
	defer stop()
	t, code := c.openCoverage(ctx, &cf.dbf)
	if t == nil {
		return code
	}
	defer t.db.Close()
	f, err := forget.New(t.store, forget.WithCatalogue(t.cat), forget.WithLogger(c.warnLogger()))
	if err == nil {
		err = f.Verify(ctx)
	}
	if err != nil {
		if ctx.Err() != nil {
			return c.failure("interrupted")
		}
		return c.failure("lint: the mapping does not fit the database: %v", err)
	}
	cov, err := t.store.Coverage(ctx, t.cat, sqlstore.SampleRows(cf.sample), sqlstore.InSchemas(cf.inSchemas()...))
	if err != nil {
		if ctx.Err() != nil {
			return c.failure("interrupted")
		}
		return c.failure("%v", err)
	}
	failing := 0
	for _, tc := range cov.Tables {
		for _, col := range tc.Columns {
			name := display(tc.Table) + "." + display(col.Column)
			switch {
			case col.Class == sqlstore.ClassUnclassified && col.LikelyPersonal:
				failing++
				fmt.Fprintf(c.stdout, "%s: unclassified, likely personal (%s)\n", name, printable(col.Hint))
			case col.Class == sqlstore.ClassUnclassified && !*personalOnly:
				failing++
				fmt.Fprintf(c.stdout, "%s: unclassified\n", name)
			case col.Class == sqlstore.ClassRetained && *review && strings.HasPrefix(col.By, sqlstore.ReviewPrefix):
				failing++
				fmt.Fprintf(c.stdout, "%s: retained, still marked for review\n", name)
			}
		}
	}
	for _, n := range cov.Notes {
		fmt.Fprintf(c.stdout, "note: %s\n", printable(n))
	}
	fmt.Fprintln(c.stdout, cov.Summary)
	if failing > 0 {
		return c.failure("lint: %d %s to classify: map each to a catalogue field or table, or retain it with a reason", failing, map[bool]string{true: "column", false: "columns"}[failing == 1])
	}
	fmt.Fprintln(c.stdout, "lint: every column that reaches a customer is classified")
	return exitOK
}
