package forget

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// folded is a text in a canonical lower-case form with, for each of its
// bytes, the span of the original text it came from, so that a match in
// the folded text maps back to the original bytes.
type folded struct {
	s          string
	start, end []int
}

// foldRune is one rune of a folded text and the original bytes it came
// from.
type foldRune struct {
	r          rune
	start, end int
}

// foldText folds text so that two texts a reader cannot tell apart
// compare equal: every character is decomposed canonically (NFD: "ë" and
// "e"+U+0308 become the same), consecutive combining marks are put in
// one order, letters are lowered, and invisible format characters
// (Unicode Cf: bidi marks, zero-width spaces and joiners, soft hyphens)
// are dropped. An invalid byte stays itself.
func foldText(text string) folded {
	var rs []foldRune
	for i := 0; i < len(text); {
		r, size := utf8.DecodeRuneInString(text[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			rs = append(rs, foldRune{-1, i, i + 1})
		case unicode.Is(unicode.Cf, r):
			// dropped: a match across it still spans its bytes
		default:
			for _, d := range decompose(unicode.ToLower(r)) { // İ lowers to i first
				rs = append(rs, foldRune{unicode.ToLower(d), i, i + size})
			}
		}
		i += size
	}
	orderMarks(rs)
	var b strings.Builder
	var f folded
	for k, fr := range rs {
		n0 := b.Len()
		if fr.r < 0 {
			b.WriteByte(text[fr.start])
		} else {
			b.WriteRune(fr.r)
		}
		// A character that decomposed maps, every part of it, to all
		// of its bytes (and marks put in order, to all of theirs).
		end := fr.end
		for m := k + 1; m < len(rs) && rs[m].start < end; m++ {
			end = max(end, rs[m].end)
		}
		for range b.Len() - n0 {
			f.start = append(f.start, fr.start)
			f.end = append(f.end, end)
		}
	}
	f.s = b.String()
	return f
}

// decompose returns r's canonical decomposition, r itself when it has
// none.
func decompose(r rune) []rune {
	const sBase, lBase, vBase, tBase, tCount, nCount, sCount = 0xAC00, 0x1100, 0x1161, 0x11A7, 28, 588, 11172
	if r >= sBase && r < sBase+sCount { // a Hangul syllable, by rule
		s := r - sBase
		out := []rune{lBase + s/nCount, vBase + s%nCount/tCount}
		if t := s % tCount; t != 0 {
			out = append(out, tBase+t)
		}
		return out
	}
	if d, ok := decompositions[r]; ok {
		return []rune(d)
	}
	return []rune{r}
}

// orderMarks sorts each run of combining marks (Mn) by code point, so
// that marks typed in another order compare equal; each mark keeps the
// bytes it came from.
func orderMarks(rs []foldRune) {
	for i := 0; i < len(rs); {
		if rs[i].r < 0 || !unicode.Is(unicode.Mn, rs[i].r) {
			i++
			continue
		}
		j := i
		for j < len(rs) && rs[j].r >= 0 && unicode.Is(unicode.Mn, rs[j].r) {
			j++
		}
		if j-i > 1 {
			start, end := rs[i].start, rs[i].end
			for _, m := range rs[i:j] {
				start, end = min(start, m.start), max(end, m.end)
			}
			slices.SortStableFunc(rs[i:j], func(a, b foldRune) int { return int(a.r - b.r) })
			for k := i; k < j; k++ {
				rs[k].start, rs[k].end = start, end
			}
		}
		i = j
	}
}

// foldedLen counts the characters of a folded text, its combining marks
// aside.
func foldedLen(s string) int {
	n := 0
	for _, r := range s {
		if !unicode.Is(unicode.Mn, r) {
			n++
		}
	}
	return n
}

// wordAt reports whether the match [i, j] of f.s is a whole word there:
// the folded characters either side (invisible ones dropped) are no
// letter or digit, and neither is a combining mark (the match would cut
// a letter from its accent).
func (f folded) wordAt(i, j int) bool {
	prev, _ := utf8.DecodeLastRuneInString(f.s[:i])
	next, _ := utf8.DecodeRuneInString(f.s[j+1:])
	for _, r := range []rune{prev, next} {
		if isWordRune(r) || unicode.Is(unicode.Mn, r) {
			return false
		}
	}
	return true
}
