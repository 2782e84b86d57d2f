package forget

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"strings"
)

// ErrNotJSON is the error a JSON redaction returns for a value that is
// not valid JSON: a store refuses the forget rather than leave a value it
// cannot read, or overwrite one it was asked only to redact.
var ErrNotJSON = errors.New("forget: the value is not valid JSON")

// RedactJSONDocument removes from doc the members (and array elements)
// that paths name (see [RedactJSON]; each path is dotted segments, "*"
// for every member) and reports how many it removed. The document stays
// valid JSON, and every byte outside the removed members (and the comma
// that separated each) is kept as it was: keys keep their order and
// spacing. An empty or all-space doc is returned as it is; invalid JSON
// returns [ErrNotJSON].
func RedactJSONDocument(doc []byte, paths []string) ([]byte, int, error) {
	if len(bytes.TrimSpace(doc)) == 0 {
		return doc, 0, nil
	}
	if !json.Valid(doc) {
		return nil, 0, ErrNotJSON
	}
	var active []cursor
	for _, p := range paths {
		segs, err := parsePath(p)
		if err != nil {
			return nil, 0, err
		}
		active = append(active, cursor{segs, 0})
	}
	sc := &jsonScan{b: doc}
	sc.space()
	sc.value(active)
	if len(sc.cuts) == 0 {
		return doc, 0, nil
	}
	slices.SortFunc(sc.cuts, func(a, b span) int { return a.start - b.start })
	out := make([]byte, 0, len(doc))
	at := 0
	for _, c := range sc.cuts {
		if c.start < at { // overlapping cuts of one container
			at = max(at, c.end)
			continue
		}
		out = append(out, doc[at:c.start]...)
		at = c.end
	}
	out = append(out, doc[at:]...)
	return out, sc.removed, nil
}

// cursor is a path and how many of its segments are matched so far.
type cursor struct {
	segs []string
	at   int
}

// jsonScan walks a document already known to be valid, recording the
// byte ranges to cut.
type jsonScan struct {
	b       []byte
	i       int
	cuts    []span
	removed int
}

func (s *jsonScan) space() {
	for s.i < len(s.b) && strings.IndexByte(" \t\r\n", s.b[s.i]) >= 0 {
		s.i++
	}
}

// item is one member or element: where it starts (its key) and ends
// (its value), and whether a path removes it.
type item struct {
	start, end int
	cut        bool
}

// value scans the value at s.i with the paths active at it.
func (s *jsonScan) value(active []cursor) {
	switch s.b[s.i] {
	case '{':
		s.container('}', active, true)
	case '[':
		s.container(']', active, false)
	case '"':
		s.str()
	default:
		for s.i < len(s.b) && strings.IndexByte(",]} \t\r\n", s.b[s.i]) < 0 {
			s.i++
		}
	}
}

func (s *jsonScan) str() string {
	start := s.i
	s.i++
	for s.b[s.i] != '"' {
		if s.b[s.i] == '\\' {
			s.i++
		}
		s.i++
	}
	s.i++
	return string(s.b[start:s.i])
}

// container scans an object (members) or array (elements).
func (s *jsonScan) container(closer byte, active []cursor, object bool) {
	s.i++
	s.space()
	var items []item
	for s.b[s.i] != closer {
		it := item{start: s.i}
		name, isName := "", false
		if object {
			raw := s.str()
			isName = json.Unmarshal([]byte(raw), &name) == nil
			s.space()
			s.i++ // ':'
			s.space()
		}
		var child []cursor
		for _, c := range active {
			seg := c.segs[c.at]
			switch {
			case seg == "*" || object && isName && seg == name:
				if c.at+1 == len(c.segs) {
					it.cut = true
				} else {
					child = append(child, cursor{c.segs, c.at + 1})
				}
			case !object:
				child = append(child, c) // a name applies to each element
			}
		}
		if it.cut {
			s.skip()
		} else if len(child) > 0 {
			s.value(child)
		} else {
			s.skip()
		}
		it.end = s.i
		items = append(items, it)
		s.space()
		if s.b[s.i] == ',' {
			s.i++
			s.space()
		}
	}
	s.i++
	s.cutItems(items)
}

// skip passes over a value without looking into it.
func (s *jsonScan) skip() {
	depth := 0
	for {
		switch c := s.b[s.i]; c {
		case '"':
			s.str()
			if depth == 0 {
				return
			}
			continue
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth == 0 {
				s.i++
				return
			}
		default:
			if depth == 0 {
				s.value(nil)
				return
			}
		}
		s.i++
	}
}

// cutItems records the ranges that remove the cut items and their
// separating commas: an item up to the next one's start, or, the last,
// from the end of the last kept item before it.
func (s *jsonScan) cutItems(items []item) {
	lastKept := -1
	for k, it := range items {
		if !it.cut {
			lastKept = k
			continue
		}
		s.removed++
		switch {
		case k+1 < len(items):
			s.cuts = append(s.cuts, span{it.start, items[k+1].start})
		case lastKept >= 0:
			s.cuts = append(s.cuts, span{items[lastKept].end, it.end})
		default:
			s.cuts = append(s.cuts, span{it.start, it.end})
		}
	}
}
