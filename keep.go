package forget

import "strings"

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
		if len(u.shown) < maxUnknownNamesShown {
			u.shown = append(u.shown, name)
			u.count++
			return
		}
		u.seen = make(map[string]struct{}, 2*maxUnknownNamesShown)
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
		names[i] = strings.Clone(cutName(s, maxUnknownNameBytes))
	}
	return &UnknownNamesError{Names: names, Count: u.count}
}
