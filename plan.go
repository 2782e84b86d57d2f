package forget

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Plan is what a Store must do to one customer. Fields and tables are in
// catalogue order, so the same request always yields the same plan.
type Plan struct {
	Fields []Assignment
	Tables []TableAction
	DryRun bool
	// IgnoreHolds names holds the store must not check (see
	// Request.IgnoreHolds); the store refuses names it does not declare
	// with an *UnknownHoldError. It is also in Record.HoldsIgnored.
	IgnoreHolds []string
	// UnlessForgottenSince, when set (by [Forgetter.Sweep]), makes the
	// store skip, with [ErrAlreadyForgotten], a customer its audit trail
	// shows fully forgotten (nothing kept, not held) at or after it. The
	// store checks inside the forget's transaction, with the customer
	// locked, so that two sweeps at once never erase one customer twice.
	UnlessForgottenSince time.Time
	// Repropagate, from Request.Repropagate, makes a repeat's event
	// publishable as any other; without it the store records a repeat's
	// event as published already, so that no relay sends it.
	Repropagate bool
	// Record is the receipt of this forget but for what only the store
	// learns (the customer id and row counts); [Plan.Receipt] completes
	// it. A store that keeps an audit trail completes and records it
	// inside the forget's transaction, so that there is never an erasure
	// without its record nor a record without its erasure.
	Record Receipt

	cert *certifying // the Forgetter's, when it certifies erasures
}

// Receipt completes p.Record with what the store reports of the forget.
// It is a pure function of the plan and the result. When the Forgetter
// certifies erasures ([WithCertifier]), the receipt of a real forget
// carries its certificate (a store that turns it into a refusal's record
// drops it).
func (p Plan) Receipt(res Result) Receipt {
	rc, _ := p.receipt(res)
	return rc
}

// receipt is [Plan.Receipt], and why it has no certificate when the
// Forgetter's certifier failed.
func (p Plan) receipt(res Result) (Receipt, error) {
	rc := p.Record
	rc.CustomerID = res.CustomerID
	rc.Inventory = res.Inventory
	rc.RowsUpdated = res.Updated
	rc.Redactions = res.Redacted
	rc.Repeat = res.Repeat
	if len(res.Unwritten) > 0 {
		// No row held them: not erased, and said so. The plan's slices
		// are shared; these are the receipt's own.
		rc.FieldsErased = slices.DeleteFunc(slices.Clone(rc.FieldsErased), func(f Field) bool { return slices.Contains(res.Unwritten, f) })
		rc.Absent = slices.Clone(rc.Absent)
		for _, f := range res.Unwritten {
			rc.Absent = append(rc.Absent, string(f))
		}
	}
	rc.RowsShared = nil
	for t, n := range res.Shared {
		if n > 0 {
			if rc.RowsShared == nil {
				rc.RowsShared = make(map[Table]int64, len(res.Shared))
			}
			rc.RowsShared[t] = n
		}
	}
	rc.RowsDeleted = make(map[Table]int64, len(p.Tables))
	rc.RowsScrubbed = nil
	for _, t := range p.Tables {
		if len(t.Scrub) > 0 {
			if rc.RowsScrubbed == nil {
				rc.RowsScrubbed = make(map[Table]int64)
			}
			rc.RowsScrubbed[t.Table] = res.Rows[t.Table]
			continue
		}
		rc.RowsDeleted[t.Table] = res.Rows[t.Table]
	}
	rc.Certificate = nil
	if p.cert == nil || p.DryRun {
		return rc, nil
	}
	cert, err := p.cert.certify(rc)
	rc.Certificate = cert
	return rc, err
}

// Assignment sets a field to a new value.
type Assignment struct {
	Field Field
	Value Value
	// Fresh marks a value drawn anew by every forget (a pseudonym, a
	// random value): a store cannot tell by it whether the field still
	// holds what an earlier forget wrote (see Result.Repeat).
	Fresh bool
}

// TableAction purges the customer's rows from Table, or, when Scrub is not
// empty, overwrites those columns of the rows instead.
type TableAction struct {
	Table Table
	Scrub []ColumnAssignment
}

// ColumnAssignment sets a column of a scrubbed table.
type ColumnAssignment struct {
	Column string
	Value  Value
}

// prepared is a checked request and its plan.
type prepared struct {
	lookup Lookup
	plan   Plan
}

func (f *Forgetter) prepare(ctx context.Context, req Request) (prepared, error) {
	if err := f.ensureVerified(ctx); err != nil {
		return prepared{}, err
	}
	lookup, err := req.Lookup.Normalize()
	if err != nil {
		return prepared{}, err
	}
	keep, err := f.cat.parseKeep(req.Keep)
	if err != nil {
		return prepared{}, err
	}
	principal := req.Principal
	if principal == "" {
		principal = principalFrom(ctx)
	}
	if err := checkLabel("principal", principal); err != nil {
		return prepared{}, err
	}
	if err := checkLabel("request id", req.RequestID); err != nil {
		return prepared{}, err
	}
	now := f.now()
	plan, err := f.plan(keep, req.DryRun, now)
	if err != nil {
		return prepared{}, err
	}
	plan.Record = f.record(keep, req.DryRun, now, principal, req.RequestID, plan.Record.EventID)
	for _, h := range req.IgnoreHolds {
		if err := checkLabel("hold to ignore", h); err != nil || h == "" {
			return prepared{}, &UnknownHoldError{Hold: h}
		}
	}
	if len(req.IgnoreHolds) > 0 {
		plan.IgnoreHolds = slices.Clone(req.IgnoreHolds)
		plan.Record.HoldsIgnored = plan.IgnoreHolds
	}
	plan.cert = f.cert
	plan.UnlessForgottenSince = req.sweptSince
	plan.Repropagate = req.Repropagate
	return prepared{lookup: lookup, plan: plan}, nil
}

// MaxLabelLen bounds a principal or request id: they are written to every
// receipt and audit record, whose columns have a size.
const MaxLabelLen = 128

// checkLabel refuses a principal or request id that an audit column could
// not hold or a log could be confused by.
func checkLabel(what, v string) error {
	if len(v) > MaxLabelLen {
		return invalid(fmt.Sprintf("the %s is longer than %d bytes", what, MaxLabelLen))
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < 0x20 || c == 0x7f {
			return invalid("the " + what + " holds a control character")
		}
	}
	if !utf8.ValidString(v) {
		return invalid("the " + what + " is not valid UTF-8")
	}
	return nil
}

func (f *Forgetter) plan(keep keepSet, dryRun bool, now time.Time) (Plan, error) {
	// One read of the randomness source serves every pseudonym and
	// random value of the plan: reads are system calls.
	need := eventIDBytes
	for i, fs := range f.cat.Fields {
		if f.erases(keep, i) {
			need += fs.Rule.entropyBytes()
		}
	}
	base := len(f.cat.Fields)
	for i, ts := range f.cat.Tables {
		if f.erases(keep, base+i) {
			for _, cr := range ts.Scrub {
				need += cr.Rule.entropyBytes()
			}
		}
	}
	var stack [256]byte
	var entropy []byte
	if need > len(stack) {
		entropy = make([]byte, need)
	} else {
		entropy = stack[:need]
	}
	if _, err := io.ReadFull(f.rand, entropy); err != nil {
		return Plan{}, fmt.Errorf("forget: read randomness: %w", err)
	}

	// A dry run gets an event id too, for the record it writes and rolls
	// back, but its receipt does not show it.
	p := Plan{DryRun: dryRun, Fields: make([]Assignment, 0, len(f.cat.Fields))}
	p.Record.EventID = lowerBase32.EncodeToString(entropy[:eventIDBytes])
	entropy = entropy[eventIDBytes:]
	for i, fs := range f.cat.Fields {
		if !f.erases(keep, i) {
			continue
		}
		v, err := fs.Rule.apply(string(fs.Name), &entropy, f.rand, now)
		if err != nil {
			return Plan{}, err
		}
		p.Fields = append(p.Fields, Assignment{Field: fs.Name, Value: v, Fresh: fs.Rule.entropyBytes() > 0})
	}
	for i, ts := range f.cat.Tables {
		if !f.erases(keep, base+i) {
			continue
		}
		a := TableAction{Table: ts.Name}
		for _, cr := range ts.Scrub {
			v, err := cr.Rule.apply(string(ts.Name)+"."+cr.Column, &entropy, f.rand, now)
			if err != nil {
				return Plan{}, err
			}
			a.Scrub = append(a.Scrub, ColumnAssignment{Column: cr.Column, Value: v})
		}
		p.Tables = append(p.Tables, a)
	}
	return p, nil
}

// EventIDLen is the length of every event id: 128 random bits in 26
// letters and digits.
const EventIDLen = 26

const eventIDBytes = 16

// erases reports whether the plan erases the catalogue entry at position
// i: it is neither kept nor absent from the store.
func (f *Forgetter) erases(keep keepSet, i int) bool {
	return !keep.hasPos(i) && !f.absent[i]
}

// record is the receipt of a forget but for what the store reports.
func (f *Forgetter) record(keep keepSet, dryRun bool, now time.Time, principal, requestID, eventID string) Receipt {
	rc := Receipt{
		EventID:      eventID,
		FieldsErased: make([]Field, 0, len(f.cat.Fields)),
		FieldsKept:   []Field{},
		TablesKept:   []Table{},
		Absent:       f.absentNames,
		DryRun:       dryRun,
		At:           now.UTC(),
		Principal:    principal,
		RequestID:    requestID,
	}
	for i, fs := range f.cat.Fields {
		switch {
		case f.absent[i]:
		case keep.hasPos(i):
			rc.FieldsKept = append(rc.FieldsKept, fs.Name)
		default:
			rc.FieldsErased = append(rc.FieldsErased, fs.Name)
		}
	}
	base := len(f.cat.Fields)
	for i, ts := range f.cat.Tables {
		if keep.hasPos(base+i) && !f.absent[base+i] {
			rc.TablesKept = append(rc.TablesKept, ts.Name)
		}
	}
	return rc
}

// redact removes the plan's new values from an internal error's message:
// a driver may quote the value that broke a constraint. Values shorter
// than four characters are left, since they identify nobody and would
// garble the message. errors.Is and errors.As still see the cause.
func redact(err error, p Plan) error {
	msg := err.Error()
	for _, a := range p.Fields {
		msg = redactValue(msg, a.Value)
	}
	for _, t := range p.Tables {
		for _, c := range t.Scrub {
			msg = redactValue(msg, c.Value)
		}
	}
	return &redactedError{msg: msg, err: err}
}

func redactValue(msg string, v Value) string {
	if len(v.String) < 4 {
		return msg
	}
	return strings.ReplaceAll(msg, v.String, "[redacted]")
}

type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }

func (e *redactedError) Unwrap() error { return e.err }
