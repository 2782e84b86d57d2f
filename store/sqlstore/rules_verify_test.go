package sqlstore_test

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/forgetkit/forget"
	"github.com/forgetkit/forget/store/sqlstore"
)

// rulesStore builds a Forgetter over the rules test's tables with the
// mapping's field name given rule instead, and returns Verify's error.
func verifyWithRule(t *testing.T, e engine, field, rule string, opts ...sqlstore.Option) error {
	t.Helper()
	ctx := context.Background()
	db, _ := e.open(t)
	seedRules(t, ctx, db, e)
	mapping := strings.Replace(rulesMapping, `"`+field+`": `, `"`+field+`": {"column": "`+field+`", "rule": `+rule+`}, "x_`+field+`": `, 1)
	schema, err := sqlstore.LoadSchema(strings.NewReader(mapping))
	if err != nil {
		t.Fatal(err)
	}
	// The replaced entry now maps x_field onto the same column: drop it.
	delete(schema.Fields, forget.Field("x_"+field))
	store, err := sqlstore.New(db, e.dialect, append([]sqlstore.Option{sqlstore.WithSchema(schema), sqlstore.WithHashKey([]byte("0123456789abcdef"))}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	cat, err := schema.Catalogue(forget.DefaultCatalogue())
	if err != nil {
		t.Fatal(err)
	}
	f, err := forget.New(store, forget.WithCatalogue(cat))
	if err != nil {
		return err
	}
	return f.Verify(ctx)
}

func TestVerifyTypedRules(t *testing.T) {
	t.Parallel()
	for _, e := range engines(t) {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			for _, tc := range []struct {
				name, field, rule, want string
				engines                 string // "" every engine, else the ones it applies to
			}{
				{name: "BadJSONLiteral", field: "prefs", rule: `{"rule": "fixed", "value": "{"}`, want: "not valid JSON", engines: "postgres"},
				{name: "BadInetLiteral", field: "last_ip", rule: `{"rule": "fixed", "value": "nowhere"}`, want: "not an IP address", engines: "postgres mysql"},
				{name: "IPv4IntoINET6", field: "last_ip", rule: `{"rule": "fixed", "value": "0.0.0.0"}`, want: "does not accept its fixed value", engines: "mysql"},
				{name: "BadDate", field: "born", rule: `{"rule": "fixed", "value": "2024-13-45"}`, want: "not a date", engines: "sqlite postgres mysql"},
				{name: "BadNumber", field: "balance", rule: `{"rule": "fixed", "value": "lots"}`, want: "not a number", engines: "sqlite postgres mysql"},
				{name: "NumberTooBig", field: "balance", rule: `{"rule": "fixed", "value": 123456789012}`, want: "does not accept", engines: "postgres"},
				{name: "BadUUID", field: "ext_id", rule: `{"rule": "fixed", "value": "not-a-uuid"}`, want: "not a UUID", engines: "postgres mysql"},
				{name: "NullOnNotNull", field: "profile", rule: `"null"`, want: "NOT NULL"},
				{name: "RedactTextOnJSONB", field: "profile", rule: `"redact_text"`, want: "redact_text needs a text column", engines: "postgres"},
				{name: "RedactJSONOnInet", field: "last_ip", rule: `{"rule": "redact_json", "paths": ["a"]}`, want: "redact_json needs a json", engines: "postgres mysql"},
				{name: "KeyedHashTooLong", field: "phone", rule: `"keyed_hash"`, want: "writes 64 characters", engines: "postgres mysql"},
				{name: "EmptyIntoUUID", field: "ext_id", rule: `"empty"`, want: "its rule writes text", engines: "postgres mysql"},
			} {
				if tc.engines != "" && !strings.Contains(tc.engines, e.name) {
					continue
				}
				t.Run(tc.name, func(t *testing.T) {
					err := verifyWithRule(t, e, tc.field, tc.rule)
					if err == nil || !strings.Contains(err.Error(), tc.want) {
						t.Errorf("Verify = %v, want an error saying %q", err, tc.want)
					}
				})
			}
			t.Run("GoodLiteralsAccepted", func(t *testing.T) {
				if err := verifyWithRule(t, e, "prefs", `{"rule": "fixed", "value": [1, {"a": null}]}`); err != nil {
					t.Error(err)
				}
			})
		})
	}
}

func TestKeyedHashNeedsAKey(t *testing.T) {
	t.Parallel()
	e := engines(t)[0]
	ctx := context.Background()
	db, _ := e.open(t)
	seedRules(t, ctx, db, e)
	schema, err := sqlstore.LoadSchema(strings.NewReader(rulesMapping))
	if err != nil {
		t.Fatal(err)
	}
	store, err := sqlstore.New(db, e.dialect, sqlstore.WithSchema(schema))
	if err != nil {
		t.Fatal(err)
	}
	cat, err := schema.Catalogue(forget.DefaultCatalogue())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := forget.New(store, forget.WithCatalogue(cat)); err == nil || !strings.Contains(err.Error(), "keyed_hash needs a key") {
		t.Errorf("forget.New = %v, want keyed_hash refused without a key", err)
	}
}

func TestLoadSchemaRefuses(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct{ edit, want string }{
		"UnknownRule":         {`"rule": "empty"`, `"rule": "shred"`},
		"UnknownKey":          {`"rule": "empty"`, `"rule": "empty", "colour": 1`},
		"ValueOnEmpty":        {`"rule": "empty"`, `"rule": {"rule": "empty", "value": 1}`},
		"FixedWithoutValue":   {`"rule": {"rule": "fixed", "value": "n/a"}`, `"rule": {"rule": "fixed"}`},
		"UnknownPattern":      {`"patterns": ["email"]`, `"patterns": ["ssn"]`},
		"MentionsWithKey":     {`"via": {"mentions": true}`, `"customer_key": "id", "via": {"mentions": true}`},
		"MentionsWithoutText": {`"scrub": {"body": "redact_text"}`, `"scrub": {"body": "empty"}`},
		"TrailingData":        {`"shipping_state", "shipping_country", "member_auth"]` + "\n}", `"shipping_state", "shipping_country", "member_auth"]` + "\n}{}"},
	} {
		t.Run(name, func(t *testing.T) {
			mapping := strings.Replace(rulesMapping, tc.edit, tc.want, 1)
			if mapping == rulesMapping {
				t.Fatal("the edit did not apply")
			}
			_, err := sqlstore.LoadSchema(strings.NewReader(mapping))
			if err == nil {
				t.Fatal("LoadSchema accepted it")
			}
			if name == "UnknownRule" && !strings.Contains(err.Error(), `unknown rule "shred" (one of [empty null fixed`) {
				t.Errorf("unclear error: %v", err)
			}
		})
	}
}

// TestCatalogueFromMapping: Schema.Catalogue overrides base's rules with
// the mapping's, adds extensions and the absent names base lacks, and
// Store.ExtendCatalogue (the command's path) gives the same catalogue.
func TestCatalogueFromMapping(t *testing.T) {
	t.Parallel()
	e := engines(t)[0]
	ctx := context.Background()
	db, _ := e.open(t)
	seedRules(t, ctx, db, e)
	mapping := strings.Replace(rulesMapping, `"absent": [`, `"absent": ["signup_ip", `, 1)
	schema, err := sqlstore.LoadSchema(strings.NewReader(mapping))
	if err != nil {
		t.Fatal(err)
	}
	goCat, err := schema.Catalogue(forget.DefaultCatalogue())
	if err != nil {
		t.Fatal(err)
	}
	store, err := sqlstore.New(db, e.dialect, sqlstore.WithSchema(schema), sqlstore.WithHashKey([]byte("0123456789abcdef")))
	if err != nil {
		t.Fatal(err)
	}
	cmdCat, err := store.ExtendCatalogue(ctx, forget.DefaultCatalogue())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(describe(goCat), describe(cmdCat)) {
		t.Errorf("Go and command catalogues differ:\n%v\n%v", describe(goCat), describe(cmdCat))
	}
	d := describe(goCat)
	for _, want := range []string{"phone:fixed", "email:keyed_hash", "profile:redact_json", "signup_ip:empty", "member_note[body:redact_text]", "tickets[body:redact_text]", "username:pseudonym"} {
		if !strings.Contains(strings.Join(d, " "), want) {
			t.Errorf("catalogue lacks %s: %v", want, d)
		}
	}
	// A host whose catalogue has signup_ip (absent from this database)
	// and the command, from the preset's, both accept the mapping.
	if _, err := forget.New(store, forget.WithCatalogue(goCat)); err != nil {
		t.Error(err)
	}
	// An extension field with no rule needs the live schema.
	bare := strings.Replace(mapping, `"nickname":  {"column": "nickname", "rule": "null"}`, `"nickname":  {"column": "nickname"}`, 1)
	s2, err := sqlstore.LoadSchema(strings.NewReader(bare))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s2.Catalogue(forget.DefaultCatalogue()); err == nil || !strings.Contains(err.Error(), "ExtendCatalogue") {
		t.Errorf("Catalogue of a rule-less extension = %v", err)
	}
	st2, err := sqlstore.New(db, e.dialect, sqlstore.WithSchema(s2), sqlstore.WithHashKey([]byte("0123456789abcdef")))
	if err != nil {
		t.Fatal(err)
	}
	c2, err := st2.ExtendCatalogue(ctx, forget.DefaultCatalogue())
	if err != nil || !strings.Contains(strings.Join(describe(c2), " "), "nickname:null") {
		t.Errorf("ExtendCatalogue: %v %v", describe(c2), err)
	}
}

// describe names each entry of a catalogue with its rules.
func describe(c forget.Catalogue) []string {
	var out []string
	for _, f := range c.Fields {
		out = append(out, string(f.Name)+":"+f.Rule.String())
	}
	for _, t := range c.Tables {
		s := string(t.Name) + "["
		for _, c := range t.Scrub {
			s += c.Column + ":" + c.Rule.String() + ","
		}
		out = append(out, strings.TrimSuffix(s, ",")+"]")
	}
	return out
}
