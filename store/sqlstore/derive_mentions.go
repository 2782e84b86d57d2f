package sqlstore

import (
	"strings"
	"unicode"
	"unicode/utf8"

	sq "github.com/Masterminds/squirrel"

	"github.com/forgetkit/forget"
)

// mentionsWhere selects the rows whose cols may mention a pre-image: a
// scan of the table. Each pre-image is looked for by its longest run of
// ASCII characters (lowered, LIKE escaped), since an engine's LOWER and
// LIKE may fold ASCII only (SQLite) and the text may hold the name in
// another Unicode form ("e"+U+0308 for "ë") that [forget.RedactString]
// still finds; a run ends at a non-ASCII or invisible character and
// leaves out a letter a combining mark follows. A phone number is also
// looked for by its last four digits in order, anything between them,
// since separators vary ("56 78", "5678", "56-78"). A pre-image
// without 3 such characters in a row (a name in Cyrillic) selects every
// row with a value: the rows are redacted in Go either way. ok is false
// when no pre-image is long enough to search.
func (s *Store) mentionsWhere(cols []string, pre []string) (sq.Sqlizer, bool) {
	var terms []string
	seen, all := map[string]bool{}, false
	add := func(t string) {
		if !seen[t] {
			seen[t] = true
			terms = append(terms, t)
		}
	}
	for _, p := range pre {
		p = strings.TrimSpace(p)
		if len([]rune(p)) < forget.MinPreimage {
			continue
		}
		if run := asciiRun(p); len(run) >= 3 {
			add("%" + escapeLike(run) + "%")
		} else {
			all = true
		}
		var digits []byte
		for i := 0; i < len(p); i++ {
			if p[i] >= '0' && p[i] <= '9' {
				digits = append(digits, p[i])
			}
		}
		if len(digits) >= 7 {
			// Its last four digits in order, whatever lies between:
			// "06 12 34 56 78" names "+33612345678" too.
			tail := digits[len(digits)-4:]
			add("%" + strings.Join(strings.Split(string(tail), ""), "%") + "%")
		}
	}
	if len(terms) == 0 && !all {
		return nil, false
	}
	or := sq.Or{}
	for _, c := range cols {
		if all {
			or = append(or, sq.Expr(s.dialect.quote(c)+" IS NOT NULL"))
			continue
		}
		for _, t := range terms {
			or = append(or, sq.Expr("LOWER("+s.dialect.quote(c)+") LIKE ? ESCAPE '!'", t))
		}
	}
	return or, true
}

// asciiRun returns p's longest run of ASCII characters, lowered, that
// every text naming p in any case or Unicode form holds as it is: a run
// ends at a non-ASCII character (an invisible one too) and leaves out a
// letter a combining mark follows (the "e" of "e"+U+0308, "ë" in the
// other form).
func asciiRun(p string) string {
	best, cur := "", []byte{}
	flush := func() {
		if len(cur) > len(best) {
			best = string(cur)
		}
		cur = cur[:0]
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		next, _ := utf8.DecodeRuneInString(p[i+1:])
		if c >= utf8.RuneSelf || unicode.Is(unicode.Mn, next) {
			flush()
			continue
		}
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		cur = append(cur, c)
	}
	flush()
	return best
}

// escapeLike escapes LIKE's wildcards with '!' (the ESCAPE every engine
// takes without backslash rules of its own).
func escapeLike(s string) string {
	return strings.NewReplacer("!", "!!", "%", "!%", "_", "!_").Replace(s)
}
