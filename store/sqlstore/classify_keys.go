package sqlstore

import "slices"

// idWords end the names of columns that hold an id, whatever the rest of
// the name says (phone_id, email_key): no personal value.
var idWords = []string{"id", "ids", "uuid", "guid", "key", "pk", "fk", "ref", "seq"}

// keyPersonalHint says why a key column (primary, foreign, customer or
// lookup key) looks personal by its name, or "": a newsletter keyed by
// e-mail address, a phone number in a composite key. A uuid column, or
// one whose name ends in id, holds an id.
func keyPersonalHint(c *ColumnInfo) string {
	if c.Kind == KindUUID {
		return ""
	}
	if words := nameWords(c.Name); len(words) > 0 && slices.Contains(idWords, words[len(words)-1]) {
		return ""
	}
	return personalHint(c.Name, c.Type)
}
