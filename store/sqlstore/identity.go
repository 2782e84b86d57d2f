package sqlstore

import (
	"context"
	"fmt"
	"strings"

	"github.com/forgetkit/forget"
)

// Identity declares a column that names a person outside the store's
// keys, an e-mail address or a phone number, and how its values are
// normalised before they are compared or hashed:
//
//	"identities": [
//	  {"name": "email", "column": "email", "normalize": "email", "plus_address": "strip"},
//	  {"name": "phone", "column": "phone", "normalize": "e164", "default_country": "+44"}
//	]
//
// With tombstone keys ([WithTombstoneKeys]), a forget that erases the
// column leaves a keyed hash of its normalised value, and
// [Store.Forgotten] answers from them.
type Identity struct {
	// Name is what callers ask about ([forget.Identity].Name):
	// [a-z][a-z0-9_]*, at most 64 characters, unique in the mapping.
	Name string `json:"name"`
	// Table is the customers table (empty) or a joined table.
	Table string `json:"table,omitempty"`
	// Column holds the value, text; a catalogue field must erase it.
	Column string `json:"column"`
	// Normalize is "email" (trimmed, lower-cased) or "e164" (+ and
	// digits).
	Normalize string `json:"normalize"`
	// PlusAddress, for email, is "keep" (the default) or "strip":
	// jane+news@example.org is then jane@example.org.
	PlusAddress string `json:"plus_address,omitempty"`
	// DefaultCountry, for e164, is the calling code of numbers stored
	// without one ("+44": 07700 900123 is +447700900123).
	DefaultCountry string `json:"default_country,omitempty"`
}

// Normalization is the identity's normalisation as the root package
// applies it.
func (id Identity) Normalization() forget.Normalization {
	return forget.Normalization{Kind: id.Normalize, StripPlus: id.PlusAddress == "strip", DefaultCountry: id.DefaultCountry}
}

// validateIdentities reports every malformed identity.
func (s Schema) validateIdentities() []error {
	var errs []error
	seen := map[string]bool{}
	cols := map[string]string{}
	for i, id := range s.Identities {
		what := fmt.Sprintf("identity %d (%q)", i+1, clipName(id.Name))
		if !holdName(id.Name) {
			errs = append(errs, fmt.Errorf("%s: the name must match [a-z][a-z0-9_]* (at most 64 characters)", what))
		} else if seen[id.Name] {
			errs = append(errs, fmt.Errorf("%s: two identities are named %s", what, id.Name))
		}
		seen[id.Name] = true
		if id.Table != "" && id.Table != s.Customers.Table {
			if _, ok := s.Joined[id.Table]; !ok {
				errs = append(errs, fmt.Errorf("%s: table %q is neither the customers table nor joined", what, clipName(id.Table)))
			}
		}
		if !validIdent(id.Column) || strings.Contains(id.Column, ".") {
			errs = append(errs, fmt.Errorf("%s: column %q is not a plain identifier", what, clipName(id.Column)))
		}
		key := strings.ToLower(id.table(s) + "." + id.Column)
		if prev, dup := cols[key]; dup {
			errs = append(errs, fmt.Errorf("%s: identity %s declares the same column", what, prev))
		}
		cols[key] = id.Name
		if validIdent(id.Column) && s.identityField(id) == "" {
			errs = append(errs, fmt.Errorf("%s: no field erases %s.%s; map a catalogue field (an extension such as email) to it", what, id.table(s), id.Column))
		}
		if id.PlusAddress != "" && id.PlusAddress != "keep" && id.PlusAddress != "strip" {
			errs = append(errs, fmt.Errorf("%s: plus_address %q must be keep or strip", what, clipName(id.PlusAddress)))
		} else if err := id.Normalization().Validate(); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", what, err))
		} else if id.PlusAddress != "" && id.Normalize != forget.NormalizeEmail {
			errs = append(errs, fmt.Errorf("%s: plus_address applies to email only", what))
		}
	}
	return errs
}

// table is the identity's table, the customers table when it names none.
func (id Identity) table(s Schema) string {
	if id.Table == "" {
		return s.Customers.Table
	}
	return id.Table
}

// identities checks that each identity's column exists and holds text.
func (v *verifier) identities(ctx context.Context) {
	sc := v.s.schema
	for _, id := range sc.Identities {
		what := "identity " + id.Name
		t := v.table(id.table(sc), what)
		col := v.column(t, id.Column, what)
		if col != nil && col.Kind != KindText {
			v.fail("%s: column %s.%s is %s, not text", what, t.Name, col.Name, col.Type)
		}
	}
	v.tombstoneTable(ctx)
}
