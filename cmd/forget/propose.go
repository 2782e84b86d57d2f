package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"

	"github.com/forgetkit/forget"
	"github.com/forgetkit/forget/store/sqlstore"
)

// propose prints a mapping for the database on stdout and the review on
// stderr, then checks that the mapping loads as 'forget lint -schema'
// would load it: if not, it says why and fails (the mapping is printed
// all the same, as a start to edit).
func (c *cli) propose(ctx context.Context, o *opened, cf *coverFlags, customers string) error {
	prop, err := o.store.ProposeWith(ctx, cf.dbf.thePreset().catalogue(), sqlstore.ProposeConfig{Customers: customers, Schemas: cf.inSchemas()})
	if err != nil {
		return stopped(ctx, err)
	}
	out, err := json.MarshalIndent(prop.Schema, "", "  ")
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintf(c.stdout, "%s\n", out); err != nil {
		return err
	}
	for _, line := range prop.Review {
		fmt.Fprintf(c.stderr, "review: %s\n", printable(line))
	}
	lines, err := c.proposalLoads(ctx, o, cf.dbf, out)
	for _, line := range lines {
		fmt.Fprintf(c.stderr, "review: %s\n", printable(line))
	}
	if err != nil {
		return stopped(ctx, fmt.Errorf("inspect: the proposed mapping does not load as it is, so lint and run would refuse it; edit what this says, then check with 'forget lint -schema FILE':\n%w", err))
	}
	return nil
}

// proposalLoads loads the mapping as -schema would (unknown keys refused),
// with the catalogue extended from it alone, and verifies it against the
// database as lint does. The audit table is left out of the check when
// it does not exist yet (a line says so). lines says what else lint
// would report: columns left unclassified.
func (c *cli) proposalLoads(ctx context.Context, o *opened, dbf *dbFlags, data []byte) (lines []string, err error) {
	loaded, err := decodeSchema(data)
	if err != nil {
		return nil, err
	}
	d := *dbf
	d.mapping = &loaded
	opts := d.storeOptions()
	if d.auditTable != "" {
		in, err := sqlstore.Introspect(ctx, o.db, o.store.Dialect())
		if err != nil {
			return nil, err
		}
		if in.Table(d.auditTable) != nil {
			opts = append(opts, sqlstore.WithAudit(d.auditTable))
		} else {
			lines = append(lines, fmt.Sprintf("the audit table %s does not exist yet: create it ('forget migrate', or sqlstore.AuditDDL) before lint or run", d.auditTable))
		}
	}
	s, err := sqlstore.New(o.db, o.store.Dialect(), opts...)
	if err != nil {
		return lines, err
	}
	cat, err := s.ExtendCatalogue(ctx, d.thePreset().catalogue())
	if err != nil {
		return lines, err
	}
	f, err := forget.New(s, forget.WithCatalogue(cat), forget.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		return lines, err
	}
	if err := f.Verify(ctx); err != nil {
		return lines, err
	}
	cov, err := s.Coverage(ctx, cat)
	if err != nil {
		return lines, err
	}
	if n := cov.Summary.Unclassified; n > 0 {
		lines = append(lines, fmt.Sprintf("%d columns stay unclassified (named above): lint fails until each is mapped or retained", n))
	}
	return lines, nil
}
