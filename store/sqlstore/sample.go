package sqlstore

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strings"
)

// sampleChars is how much of each sampled value is read: enough for any
// e-mail address or phone number near the start of a long text, and a
// bound on what one row costs.
const sampleChars = 4096

// sampleColumns reads up to n values of each unclassified or key column
// of cov that holds text, or holds values that read as text (JSON,
// arrays, bytes), and records what they look like; a key whose values
// look personal is unclassified then. It never keeps, logs or returns a
// value: its errors name the table and column only.
func (s *Store) sampleColumns(ctx context.Context, cov *Coverage, n int) error {
	for ti := range cov.Tables {
		t := &cov.Tables[ti]
		for ci := range t.Columns {
			col := &t.Columns[ci]
			if col.Class != ClassUnclassified && col.Class != ClassKey || !sampledAsText(col.kind, col.Type) {
				continue
			}
			counts, err := s.sampleColumn(ctx, t.info, col, n)
			if err != nil {
				return fmt.Errorf("sample %s.%s: %w", t.Table, col.Column, err)
			}
			col.Sample = counts
			hint := counts.hint()
			switch {
			case hint == "" || col.LikelyPersonal:
			case col.Class == ClassKey:
				col.Class, col.LikelyPersonal, col.Hint = ClassUnclassified, true, "a key ("+col.By+"), but "+hint
			default:
				col.LikelyPersonal, col.Hint = true, hint
			}
		}
	}
	return nil
}

// sampledTypes are the types, besides text, whose values are sampled
// read as text: JSON, arrays, bytes, XML, addresses, sets. A SQLite column
// with no declared type holds anything.
var sampledTypes = []string{"json", "[]", "array", "bytea", "blob", "binary", "xml", "hstore", "inet", "cidr", "macaddr", "set(", "enum("}

func sampledAsText(kind ColumnKind, typ string) bool {
	switch {
	case kind == KindText:
		return true
	case kind != KindOther:
		return false
	case typ == "":
		return true
	}
	return slices.ContainsFunc(sampledTypes, func(w string) bool { return strings.Contains(typ, w) })
}

func (s *Store) sampleColumn(ctx context.Context, t *TableInfo, cc *ColumnCoverage, n int) (*SampleCounts, error) {
	column := cc.Column
	table, err := quoteTable(s.dialect, t)
	if err != nil {
		return nil, err
	}
	col, err := quoteAny(s.dialect, column)
	if err != nil {
		return nil, err
	}
	expr := col
	if cc.kind != KindText {
		expr = "CAST(" + col + " AS " + s.dialect.engine().textType + ")"
	}
	// PostgreSQL writes bytes as hexadecimal text (\x6a6f...): decoded
	// below, so twice the characters.
	bytea := strings.HasPrefix(cc.Type, "bytea")
	chars := sampleChars
	if bytea {
		chars = 2*sampleChars + 2
	}
	query, args, err := s.sb.Select(fmt.Sprintf("substr(%s, 1, %d)", expr, chars)).
		From(table).Where(col + " IS NOT NULL").Limit(uint64(n)).ToSql()
	if err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, safeError(err)
	}
	defer rows.Close()
	counts := &SampleCounts{}
	var v sql.RawBytes // the driver's buffer, overwritten by the next row
	var buf []byte
	for rows.Next() {
		if err := rows.Scan(&v); err != nil {
			return nil, safeError(err)
		}
		if bytea && bytes.HasPrefix(v, []byte(`\x`)) {
			if buf, err = hex.AppendDecode(buf[:0], v[2:len(v)&^1]); err == nil {
				v = buf
			}
		}
		counts.Values++
		if looksEmail(v) {
			counts.Emails++
		}
		if looksPhone(v) {
			counts.Phones++
		}
		if looksIP(v) {
			counts.IPs++
		}
	}
	if err := rows.Err(); err != nil {
		return nil, safeError(err)
	}
	return counts, nil
}

// hint says why sampled values look personal, or "".
func (c *SampleCounts) hint() string {
	var what []string
	for _, x := range []struct {
		n    int
		name string
	}{{c.Emails, "e-mail addresses"}, {c.Phones, "phone numbers"}, {c.IPs, "IP addresses"}} {
		if x.n > 0 {
			what = append(what, fmt.Sprintf("%d %s", x.n, x.name))
		}
	}
	if len(what) == 0 {
		return ""
	}
	return fmt.Sprintf("of %d values sampled, some hold %s", c.Values, strings.Join(what, ", "))
}

// quoteAny quotes any identifier read from the catalogue, whatever it
// holds, by doubling the quote character; names with a NUL byte, which no
// engine's quoting can carry, are refused.
func quoteAny(d Dialect, name string) (string, error) {
	if strings.IndexByte(name, 0) >= 0 || name == "" {
		return "", fmt.Errorf("the name %q cannot be quoted", name)
	}
	q := d.engine().identQuote
	return q + strings.ReplaceAll(name, q, q+q) + q, nil
}

// quoteTable quotes an introspected table: qualified by its schema unless
// it is in the current one.
func quoteTable(d Dialect, t *TableInfo) (string, error) {
	name, err := quoteAny(d, t.Unqualified)
	if err != nil || t.Name == t.Unqualified {
		return name, err
	}
	schema, err := quoteAny(d, t.Schema)
	if err != nil {
		return "", err
	}
	return schema + "." + name, nil
}

var (
	emailRE = regexp.MustCompile(`[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}`)
	ipv4RE  = regexp.MustCompile(`[0-9.]{7,}`)
	ipv6RE  = regexp.MustCompile(`[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}`)
	phoneRE = regexp.MustCompile(`\+?\(?[0-9][0-9 ().\-]{5,22}[0-9]`)
	dateRE  = regexp.MustCompile(`^(?:[0-9]{4}[-./][0-9]{1,2}[-./][0-9]{1,2}|[0-9]{1,2}[-./][0-9]{1,2}[-./][0-9]{4})`)
)

func looksEmail(v []byte) bool { return emailRE.Match(v) }

// looksIP reports an IPv4 address with octets in range, or an IPv6
// address with at least two groups, or ::1 ("d::" in "std::string" is
// not one).
func looksIP(v []byte) bool {
	// A run of digits and dots is an address when it is exactly one,
	// a sentence's full stop aside ("1.2.3.4.5" is not).
	for _, m := range ipv4RE.FindAll(v, -1) {
		if a, err := netip.ParseAddr(string(bytes.TrimRight(m, "."))); err == nil && a.Is4() {
			return true
		}
	}
	if bytes.Count(v, []byte(":")) < 2 {
		return false
	}
	for _, m := range ipv6RE.FindAll(v, -1) {
		a, err := netip.ParseAddr(string(m))
		if err != nil || !a.Is6() {
			continue
		}
		groups := 0
		for g := range bytes.SplitSeq(m, []byte(":")) {
			if len(g) > 0 {
				groups++
			}
		}
		if groups >= 2 || a.IsLoopback() {
			return true
		}
	}
	return false
}

// looksPhone reports 7 to 15 digits written as a phone number is: after a
// +, or grouped by spaces, dashes, dots or parentheses. Bare digit runs
// (ids, timestamps), dates, decimals and IPv4 addresses are not phones.
func looksPhone(v []byte) bool {
	for _, m := range phoneRE.FindAll(v, -1) {
		digits, seps, dots := 0, 0, 0
		for _, c := range m {
			switch {
			case c >= '0' && c <= '9':
				digits++
			case c == '.':
				dots++
				seps++
			case c != '+':
				seps++
			}
		}
		switch {
		case digits < 7 || digits > 15:
		case m[0] != '+' && seps == 0:
		case seps == dots && (dots == 1 || dots == 3):
			// a decimal number, or an IPv4 address
		case dateRE.Match(m):
		default:
			return true
		}
	}
	return false
}
