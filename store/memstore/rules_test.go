package memstore_test

import (
	"context"
	"strings"
	"testing"

	"github.com/forgetkit/forget"
	"github.com/forgetkit/forget/store/memstore"
)

// TestStoreSideRules: the memory store applies keyed hashes and
// redactions as the SQL store does, counting redactions.
func TestStoreSideRules(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := memstore.New(memstore.WithHashKey([]byte("0123456789abcdef")))
	fields := map[forget.Field]string{}
	for _, f := range forget.DefaultCatalogue().Fields {
		fields[f.Name] = ""
	}
	fields[forget.Firstname], fields[forget.Lastname], fields[forget.Username] = "Alice", "Liddell", "alice"
	fields["email"], fields["profile"] = "alice@example.com", `{"phone": "1", "lang": "en"}`
	if err := s.Add(memstore.Customer{ID: "1", Fields: fields}); err != nil {
		t.Fatal(err)
	}
	if err := s.AddRow(forget.MemberNote, "1", memstore.Row{"body": "Alice wrote from alice@example.com; cc bob@example.org"}); err != nil {
		t.Fatal(err)
	}
	cat := forget.DefaultCatalogue()
	cat.Fields = append(cat.Fields, forget.FieldSpec{Name: "email", Rule: forget.KeyedHash(nil)}, forget.FieldSpec{Name: "profile", Rule: forget.RedactJSON("phone")})
	cat.Tables[1].Scrub = []forget.ColumnRule{{Column: "body", Rule: forget.RedactText()}}
	f, err := forget.New(s, forget.WithCatalogue(cat))
	if err != nil {
		t.Fatal(err)
	}
	rc, err := f.Forget(ctx, forget.Request{Lookup: forget.Lookup{CustomerID: "1"}})
	if err != nil {
		t.Fatal(err)
	}
	c, _ := s.Customer("1")
	if len(c.Fields["email"]) != 64 || c.Fields["profile"] != `{"lang": "en"}` {
		t.Errorf("email %q, profile %q", c.Fields["email"], c.Fields["profile"])
	}
	if got := s.Rows(forget.MemberNote, "1")[0]["body"]; got != "[redacted] wrote from [redacted]; cc bob@example.org" {
		t.Errorf("note = %q", got)
	}
	if rc.Redactions["member_note.body"] != 2 || rc.Redactions["customers.profile"] != 1 {
		t.Errorf("redactions = %v", rc.Redactions)
	}
	if strings.Contains(c.Fields["email"], "alice") {
		t.Error("the hash holds the e-mail")
	}
}
