package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/forgetkit/forget/store/sqlstore"
)

const initUsage = `
Usage: forget init -db FILE [-demo N]

Creates the default schema, with its indexes, in a SQLite database (a new
file, or an existing one: every statement is CREATE ... IF NOT EXISTS), and
optionally fills it with N demo customers (ids 1 to N).

Examples:
  forget init -db app.db
  forget init -db demo.db -demo 10000
`

func (c *cli) init(args []string) int {
	fs := c.flags("init", initUsage)
	db := fs.String("db", "", "the SQLite database `FILE` to create or complete (e.g. -db app.db)")
	demo := fs.Int("demo", 0, "how many demo customers to add to an empty database (e.g. -demo 1000)")
	if code, ok := c.parse(fs, args); !ok {
		return code
	}
	if *db == "" {
		return c.usageError("init needs -db FILE")
	}
	if *demo < 0 {
		return c.usageError("-demo must not be negative")
	}
	ctx := context.Background()
	conn, err := openSQLite(*db)
	if err != nil {
		return c.failure("%v", err)
	}
	defer conn.Close()
	if err := sqlstore.CreateSchema(ctx, conn, sqlstore.SQLite); err != nil {
		return c.failure("%v", err)
	}
	if *demo > 0 {
		have, err := countCustomers(ctx, conn)
		if err != nil {
			return c.failure("%v", err)
		}
		if have > 0 {
			return c.failure("%s already has %d customers; demo data goes only into an empty database", *db, have)
		}
		if err := seedDemo(ctx, conn, sqlstore.SQLite, *demo); err != nil {
			return c.failure("%v", err)
		}
	}
	fmt.Fprintf(c.stdout, "created the default schema in %s", *db)
	if *demo > 0 {
		fmt.Fprintf(c.stdout, " with %d demo customers", *demo)
	}
	fmt.Fprintln(c.stdout)
	return exitOK
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

func (c *cli) schema(args []string) int {
	fs := c.flags("schema", schemaUsage)
	dialect := fs.String("dialect", "sqlite", "the SQL `DIALECT`: sqlite, postgres or mysql (e.g. -dialect postgres)")
	if code, ok := c.parse(fs, args); !ok {
		return code
	}
	d, err := sqlstore.ParseDialect(*dialect)
	if err != nil {
		return c.usageError("%v", err)
	}
	fmt.Fprintf(c.stdout, "-- forget default schema, %s\n%s;\n", d, strings.Join(sqlstore.DDL(d), ";\n\n"))
	return exitOK
}
