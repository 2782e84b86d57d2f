package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/forgetkit/forget/store/sqlstore"
)

const initUsage = `
Usage: forget init -db FILE [-demo N] [-preset offerit|nats]

Creates the default schema, with its indexes, in a SQLite database (a new
file, or an existing one: every statement is CREATE ... IF NOT EXISTS; an
audit table of an earlier release is migrated, see 'forget migrate'), and
optionally fills it with N demo customers (ids 1 to N). With -preset nats,
the schema of NATS's member forget: the member table and its 16 tables.

Examples:
  forget init -db app.db
  forget init -db demo.db -demo 10000
  forget init -db members.db -preset nats -demo 500
`

func (c *cli) init(args []string) error {
	fs := c.command("init", initUsage)
	db := fs.String("db", "", "the SQLite database `FILE` to create or complete (e.g. -db app.db)")
	demo := fs.Int("demo", 0, "how many demo customers to add to an empty database (e.g. -demo 1000)")
	var dbf dbFlags
	fs.StringVar(&dbf.preset, "preset", "offerit", "the vendor product whose schema to create: `NAME` "+presetNames()+"\n(nats: NATS's member table and the 16 tables by memberid)")
	if err := fs.parse(args); err != nil {
		return err
	}
	if *db == "" {
		return usagef("init needs -db FILE")
	}
	if *demo < 0 {
		return usagef("-demo must not be negative")
	}
	if err := dbf.checkPreset(); err != nil {
		return usageError{err}
	}
	p := dbf.thePreset()
	// The audit table first, at the latest version and recorded: the
	// preset's DDL would fail on one of an earlier release.
	if err := migrateNew(context.Background(), *db, sqlstore.DefaultAuditTable); err != nil {
		return err
	}
	if err := createTombstonesIn(context.Background(), *db); err != nil {
		return err
	}
	// Counted first, so that a database that happens to hold -demo
	// customers already is not taken for one just seeded.
	have, err := p.create(context.Background(), *db, 0)
	if err == nil && *demo > 0 && have == 0 {
		_, err = p.create(context.Background(), *db, *demo)
	}
	if err != nil {
		return err
	}
	if *demo > 0 && have > 0 {
		return fmt.Errorf("%s already has %d %s; demo data goes only into an empty database", *db, have, p.noun)
	}
	fmt.Fprintf(c.stdout, "created the %s schema in %s", p.schemaName, *db)
	if *demo > 0 {
		fmt.Fprintf(c.stdout, " with %d demo %s", *demo, p.noun)
	}
	fmt.Fprintln(c.stdout)
	return nil
}

const schemaUsage = `
Usage: forget schema [-dialect sqlite|postgres|mysql]

Prints the DDL of the default schema: tables, keys and the indexes that
make every statement of a forget an index lookup.

Examples:
  forget schema
  forget schema -dialect postgres | psql app
  forget schema -dialect mysql > schema.sql
`

func (c *cli) schema(args []string) error {
	fs := c.command("schema", schemaUsage)
	dialect := fs.String("dialect", "sqlite", "the SQL `DIALECT`: sqlite, postgres or mysql (e.g. -dialect postgres)")
	if err := fs.parse(args); err != nil {
		return err
	}
	d, err := sqlstore.ParseDialect(*dialect)
	if err != nil {
		return usageError{err}
	}
	fmt.Fprintf(c.stdout, "-- forget default schema, %s\n%s;\n", d, strings.Join(sqlstore.DDL(d), ";\n\n"))
	return nil
}
