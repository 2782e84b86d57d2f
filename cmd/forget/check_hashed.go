package main

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/forgetkit/forget"
)

// checkHashed reports each hash of a hashed list: forgotten, found (and
// by which customers), held, or not found.
func (c *cli) checkHashed(dbf *dbFlags, path, identity string) error {
	f, err := os.Open(path)
	if err != nil {
		return usagef("-hashed: %v", err)
	}
	defer f.Close()
	var digests [][sha256.Size]byte
	var lines []int
	bad := 0
	lr := newLineReader(f, 1024)
	for {
		b, tooLong, err := lr.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("-hashed: %w", err)
		}
		text := strings.TrimSpace(string(b))
		if !tooLong && (text == "" || strings.HasPrefix(text, "#")) {
			continue
		}
		var d [sha256.Size]byte
		if n, err := hex.Decode(d[:], []byte(text)); tooLong || err != nil || n != sha256.Size || len(text) != 2*sha256.Size {
			bad++
			fmt.Fprintf(c.stdout, "line %d: not a SHA-256 hash (64 hex digits)\n", lr.n)
			continue
		}
		digests = append(digests, d)
		lines = append(lines, lr.n)
	}
	ctx, o, done, err := c.openSession(dbf, c.warnLogger())
	if err != nil {
		return err
	}
	defer done()
	matches, err := o.store.MatchHashed(ctx, identity, digests)
	if err != nil {
		if ctx.Err() != nil {
			return errInterrupted
		}
		if errors.Is(err, forget.ErrInvalid) {
			return usagef("-identity %s: %v", identity, err)
		}
		return err
	}
	var counts [4]int // forgotten, found, held, not found
	for i, m := range matches {
		switch {
		case len(m.Customers) > 0:
			held := ""
			for _, id := range m.Customers {
				_, err := o.f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: id}, DryRun: true})
				var he *forget.HeldError
				if errors.As(err, &he) {
					held = he.Hold
					break
				}
				if err != nil && !forget.Refused(err) {
					return fmt.Errorf("line %d: dry run of customer %s: %w", lines[i], id, err)
				}
			}
			if held != "" {
				counts[2]++
				fmt.Fprintf(c.stdout, "line %d: held (%s): customers %s\n", lines[i], held, strings.Join(m.Customers, ", "))
			} else {
				counts[1]++
				fmt.Fprintf(c.stdout, "line %d: found: customers %s\n", lines[i], strings.Join(m.Customers, ", "))
			}
		case m.Forgotten:
			counts[0]++
			fmt.Fprintf(c.stdout, "line %d: forgotten\n", lines[i])
		default:
			counts[3]++
			fmt.Fprintf(c.stdout, "line %d: not found\n", lines[i])
		}
	}
	fmt.Fprintf(c.stderr, "%d hashes of %s: %d forgotten, %d found, %d held, %d not found", len(digests), path, counts[0], counts[1], counts[2], counts[3])
	if bad > 0 {
		fmt.Fprintf(c.stderr, ", %d lines not a hash", bad)
	}
	fmt.Fprintln(c.stderr)
	if bad > 0 {
		return exitError(exitFailed)
	}
	return nil
}
