package forget

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"
)

// prepared is a checked request and its plan.
type prepared struct {
	lookup Lookup
	plan   Plan
}

func (f *Forgetter) prepare(ctx context.Context, req Request) (prepared, error) {
	lookup, err := req.Lookup.Normalize()
	if err != nil {
		return prepared{}, err
	}
	keep, err := f.cat.parseKeep(req.Keep)
	if err != nil {
		return prepared{}, err
	}
	now := f.now()
	plan, err := f.plan(keep, req.DryRun, now)
	if err != nil {
		return prepared{}, err
	}
	principal := req.Principal
	if principal == "" {
		principal = PrincipalFrom(ctx)
	}
	plan.Receipt = func(res Result) *Receipt {
		return f.receipt(keep, res, req.DryRun, now, principal, req.RequestID)
	}
	return prepared{lookup: lookup, plan: plan}, nil
}

func (f *Forgetter) plan(keep keepSet, dryRun bool, now time.Time) (Plan, error) {
	// One read of the randomness source serves every pseudonym and
	// random value of the plan: reads are system calls.
	need := 0
	for i, fs := range f.cat.Fields {
		if !keep.hasPos(i) {
			need += fs.Rule.entropyBytes()
		}
	}
	base := len(f.cat.Fields)
	for i, ts := range f.cat.Tables {
		if !keep.hasPos(base + i) {
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

	p := Plan{DryRun: dryRun, Fields: make([]Assignment, 0, len(f.cat.Fields))}
	for i, fs := range f.cat.Fields {
		if keep.hasPos(i) {
			continue
		}
		v, err := fs.Rule.apply(string(fs.Name), &entropy, f.rand, now)
		if err != nil {
			return Plan{}, err
		}
		p.Fields = append(p.Fields, Assignment{Field: fs.Name, Value: v})
	}
	for i, ts := range f.cat.Tables {
		if keep.hasPos(base + i) {
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

func (f *Forgetter) receipt(keep keepSet, res Result, dryRun bool, now time.Time, principal, requestID string) *Receipt {
	rc := &Receipt{
		CustomerID:   res.CustomerID,
		FieldsErased: make([]Field, 0, len(f.fields)),
		FieldsKept:   []Field{},
		RowsDeleted:  map[Table]int64{},
		TablesKept:   []Table{},
		DryRun:       dryRun,
		At:           now.UTC(),
		Principal:    principal,
		RequestID:    requestID,
	}
	for i, name := range f.fields {
		if keep.hasPos(i) {
			rc.FieldsKept = append(rc.FieldsKept, name)
		} else {
			rc.FieldsErased = append(rc.FieldsErased, name)
		}
	}
	base := len(f.fields)
	for i, ts := range f.cat.Tables {
		switch {
		case keep.hasPos(base + i):
			rc.TablesKept = append(rc.TablesKept, ts.Name)
		case len(ts.Scrub) > 0:
			if rc.RowsScrubbed == nil {
				rc.RowsScrubbed = map[Table]int64{}
			}
			rc.RowsScrubbed[ts.Name] = res.Rows[ts.Name]
		default:
			rc.RowsDeleted[ts.Name] = res.Rows[ts.Name]
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
