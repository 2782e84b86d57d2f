package main

import (
	"context"
	"fmt"
)

// mappingFits verifies the mapping against the live database for inspect
// and lint, so that both refuse a mapping that does not fit with the same
// message: a coverage report over tables that do not exist would read as
// "nothing reaches a customer", which is not the same as "nothing to do".
func mappingFits(ctx context.Context, o *opened, cmd string) error {
	if err := o.f.Verify(ctx); err != nil {
		if ctx.Err() != nil {
			return errInterrupted
		}
		return fmt.Errorf("%s: the mapping does not fit the database: %w", cmd, err)
	}
	return nil
}
