package main

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"os"
)

const suppressionUsage = `
Usage: forget suppression export -tombstone-keys KEYS (-db FILE | -dsn URL) [-schema MAPPING] [-key-id ID] [-o FILE]

Writes the tombstones as a suppression list a mailing system can check
against without holding any address: CSV with the header
identity,key_id,hash and one distinct tombstone a row, where hash is
HMAC-SHA-256 under the key's secret of the identity's name, a NUL byte and
the SHA-256 of the normalised value in hex, as 64 lower-case hex digits
(docs/mapping.md, "Identities and tombstones"). Give the mailing system a key of its own (-key-id):
whoever holds a key can test guessed addresses against its hashes.

Examples:
  forget suppression export -db app.db -schema mapping.json -tombstone-keys tomb.keys -key-id mailer -o suppress.csv
`

func (c *cli) suppression(args []string) error {
	switch {
	case len(args) == 0:
		args = []string{"export"} // its one verb, which says what it needs
	case args[0] == "-h" || args[0] == "-help" || args[0] == "--help":
		args = []string{"export", "-h"}
	}
	if args[0] != "export" {
		fmt.Fprint(c.stderr, suppressionUsage)
		return exitError(exitUsage)
	}
	fs := c.command("suppression export", suppressionUsage)
	dbf := fs.database(true)
	keyID := fs.String("key-id", "", "export the tombstones of the key `ID` alone (a key given to the mailing system)")
	out := fs.String("o", "", "write the list to `FILE` (created, mode 0600) instead of stdout")
	if err := fs.parse(args[1:]); err != nil {
		return err
	}
	if dbf.tombstoneKeys == "" {
		return usagef("suppression export needs -tombstone-keys FILE (or $%s)", envTombstoneKeys)
	}
	ctx, o, done, err := c.openSession(dbf, c.warnLogger())
	if err != nil {
		return err
	}
	defer done()
	var w io.Writer = c.stdout
	var file *os.File
	if *out != "" {
		if file, err = os.OpenFile(*out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600); err != nil {
			return usagef("-o: %v", err)
		}
		defer file.Close()
		w = file
	}
	bw := bufio.NewWriter(w)
	cw := csv.NewWriter(bw)
	cw.Write([]string{"identity", "key_id", "hash"})
	n := 0
	err = o.store.EachTombstone(ctx, *keyID, func(identity, key, hash string) error {
		n++
		return cw.Write([]string{identity, key, hash})
	})
	cw.Flush()
	if err == nil {
		err = cw.Error()
	}
	if err == nil {
		err = bw.Flush()
	}
	if err == nil && file != nil {
		err = file.Close()
	}
	if err != nil {
		if file != nil {
			os.Remove(*out) // half a list must not pass for the whole
		}
		if ctx.Err() != nil {
			return errInterrupted
		}
		return err
	}
	fmt.Fprintf(c.stderr, "exported %d tombstones\n", n)
	return nil
}
