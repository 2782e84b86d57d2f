package forget

import (
	"encoding/base32"
	"fmt"
	"io"
	"time"
)

// Value is what an erased field or column becomes: a string, or SQL NULL,
// or, when Derive is set, what the store computes from the old value (a
// keyed hash, a redaction). The zero Value is the empty string.
type Value struct {
	String string
	Null   bool
	// Derive, when set, says how the store computes the new value from
	// the old one, which only the store reads; String and Null are then
	// unused. See [KeyedHash], [RedactText] and [RedactJSON].
	Derive *Derivation
}

// Rule decides what an erased field becomes. Build one with [Empty],
// [Null], [Fixed], [Pseudonym], [Random] or [Func], or, for a rule the
// store computes from the old value, [KeyedHash], [RedactText] or
// [RedactJSON]; the zero Rule is "unset" and a catalogue holding one
// fails validation.
type Rule struct {
	kind   ruleKind
	fixed  string
	fn     RuleFunc
	derive *Derivation
}

type ruleKind uint8

const (
	ruleUnset ruleKind = iota
	ruleEmpty
	ruleNull
	ruleFixed
	rulePseudonym
	ruleRandom
	ruleFunc
	ruleDerived // KeyedHash, RedactText, RedactJSON: see derive.go
)

// RuleFunc computes the new value of a field. It never sees the old value,
// so it cannot leak it. Rand is the Forgetter's randomness source.
type RuleFunc func(in RuleInput) (Value, error)

// RuleInput is what a RuleFunc may base a new value on.
type RuleInput struct {
	Field string    // the field or "table.column" being erased
	Rand  io.Reader // the Forgetter's randomness source
	Now   time.Time // the Forgetter's clock, read once per forget
}

// Empty overwrites the field with the empty string.
func Empty() Rule { return Rule{kind: ruleEmpty} }

// Null overwrites the field with SQL NULL.
func Null() Rule { return Rule{kind: ruleNull} }

// Fixed overwrites the field with v.
func Fixed(v string) Rule { return Rule{kind: ruleFixed, fixed: v} }

// Pseudonym overwrites the field with a fresh, unpredictable name of
// 32 characters that holds nothing of the old value: "forgot-"
// followed by 125 random bits. It suits unique columns such as usernames:
// nobody can register the pseudonym first and so make a later forget fail.
func Pseudonym() Rule { return Rule{kind: rulePseudonym} }

// Random overwrites the field with 32 characters carrying 160
// random bits, so that no password, hash, token or session, empty ones
// included, can match the forgotten customer again.
func Random() Rule { return Rule{kind: ruleRandom} }

// Func overwrites the field with what fn returns. A nil fn leaves the rule
// unset, which validation rejects.
func Func(fn RuleFunc) Rule {
	if fn == nil {
		return Rule{}
	}
	return Rule{kind: ruleFunc, fn: fn}
}

// String names the kind of rule. It never shows a fixed value.
func (r Rule) String() string {
	switch r.kind {
	case ruleEmpty:
		return "empty"
	case ruleNull:
		return "null"
	case ruleFixed:
		return "fixed"
	case rulePseudonym:
		return "pseudonym"
	case ruleRandom:
		return "random"
	case ruleFunc:
		return "func"
	case ruleDerived:
		return r.derive.Kind()
	}
	return "unset"
}

const (
	pseudonymPrefix = "forgot-"
	// pseudonymLen is the length of every value the Pseudonym rule makes;
	// it fits a 32-character column.
	pseudonymLen = len(pseudonymPrefix) + 25
	// randomLen is the length of every value the Random rule makes.
	randomLen = 32
)

// lowerBase32 spells random bytes with letters and digits only, so the
// values survive any collation, URL or shell unquoted.
var lowerBase32 = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// entropyBytes is how many random bytes the rule consumes.
func (r Rule) entropyBytes() int {
	switch r.kind {
	case rulePseudonym:
		return pseudonymBytes
	case ruleRandom:
		return randomBytes
	}
	return 0
}

const (
	pseudonymBytes = 16 // 128 bits, of which the 25 characters keep 125
	randomBytes    = 20 // 160 bits: exactly 32 base32 characters
)

// apply computes the rule's value. Pseudonym and Random take their bytes
// from entropy, which the Forgetter fills with one read per forget; Func
// rules read rnd themselves. name is used only in error messages.
func (r Rule) apply(name string, entropy *[]byte, rnd io.Reader, now time.Time) (Value, error) {
	switch r.kind {
	case ruleEmpty:
		return Value{}, nil
	case ruleNull:
		return Value{Null: true}, nil
	case ruleFixed:
		return Value{String: r.fixed}, nil
	case rulePseudonym, ruleRandom:
		n := r.entropyBytes()
		if len(*entropy) < n {
			return Value{}, fmt.Errorf("forget: %s value for %s: not enough randomness", r, name)
		}
		raw := (*entropy)[:n]
		*entropy = (*entropy)[n:]
		var out [64]byte
		if r.kind == ruleRandom {
			lowerBase32.Encode(out[:], raw)
			return Value{String: string(out[:randomLen])}, nil
		}
		copy(out[:], pseudonymPrefix)
		lowerBase32.Encode(out[len(pseudonymPrefix):], raw)
		return Value{String: string(out[:pseudonymLen])}, nil
	case ruleFunc:
		v, err := r.fn(RuleInput{Field: name, Rand: rnd, Now: now})
		if err != nil {
			return Value{}, fmt.Errorf("forget: rule for %s: %w", name, err)
		}
		if v.Derive != nil {
			return Value{}, fmt.Errorf("forget: rule for %s: a Func rule may not return a derived value", name)
		}
		return v, nil
	case ruleDerived:
		return Value{Derive: r.derive}, nil
	}
	return Value{}, fmt.Errorf("forget: field %s has no rule", name)
}

// RuleOutput describes what a rule writes, so that a store can check at
// start-up that a column can hold it.
type RuleOutput struct {
	// MaxLen is the longest value in bytes the rule writes, or -1 when it
	// cannot be known (a Func rule).
	MaxLen int
	// Null is set when the rule writes SQL NULL.
	Null bool
	// Distinct is set when every forget writes a fresh value, so that a
	// unique column accepts it for any number of customers. A Func rule
	// is assumed to be distinct; the store cannot tell.
	Distinct bool
	// Text is set when the rule writes a string (every rule but Null; a
	// Func rule is assumed to).
	Text bool
	// Fixed is the value a Fixed rule writes; "" otherwise.
	Fixed string
	// FromOld names the kind of a rule whose value the store computes
	// from the old one ("keyed_hash", "redact_text", "redact_json"): the
	// store reads the column, derives the value in Go and writes it back.
	// "" for every other rule.
	FromOld string
}

// Output describes what r writes.
func (r Rule) Output() RuleOutput {
	switch r.kind {
	case ruleEmpty:
		return RuleOutput{MaxLen: 0, Text: true}
	case ruleNull:
		return RuleOutput{Null: true}
	case ruleFixed:
		return RuleOutput{MaxLen: len(r.fixed), Text: true, Fixed: r.fixed}
	case rulePseudonym:
		return RuleOutput{MaxLen: pseudonymLen, Distinct: true, Text: true}
	case ruleRandom:
		return RuleOutput{MaxLen: randomLen, Distinct: true, Text: true}
	case ruleFunc:
		return RuleOutput{MaxLen: -1, Distinct: true, Text: true}
	case ruleDerived:
		return r.derive.output()
	}
	return RuleOutput{}
}
