package sqlstore

import (
	"fmt"
	"strings"

	"github.com/forgetkit/forget"
)

// natsTables maps the NATS member catalogue's tables to their table
// names: the vendor's, in the vendor's case.
var natsTables = map[forget.Table]string{
	"epochtransstats":   "EpochTransStats",
	"membercancelstats": "MemberCancelStats",
}

func natsTable(t forget.Table) string {
	if name, ok := natsTables[t]; ok {
		return name
	}
	return string(t)
}

// NATSMemberSchema returns the mapping of NATS's member forget
// ([forget.NATSMemberCatalogue]) onto the schema [NATSMemberDDL] creates:
// members in member, keyed by an integer memberid, every field a column
// of member; each catalogue table a table of its name keyed by memberid.
// No subscription or order lookups: NATS's endpoint takes memberid only.
//
// The vendor documents the endpoint, not its schema: the table and
// column names beyond the documented table list are guesses. Map a real
// NATS database with a mapping of its own (forget inspect -propose
// writes a first one).
func NATSMemberSchema() Schema {
	s := Schema{
		Customers: CustomerTable{Table: "member", Key: "memberid", KeyType: KeyInt},
		Fields:    make(map[forget.Field]Column),
		Tables:    make(map[forget.Table]RelatedTable),
	}
	s.mapCatalogue(forget.NATSMemberCatalogue(), "memberid", natsTable)
	return s
}

// NATSMemberDDL returns the statements that create the schema
// [NATSMemberSchema] maps, for d, with the default audit table: member
// (memberid, the 23 fields, text columns NOT NULL DEFAULT ”), and each
// catalogue table with an id, an indexed memberid and a data column. It is
// a demonstration schema, not NATS's own. Every statement is idempotent.
func NATSMemberDDL(d Dialect) []string {
	e := d.engine()
	if e == nil {
		return nil
	}
	id, text, name, autoID, tail := e.ddl.id, e.ddl.text, e.ddl.name, e.ddl.autoID, e.ddl.tail
	q := d.quote
	cols := []string{q("memberid") + " " + id + " PRIMARY KEY"}
	for _, f := range forget.NATSMemberCatalogue().Fields {
		typ := text
		if f.Name == forget.Username || f.Name == forget.OriginalUsername {
			typ = name
		}
		cols = append(cols, q(string(f.Name))+" "+typ)
	}
	create := func(table string, cols []string, unique, index string) []string {
		var after []string
		for _, ix := range []struct{ kind, col string }{{"UNIQUE INDEX", unique}, {"INDEX", index}} {
			if ix.col == "" {
				continue
			}
			ixName := q(strings.ToLower(table) + "_" + ix.col)
			if e.ddl.inlineIndexes {
				cols = append(cols, fmt.Sprintf("%s %s (%s)", ix.kind, ixName, q(ix.col)))
			} else {
				after = append(after, fmt.Sprintf("CREATE %s IF NOT EXISTS %s ON %s (%s)", ix.kind, ixName, q(table), q(ix.col)))
			}
		}
		return append([]string{fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s (\n  %s\n)%s", q(table), strings.Join(cols, ",\n  "), tail)}, after...)
	}
	out := create("member", cols, "username", "")
	for _, t := range forget.NATSMemberCatalogue().Tables {
		out = append(out, create(natsTable(t.Name), []string{
			q("id") + " " + autoID,
			q("memberid") + " " + id + " NOT NULL",
			q("data") + " " + text,
		}, "", "memberid")...)
	}
	return append(out, AuditDDL(d, DefaultAuditTable)...)
}
