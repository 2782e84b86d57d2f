package forget

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
)

// Field names a customer attribute that a forget can erase.
type Field string

// Table names a table of rows that belong to a customer and that a forget
// can purge.
type Table string

// The fields of Offerit's catalogue, in the order they are erased and
// reported.
const (
	Username          Field = "username"
	TokenHash         Field = "token_hash"
	OriginalUsername  Field = "original_username"
	Password          Field = "password"
	Cryptpass         Field = "cryptpass"
	Session           Field = "session"
	Firstname         Field = "firstname"
	Lastname          Field = "lastname"
	Address1          Field = "address1"
	Address2          Field = "address2"
	City              Field = "city"
	State             Field = "state"
	Zip               Field = "zip"
	Country           Field = "country"
	ShippingFirstname Field = "shipping_firstname"
	ShippingLastname  Field = "shipping_lastname"
	ShippingAddress1  Field = "shipping_address1"
	ShippingAddress2  Field = "shipping_address2"
	ShippingZip       Field = "shipping_zip"
	ShippingCity      Field = "shipping_city"
	ShippingState     Field = "shipping_state"
	ShippingCountry   Field = "shipping_country"
	Phone             Field = "phone"
)

// The tables of Offerit's catalogue.
const (
	MemberAuth Table = "member_auth"
	MemberNote Table = "member_note"
)

// FieldSpec is one catalogue field and the rule that erases it.
type FieldSpec struct {
	Name Field
	Rule Rule
}

// TableSpec is one catalogue table. With no Scrub columns a forget deletes
// the customer's rows; with Scrub columns it keeps the rows and overwrites
// those columns instead, each by its rule.
type TableSpec struct {
	Name  Table
	Scrub []ColumnRule
}

// ColumnRule overwrites one column of a scrubbed table.
type ColumnRule struct {
	Column string
	Rule   Rule
}

// Catalogue is the set of fields and tables a Forgetter can erase. It is
// plain data: build it from [DefaultCatalogue], change it, and let [New]
// validate it (or call [Catalogue.Validate] in your own tests).
type Catalogue struct {
	Fields []FieldSpec
	Tables []TableSpec
}

// DefaultCatalogue returns a fresh copy of Offerit's catalogue with the
// default rules: pseudonyms for the usernames, random values for
// credentials, the empty string for every other field, and row deletion for
// both tables.
func DefaultCatalogue() Catalogue {
	fields := []Field{
		Username, TokenHash, OriginalUsername, Password, Cryptpass, Session,
		Firstname, Lastname, Address1, Address2, City, State, Zip, Country,
		ShippingFirstname, ShippingLastname, ShippingAddress1, ShippingAddress2,
		ShippingZip, ShippingCity, ShippingState, ShippingCountry, Phone,
	}
	c := Catalogue{Fields: make([]FieldSpec, 0, len(fields))}
	for _, f := range fields {
		c.Fields = append(c.Fields, FieldSpec{Name: f, Rule: defaultRule(f)})
	}
	c.Tables = []TableSpec{{Name: MemberAuth}, {Name: MemberNote}}
	return c
}

func defaultRule(f Field) Rule {
	switch f {
	case Username, OriginalUsername:
		return Pseudonym()
	case Password, Cryptpass, TokenHash, Session:
		return Random()
	}
	return Empty()
}

// SetRule replaces the rule of field f. It reports an error when the
// catalogue has no such field.
func (c *Catalogue) SetRule(f Field, r Rule) error {
	for i := range c.Fields {
		if c.Fields[i].Name == f {
			c.Fields[i].Rule = r
			return nil
		}
	}
	return fmt.Errorf("forget: catalogue has no field %q", f)
}

// Validate reports every problem with the catalogue: names that are empty,
// not lower-case identifiers, or used twice (a table and a field may not
// share a name either, since a keep list mixes them); fields, and scrubbed
// columns, without a rule.
func (c Catalogue) Validate() error {
	var errs []error
	seen := make(map[string]string) // name -> "field" or "table"
	claim := func(name, kind string) {
		if !isCatalogueName(name) {
			errs = append(errs, fmt.Errorf("%s name %q must match [a-z][a-z0-9_]* (at most 64 characters)", kind, name))
			return
		}
		if prev, dup := seen[name]; dup {
			errs = append(errs, fmt.Errorf("%s %q is already a %s", kind, name, prev))
			return
		}
		seen[name] = kind
	}
	if len(c.Fields) == 0 && len(c.Tables) == 0 {
		errs = append(errs, errors.New("catalogue is empty"))
	}
	for _, f := range c.Fields {
		claim(string(f.Name), "field")
		if f.Rule.kind == ruleUnset {
			errs = append(errs, fmt.Errorf("field %q has no rule", f.Name))
		}
	}
	for _, t := range c.Tables {
		claim(string(t.Name), "table")
		cols := make(map[string]bool)
		for _, col := range t.Scrub {
			switch {
			case col.Column == "":
				errs = append(errs, fmt.Errorf("table %q scrubs a column with no name", t.Name))
			case cols[col.Column]:
				errs = append(errs, fmt.Errorf("table %q scrubs column %q twice", t.Name, col.Column))
			case col.Rule.kind == ruleUnset:
				errs = append(errs, fmt.Errorf("table %q column %q has no rule", t.Name, col.Column))
			}
			cols[col.Column] = true
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("forget: invalid catalogue: %w", errors.Join(errs...))
	}
	return nil
}

// maxCatalogueName is the longest catalogue name: a keep item longer than
// this is unknown without looking.
const maxCatalogueName = 64

func isCatalogueName(s string) bool {
	if s == "" || len(s) > maxCatalogueName || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// catalogue is a validated Catalogue with an index for keep parsing.
type catalogue struct {
	Catalogue
	index map[string]int // name -> position: fields first, then tables
}

func compile(c Catalogue) (*catalogue, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	cc := &catalogue{
		Catalogue: Catalogue{
			Fields: slices.Clone(c.Fields),
			Tables: make([]TableSpec, len(c.Tables)),
		},
		index: make(map[string]int, len(c.Fields)+len(c.Tables)),
	}
	for i, f := range c.Fields {
		cc.index[string(f.Name)] = i
	}
	for i, t := range c.Tables {
		cc.Tables[i] = TableSpec{Name: t.Name, Scrub: slices.Clone(t.Scrub)}
		cc.index[string(t.Name)] = len(c.Fields) + i
	}
	return cc, nil
}

// keepSet is a parsed keep list: the catalogue entries a forget preserves.
// The zero keepSet keeps nothing.
type keepSet struct {
	kept []bool // by catalogue position
}

// hasPos reports whether the entry at catalogue position i is kept.
func (k keepSet) hasPos(i int) bool { return i < len(k.kept) && k.kept[i] }

// ParseKeep parses one or more comma-separated keep lists and returns the
// names they keep, in catalogue order. Spaces around names and empty items
// are ignored, names are case-insensitive, duplicates are harmless, and
// fields and tables may be mixed. Any unknown name makes the whole list
// invalid: the error is an [*UnknownNamesError] naming the first few and
// counting them all.
func (c Catalogue) ParseKeep(lists ...string) ([]string, error) {
	cc, err := compile(c)
	if err != nil {
		return nil, err
	}
	k, err := cc.parseKeep(lists)
	if err != nil {
		return nil, err
	}
	var names []string
	for i, f := range cc.Fields {
		if k.hasPos(i) {
			names = append(names, string(f.Name))
		}
	}
	for i, t := range cc.Tables {
		if k.hasPos(len(cc.Fields) + i) {
			names = append(names, string(t.Name))
		}
	}
	return names, nil
}

func (c *catalogue) parseKeep(lists []string) (keepSet, error) {
	var k keepSet
	var unknown unknownNames
	for _, list := range lists {
		for item := range strings.SplitSeq(list, ",") {
			name := strings.TrimSpace(item)
			if name == "" {
				continue
			}
			pos, ok := c.position(name)
			if !ok {
				unknown.add(name)
				continue
			}
			if k.kept == nil {
				k.kept = make([]bool, len(c.index))
			}
			k.kept[pos] = true
		}
	}
	if err := unknown.err(); err != nil {
		return keepSet{}, err
	}
	return k, nil
}

// position finds a keep name in the catalogue, ignoring ASCII case. Only
// ASCII is folded: catalogue names are ASCII, and strings.ToLower would
// also turn the Kelvin sign into "k". It does not allocate.
func (c *catalogue) position(name string) (int, bool) {
	if pos, ok := c.index[name]; ok {
		return pos, true
	}
	if len(name) > maxCatalogueName {
		return 0, false
	}
	var buf [maxCatalogueName]byte
	for i := 0; i < len(name); i++ {
		b := name[i]
		if 'A' <= b && b <= 'Z' {
			b += 'a' - 'A'
		}
		buf[i] = b
	}
	pos, ok := c.index[string(buf[:len(name)])]
	return pos, ok
}

// unknownNames collects the unknown names of a keep list in linear time:
// the first few, cut short, for the message, and a count of the distinct
// others. A set, not a list search: a 1 MiB list holds 200,000 names.
type unknownNames struct {
	shown []string
	seen  map[string]struct{} // every distinct unknown name, once there are more than shown
	count int
}

func (u *unknownNames) add(name string) {
	if u.seen == nil {
		for _, s := range u.shown {
			if s == name {
				return
			}
		}
		if len(u.shown) < MaxUnknownNamesShown {
			u.shown = append(u.shown, name)
			u.count++
			return
		}
		u.seen = make(map[string]struct{}, 2*MaxUnknownNamesShown)
		for _, s := range u.shown {
			u.seen[s] = struct{}{}
		}
	}
	if _, dup := u.seen[name]; !dup {
		u.seen[name] = struct{}{}
		u.count++
	}
}

func (u *unknownNames) err() error {
	if u.count == 0 {
		return nil
	}
	names := make([]string, len(u.shown))
	for i, s := range u.shown {
		// A copy, so the error does not pin the request body.
		names[i] = strings.Clone(cutName(s, MaxUnknownNameBytes))
	}
	return &UnknownNamesError{Names: names, Count: u.count}
}

// cutName cuts s to at most max bytes, "..." included, at a rune
// boundary. Cutting a cut name changes nothing.
func cutName(s string, max int) string {
	if len(s) <= max {
		return s
	}
	n := max - len("...")
	for i := 1; i < utf8.UTFMax && n > 0 && !utf8.RuneStart(s[n]); i++ {
		n-- // back to the start of a rune, unless s is not UTF-8 there
	}
	return s[:n] + "..."
}
