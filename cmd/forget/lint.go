package main

import (
	"fmt"
	"strings"

	"github.com/forgetkit/forget/store/sqlstore"
)

const lintUsage = `
Usage: forget lint [-db FILE | -dsn URL] [-schema FILE] [-personal-only] [-review] [-sample N] [-json]

Checks, for a host's CI, that a forget can run and that the mapping covers
every column that reaches a customer (see 'forget inspect'): exit status 1,
naming each problem, while the mapping does not fit the database (the
checks Verify runs before every forget: tables, columns, key types, rules
a column cannot hold, holds, foreign-key actions, a purged table that a
table the mapping leaves refers to with ON DELETE NO ACTION or RESTRICT),
or while any column is unclassified (with -personal-only, while any that
looks personal is); 0 when all are erased, keys or retained with a
reason. Names only: never a value. -json prints
the report as one JSON object ({"ok": false, "failing": [{"column":
"customers.email", "problem": "likely_personal", "hint": ...}], ...}).

Examples:
  forget lint -db app.db -schema mapping.json
  forget lint -dsn postgres://ci@db/app -schema mapping.json -personal-only -sample 100
`

func (c *cli) lint(args []string) error {
	fs := c.command("lint", lintUsage)
	var cf coverFlags
	cf.register(fs)
	personalOnly := fs.Bool("personal-only", false, "fail only for unclassified columns that look personal (by name, type or -sample)")
	review := fs.Bool("review", false, "also fail while retained columns' reasons start with REVIEW: (as 'forget inspect -propose' writes them)")
	asJSON := fs.jsonSummary()
	if err := fs.parse(args); err != nil {
		return err
	}
	if err := cf.check(); err != nil {
		return err
	}
	ctx, o, done, err := cf.open(c)
	if err != nil {
		return err
	}
	defer done()
	if err := mappingFits(ctx, o, "lint"); err != nil {
		return err
	}
	cov, err := cf.coverage(ctx, o)
	if err != nil {
		return err
	}
	rep := lintReport{Failing: []lintColumn{}, Summary: cov.Summary}
	for _, tc := range cov.Tables {
		for _, col := range tc.Columns {
			lc := lintColumn{Column: display(tc.Table) + "." + display(col.Column)}
			switch {
			case col.Class == sqlstore.ClassUnclassified && col.LikelyPersonal:
				lc.Problem, lc.Hint = "likely_personal", printable(col.Hint)
			case col.Class == sqlstore.ClassUnclassified && !*personalOnly:
				lc.Problem = "unclassified"
			case col.Class == sqlstore.ClassRetained && *review && strings.HasPrefix(col.By, sqlstore.ReviewPrefix):
				lc.Problem = "review"
			default:
				continue
			}
			rep.Failing = append(rep.Failing, lc)
		}
	}
	for _, n := range cov.Notes {
		rep.Notes = append(rep.Notes, printable(n))
	}
	failing := len(rep.Failing)
	rep.OK = failing == 0
	if *asJSON {
		if err := c.printJSON(rep); err != nil {
			return err
		}
	} else {
		for _, lc := range rep.Failing {
			switch lc.Problem {
			case "likely_personal":
				fmt.Fprintf(c.stdout, "%s: unclassified, likely personal (%s)\n", lc.Column, lc.Hint)
			case "unclassified":
				fmt.Fprintf(c.stdout, "%s: unclassified\n", lc.Column)
			case "review":
				fmt.Fprintf(c.stdout, "%s: retained, still marked for review\n", lc.Column)
			}
		}
		for _, n := range rep.Notes {
			fmt.Fprintf(c.stdout, "note: %s\n", n)
		}
		fmt.Fprintln(c.stdout, cov.Summary)
	}
	if failing > 0 {
		return fmt.Errorf("lint: %d %s to classify: map each to a catalogue field or table, or retain it with a reason", failing, map[bool]string{true: "column", false: "columns"}[failing == 1])
	}
	if !*asJSON {
		fmt.Fprintln(c.stdout, "lint: every column that reaches a customer is classified")
	}
	return nil
}
