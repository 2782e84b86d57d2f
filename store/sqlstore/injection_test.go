package sqlstore_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/forgetkit/forget"
	"github.com/forgetkit/forget/store/sqlstore"
	"github.com/forgetkit/forget/store/storetest"
)

var injections = []string{
	`1' OR '1'='1`,
	`1; DROP TABLE crm_clients; --`,
	`" OR ""="`,
	`1) OR (1=1`,
	`'; DELETE FROM notes; --`,
	`%' OR 1=1 --`,
	`1 UNION SELECT login FROM crm_clients`,
	"`; DROP TABLE subs; --",
	`$1`, `?`, `\'`, "\x00' OR 1=1", "c-ann\x00", "\xff\xfe",
	`c-ann' --`, `c-ann" --`, `c-ann\`,
}

// TestInjectionIsHarmless sends injection strings in every parameter, to a
// store with text keys (where they reach the database, bound) and one
// with integer keys (where they are refused first), on every engine: each
// is a refusal, and every table is as it was, row for row.
func TestInjectionIsHarmless(t *testing.T) {
	t.Parallel()
	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) {
			ctx := context.Background()
			db, ns := e.open(t)
			createMapped(t, db, e.dialect)
			sb := statementBuilder(e.dialect)
			textStore, err := sqlstore.New(db, e.dialect, sqlstore.WithSchema(mappedSchema(ns)))
			if err != nil {
				t.Fatal(err)
			}
			textF := quietForgetter(t, textStore, forget.WithCatalogue(mappedCatalogue(t)))
			if err := sqlstore.CreateSchema(ctx, db, e.dialect); err != nil {
				t.Fatal(err)
			}
			intStore, err := sqlstore.New(db, e.dialect)
			if err != nil {
				t.Fatal(err)
			}
			intB := defaultBackend{Store: intStore, db: db, sb: sb}
			if err := intB.Seed(ctx, storetest.Fixtures()); err != nil {
				t.Fatal(err)
			}
			intF := quietForgetter(t, intStore)
			before := dumpTables(t, db)
			intBefore, _ := intB.Snapshot(ctx)
			tried := 0
			for _, payload := range injections {
				for _, req := range []forget.Request{
					{Lookup: forget.Lookup{CustomerID: payload}},
					{Lookup: forget.Lookup{SubscriptionID: payload}},
					{Lookup: forget.Lookup{OrderID: payload}},
					{Lookup: forget.Lookup{CustomerID: "c-ann", OrderID: payload}},
					{Lookup: forget.Lookup{CustomerID: "c-ann"}, Keep: []string{payload}},
					{Lookup: forget.Lookup{CustomerID: payload}, DryRun: true},
				} {
					for _, f := range []*forget.Forgetter{textF, intF} {
						tried++
						_, err := f.Forget(ctx, req)
						if !errors.Is(err, forget.ErrNotFound) && !errors.Is(err, forget.ErrInvalid) {
							t.Errorf("%q: %v, want not found or invalid", payload, err)
						}
					}
				}
			}
			if after := dumpTables(t, db); fmt.Sprint(after) != fmt.Sprint(before) {
				t.Errorf("tables changed:\nbefore %v\nafter  %v", before, after)
			}
			intAfter, _ := intB.Snapshot(ctx)
			if fmt.Sprint(intAfter) != fmt.Sprint(intBefore) {
				t.Error("the default schema's tables changed")
			}
			t.Logf("%d injection requests, tables intact", tried)
		})
	}
}
