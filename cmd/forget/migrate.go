package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/forgetkit/forget/store/sqlstore"
)

const migrateUsage = `
Usage: forget migrate (-db FILE | -dsn URL) [-dry-run] [-json] [-audit-table TABLE]

Brings the tables forget owns (the audit table, which is also the outbox)
to this release's schema version, one version at a time, and records the
version reached in forget_schema_version. A database made by an earlier
release is found by its columns. Every other command refuses a database
behind this release until it is migrated; running it again changes
nothing. Two migrators at once are safe (each step takes a lock). With
-dry-run it prints the statements and runs none; with -json it prints
the result as one JSON object (from, to, up_to_date, steps with their
statements), on an error too. Back the database up first.

Examples:
  forget migrate -db app.db -dry-run
  forget migrate -db app.db
  forget migrate -dsn postgres://app@db/app -audit-table forget_audit
`

func (c *cli) migrate(args []string) error {
	fs := c.command("migrate", migrateUsage)
	dbf := fs.database(true)
	dry := fs.Bool("dry-run", false, "print the statements of each step and run none")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	if err := fs.parse(args); err != nil {
		return err
	}
	if dbf.auditTable == "" {
		return usagef("-audit-table must name the audit table")
	}
	dbf.anyVersion = true
	ctx, stop := interruptible()
	defer stop()
	db, _, err := dbf.open(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return errInterrupted
		}
		return err
	}
	defer db.Close()
	res, err := sqlstore.Migrate(ctx, db, dbf.dialect(), sqlstore.MigrateOptions{AuditTable: dbf.auditTable, DryRun: *dry})
	if err == nil && !*dry {
		// Not a version of the audit table: a table of its own, created
		// once (see sqlstore.CreateTombstoneTable).
		out := c.stdout
		if *asJSON {
			out = io.Discard // the JSON object is the whole output
		}
		err = createTombstones(ctx, out, db, dbf.dialect(), dbf.auditTable)
	}
	if *asJSON {
		if perr := c.printJSON(migrationJSON(res, *dry)); perr != nil && err == nil {
			err = perr
		}
	} else {
		c.printMigration(res, *dry)
	}
	if err != nil {
		if ctx.Err() != nil {
			return errInterrupted
		}
		return err
	}
	return nil
}

// printMigration prints each step: its version, its name and, on a dry
// run, its statements.
func (c *cli) printMigration(res sqlstore.MigrateResult, dry bool) {
	verb := "migrated"
	if dry {
		verb = "would migrate"
	}
	for _, st := range res.Steps {
		fmt.Fprintf(c.stdout, "version %d: %s\n", st.Version, st.Name)
		if dry {
			for _, s := range st.Statements {
				fmt.Fprintf(c.stdout, "  %s;\n", strings.ReplaceAll(s, "\n", "\n  "))
			}
		}
	}
	switch {
	case len(res.Steps) == 0 && res.To == sqlstore.SchemaVersion:
		fmt.Fprintf(c.stdout, "schema version %d: up to date\n", res.To)
	case len(res.Steps) > 0:
		fmt.Fprintf(c.stdout, "%s from schema version %d to %d\n", verb, res.From, res.To)
	}
}

type migrationReport struct {
	From     int             `json:"from"`
	To       int             `json:"to"`
	DryRun   bool            `json:"dry_run"`
	UpToDate bool            `json:"up_to_date"`
	Steps    []migrationStep `json:"steps"`
}

type migrationStep struct {
	Version    int      `json:"version"`
	Name       string   `json:"name"`
	Statements []string `json:"statements"`
}

// migrationJSON is res as -json prints it: the statements of every step,
// run or (on a dry run) not.
func migrationJSON(res sqlstore.MigrateResult, dry bool) migrationReport {
	out := migrationReport{From: res.From, To: res.To, DryRun: dry, Steps: []migrationStep{}}
	// A dry run is up to date only when it would do nothing.
	out.UpToDate = res.To == sqlstore.SchemaVersion && (!dry || len(res.Steps) == 0)
	for _, st := range res.Steps {
		out.Steps = append(out.Steps, migrationStep{Version: st.Version, Name: st.Name, Statements: st.Statements})
	}
	return out
}

// migrateNew brings the audit table of the SQLite database at path to
// the latest version before init creates the rest (an audit table made by
// an earlier release would refuse the latest indexes).
func migrateNew(ctx context.Context, path, table string) error {
	db, err := openSQLite(path)
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = sqlstore.Migrate(ctx, db, sqlstore.SQLite, sqlstore.MigrateOptions{AuditTable: table})
	return err
}
