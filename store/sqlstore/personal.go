package sqlstore

import (
	"slices"
	"strings"
)

// personalWords are the name fragments that make a column likely
// personal; short ones must be a whole word of the name.
var personalWords = []string{
	"email", "mail", "phone", "mobile", "fax", "name", "surname", "address", "street", "zipcode",
	"postcode", "postal", "birth", "passport", "token", "password", "passwd", "secret", "note", "comment",
	"message", "body", "iban", "card", "social", "gender", "latitude", "longitude", "useragent", "user_agent",
	"cookie", "session", "login", "nickname", "avatar", "photo", "signature", "contact", "geo", "location",
}

// personalTokens must match a whole word of the name (split at _ and at
// case changes): as fragments they hide in too many other words.
var personalTokens = []string{"city", "cell", "zip", "ip", "ips", "tel", "dob", "ssn", "tax", "vat", "nin", "cc", "pan", "cvv", "msg", "pwd", "pw", "ua", "lat", "lng", "lon", "ipaddr", "text"}

// personalTypes are column types that hold personal data by nature.
var personalTypes = []string{"inet", "cidr", "macaddr"}

// personalHint says why a column's name or type looks personal, or "".
func personalHint(name, typ string) string {
	lower := strings.ToLower(name)
	for _, w := range personalWords {
		if strings.Contains(lower, w) {
			return "its name contains " + w
		}
	}
	for _, word := range nameWords(name) {
		if slices.Contains(personalTokens, word) {
			return "its name has the word " + word
		}
	}
	for _, p := range personalTypes {
		if strings.HasPrefix(strings.ToLower(typ), p) {
			return "its type is " + p
		}
	}
	return ""
}

// nameWords splits an identifier into lower-case words at underscores,
// other punctuation and lower-to-upper case changes (lastLoginIP: last,
// login, ip).
func nameWords(name string) []string {
	var words []string
	var cur []rune
	prevLower := false
	flush := func() {
		if len(cur) > 0 {
			words = append(words, strings.ToLower(string(cur)))
			cur = cur[:0]
		}
	}
	for _, r := range name {
		switch {
		case r >= 'A' && r <= 'Z':
			if prevLower {
				flush()
			}
			cur = append(cur, r)
			prevLower = false
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r > 0x7f:
			cur = append(cur, r)
			prevLower = true
		default:
			flush()
			prevLower = false
		}
	}
	flush()
	return words
}
