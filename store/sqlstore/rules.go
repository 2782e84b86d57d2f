package sqlstore

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"

	"github.com/forgetkit/forget"
)

// Rules in the mapping file: a RuleSpec names a rule and its arguments,
// LoadSchema reads a mapping file as the command does, and
// Schema.Catalogue turns a base catalogue and the mapping into the
// catalogue a Forgetter runs, so that the command (forget lint in CI) and
// a Go host check and run the same rules.

// Rule names a mapping file may give.
const (
	RuleEmpty      = "empty"
	RuleNull       = "null"
	RuleFixed      = "fixed"
	RulePseudonym  = "pseudonym"
	RuleRandom     = "random"
	RuleKeyedHash  = "keyed_hash"
	RuleRedactText = "redact_text"
	RuleRedactJSON = "redact_json"
)

var ruleNames = []string{RuleEmpty, RuleNull, RuleFixed, RulePseudonym, RuleRandom, RuleKeyedHash, RuleRedactText, RuleRedactJSON}

// ForgetRule is the forget.Rule the spec names. A fixed rule's Value is
// its literal: a JSON string is written as its text, any other JSON value
// (an object, a number, true) as its JSON text, so {"rule": "fixed",
// "value": {}} writes {} into a jsonb column. A keyed_hash rule hashes
// under the store's key ([WithHashKey]): the key never lives in the
// mapping.
func (r RuleSpec) ForgetRule() (forget.Rule, error) {
	if r.Rule != RuleFixed && len(r.Value) > 0 {
		return forget.Rule{}, fmt.Errorf("rule %s takes no value (only fixed does)", r.Rule)
	}
	if r.Rule != RuleRedactJSON && len(r.Paths) > 0 {
		return forget.Rule{}, fmt.Errorf("rule %s takes no paths (only redact_json does)", clipName(r.Rule))
	}
	if r.Rule != RuleRedactText && len(r.Patterns) > 0 {
		return forget.Rule{}, fmt.Errorf("rule %s takes no patterns (only redact_text does)", clipName(r.Rule))
	}
	switch r.Rule {
	case RuleEmpty:
		return forget.Empty(), nil
	case RuleNull:
		return forget.Null(), nil
	case RulePseudonym:
		return forget.Pseudonym(), nil
	case RuleRandom:
		return forget.Random(), nil
	case RuleKeyedHash:
		return forget.KeyedHash(nil), nil
	case RuleRedactText:
		return forget.RedactText(r.Patterns...), nil
	case RuleRedactJSON:
		return forget.RedactJSON(r.Paths...), nil
	case RuleFixed:
		lit, err := r.literal()
		if err != nil {
			return forget.Rule{}, err
		}
		return forget.Fixed(lit), nil
	}
	return forget.Rule{}, fmt.Errorf("unknown rule %q (one of %v)", clipName(r.Rule), ruleNames)
}

// literal is a fixed rule's value as the text written.
func (r RuleSpec) literal() (string, error) {
	v := bytes.TrimSpace(r.Value)
	if len(v) == 0 {
		return "", errors.New(`rule fixed needs a value ("value": "n/a", {}, "0.0.0.0", 0)`)
	}
	if !json.Valid(v) {
		return "", errors.New("rule fixed: its value is not valid JSON")
	}
	if v[0] == '"' {
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return "", errors.New("rule fixed: its value is not a valid JSON string")
		}
		return s, nil
	}
	if string(v) == "null" {
		return "", errors.New(`rule fixed: a null value writes NULL; use the rule "null"`)
	}
	var b bytes.Buffer
	if err := json.Compact(&b, v); err != nil {
		return "", errors.New("rule fixed: its value is not valid JSON")
	}
	return b.String(), nil
}

// validateRules checks every rule the mapping names (without a
// catalogue), and each Via.Mentions table's shape.
func (s Schema) validateRules() []error {
	var errs []error
	for _, f := range sortedKeys(s.Fields) {
		if r := s.Fields[f].Rule; r != nil {
			if err := checkSpec(*r); err != nil {
				errs = append(errs, fmt.Errorf("field %s: %w", f, err))
			}
		}
	}
	for _, t := range sortedKeys(s.Tables) {
		rt := s.Tables[t]
		for _, c := range sortedKeys(rt.Scrub) {
			if !validIdent(c) {
				errs = append(errs, fmt.Errorf("table %s scrubs column %q, which is not a plain identifier", t, clipName(c)))
			}
			if err := checkSpec(rt.Scrub[c]); err != nil {
				errs = append(errs, fmt.Errorf("table %s column %s: %w", t, c, err))
			}
		}
		if rt.Via != nil && rt.Via.Mentions {
			errs = append(errs, checkMentions(t, rt)...)
		}
	}
	return errs
}

// checkMentions refuses a Via.Mentions table that could do anything but
// redact mentions: it reaches every row of the table, any customer's.
// Without scrub in the mapping, the catalogue's must be redact_text rules
// (Store.CheckCatalogue: checkDerived).
func checkMentions(t forget.Table, rt RelatedTable) []error {
	var errs []error
	if rt.Via.Column != "" || rt.Via.From != "" || rt.Via.Normalize != "" || rt.CustomerKey != "" {
		errs = append(errs, fmt.Errorf("table %s: via mentions takes no column, from, normalize or customer_key", t))
	}
	for _, c := range sortedKeys(rt.Scrub) {
		if rt.Scrub[c].Rule != RuleRedactText {
			errs = append(errs, fmt.Errorf("table %s column %s: via mentions allows only redact_text rules, not %s", t, c, clipName(rt.Scrub[c].Rule)))
		}
	}
	return errs
}

func checkSpec(r RuleSpec) error {
	rule, err := r.ForgetRule()
	if err != nil {
		return err
	}
	cat := forget.Catalogue{Fields: []forget.FieldSpec{{Name: "x", Rule: rule}}}
	if err := cat.Validate(); err != nil {
		return errors.Unwrap(err) // the rule's own problem, without the catalogue's framing
	}
	return nil
}

// LoadSchema reads a mapping file (JSON), refusing unknown keys, so that
// a typo is an error rather than a silently ignored mapping, and anything
// after the mapping; then validates it ([Schema.Validate]). It is how
// the command reads -schema: a Go host that loads the same file and
// builds its catalogue with [Schema.Catalogue] (or
// [Store.ExtendCatalogue]) runs what forget lint checks.
func LoadSchema(r io.Reader) (Schema, error) {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	var s Schema
	if err := dec.Decode(&s); err != nil {
		return Schema{}, fmt.Errorf("sqlstore: mapping: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return Schema{}, errors.New("sqlstore: mapping: more data after the mapping's object")
	}
	if err := s.Validate(); err != nil {
		return Schema{}, err
	}
	return s, nil
}

// Catalogue returns base extended and overridden by the mapping: each
// field the mapping gives a rule gets it, each table the mapping gives
// scrub rules is scrubbed by them (both over base's), each field or table
// the mapping maps that base lacks is added (an extension), and each name
// under absent that base lacks is added as a field, so that the keep
// lists of a Go host whose catalogue has it and of the command, which
// starts from the preset's, accept the same names. An extension field
// without a rule is an error here: name its rule in the mapping, or build
// the catalogue with [Store.ExtendCatalogue], which gives it the rule its
// live column allows.
func (s Schema) Catalogue(base forget.Catalogue) (forget.Catalogue, error) {
	return s.catalogue(base, nil, nil)
}

// catalogue is Catalogue, with pick choosing the rule of an extension
// field that the mapping gives none (nil: refuse it), and order the order
// of the extension tables (nil: by name).
func (s Schema) catalogue(base forget.Catalogue, pick func(forget.Field, Column) forget.Rule, order func([]forget.Table) []forget.Table) (forget.Catalogue, error) {
	var errs []error
	out := forget.Catalogue{Fields: slices.Clone(base.Fields), Tables: slices.Clone(base.Tables)}
	have := map[string]bool{}
	for i, f := range out.Fields {
		have[string(f.Name)] = true
		if m, ok := s.Fields[f.Name]; ok && m.Rule != nil {
			r, err := m.Rule.ForgetRule()
			if err != nil {
				errs = append(errs, fmt.Errorf("field %s: %w", f.Name, err))
			}
			out.Fields[i].Rule = r
		}
	}
	for i, t := range out.Tables {
		have[string(t.Name)] = true
		if rt, ok := s.Tables[t.Name]; ok && len(rt.Scrub) > 0 {
			sc, err := scrubRules(t.Name, rt.Scrub)
			errs = append(errs, err...)
			out.Tables[i].Scrub = sc
		}
	}
	for _, f := range sortedKeys(s.Fields) {
		if have[string(f)] {
			continue
		}
		m := s.Fields[f]
		var r forget.Rule
		var err error
		switch {
		case m.Rule != nil:
			r, err = m.Rule.ForgetRule()
		case pick != nil:
			r = pick(f, m)
		default:
			err = errors.New("an extension field needs a rule in the mapping (or build the catalogue with Store.ExtendCatalogue, which picks the rule its column allows)")
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("field %s: %w", f, err))
		}
		out.Fields = append(out.Fields, forget.FieldSpec{Name: f, Rule: r})
		have[string(f)] = true
	}
	var ext []forget.Table
	for _, t := range sortedKeys(s.Tables) {
		if !have[string(t)] {
			ext = append(ext, t)
		}
	}
	if order != nil {
		ext = order(ext)
	}
	for _, t := range ext {
		sc, err := scrubRules(t, s.Tables[t].Scrub)
		errs = append(errs, err...)
		out.Tables = append(out.Tables, forget.TableSpec{Name: t, Scrub: sc})
		have[string(t)] = true
	}
	absent := slices.Clone(s.Absent)
	sort.Strings(absent)
	for _, a := range absent {
		if !have[a] {
			// Never written (absent): its rule only satisfies validation.
			out.Fields = append(out.Fields, forget.FieldSpec{Name: forget.Field(a), Rule: forget.Empty()})
			have[a] = true
		}
	}
	if len(errs) > 0 {
		return forget.Catalogue{}, fmt.Errorf("sqlstore: catalogue from the mapping: %w", errors.Join(errs...))
	}
	return out, nil
}

// scrubRules are a mapped table's scrub rules, by column name.
func scrubRules(t forget.Table, scrub map[string]RuleSpec) ([]forget.ColumnRule, []error) {
	var out []forget.ColumnRule
	var errs []error
	for _, c := range sortedKeys(scrub) {
		r, err := scrub[c].ForgetRule()
		if err != nil {
			errs = append(errs, fmt.Errorf("table %s column %s: %w", t, c, err))
		}
		out = append(out, forget.ColumnRule{Column: c, Rule: r})
	}
	return out, errs
}
