package forget

import (
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Redacted replaces every span a redaction removes from free text.
const Redacted = "[redacted]"

// MinPreimage is the fewest characters (after trimming spaces) a value
// of the customer's must have for [RedactString] to search for it: a
// shorter one ("Al", "NY", "5") is not identifying on its own and would
// redact unrelated words.
const MinPreimage = 4

// RedactString returns text with every mention of the preimages, and
// every match of the patterns ("email", "phone", "ip"), replaced by
// [Redacted], and how many spans it replaced. Every byte outside those
// spans is kept as it was, invalid UTF-8 included.
//
// Against over-redaction: a preimage is searched for only when it has at
// least [MinPreimage] characters after trimming spaces and a letter or at
// least 7 digits (not an amount or a zip code), and matches only as whole
// words (the characters either side are no letter or digit),
// case-insensitively and in a canonical form: either Unicode form of a
// letter (NFC "ë" or NFD "e"+U+0308) matches the other, and invisible
// format characters (Unicode Cf: bidi marks, zero-width spaces) are
// ignored on both sides; accents are not stripped ("Chloe" is not
// "Chloë"). A preimage that looks like a phone number (at
// least 7 digits, and only digits and + - . ( ) / spaces) also matches
// the same digits written with other separators, or without its
// country code when at least 7 digits remain. Overlapping and adjacent
// matches become one span.
func RedactString(text string, preimages, patterns []string) (string, int) {
	if text == "" {
		return text, 0
	}
	var spans []span
	low := foldText(text)
	for _, p := range normalisePreimages(preimages) {
		if digits, ok := phoneDigits(p); ok {
			spans = append(spans, findPhone(text, digits)...)
		}
		spans = append(spans, low.findWords(foldText(p).s)...)
	}
	for _, name := range patterns {
		spans = append(spans, findPattern(text, name)...)
	}
	return replaceSpans(text, spans, Redacted)
}

// searchable reports whether a preimage identifies on its own: it has a
// letter, or at least 7 digits (a phone number); "12.50" and "90210" do
// not.
func searchable(p string) bool {
	digits := 0
	for _, r := range p {
		switch {
		case unicode.IsLetter(r):
			return true
		case r >= '0' && r <= '9':
			digits++
		}
	}
	return digits >= minPhoneDigits
}

// PreimageField reports whether a forget searches free text for the
// customer's value of field f (see [RedactString]): every field but the
// parts of an address that name a place many people share (city, state,
// zip, country, and their shipping_ forms), which would redact strangers'
// text.
func PreimageField(f Field) bool {
	switch f {
	case City, State, Zip, Country, ShippingCity, ShippingState, ShippingZip, ShippingCountry:
		return false
	}
	return true
}

// span is a byte range [start, end) of a value.
type span struct{ start, end int }

// replaceSpans merges overlapping and adjacent spans and replaces each
// with marker.
func replaceSpans(text string, spans []span, marker string) (string, int) {
	if len(spans) == 0 {
		return text, 0
	}
	slices.SortFunc(spans, func(a, b span) int { return a.start - b.start })
	var b strings.Builder
	b.Grow(len(text))
	n, at := 0, 0
	for i := 0; i < len(spans); {
		cur := spans[i]
		for i++; i < len(spans) && spans[i].start <= cur.end; i++ {
			cur.end = max(cur.end, spans[i].end)
		}
		b.WriteString(text[at:cur.start])
		b.WriteString(marker)
		at = cur.end
		n++
	}
	b.WriteString(text[at:])
	return b.String(), n
}

// normalisePreimages trims the preimages and drops the short ones, the
// numbers too short to be a phone number (an amount, a zip code), and
// repeats.
func normalisePreimages(in []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, p := range in {
		p = strings.TrimSpace(p)
		k := foldText(p).s
		if foldedLen(k) < MinPreimage || !searchable(p) {
			continue
		}
		if !seen[k] {
			seen[k] = true
			out = append(out, p)
		}
	}
	return out
}

// findWords returns the original spans where needle (folded) occurs as a
// whole word.
func (f folded) findWords(needle string) []span {
	if needle == "" {
		return nil
	}
	var out []span
	for from := 0; from < len(f.s); {
		i := strings.Index(f.s[from:], needle)
		if i < 0 {
			break
		}
		i += from
		j := i + len(needle) - 1
		sp := span{f.start[i], f.end[j]}
		if f.wordAt(i, j) {
			out = append(out, sp)
		}
		from = i + 1
	}
	return out
}

// wordEdge reports whether the characters either side of sp are no
// letter or digit.
func wordEdge(text string, sp span) bool {
	if sp.start > 0 {
		r, _ := utf8.DecodeLastRuneInString(text[:sp.start])
		if isWordRune(r) {
			return false
		}
	}
	if sp.end < len(text) {
		r, _ := utf8.DecodeRuneInString(text[sp.end:])
		if isWordRune(r) {
			return false
		}
	}
	return true
}

func isWordRune(r rune) bool {
	return r != utf8.RuneError && (unicode.IsLetter(r) || unicode.IsDigit(r))
}

// phoneDigits returns the digits of a preimage that looks like a phone
// number.
func phoneDigits(p string) (string, bool) {
	var d []byte
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c >= '0' && c <= '9':
			d = append(d, c)
		case strings.IndexByte("+-.()/ ", c) >= 0:
		default:
			return "", false
		}
	}
	return string(d), len(d) >= 7
}

// minPhoneDigits is the fewest digits a phone match may have.
const minPhoneDigits = 7

// findPhone finds digits (or, without a country code, a suffix of at
// least minPhoneDigits of them) written with any separators between the
// digits, not inside a longer number.
func findPhone(text, digits string) []span {
	var out []span
	for i := 0; i < len(text); i++ {
		if !isDigit(text[i]) || (i > 0 && (isDigit(text[i-1]) || isLetterByte(text[i-1]))) {
			continue
		}
		for cut := 0; len(digits)-cut >= minPhoneDigits; cut++ {
			if end, ok := matchDigits(text, i, digits[cut:]); ok {
				start := i
				if start > 0 && text[start-1] == '+' {
					start-- // the country code's plus goes with it
				}
				out = append(out, span{start, end})
				break
			}
		}
	}
	return out
}

// matchDigits matches want from text[i:], allowing up to two separators
// between digits; it fails when a digit or letter follows.
func matchDigits(text string, i int, want string) (int, bool) {
	k, seps := 0, 0
	for i < len(text) && k < len(want) {
		c := text[i]
		switch {
		case isDigit(c):
			if c != want[k] {
				return 0, false
			}
			k++
			seps = 0
		case strings.IndexByte("-.() /", c) >= 0 && k > 0 && seps < 2:
			seps++
		default:
			return 0, false
		}
		i++
	}
	if k < len(want) || i < len(text) && (isDigit(text[i]) || isLetterByte(text[i])) {
		return 0, false
	}
	return i, true
}

func isDigit(c byte) bool      { return c >= '0' && c <= '9' }
func isLetterByte(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

var (
	emailRE = regexp.MustCompile(`[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+`)
	phoneRE = regexp.MustCompile(`\+?\(?[0-9][0-9 ().\-/]{5,}[0-9]`)
	ipv4RE  = regexp.MustCompile(`[0-9]{1,3}(?:\.[0-9]{1,3}){3}`)
	ipv6RE  = regexp.MustCompile(`[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}`)
)

// findPattern finds every match of a named pattern, as whole words.
func findPattern(text, name string) []span {
	var out []span
	add := func(re *regexp.Regexp, ok func(string) bool) {
		for _, m := range re.FindAllStringIndex(text, -1) {
			sp := span{m[0], m[1]}
			if wordEdge(text, sp) && ok(text[sp.start:sp.end]) {
				out = append(out, sp)
			}
		}
	}
	switch name {
	case PatternEmail:
		add(emailRE, func(string) bool { return true })
	case PatternPhone:
		add(phoneRE, func(s string) bool {
			n := 0
			for i := 0; i < len(s); i++ {
				if isDigit(s[i]) {
					n++
				}
			}
			return n >= minPhoneDigits && n <= 15
		})
	case PatternIP:
		valid := func(s string) bool { _, err := netip.ParseAddr(s); return err == nil }
		add(ipv4RE, valid)
		add(ipv6RE, func(s string) bool { return strings.Count(s, ":") >= 2 && valid(s) })
	}
	return out
}
