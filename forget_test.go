package forget_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/forgetkit/forget"
	"github.com/forgetkit/forget/internal/memseed"
	"github.com/forgetkit/forget/store/memstore"
	"github.com/forgetkit/forget/store/storetest"
)

// seeded returns a memstore holding storetest's fixtures and customer 191,
// the one Offerit's documentation forgets.
func seeded(t testing.TB, opts ...memstore.Option) *memstore.Store {
	t.Helper()
	c191 := storetest.NewCustomer(191)
	c191.Subscriptions, c191.Orders = []string{"1911"}, []string{"19101"}
	c191.Rows = map[forget.Table]int{forget.MemberAuth: 1, forget.MemberNote: 2}
	return memseed.New(t, append(storetest.Fixtures(), c191), opts...)
}

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

// newForgetter builds a Forgetter that logs nothing (unless opts say
// otherwise) or fails the test.
func newForgetter(t testing.TB, s forget.Store, opts ...forget.Option) *forget.Forgetter {
	t.Helper()
	f, err := forget.New(s, append([]forget.Option{forget.WithLogger(quiet())}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestDefaultCatalogue(t *testing.T) {
	t.Parallel()
	c := forget.DefaultCatalogue()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if len(c.Fields) != 23 || len(c.Tables) != 2 {
		t.Fatalf("default catalogue has %d fields and %d tables, want 23 and 2", len(c.Fields), len(c.Tables))
	}
	want := map[forget.Field]forget.Rule{
		forget.Username: forget.Pseudonym(), forget.OriginalUsername: forget.Pseudonym(),
		forget.Password: forget.Random(), forget.Cryptpass: forget.Random(), forget.TokenHash: forget.Random(), forget.Session: forget.Random(),
		forget.Firstname: forget.Empty(), forget.Phone: forget.Empty(), forget.ShippingCountry: forget.Empty(),
	}
	// Rules hold no function here, so DeepEqual compares them as values.
	for _, f := range c.Fields {
		if w, ok := want[f.Name]; ok && !reflect.DeepEqual(f.Rule, w) {
			t.Errorf("rule of %s = %s, want %s", f.Name, f.Rule, w)
		}
	}
	// A copy: changing one must not change the next.
	c.Fields[0].Rule = forget.Null()
	if !reflect.DeepEqual(forget.DefaultCatalogue().Fields[0].Rule, forget.Pseudonym()) {
		t.Error("DefaultCatalogue returned shared state")
	}
}

func TestCatalogueValidate(t *testing.T) {
	t.Parallel()
	base := forget.DefaultCatalogue
	cases := []struct {
		name   string
		change func(*forget.Catalogue)
		want   string
	}{
		{"DuplicateField", func(c *forget.Catalogue) {
			c.Fields = append(c.Fields, forget.FieldSpec{Name: "phone", Rule: forget.Empty()})
		}, `field "phone" is already a field`},
		{"TableSharesFieldName", func(c *forget.Catalogue) { c.Tables = append(c.Tables, forget.TableSpec{Name: "city"}) }, `table "city" is already a field`},
		{"EmptyName", func(c *forget.Catalogue) { c.Fields = append(c.Fields, forget.FieldSpec{Rule: forget.Empty()}) }, `field name ""`},
		{"UpperCaseName", func(c *forget.Catalogue) {
			c.Fields = append(c.Fields, forget.FieldSpec{Name: "Email", Rule: forget.Empty()})
		}, `field name "Email"`},
		{"CommaInName", func(c *forget.Catalogue) { c.Tables = append(c.Tables, forget.TableSpec{Name: "a,b"}) }, `table name "a,b"`},
		{"MissingRule", func(c *forget.Catalogue) { c.Fields = append(c.Fields, forget.FieldSpec{Name: "email"}) }, `field "email" has no rule`},
		{"NilFunc", func(c *forget.Catalogue) {
			c.Fields = append(c.Fields, forget.FieldSpec{Name: "email", Rule: forget.Func(nil)})
		}, `field "email" has no rule`},
		{"ScrubColumnWithoutRule", func(c *forget.Catalogue) {
			c.Tables = append(c.Tables, forget.TableSpec{Name: "member_ip", Scrub: []forget.ColumnRule{{Column: "ip"}}})
		}, `column "ip" has no rule`},
		{"ScrubColumnTwice", func(c *forget.Catalogue) {
			c.Tables = append(c.Tables, forget.TableSpec{Name: "member_ip", Scrub: []forget.ColumnRule{{Column: "ip", Rule: forget.Null()}, {Column: "ip", Rule: forget.Null()}}})
		}, `scrubs column "ip" twice`},
		{"Empty", func(c *forget.Catalogue) { *c = forget.Catalogue{} }, "catalogue is empty"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := base()
			tc.change(&c)
			err := c.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate() = %v, want an error containing %q", err, tc.want)
			}
			if _, err := forget.New(memstore.New(), forget.WithCatalogue(c)); err == nil {
				t.Error("New accepted the invalid catalogue")
			}
		})
	}
	t.Run("SetRuleUnknownField", func(t *testing.T) {
		c := base()
		if err := c.SetRule("email", forget.Empty()); err == nil {
			t.Error("SetRule of an unknown field succeeded")
		}
	})
}

func TestParseKeep(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in      []string
		want    []string
		unknown []string
	}{
		{[]string{""}, nil, nil},
		{[]string{"firstname"}, []string{"firstname"}, nil},
		{[]string{" FirstName ,, member_NOTE ,firstname,"}, []string{"firstname", "member_note"}, nil},
		{[]string{"phone", "username,member_auth"}, []string{"username", "phone", "member_auth"}, nil},
		{[]string{"firstnme,phone,Bogus,bogus,Bogus"}, nil, []string{"firstnme", "Bogus", "bogus"}},
		{[]string{"first name"}, nil, []string{"first name"}},
	}
	for _, tc := range cases {
		got, err := forget.DefaultCatalogue().ParseKeep(tc.in...)
		var un *forget.UnknownNamesError
		switch {
		case tc.unknown != nil:
			if !errors.As(err, &un) || !slices.Equal(un.Names, tc.unknown) || !errors.Is(err, forget.ErrInvalid) {
				t.Errorf("ParseKeep(%q) error = %v, want unknown %q", tc.in, err, tc.unknown)
			}
			for _, n := range tc.unknown {
				if !strings.Contains(err.Error(), n) {
					t.Errorf("message %q does not name %q", err, n)
				}
			}
		case err != nil:
			t.Errorf("ParseKeep(%q): %v", tc.in, err)
		case !slices.Equal(got, tc.want):
			t.Errorf("ParseKeep(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestRules(t *testing.T) {
	t.Parallel()
	s := seeded(t)
	f := newForgetter(t, s)
	if _, err := f.Forget(context.Background(), forget.Request{Lookup: forget.Lookup{CustomerID: "101"}}); err != nil {
		t.Fatal(err)
	}
	c, _ := s.Customer("101")
	for _, name := range []forget.Field{forget.Username, forget.OriginalUsername} {
		v := c.Fields[name]
		if len(v) != forget.PseudonymLen || len(v) > 32 || !strings.HasPrefix(v, "forgot-") {
			t.Errorf("%s = %d characters %q..., want a %d-character pseudonym", name, len(v), v[:min(7, len(v))], forget.PseudonymLen)
		}
	}
	if c.Fields[forget.Username] == c.Fields[forget.OriginalUsername] {
		t.Error("username and original_username got the same pseudonym")
	}
	for _, name := range []forget.Field{forget.Password, forget.Cryptpass, forget.TokenHash, forget.Session} {
		if v := c.Fields[name]; len(v) != forget.RandomLen {
			t.Errorf("%s has %d characters, want %d", name, len(v), forget.RandomLen)
		}
	}
}

func TestRandomnessIsInjectable(t *testing.T) {
	t.Parallel()
	// Two Forgetters on the same seeded reader make the same values; this
	// is what makes the rules testable, and shows no global source is used.
	values := func() map[forget.Field]string {
		s := seeded(t)
		f := newForgetter(t, s, forget.WithRand(bytes.NewReader(bytes.Repeat([]byte{7, 99, 200}, 1000))))
		if _, err := f.Forget(context.Background(), forget.Request{Lookup: forget.Lookup{CustomerID: "102"}}); err != nil {
			t.Fatal(err)
		}
		c, _ := s.Customer("102")
		return c.Fields
	}
	a, b := values(), values()
	for _, name := range []forget.Field{forget.Username, forget.Password} {
		if a[name] != b[name] {
			t.Errorf("%s differs between two Forgetters on the same reader", name)
		}
	}
}

func TestReceipt(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 11, 29, 10, 0, 0, 0, time.FixedZone("X", 3600))
	f := newForgetter(t, seeded(t), forget.WithClock(func() time.Time { return at }))
	ctx := forget.WithPrincipal(context.Background(), "ops")
	rc, err := f.Forget(ctx, forget.Request{Lookup: forget.Lookup{OrderID: "10301"}, Keep: []string{"phone,member_note"}, RequestID: "r1"})
	if err != nil {
		t.Fatal(err)
	}
	if rc.CustomerID != "103" || rc.Principal != "ops" || rc.RequestID != "r1" || !rc.At.Equal(at) || rc.At.Location() != time.UTC {
		t.Errorf("receipt = %+v", rc)
	}
	if !slices.Equal(rc.FieldsKept, []forget.Field{forget.Phone}) || len(rc.FieldsErased) != 22 || slices.Contains(rc.FieldsErased, forget.Phone) {
		t.Errorf("fields kept %v, erased %v", rc.FieldsKept, rc.FieldsErased)
	}
	if !slices.Equal(rc.TablesKept, []forget.Table{forget.MemberNote}) || len(rc.RowsDeleted) != 1 || rc.RowsDeleted[forget.MemberAuth] != 2 {
		t.Errorf("tables kept %v, rows deleted %v", rc.TablesKept, rc.RowsDeleted)
	}
}

func TestExtendedCatalogue(t *testing.T) {
	t.Parallel()
	s := memstore.New(memstore.WithTextKeys())
	if err := s.Add(memstore.Customer{ID: "c-1", Fields: map[forget.Field]string{"email": "a@example.com", forget.Username: "ann"}}); err != nil {
		t.Fatal(err)
	}
	for _, ip := range []string{"192.0.2.1", "192.0.2.2"} {
		if err := s.AddRow("member_loginlog", "c-1", memstore.Row{"ip": ip, "at": "monday"}); err != nil {
			t.Fatal(err)
		}
	}
	cat := forget.DefaultCatalogue()
	cat.Fields = append(cat.Fields, forget.FieldSpec{Name: "email", Rule: forget.Func(func(in forget.RuleInput) (forget.Value, error) {
		return forget.Value{String: "gone@invalid"}, nil
	})})
	cat.Tables = append(cat.Tables, forget.TableSpec{Name: "member_loginlog", Scrub: []forget.ColumnRule{{Column: "ip", Rule: forget.Null()}}})
	f := newForgetter(t, s, forget.WithCatalogue(cat))
	// Extensions obey keep lists like canonical entries.
	rc, err := f.Forget(context.Background(), forget.Request{Lookup: forget.Lookup{CustomerID: "c-1"}, Keep: []string{"EMAIL"}})
	if err != nil {
		t.Fatal(err)
	}
	if c, _ := s.Customer("c-1"); c.Fields["email"] != "a@example.com" {
		t.Error("kept email changed")
	}
	if rc.RowsScrubbed["member_loginlog"] != 2 {
		t.Errorf("rows scrubbed = %v, want member_loginlog: 2", rc.RowsScrubbed)
	}
	for _, r := range s.Rows("member_loginlog", "c-1") {
		if _, ok := r["ip"]; ok || r["at"] != "monday" {
			t.Errorf("scrubbed row = %v, want ip NULL and at kept", r)
		}
	}
	if _, err := f.Forget(context.Background(), forget.Request{Lookup: forget.Lookup{CustomerID: "c-1"}}); err != nil {
		t.Fatal(err)
	}
	if c, _ := s.Customer("c-1"); c.Fields["email"] != "gone@invalid" {
		t.Error("email not erased by its custom rule")
	}
}

type checkingStore struct {
	*memstore.Store
	err error
}

func (s checkingStore) CheckCatalogue(forget.Catalogue) ([]string, error) { return nil, s.err }

func TestNew(t *testing.T) {
	t.Parallel()
	if _, err := forget.New(nil); err == nil {
		t.Error("New(nil) succeeded")
	}
	refuse := errors.New("field email is not mapped")
	if _, err := forget.New(checkingStore{memstore.New(), refuse}); !errors.Is(err, refuse) {
		t.Errorf("New ignored the store's catalogue check: %v", err)
	}
	if _, err := forget.New(checkingStore{memstore.New(), nil}); err != nil {
		t.Errorf("New: %v", err)
	}
}

func TestForgetLogsNoValues(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	s := seeded(t)
	f, err := forget.New(s, forget.WithLogger(slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Forget(context.Background(), forget.Request{Lookup: forget.Lookup{CustomerID: "101"}, Principal: "ops"}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `"customer_id":"101"`) {
		t.Errorf("log %q does not record the forget", buf.String())
	}
	c, _ := s.Customer("101")
	assertNoValues(t, "log", buf.String(), storetest.Fixtures(), c)
}

// mustTrail returns a memstore's whole audit trail.
func mustTrail(t testing.TB, s *memstore.Store) []forget.Receipt {
	t.Helper()
	trail, err := s.AuditTrail(context.Background(), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	return trail
}
